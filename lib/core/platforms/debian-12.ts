/** Debian 12 "bookworm": Prosody 0.12, nginx 1.22, coturn 4.6, cloud-init 22.4. */
import { Platform } from './platform';

export const DEBIAN_12: Platform = {
  name: 'debian-12',
  image: 'debian-12-x64',
  label: 'Debian 12',
  suite: 'bookworm',
  prosody: {
    label: 'Prosody 0.12',
    // mod_posix keeps the pidfile and umask that prosodyctl relies on. bookworm's prosody-modules
    // carries mod_sasl2 and its friends from before they were usable on 0.12, so they stay off.
    extraHostModules: ['posix'],
    mucModules: ['muc_mam', 'vcard_muc'],
    restrictRoomCreation: (policy) => (policy === 'anyone' ? undefined : policy),
    mucAdminOptions: {},
    inviteCommand: (domain) => `prosodyctl mod_invites generate ${domain}`,
    // 0.12's invitations cannot name the account: the invitee picks it.
    adminInviteCommand: (jid) => `prosodyctl mod_invites generate ${jid.split('@')[1]}`,
    addUserCommand: (jid) => `prosodyctl adduser ${jid}`,
    wholeSecondArchiveTimes: true,
    carriesOverRolesFrom012: false,
    memory: { baseMiB: 40, perHostMiB: 0.75 },
  },
  nginx: { http2: 'listen-parameter' },
};
