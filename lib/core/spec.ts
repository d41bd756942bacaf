/**
 * The typed input of an XMPP service, and the fully resolved form every planner reads.
 *
 * `XmppServiceSpec` is what users write: plain data, every optional field documented with its
 * default (`DEFAULTS` in defaults.ts holds the values, and a test holds the two equal).
 * `resolveSpec()` (validate.ts) turns it into a `ResolvedSpec` in which every default is
 * filled in and every value has been checked, so planners and renderers never re-validate or
 * re-default anything.
 */
import type { PlatformName } from './platforms/platform';

/** HTTP file sharing (XEP-0363) through Prosody's `http_file_share` component. */
export interface FileShareSpec {
  /**
   * Offer file sharing (photos, voice messages, files) to clients.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The component's first label; the component is served at `<name>.<domain>` for every domain.
   * @default "upload"
   */
  readonly name?: string;
  /**
   * Largest single file a user may upload, in bytes. nginx's `client_max_body_size` follows it.
   * Between 1 MiB and 2 GiB.
   * @default 104857600 (100 MiB)
   */
  readonly fileSizeLimitBytes?: number;
  /**
   * How long uploaded files are kept before Prosody deletes them, in seconds. At most the history
   * kept (`historyExpireAfterSeconds`, or the group chat's when longer), so that no file outlives
   * every message that links it.
   * @default - `historyExpireAfterSeconds` (7 days)
   */
  readonly expireAfterSeconds?: number;
  /**
   * How many bytes one user may upload per day.
   * @default - ten times `fileSizeLimitBytes`
   */
  readonly dailyQuotaBytesPerUser?: number;
  /**
   * Total bytes of uploads each domain's upload service keeps at once. When it is reached, Prosody
   * refuses new uploads ("Server global storage quota reached") until older files expire. Uploads
   * are not in the daily backups (see the README, *Backups*). Declared, the domains' quotas together
   * must fit in 80% of `droplet.volumeSizeGib`.
   * @default - half the data volume, shared equally by the domains' upload services, but at least
   * `fileSizeLimitBytes` each (10 GiB volume, one domain: 5 GiB)
   */
  readonly globalQuotaBytes?: number;
}

/** Group chat (XEP-0045 MUC) with a message archive (XEP-0313 on rooms). */
export interface GroupChatSpec {
  /**
   * Offer group chats.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The component's first label; rooms live at `room@<name>.<domain>`.
   * @default "conference"
   */
  readonly name?: string;
  /**
   * How long room history is kept, in seconds.
   * @default - `historyExpireAfterSeconds` (7 days)
   */
  readonly archiveExpireAfterSeconds?: number;
  /**
   * Who may create rooms: only accounts on this server (`"local"`), only admins (`"admin"`),
   * or anyone, including users of other servers (`"anyone"`).
   * @default "local"
   */
  readonly roomCreation?: RoomCreationPolicy;
}

/** Who may create group chat rooms. */
export const ROOM_CREATION_POLICIES = ['local', 'admin', 'anyone'] as const;
export type RoomCreationPolicy = (typeof ROOM_CREATION_POLICIES)[number];

/** SOCKS5 bytestream proxy (XEP-0065) for peer-to-peer file transfer through NATs. */
export interface Proxy65Spec {
  /**
   * Offer the proxy. Most clients use HTTP file sharing instead; it opens one more port.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * The component's first label.
   * @default "proxy"
   */
  readonly name?: string;
  /**
   * TCP port the proxy listens on, publicly.
   * @default 5000
   */
  readonly port?: number;
}

/** Publish-subscribe service (XEP-0060), for feeds, Movim and IoT. Users' own PEP does not need it. */
export interface PubsubSpec {
  /**
   * Offer a pubsub component.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * The component's first label.
   * @default "pubsub"
   */
  readonly name?: string;
}

/** The components served next to each domain. */
export interface ComponentsSpec {
  /**
   * How a component's name is made from its label (`name` below) and the domain, for every domain.
   * It contains `{label}` once and ends in `.{domain}`, so that every name stays inside the
   * domain's own DNS zone and certificate: `"{label}.{domain}"` gives `upload.example.net`,
   * `"{label}.xmpp.{domain}"` gives `upload.xmpp.example.net`, `"xmpp-{label}.{domain}"` gives
   * `xmpp-upload.example.net`.
   * @default "{label}.{domain}"
   */
  readonly namePattern?: string;
  /** @default - enabled, at `upload.<domain>` */
  readonly fileShare?: FileShareSpec;
  /** @default - enabled, at `conference.<domain>` */
  readonly groupChat?: GroupChatSpec;
  /** @default - disabled */
  readonly proxy65?: Proxy65Spec;
  /** @default - disabled */
  readonly pubsub?: PubsubSpec;
}

/** Audio and video calls: coturn as STUN/TURN server, announced to clients by XEP-0215. */
export interface CallsSpec {
  /**
   * Run a TURN/STUN server so calls work through NATs and firewalls.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * First label of the TURN server's name under the primary domain (`<name>.<primary domain>`).
   * It gets its own A/AAAA records pointing at the droplet's own addresses (not the reserved IP;
   * the TURN droplet's when `placement` is `"dedicated"`), because relayed media must leave from
   * the address clients were told.
   * @default "turn"
   */
  readonly name?: string;
  /**
   * STUN/TURN port, UDP and TCP.
   * @default 3478
   */
  readonly port?: number;
  /**
   * TURN over TLS port (TCP only: clients are offered no DTLS, so coturn opens none).
   * @default 5349
   */
  readonly tlsPort?: number;
  /**
   * First port of the UDP range used for relayed media.
   * @default 49152
   */
  readonly relayPortMin?: number;
  /**
   * Last port of the UDP range used for relayed media.
   * @default 65535
   */
  readonly relayPortMax?: number;
  /**
   * How long credentials handed to clients stay valid, in seconds.
   * @default 86400 (1 day)
   */
  readonly credentialTtlSeconds?: number;
  /**
   * Simultaneous allocations one credential may hold (coturn's `user-quota`). Prosody mints a
   * credential per request, so this does not limit a person; the bandwidth caps below do.
   * @default 12
   */
  readonly userQuota?: number;
  /**
   * Simultaneous allocations on the whole server.
   * @default 1200
   */
  readonly totalQuota?: number;
  /**
   * Bandwidth one allocation may relay, in kbit/s, each direction (coturn's `max-bps`). Enough for
   * a video call; more is dropped, so one credential cannot flood the droplet's link.
   * @default 2000
   */
  readonly allocationMaxKbps?: number;
  /**
   * Bandwidth all allocations together may relay, in Mbit/s, each direction (coturn's
   * `bps-capacity`). coturn sets `allocationMaxKbps` aside for every allocation out of it, used or
   * not, and refuses new allocations (486) once it is taken: so it also bounds how many allocations
   * run at once (200 at the defaults; a call between two users of this server takes up to six, as
   * clients allocate on each TURN entry they are offered). The default suits the default droplet
   * (s-1vcpu-1gb); on a larger one raise it (about 400 per GiB of memory, at most 2000, DigitalOcean's
   * network limit for regular droplets). It does not follow the droplet's size by itself, so that
   * resizing the droplet changes no configuration and stays an in-place update.
   * @default 400
   */
  readonly totalMaxMbps?: number;
  /**
   * The secret shared by Prosody and coturn to mint TURN credentials. Treated as sensitive.
   * Supplying it puts it into your IaC state; leave it unset unless TURN runs elsewhere.
   * Required when `placement` is `"dedicated"`.
   * @default - generated on the host at first boot and kept on the data volume, never in state
   */
  readonly sharedSecret?: string;
  /**
   * Where coturn runs: on the droplet that runs Prosody, or on a droplet of its own. A dedicated
   * droplet keeps relayed media (bandwidth, and the UDP relay range in the firewall) off the chat
   * server. It requires `sharedSecret`, because both hosts must hold the same secret.
   * @default "prosody-host"
   */
  readonly placement?: TurnPlacement;
  /**
   * DigitalOcean size slug of the TURN droplet. Only used when `placement` is `"dedicated"`.
   * @default "s-1vcpu-1gb"
   */
  readonly dropletSize?: string;
}

/** Where coturn runs. */
export const TURN_PLACEMENTS = ['prosody-host', 'dedicated'] as const;
export type TurnPlacement = (typeof TURN_PLACEMENTS)[number];

/** Browser and firewall-friendly access through nginx on port 443. */
export interface WebSpec {
  /**
   * XMPP over BOSH (XEP-0124/0206) at `https://<domain>/http-bind`.
   * @default true
   */
  readonly bosh?: boolean;
  /**
   * XMPP over WebSocket (RFC 7395) at `wss://<domain>/xmpp-websocket`.
   * @default true
   */
  readonly websocket?: boolean;
  /**
   * The web client: Converse.js at `https://<domain>/` for each domain, for people who will not
   * install an app. It finds the domain's WebSocket (else BOSH) through host-meta, so it needs one
   * of the two. The host installs the release this library pins from the npm registry, checked
   * against its pinned SHA-512; a library upgrade brings the next one.
   * @default true
   */
  readonly client?: boolean;
}

/** How new accounts come into being. */
export const REGISTRATION_POLICIES = ['invite', 'closed'] as const;
export type RegistrationPolicy = (typeof REGISTRATION_POLICIES)[number];

/** Contact addresses published by XEP-0157, as URIs (`mailto:`, `xmpp:`, `https:`). */
export interface ContactAddressesSpec {
  /** @default - the admins' `xmpp:` addresses */
  readonly abuse?: readonly string[];
  /** @default - the admins' `xmpp:` addresses */
  readonly admin?: readonly string[];
  /** @default - none */
  readonly feedback?: readonly string[];
  /** @default - none */
  readonly sales?: readonly string[];
  /** @default - the admins' `xmpp:` addresses */
  readonly security?: readonly string[];
  /** @default - the admins' `xmpp:` addresses */
  readonly support?: readonly string[];
}

/**
 * The droplet that runs Prosody, nginx and (by default) coturn. A dedicated TURN droplet takes its
 * region, image, SSH keys, IPv6 and monitoring settings from here.
 */
export interface DropletSpec {
  /**
   * Droplet name (and host name). Lower-case letters, digits and hyphens.
   * @default - `xmpp-` followed by the primary domain with dots replaced by hyphens
   */
  readonly name?: string;
  /**
   * DigitalOcean region slug.
   * @default "ams3"
   */
  readonly region?: string;
  /**
   * DigitalOcean size slug.
   * @default "s-1vcpu-1gb"
   */
  readonly size?: string;
  /**
   * Image: `"debian-13-x64"` (Prosody 13) or `"debian-12-x64"` (Prosody 0.12), or the numeric ID of
   * a snapshot of one of them together with `platform`. The image decides the platform the
   * configuration is written for. Changing it replaces the droplet (the data volume stays).
   * @default "debian-13-x64"
   */
  readonly image?: string;
  /**
   * The Debian release a snapshot `image` runs; required with a numeric image ID, and must agree
   * with a slug.
   * @default - the platform of `image`
   */
  readonly platform?: PlatformName;
  /**
   * SSH keys (fingerprints or numeric IDs of keys in your DigitalOcean account) for root.
   * Password logins are off, so opening SSH with `adminSourceCidrs` requires at least one key.
   * @default [] (none; use the DigitalOcean console)
   */
  readonly sshKeyFingerprints?: readonly string[];
  /**
   * Give the droplet a public IPv6 address and publish AAAA records for it.
   * @default true
   */
  readonly ipv6?: boolean;
  /**
   * Put the domains' AAAA records on a reserved IPv6 address, which moves to a replacement droplet
   * as the reserved IPv4 does, so replacing the droplet changes none of them. The droplet configures
   * the address itself once DigitalOcean has assigned it (see the README, *Operations*). With
   * `false`, or in a region without reserved IPv6, the AAAA records follow the droplet's own IPv6
   * with the TURN name's short TTL (at most 300 s), and every replacement rewrites them. Setting it
   * `true` where DigitalOcean offers no reserved IPv6 (`RESERVED_IPV6_REGIONS`), or without `ipv6`,
   * fails validation.
   * @default - true when `ipv6` is on and the region offers reserved IPv6
   */
  readonly reservedIpv6?: boolean;
  /**
   * Install DigitalOcean's metrics agent.
   * @default true
   */
  readonly monitoring?: boolean;
  /**
   * Weekly droplet backups (these never include the data volume).
   * @default false
   */
  readonly backups?: boolean;
  /**
   * Size of the persistent data volume, in GiB.
   * @default 10
   */
  readonly volumeSizeGib?: number;
}

/** DNS settings. */
/** How a change to the host's configuration reaches the running droplet. */
export type ConfigChannel = (typeof CONFIG_CHANNELS)[number];
export const CONFIG_CHANNELS = ['user-data', 'spaces'] as const;

/**
 * How configuration changes reach the droplet. With `"spaces"`, a new domain, limit or contact is
 * applied in place within minutes, and only a new image, region, size or SSH key (or a change to the
 * packages: calls on or off the host) replaces the droplet.
 */
export interface ConfigDeliverySpec {
  /**
   * `"user-data"`: the configuration travels in the droplet's user_data, which DigitalOcean cannot
   * change on a running droplet, so every change to it replaces the droplet (minutes of downtime;
   * the data volume and the reserved addresses stay).
   * `"spaces"`: the stack writes the configuration as one bundle into a private Spaces bucket; the
   * droplet pulls it every minute with a key that may only read that bucket, checks it and applies
   * it in place, keeping client sessions. Spaces is billed separately and the deploying side needs
   * Spaces credentials (see the README, *Changes in place*).
   * @default "user-data"
   */
  readonly channel?: ConfigChannel;
  /**
   * The Spaces region of the bucket (`"spaces"` only).
   * @default - `droplet.region` where it offers Spaces; otherwise it must be set
   */
  readonly spacesRegion?: string;
  /**
   * The bucket the stack creates for the bundle (`"spaces"` only). Bucket names are unique across
   * all of Spaces: 3 to 63 lower-case letters, digits and hyphens.
   * @default - `droplet.name` followed by `-config`
   */
  readonly bucket?: string;
}

export interface DnsSpec {
  /**
   * TTL of the published records, in seconds (DigitalOcean's minimum is 30).
   * The TURN name uses at most 300, because it follows the droplet's own address.
   * @default 1800
   */
  readonly ttlSeconds?: number;
}

/** Let's Encrypt settings. */
export interface AcmeSpec {
  /** Contact address Let's Encrypt writes to about expiring certificates. */
  readonly email: string;
  /**
   * Use Let's Encrypt's staging environment (untrusted certificates, generous limits).
   * @default false
   */
  readonly staging?: boolean;
}

/** Server-to-server (federation) settings. */
export interface FederationSpec {
  /**
   * Talk to users of other XMPP servers.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Also accept server connections with direct TLS (XEP-0368) on `directTlsPort`,
   * announced by `_xmpps-server._tcp` SRV records.
   * @default false
   */
  readonly directTls?: boolean;
}

/** Client and server ports. The defaults are what clients and servers try without SRV records. */
export interface PortsSpec {
  /** @default 5222 */
  readonly c2s?: number;
  /** @default 5223 */
  readonly c2sDirectTls?: number;
  /** @default 5269 */
  readonly s2s?: number;
  /** @default 5270 */
  readonly s2sDirectTls?: number;
}

/**
 * Where a domain's DNS zone lives:
 * - `"create"`: a DigitalOcean zone (`digitalocean_domain`) is created here, with the records;
 * - `"existing"`: the zone already exists in your DigitalOcean account; only the records are added,
 *   and the zone is neither created nor destroyed here;
 * - `"external"`: DNS is hosted elsewhere; nothing is created at DigitalOcean, and the stack's
 *   `zone_files` output holds the records (with the deployed addresses) to load into that DNS.
 */
export const ZONE_HOSTINGS = ['create', 'existing', 'external'] as const;
export type ZoneHosting = (typeof ZONE_HOSTINGS)[number];

/** One served domain with settings of its own. A plain string is a domain with the defaults. */
export interface DomainSpec {
  /** The domain, as lower-case ASCII (internationalised names in their `xn--` form). */
  readonly name: string;
  /**
   * Administrators of this domain (and its group chat and pubsub) only, in addition to the
   * service-wide `admins`, who administer every domain. Bare JIDs on any of the served domains.
   * @default - none beyond the service-wide admins
   */
  readonly admins?: readonly string[];
  /**
   * This domain's contact addresses (XEP-0157), role by role; a role given here replaces the
   * service-wide one for this domain.
   * @default - the service-wide `contacts`; roles that default to the admins list this domain's
   * admins too
   */
  readonly contacts?: ContactAddressesSpec;
  /**
   * Where the domain's DNS zone lives.
   * @default "create"
   */
  readonly zone?: ZoneHosting;
}

/** Where alerts are sent besides e-mail: a Slack channel, through an incoming webhook. */
export interface SlackAlertsSpec {
  /** The channel's name as DigitalOcean shows it in the alert (e.g. `"ops-alerts"`). */
  readonly channel: string;
  /**
   * The channel's incoming webhook, `https://hooks.slack.com/services/…`. It is a secret (anyone
   * holding it can post to the channel): it is never written to outputs or review files, Pulumi keeps
   * it as a secret and Terraform's plan shows it as `(sensitive value)`, but it is stored in your IaC
   * state. Like `calls.sharedSecret` it may be known only at deploy time, which is recommended: with
   * cdktf a sensitive `TerraformVariable`'s value (the synthesized `cdk.tf.json` then only references
   * it; a literal URL is written into it), with Pulumi a secret such as `config.requireSecret(…)`.
   */
  readonly webhookUrl: string;
}

/** How long a monitor alert's condition must hold before DigitalOcean alerts. */
export const MONITOR_WINDOWS = ['5m', '10m', '30m', '1h'] as const;
export type MonitorWindow = (typeof MONITOR_WINDOWS)[number];

/** How long an uptime alert's condition must hold before DigitalOcean alerts. */
export const UPTIME_PERIODS = ['2m', '3m', '5m', '10m', '15m', '30m', '1h'] as const;
export type UptimePeriod = (typeof UPTIME_PERIODS)[number];

/**
 * Alerts as code: DigitalOcean watches the service from outside (an uptime check of the primary
 * domain's HTTPS endpoint) and the droplets from inside (memory, CPU and disk use, reported by its
 * metrics agent), and e-mails (and optionally posts to Slack) when something is wrong. Uptime checks
 * are billed by DigitalOcean (one per service); monitor alerts are free. See the README, *Alerts*.
 */
export interface AlertsSpec {
  /**
   * Who receives the alerts. DigitalOcean only sends to addresses of your account or team members,
   * so list those (or the team's contact address).
   */
  readonly emails: readonly string[];
  /** @default - no Slack notifications */
  readonly slack?: SlackAlertsSpec;
  /**
   * Alert when the HTTPS endpoint answers slower than this, in milliseconds, for `uptimePeriod`.
   * From 100 to 60000.
   * @default 2000
   */
  readonly latencyThresholdMs?: number;
  /**
   * How long the endpoint must be down (or slow) before the "down" (or "latency") alert is sent. A
   * replacement of the droplet takes minutes and is reported too when it takes longer.
   * @default "5m"
   */
  readonly uptimePeriod?: UptimePeriod;
  /**
   * Alert when the certificate has fewer than this many days left. certbot renews at 30 days left, so
   * at 20 the renewal has been failing for ten days, with time to fix it. From 1 to 29 (at 30 or more
   * every certificate would alert before certbot even tries).
   * @default 20
   */
  readonly sslExpiryDays?: number;
  /**
   * Alert when a droplet's CPU use stays above this percentage for `monitorWindow`. From 1 to 100.
   * @default 90
   */
  readonly cpuPercent?: number;
  /**
   * Alert when a droplet's memory use stays above this percentage for `monitorWindow`. From 1 to 100.
   * @default 90
   */
  readonly memoryPercent?: number;
  /**
   * Alert when a droplet's root disk (not the data volume, whose fill xmpp-doctor reports) is fuller
   * than this percentage for `monitorWindow`. From 1 to 100.
   * @default 85
   */
  readonly diskPercent?: number;
  /**
   * How long memory, CPU or disk use must stay above its threshold before DigitalOcean alerts: long
   * enough that a package upgrade or a restart does not alert.
   * @default "10m"
   */
  readonly monitorWindow?: MonitorWindow;
}

/** How many snapshots of each age `offsiteBackups` keeps (restic's `forget --keep-*`). */
export interface BackupRetentionSpec {
  /**
   * The newest snapshot of each of the last this many days that have one. From 1 to 366.
   * @default 7
   */
  readonly daily?: number;
  /**
   * The newest snapshot of each of the last this many weeks that have one. From 0 to 520.
   * @default 4
   */
  readonly weekly?: number;
  /**
   * The newest snapshot of each of the last this many months that have one. From 0 to 120.
   * @default 6
   */
  readonly monthly?: number;
}

/**
 * Off-host backups: every day the droplet copies the data volume (accounts, rosters, message
 * archives, rooms, uploads, certificates and generated secrets) into a Spaces bucket with restic,
 * encrypted on the droplet with `password` and deduplicated, so that losing the droplet and the
 * volume together loses at most a day. `xmpp-constructs-backup restore --from spaces` brings it back
 * onto a new volume. See the README, *If the worst happens*.
 */
export interface OffsiteBackupsSpec {
  /**
   * The password that encrypts the backups (restic's repository password), at least 16 characters
   * and at most 256 bytes;
   * `openssl rand -base64 32` makes a good one. **Keep a copy away from DigitalOcean** (a password
   * manager, a sealed envelope): without it the backups cannot be read by anyone, you included, and
   * with the droplet lost the stack's copy is the only other one. It never appears in outputs or
   * review files; it travels in the droplet's user_data and so is stored in your IaC state (Terraform
   * keeps only a hash of user_data; Pulumi encrypts it). Like `calls.sharedSecret` it may be known
   * only at deploy time, which is recommended: a sensitive `TerraformVariable`'s value with cdktf, a
   * Pulumi secret such as `config.requireSecret(…)`.
   */
  readonly password: string;
  /**
   * The Spaces bucket the backups go to. Names are unique across all of Spaces: 3 to 63 lower-case
   * letters, digits and hyphens.
   * @default - `droplet.name` followed by `-backups`
   */
  readonly bucket?: string;
  /**
   * Whether the stack creates the bucket. `false` when it exists already (made by hand, or shared by
   * several services): the stack then only creates the key that may read and write it.
   * @default true
   */
  readonly createBucket?: boolean;
  /**
   * The bucket's Spaces region. A region other than the droplet's keeps the backups safe from a
   * disaster of the droplet's data centre too.
   * @default - `droplet.region` where it offers Spaces; otherwise it must be set
   */
  readonly spacesRegion?: string;
  /** @default - 7 daily, 4 weekly and 6 monthly snapshots */
  readonly keep?: BackupRetentionSpec;
}

/** Everything a deployment of one XMPP service needs to know. */
export interface XmppServiceSpec {
  /**
   * The XMPP domains served (the part after `@` in addresses), each a name or a `DomainSpec` with
   * settings of its own. The first is the primary domain.
   */
  readonly domains: readonly (string | DomainSpec)[];
  /** Bare JIDs of the administrators of every domain; each must be on one of `domains`. */
  readonly admins: readonly string[];
  /** Let's Encrypt account and environment. */
  readonly acme: AcmeSpec;
  /** @default - file sharing and group chat on, proxy65 and pubsub off */
  readonly components?: ComponentsSpec;
  /** @default - TURN/STUN on, on the same droplet */
  readonly calls?: CallsSpec;
  /** @default - BOSH and WebSocket on */
  readonly web?: WebSpec;
  /**
   * `"invite"`: accounts are created from invitations that admins (and, if allowed, users) make;
   * `"closed"`: only admins create accounts, on the host.
   * @default "invite"
   */
  readonly registration?: RegistrationPolicy;
  /**
   * How long the server keeps message history, in seconds: each user's archive (XEP-0313, what a
   * new device or a reinstalled app fetches), group chat history, and uploaded files, which those
   * messages link to. One setting, so that no file outlives the messages that link it.
   * `components.fileShare.expireAfterSeconds` and `components.groupChat.archiveExpireAfterSeconds`
   * may override it; files may be kept shorter than messages, never longer. From 1 hour to 10 years.
   * @default 604800 (7 days)
   */
  readonly historyExpireAfterSeconds?: number;
  /**
   * Contact addresses of every domain (a domain may replace roles with its own).
   * @default - abuse, admin, security and support point at the admins of each domain
   */
  readonly contacts?: ContactAddressesSpec;
  /** @default - see DropletSpec */
  readonly droplet?: DropletSpec;
  /**
   * Addresses or CIDR blocks from which SSH (port 22) is allowed. Nothing else reaches port 22.
   * Root logs in with a key only: a non-empty list requires `droplet.sshKeyFingerprints`.
   * @default [] (none: SSH is closed, use the DigitalOcean console)
   */
  readonly adminSourceCidrs?: readonly string[];
  /** @default - see DnsSpec */
  readonly dns?: DnsSpec;
  /** @default - federation on, without server direct TLS */
  readonly federation?: FederationSpec;
  /** @default - see PortsSpec */
  readonly ports?: PortsSpec;
  /** @default - the configuration travels in user_data: every change replaces the droplet */
  readonly configDelivery?: ConfigDeliverySpec;
  /**
   * Uptime check and resource alerts at DigitalOcean. Requires `droplet.monitoring` (on by default).
   * @default - no alerts: no uptime check, no monitor alerts
   */
  readonly alerts?: AlertsSpec;
  /**
   * Daily encrypted backups of the data volume to a Spaces bucket (restic), and the restore from them.
   * Needs Spaces credentials on the deploying side, like `configDelivery.channel: "spaces"`.
   * @default - none: the daily archives stay on the volume itself
   */
  readonly offsiteBackups?: OffsiteBackupsSpec;
}

// ---------------------------------------------------------------------------------------------
// Known fields: the one list of every field a declaration may hold, checked against the interfaces
// above by the compiler. `findUnknownFields` (unknown-fields.ts) reports any other key, so that a
// typo is not silently ignored by users without a type checker (JavaScript, JSON, Pulumi YAML).
// ---------------------------------------------------------------------------------------------

/**
 * The known fields of an interface `T`, each with how the unknown-field check treats its value:
 * - `'value'`: a value it does not look into (strings, which may be cdktf tokens, numbers,
 *   booleans, lists of strings, and deploy-time values such as Pulumi Outputs);
 * - the known fields of a nested section, for a field whose declared type is an object;
 * - `[fields]`, for a list whose entries may be such objects (`domains`: names or `DomainSpec`s).
 *
 * Each list below `satisfies SpecFields<Interface>`: every key of the interface is required and no
 * other is allowed, and the kind follows the declared type. A field added to an interface but not
 * here, a field listed here that the interface lacks, or a string field listed as a section all
 * fail `tsc` (and `SpecFieldsMatchInterfaces` spells the key check out once more).
 */
export type SpecFields<T> = { readonly [K in keyof T]-?: SpecFieldShape<NonNullable<T[K]>> };

/** How the unknown-field check treats a field whose declared type is `V` (see `SpecFields`). */
export type SpecFieldShape<V> = [V] extends [readonly (infer E)[]]
  ? [Extract<E, object>] extends [never]
    ? 'value'
    : readonly [SpecFields<Extract<E, object>>]
  : [V] extends [object]
    ? SpecFields<V>
    : 'value';

export const FILE_SHARE_FIELDS = {
  enabled: 'value',
  name: 'value',
  fileSizeLimitBytes: 'value',
  expireAfterSeconds: 'value',
  dailyQuotaBytesPerUser: 'value',
  globalQuotaBytes: 'value',
} as const satisfies SpecFields<FileShareSpec>;

export const GROUP_CHAT_FIELDS = {
  enabled: 'value',
  name: 'value',
  archiveExpireAfterSeconds: 'value',
  roomCreation: 'value',
} as const satisfies SpecFields<GroupChatSpec>;

export const PROXY65_FIELDS = { enabled: 'value', name: 'value', port: 'value' } as const satisfies SpecFields<Proxy65Spec>;

export const PUBSUB_FIELDS = { enabled: 'value', name: 'value' } as const satisfies SpecFields<PubsubSpec>;

export const COMPONENTS_FIELDS = {
  namePattern: 'value',
  fileShare: FILE_SHARE_FIELDS,
  groupChat: GROUP_CHAT_FIELDS,
  proxy65: PROXY65_FIELDS,
  pubsub: PUBSUB_FIELDS,
} as const satisfies SpecFields<ComponentsSpec>;

export const CALLS_FIELDS = {
  enabled: 'value',
  name: 'value',
  port: 'value',
  tlsPort: 'value',
  relayPortMin: 'value',
  relayPortMax: 'value',
  credentialTtlSeconds: 'value',
  userQuota: 'value',
  totalQuota: 'value',
  allocationMaxKbps: 'value',
  totalMaxMbps: 'value',
  // A string, or (through the adapters) a cdktf token or a Pulumi Output: never looked into.
  sharedSecret: 'value',
  placement: 'value',
  dropletSize: 'value',
} as const satisfies SpecFields<CallsSpec>;

export const WEB_FIELDS = { bosh: 'value', websocket: 'value', client: 'value' } as const satisfies SpecFields<WebSpec>;

export const CONTACT_ADDRESSES_FIELDS = {
  abuse: 'value',
  admin: 'value',
  feedback: 'value',
  sales: 'value',
  security: 'value',
  support: 'value',
} as const satisfies SpecFields<ContactAddressesSpec>;

export const DROPLET_FIELDS = {
  name: 'value',
  region: 'value',
  size: 'value',
  image: 'value',
  platform: 'value',
  sshKeyFingerprints: 'value',
  ipv6: 'value',
  reservedIpv6: 'value',
  monitoring: 'value',
  backups: 'value',
  volumeSizeGib: 'value',
} as const satisfies SpecFields<DropletSpec>;

export const CONFIG_DELIVERY_FIELDS = { channel: 'value', spacesRegion: 'value', bucket: 'value' } as const satisfies SpecFields<ConfigDeliverySpec>;

export const DNS_FIELDS = { ttlSeconds: 'value' } as const satisfies SpecFields<DnsSpec>;

export const ACME_FIELDS = { email: 'value', staging: 'value' } as const satisfies SpecFields<AcmeSpec>;

export const FEDERATION_FIELDS = { enabled: 'value', directTls: 'value' } as const satisfies SpecFields<FederationSpec>;

export const PORTS_FIELDS = { c2s: 'value', c2sDirectTls: 'value', s2s: 'value', s2sDirectTls: 'value' } as const satisfies SpecFields<PortsSpec>;

export const DOMAIN_FIELDS = {
  name: 'value',
  admins: 'value',
  contacts: CONTACT_ADDRESSES_FIELDS,
  zone: 'value',
} as const satisfies SpecFields<DomainSpec>;

export const SLACK_ALERTS_FIELDS = { channel: 'value', webhookUrl: 'value' } as const satisfies SpecFields<SlackAlertsSpec>;

export const ALERTS_FIELDS = {
  emails: 'value',
  slack: SLACK_ALERTS_FIELDS,
  latencyThresholdMs: 'value',
  uptimePeriod: 'value',
  sslExpiryDays: 'value',
  cpuPercent: 'value',
  memoryPercent: 'value',
  diskPercent: 'value',
  monitorWindow: 'value',
} as const satisfies SpecFields<AlertsSpec>;

export const BACKUP_RETENTION_FIELDS = { daily: 'value', weekly: 'value', monthly: 'value' } as const satisfies SpecFields<BackupRetentionSpec>;

export const OFFSITE_BACKUPS_FIELDS = {
  password: 'value',
  bucket: 'value',
  createBucket: 'value',
  spacesRegion: 'value',
  keep: BACKUP_RETENTION_FIELDS,
} as const satisfies SpecFields<OffsiteBackupsSpec>;

/** Every field of an `XmppServiceSpec`, nested sections included (see `SpecFields`). */
export const XMPP_SERVICE_SPEC_FIELDS = {
  domains: [DOMAIN_FIELDS],
  admins: 'value',
  acme: ACME_FIELDS,
  components: COMPONENTS_FIELDS,
  calls: CALLS_FIELDS,
  web: WEB_FIELDS,
  registration: 'value',
  historyExpireAfterSeconds: 'value',
  contacts: CONTACT_ADDRESSES_FIELDS,
  droplet: DROPLET_FIELDS,
  adminSourceCidrs: 'value',
  dns: DNS_FIELDS,
  federation: FEDERATION_FIELDS,
  ports: PORTS_FIELDS,
  configDelivery: CONFIG_DELIVERY_FIELDS,
  alerts: ALERTS_FIELDS,
  offsiteBackups: OFFSITE_BACKUPS_FIELDS,
} as const satisfies SpecFields<XmppServiceSpec>;

/** Whether `A` and `B` are the same union of keys. */
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AssertTrue<T extends true> = T;
/**
 * A second guard next to `satisfies`, spelled out: the keys of each list are exactly the keys of its
 * interface. A difference makes one entry `false`, which does not compile.
 */
export type SpecFieldsMatchInterfaces = [
  AssertTrue<SameKeys<keyof typeof FILE_SHARE_FIELDS, keyof FileShareSpec>>,
  AssertTrue<SameKeys<keyof typeof GROUP_CHAT_FIELDS, keyof GroupChatSpec>>,
  AssertTrue<SameKeys<keyof typeof PROXY65_FIELDS, keyof Proxy65Spec>>,
  AssertTrue<SameKeys<keyof typeof PUBSUB_FIELDS, keyof PubsubSpec>>,
  AssertTrue<SameKeys<keyof typeof COMPONENTS_FIELDS, keyof ComponentsSpec>>,
  AssertTrue<SameKeys<keyof typeof CALLS_FIELDS, keyof CallsSpec>>,
  AssertTrue<SameKeys<keyof typeof WEB_FIELDS, keyof WebSpec>>,
  AssertTrue<SameKeys<keyof typeof CONTACT_ADDRESSES_FIELDS, keyof ContactAddressesSpec>>,
  AssertTrue<SameKeys<keyof typeof DROPLET_FIELDS, keyof DropletSpec>>,
  AssertTrue<SameKeys<keyof typeof DNS_FIELDS, keyof DnsSpec>>,
  AssertTrue<SameKeys<keyof typeof CONFIG_DELIVERY_FIELDS, keyof ConfigDeliverySpec>>,
  AssertTrue<SameKeys<keyof typeof ACME_FIELDS, keyof AcmeSpec>>,
  AssertTrue<SameKeys<keyof typeof FEDERATION_FIELDS, keyof FederationSpec>>,
  AssertTrue<SameKeys<keyof typeof PORTS_FIELDS, keyof PortsSpec>>,
  AssertTrue<SameKeys<keyof typeof DOMAIN_FIELDS, keyof DomainSpec>>,
  AssertTrue<SameKeys<keyof typeof SLACK_ALERTS_FIELDS, keyof SlackAlertsSpec>>,
  AssertTrue<SameKeys<keyof typeof ALERTS_FIELDS, keyof AlertsSpec>>,
  AssertTrue<SameKeys<keyof typeof BACKUP_RETENTION_FIELDS, keyof BackupRetentionSpec>>,
  AssertTrue<SameKeys<keyof typeof OFFSITE_BACKUPS_FIELDS, keyof OffsiteBackupsSpec>>,
  AssertTrue<SameKeys<keyof typeof XMPP_SERVICE_SPEC_FIELDS, keyof XmppServiceSpec>>,
  AssertTrue<SameKeys<keyof ContactAddressesSpec, ContactRole>>,
];

/** The components a domain may serve, in the order they are named and configured. */
export const COMPONENT_KINDS = ['fileShare', 'groupChat', 'proxy65', 'pubsub'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** A component as served on one domain. */
export interface ResolvedComponent {
  readonly kind: ComponentKind;
  /** Fully qualified name, without trailing dot. */
  readonly host: string;
}

/** One domain with the names of its components and its own settings. */
export interface ResolvedDomain {
  readonly name: string;
  readonly components: readonly ResolvedComponent[];
  /** Admins of this domain only; the service-wide `admins` administer it as well. */
  readonly admins: readonly string[];
  /** The contact addresses this domain publishes. */
  readonly contacts: Readonly<Record<ContactRole, readonly string[]>>;
  readonly zone: ZoneHosting;
}

/** `XmppServiceSpec` with every default filled in and every value validated. */
export interface ResolvedSpec {
  readonly domains: readonly ResolvedDomain[];
  readonly primaryDomain: string;
  readonly admins: readonly string[];
  readonly fileShare: {
    readonly enabled: boolean;
    readonly name: string;
    readonly fileSizeLimitBytes: number;
    readonly expireAfterSeconds: number;
    readonly dailyQuotaBytesPerUser: number;
    readonly globalQuotaBytes: number;
  };
  readonly groupChat: {
    readonly enabled: boolean;
    readonly name: string;
    readonly archiveExpireAfterSeconds: number;
    readonly roomCreation: RoomCreationPolicy;
  };
  readonly proxy65: { readonly enabled: boolean; readonly name: string; readonly port: number };
  readonly pubsub: { readonly enabled: boolean; readonly name: string };
  readonly calls: {
    readonly enabled: boolean;
    /** Fully qualified TURN host name. */
    readonly host: string;
    readonly port: number;
    readonly tlsPort: number;
    readonly relayPortMin: number;
    readonly relayPortMax: number;
    readonly credentialTtlSeconds: number;
    readonly userQuota: number;
    readonly totalQuota: number;
    readonly allocationMaxKbps: number;
    readonly totalMaxMbps: number;
    /** Present only when the user supplied one; otherwise the host generates it. */
    readonly sharedSecret?: string;
    /** Where coturn runs. `hasTurnOnProsodyHost`/`hasDedicatedTurnDroplet` also consider `enabled`. */
    readonly placement: TurnPlacement;
    /**
     * The TURN droplet, used only when `placement` is `"dedicated"` (see `hasDedicatedTurnDroplet`).
     * Region, image, SSH keys, IPv6 and monitoring are the Prosody droplet's.
     */
    readonly droplet: { readonly name: string; readonly size: string };
  };
  readonly web: { readonly bosh: boolean; readonly websocket: boolean; readonly client: boolean };
  readonly registration: RegistrationPolicy;
  /** How long users' message archives are kept (files and room history follow unless overridden). */
  readonly historyExpireAfterSeconds: number;
  /** The service-wide contact addresses: those of every domain without settings of its own. */
  readonly contacts: Readonly<Record<ContactRole, readonly string[]>>;
  readonly droplet: {
    readonly name: string;
    readonly region: string;
    readonly size: string;
    readonly image: string;
    /** The platform the image runs, which the configuration is written for. */
    readonly platform: PlatformName;
    readonly sshKeyFingerprints: readonly string[];
    readonly ipv6: boolean;
    /**
     * The domains' AAAA records point at a reserved IPv6 address (only ever with `ipv6`); without
     * it they follow the droplet's own address with `dns.turnTtlSeconds`.
     */
    readonly reservedIpv6: boolean;
    readonly monitoring: boolean;
    readonly backups: boolean;
    readonly volumeSizeGib: number;
    /** DigitalOcean volume name; the device appears as /dev/disk/by-id/scsi-0DO_Volume_<name>. */
    readonly volumeName: string;
  };
  readonly adminSourceCidrs: readonly string[];
  /**
   * `turnTtlSeconds` (at most 300) is the TTL of every record that follows a droplet's own address:
   * the TURN name's, and the AAAA records when there is no reserved IPv6.
   */
  readonly dns: { readonly ttlSeconds: number; readonly turnTtlSeconds: number };
  readonly acme: { readonly email: string; readonly staging: boolean };
  readonly federation: { readonly enabled: boolean; readonly directTls: boolean };
  readonly ports: {
    readonly c2s: number;
    readonly c2sDirectTls: number;
    readonly s2s: number;
    readonly s2sDirectTls: number;
    /** Prosody's plaintext HTTP port; bound to loopback only, nginx proxies to it. */
    readonly httpLoopback: number;
  };
  /** How configuration changes reach the droplet (see `ConfigDeliverySpec`). */
  readonly configDelivery: ResolvedConfigDelivery;
  /** The alerts, with every threshold filled in; absent when `alerts` is not declared. */
  readonly alerts?: ResolvedAlerts;
  /** The off-host backups; absent when `offsiteBackups` is not declared. */
  readonly offsiteBackups?: ResolvedOffsiteBackups;
}

/** `offsiteBackups` resolved (see `OffsiteBackupsSpec`). */
export interface ResolvedOffsiteBackups {
  /** The repository password, or `DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER` when the engine supplies it. */
  readonly password: string;
  readonly bucket: string;
  readonly createBucket: boolean;
  readonly region: string;
  /** The folder of the bucket holding this service's restic repository: the droplet's name. */
  readonly repositoryPrefix: string;
  readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
}

/** `alerts` resolved (see `AlertsSpec`). */
export interface ResolvedAlerts {
  readonly emails: readonly string[];
  readonly slack?: { readonly channel: string; readonly webhookUrl: string };
  readonly latencyThresholdMs: number;
  readonly uptimePeriod: UptimePeriod;
  readonly sslExpiryDays: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly diskPercent: number;
  readonly monitorWindow: MonitorWindow;
}

/** `configDelivery` resolved: the bucket and its region only with the `"spaces"` channel. */
export type ResolvedConfigDelivery =
  | { readonly channel: 'user-data' }
  | { readonly channel: 'spaces'; readonly region: string; readonly bucket: string };

/** Whether configuration changes reach the droplet in place, through a Spaces bucket. */
export function deliversInPlace(spec: ResolvedSpec): spec is ResolvedSpec & { readonly configDelivery: { readonly channel: 'spaces'; readonly region: string; readonly bucket: string } } {
  return spec.configDelivery.channel === 'spaces';
}

export const CONTACT_ROLES = ['abuse', 'admin', 'feedback', 'sales', 'security', 'support'] as const;
export type ContactRole = (typeof CONTACT_ROLES)[number];

/** Whether coturn runs on the droplet that runs Prosody (the default). */
export function hasTurnOnProsodyHost(spec: ResolvedSpec): boolean {
  return spec.calls.enabled && spec.calls.placement === 'prosody-host';
}

/** Whether coturn runs on a droplet of its own, which the adapters then create. */
export function hasDedicatedTurnDroplet(spec: ResolvedSpec): boolean {
  return spec.calls.enabled && spec.calls.placement === 'dedicated';
}

/**
 * Every name one domain needs on the Prosody host's certificate: the domain, its components and,
 * when coturn runs there too, the TURN host name (coturn uses the primary domain's certificate).
 * A dedicated TURN droplet obtains its own certificate.
 */
export function certificateNames(spec: ResolvedSpec, domain: ResolvedDomain): string[] {
  const names = [domain.name, ...domain.components.map((c) => c.host)];
  if (hasTurnOnProsodyHost(spec) && domain.name === spec.primaryDomain) names.push(spec.calls.host);
  return names;
}

/** Whether a domain's DNS is served outside DigitalOcean, so the stack outputs `zone_files`. */
export function hasExternalZones(spec: ResolvedSpec): boolean {
  return spec.domains.some((d) => d.zone === 'external');
}

/** The name of a domain as declared, whether a plain string or a `DomainSpec`. */
export function declaredDomainName(domain: string | DomainSpec): unknown {
  return typeof domain === 'string' ? domain : typeof domain === 'object' && domain !== null ? domain.name : domain;
}

/**
 * Whether a domain's Prosody settings differ from the service-wide ones (own admins, or contact
 * addresses of its own), so that prosody.cfg.lua needs a section for it.
 */
export function hasOwnProsodySettings(spec: ResolvedSpec, domain: ResolvedDomain): boolean {
  return domain.admins.length > 0 || CONTACT_ROLES.some((role) => !sameList(domain.contacts[role], spec.contacts[role]));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
