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
    // need (encrypted payloads through Prosody 13's util.crypto, priority, filters), and SASL2
    // with Bind2, FAST and stream resumption lets mobile clients reconnect in one round trip and
    // without the password (trixie's prosody-modules packages all of them). Their defaults are
    // kept: pushes carry no sender and no text, FAST tokens last 21 days and rotate daily, and
    // mod_saslauth keeps serving clients without SASL2.
    extraHostModules: ['cloud_notify_extensions', 'sasl2', 'sasl2_bind2', 'sasl2_fast', 'sasl2_sm'],
    // Room avatars (vCard) are built into MUC; mod_vcard_muc is gone.
    mucModules: ['muc_mam'],
    // trixie's prosody-modules: mod_spam_reporting takes XEP-0377 reports that clients attach to a
    // block (logged for the operator), mod_muc_rtbl keeps JIDs on a real-time blocklist out of rooms.
    abuse: { hostModules: ['spam_reporting'], mucFederatedModules: ['muc_rtbl'] },
    // 13 reads the option as false, true (admins only) or "local"; "admin" would be an unknown
    // value, which lets any local user create rooms.
    restrictRoomCreation: (policy) => (policy === 'anyone' ? undefined : policy === 'admin' ? true : 'local'),
    mucAdminOptions: { component_admins_as_room_owners: true },
    // trixie's prosody-modules has the three and mod_password_policy, which the web registration
    // needs (and which then holds every new password to 8 characters, without the username on the
    // web). The invitation commands then print the page's https: link instead of the xmpp: one.
    invitationPageModules: ['invites_page', 'register_apps', 'invites_register_web'],
    // `prosodyctl mod_invites generate` is deprecated on 13 (it prints a notice and exits 1). The
    // shell commands talk to the running Prosody (it must be up) and print the link, then "OK: …".
    inviteCommand: (domain) => `prosodyctl shell invite create_account ${domain}`,
    // A link that sets the password of that existing account, valid for a day. An account
    // invitation naming the admin would not do: Prosody 13.0 does not hold its holder to the name.
    adminInviteCommand: (jid) => `prosodyctl shell invite create_reset ${jid}`,
    addUserCommand: (jid) => `prosodyctl adduser ${jid}`,
    wholeSecondArchiveTimes: false,
    carriesOverRolesFrom012: true,
    // Measured on trixie's prosody 13.0.1 (test/core/prosody.test.ts): 22 MiB resident with one
    // domain and its two components (3 hosts), 475-478 MiB with 200 domains (600 hosts): about
    // 0.76 MiB a host, a quarter more than 0.12 (384-386 MiB). The model keeps the margin Debian
    // 12's has (base 40, about a quarter above the measured per host): 610 MiB for those 600 hosts.
    // mod_muc_rtbl costs more: 0.56 MiB more for each group chat component that loads it (608 MiB
    // against 495 without it, for those 200 domains, where the harness cannot reach xmppbl.org).
    // Each also keeps its own copy of the blocklist, a Lua set of SHA-256 hex digests: about 0.5 MiB
    // for 3,000 entries. With the same quarter of margin: 1.2 MiB a group chat.
    memory: { baseMiB: 40, perHostMiB: 0.95, perBlocklistedGroupChatMiB: 1.2 },
  },
  nginx: { http2: 'directive' },
};
