/** Debian 12 "bookworm": Prosody 0.12, nginx 1.22, coturn 4.6, cloud-init 22.4. */
import { Platform } from './platform';

export const DEBIAN_12: Platform = {
  name: 'debian-12',
  image: 'debian-12-x64',
  label: 'Debian 12',
  suite: 'bookworm',
  prosody: {
    label: 'Prosody 0.12',
    // mod_posix keeps the pidfile and umask that prosodyctl relies on. Push for Conversations is
    // mod_cloud_notify (bookworm's prosody-modules). bookworm's mod_sasl2 family (a 2023 snapshot)
    // does not work on 0.12: mod_sasl2 calls a connection method 0.12 lacks (ssl_info) while
    // building stream features, so every TLS client would get none; mod_sasl2_sm needs
    // mod_smacks's do_enable/do_resume, which 0.12 does not have. bookworm does not package
    // mod_cloud_notify_extensions (the iOS push extensions) at all.
    extraHostModules: ['posix'],
    mucModules: ['muc_mam', 'vcard_muc'],
    // bookworm's prosody-modules has no mod_spam_reporting (XEP-0377). Its mod_muc_rtbl reads
    // event.occupant in the muc-private-message hook, which 0.12 does not set (an error on every
    // private message in a room), and lets a blocked user's private messages through; both are
    // fixed in trixie's.
    abuse: { hostModules: [], mucFederatedModules: [] },
    restrictRoomCreation: (policy) => (policy === 'anyone' ? undefined : policy),
    mucAdminOptions: {},
    // bookworm's prosody-modules has invites_page, register_apps and invites_register_web, but not
    // mod_password_policy, without which invites_register_web does not load: the page would send
    // the users of clients that cannot redeem a link to a registration that is not there.
    invitationPageModules: [],
    inviteCommand: (domain) => `prosodyctl mod_invites generate ${domain}`,
    // A link that sets the password of that existing account, valid for a day (0.12's account
    // invitations cannot name one: the invitee would pick it).
    adminInviteCommand: (jid) => `prosodyctl mod_invites generate ${jid.split('@')[1]} --reset ${jid.split('@')[0]}`,
    addUserCommand: (jid) => `prosodyctl adduser ${jid}`,
    wholeSecondArchiveTimes: true,
    carriesOverRolesFrom012: false,
    memory: { baseMiB: 40, perHostMiB: 0.75, perBlocklistedGroupChatMiB: 0 },
  },
  nginx: { http2: 'listen-parameter' },
};
