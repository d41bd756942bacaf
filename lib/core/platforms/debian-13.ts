/** Debian 13 "trixie": Prosody 13.0, nginx 1.26, coturn 4.6, cloud-init 25.1. */
import { Platform } from './platform';

export const DEBIAN_13: Platform = {
  name: 'debian-13',
  image: 'debian-13-x64',
  label: 'Debian 13',
  suite: 'trixie',
  prosody: {
    label: 'Prosody 13',
    // Prosody 13 manages its process itself (mod_posix is deprecated and empty). Push
    // (mod_cloud_notify) is in core; cloud_notify_extensions adds what iOS clients (Monal, Siskin)
    // need, and SASL2 with Bind2, FAST and stream resumption lets mobile clients reconnect in one
    // round trip and without the password (trixie's prosody-modules packages all of them).
    extraHostModules: ['cloud_notify_extensions', 'sasl2', 'sasl2_bind2', 'sasl2_fast', 'sasl2_sm'],
    // Room avatars (vCard) are built into MUC; mod_vcard_muc is gone.
    mucModules: ['muc_mam'],
    // 13 reads the option as false, true (admins only) or "local"; "admin" would be an unknown
    // value, which lets any local user create rooms.
    restrictRoomCreation: (policy) => (policy === 'anyone' ? undefined : policy === 'admin' ? true : 'local'),
    mucAdminOptions: { component_admins_as_room_owners: true },
    // `prosodyctl mod_invites generate` is deprecated on 13 (it prints a notice and exits 1). The
    // shell command talks to the running Prosody; given a JID, the invitation is for that name only.
    inviteCommand: (domain) => `prosodyctl shell invite create_account ${domain}`,
    adminInviteCommand: (jid) => `prosodyctl shell invite create_account ${jid}`,
    addUserCommand: (jid) => `prosodyctl adduser ${jid}`,
    wholeSecondArchiveTimes: false,
    carriesOverRolesFrom012: true,
    memory: { baseMiB: 40, perHostMiB: 0.75 },
  },
  nginx: { http2: 'directive' },
};
