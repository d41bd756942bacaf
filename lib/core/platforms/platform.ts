/**
 * What differs between the Debian releases a droplet can run, as data. Renderers ask the spec's
 * platform (`platformOf`) instead of testing versions: a new release is one more module here.
 */
import type { LuaValue } from '../lua';
import type { RoomCreationPolicy } from '../spec';

export interface Platform {
  /** The platform's name, as `droplet.platform` spells it. */
  readonly name: PlatformName;
  /** DigitalOcean's image slug for it. */
  readonly image: string;
  /** For headers and messages: "Debian 13". */
  readonly label: string;
  /** The Debian suite (codename) behind the image. */
  readonly suite: string;

  readonly prosody: {
    /** For headers and messages: "Prosody 13". */
    readonly label: string;
    /**
     * Modules every VirtualHost loads beyond the common set, by what they are for: process
     * management where Prosody still needs a module for it, and what current mobile clients use to
     * reconnect fast and receive push (only where the platform packages working modules).
     */
    readonly extraHostModules: readonly string[];
    /** Modules the group chat component loads (history; room avatars where a module provides them). */
    readonly mucModules: readonly string[];
    /**
     * Abuse handling where the platform packages working modules: `hostModules` every VirtualHost
     * loads (XEP-0377 spam reports), `mucFederatedModules` the group chat component loads when
     * the server federates (a real-time blocklist of known spammers, fetched over s2s).
     */
    readonly abuse: { readonly hostModules: readonly string[]; readonly mucFederatedModules: readonly string[] };
    /**
     * `restrict_room_creation` for a policy, in this version's dialect; undefined when anyone may
     * create rooms (the option is then left out).
     */
    restrictRoomCreation(policy: RoomCreationPolicy): LuaValue | undefined;
    /**
     * Options the group chat component needs so that admins of its domain own every room (0.12 made
     * component admins room owners; 13 does so only when told).
     */
    readonly mucAdminOptions: Readonly<Record<string, LuaValue>>;
    /**
     * The modules that give an invitation a web page (prosody-modules' invites_page), listing
     * clients for the invitee's device (register_apps), with registration in the browser for
     * clients that cannot redeem a link (invites_register_web). Empty where the platform's
     * prosody-modules cannot provide all three; the invitation is then the bare `xmpp:` link.
     */
    readonly invitationPageModules: readonly string[];
    /** The shell command that creates an invitation to register an account (any free name) on `domain`. */
    inviteCommand(domain: string): string;
    /**
     * The shell command that creates the invitation for the admin `jid`: a one-use link that sets
     * the password of that account, which provisioning created (with a password nobody knows) so
     * that no invitation for any name can take it. Its holder can set no other account's.
     */
    adminInviteCommand(jid: string): string;
    /** The shell command that creates an account with a password typed at the prompt. */
    addUserCommand(jid: string): string;
    /**
     * Whether this Prosody reads archive times in whole seconds only. Prosody 13 stores them to the
     * microsecond, and 0.12's archive queries fail on such an item; on a volume another release
     * wrote, provisioning rounds them down before this Prosody starts (lib/host/provision.sh).
     */
    readonly wholeSecondArchiveTimes: boolean;
    /**
     * Whether this Prosody keeps account roles apart from where 0.12 kept those an admin set by hand
     * (its shell's `user:setroles`), and carries 0.12's over when asked
     * (`prosodyctl mod_authz_internal migrate <host>`), which provisioning does once per domain.
     */
    readonly carriesOverRolesFrom012: boolean;
    /**
     * Resident memory model, measured on the platform's own Prosody with every default module on
     * each host: a base, plus `perHostMiB` per host (each domain and each component is a host), plus
     * `perBlocklistedGroupChatMiB` per group chat component that loads `abuse.mucFederatedModules`.
     */
    readonly memory: { readonly baseMiB: number; readonly perHostMiB: number; readonly perBlocklistedGroupChatMiB: number };
  };

  readonly nginx: {
    /**
     * How HTTP/2 is enabled: as a `listen` parameter (nginx before 1.25.1), or with the `http2 on;`
     * directive (1.25.1 on, where the parameter is deprecated and warns on every reload).
     */
    readonly http2: 'listen-parameter' | 'directive';
  };
}

/** The platforms a droplet can run, newest first (the first is the default image's). */
export const PLATFORM_NAMES = ['debian-13', 'debian-12'] as const;
/** A platform's name, as `droplet.platform` spells it. */
export type PlatformName = (typeof PLATFORM_NAMES)[number];
