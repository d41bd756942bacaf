/**
 * Every default of an `XmppServiceSpec`, section by section: the one place that says what an
 * omitted field becomes. The `@default` tags in spec.ts document these values, and a test holds
 * the two equal. Defaults that follow from other fields (`@default - …` in spec.ts) are the
 * functions below; `resolveSpec` applies both and repeats no value of its own.
 */
import { offersReservedIpv6 } from './regions';
import {
  AcmeSpec,
  AlertsSpec,
  BackupRetentionSpec,
  CallsSpec,
  ComponentsSpec,
  ConfigDeliverySpec,
  ContactRole,
  DnsSpec,
  DomainSpec,
  DropletSpec,
  FederationSpec,
  FileShareSpec,
  GroupChatSpec,
  OffsiteBackupsSpec,
  PortsSpec,
  Proxy65Spec,
  PubsubSpec,
  WebSpec,
  XmppServiceSpec,
} from './spec';

/**
 * The documented default of every field that has a fixed one, keyed like the spec's sections
 * (`service` is `XmppServiceSpec` itself, `domain` a `DomainSpec`). Fields whose default is
 * computed from other fields are absent here.
 */
export const DEFAULTS = {
  service: { registration: 'invite', adminSourceCidrs: [], historyExpireAfterSeconds: 7 * 86400 },
  domain: { zone: 'create' },
  components: { namePattern: '{label}.{domain}' },
  fileShare: { enabled: true, name: 'upload', fileSizeLimitBytes: 100 * 1024 * 1024 },
  groupChat: { enabled: true, name: 'conference', roomCreation: 'local' },
  proxy65: { enabled: false, name: 'proxy', port: 5000 },
  pubsub: { enabled: false, name: 'pubsub' },
  calls: {
    enabled: true, name: 'turn', port: 3478, tlsPort: 5349, relayPortMin: 49152, relayPortMax: 65535,
    credentialTtlSeconds: 86400, userQuota: 12, totalQuota: 1200, allocationMaxKbps: 2000,
    // What the default droplet (s-1vcpu-1gb) relays comfortably. Not derived from the droplet's size:
    // coturn's configuration would then change with it, and resizing would replace the droplet.
    totalMaxMbps: 400,
    placement: 'prosody-host', dropletSize: 's-1vcpu-1gb',
  },
  web: { bosh: true, websocket: true, client: true },
  droplet: {
    region: 'ams3', size: 's-1vcpu-1gb', image: 'debian-13-x64', sshKeyFingerprints: [],
    ipv6: true, monitoring: true, backups: false, volumeSizeGib: 10,
  },
  dns: { ttlSeconds: 1800 },
  acme: { staging: false },
  federation: { enabled: true, directTls: false },
  ports: { c2s: 5222, c2sDirectTls: 5223, s2s: 5269, s2sDirectTls: 5270 },
  configDelivery: { channel: 'user-data' },
  alerts: {
    // Slower than any healthy answer from a droplet, seen from DigitalOcean's farthest region.
    latencyThresholdMs: 2000,
    uptimePeriod: '5m',
    // certbot renews at 30 days left: at 20, renewal has been failing for ten days, and twenty remain to fix it.
    sslExpiryDays: 20,
    // Prosody idles at a few percent: sustained 90% means a runaway process or a flood, not load.
    cpuPercent: 90,
    memoryPercent: 90,
    // Room left for a journal burst or an upgrade's downloads before the root disk fills.
    diskPercent: 85,
    monitorWindow: '10m',
  },
  offsiteBackups: { createBucket: true },
  // A week of days to undo a mistake noticed late, a month of weeks, half a year of months.
  backupRetention: { daily: 7, weekly: 4, monthly: 6 },
} as const satisfies {
  // Each section may only name fields its interface has, with values of their declared types.
  readonly service: Partial<Pick<XmppServiceSpec, 'registration' | 'adminSourceCidrs' | 'historyExpireAfterSeconds'>>;
  readonly domain: Partial<Pick<DomainSpec, 'zone'>>;
  readonly components: Partial<Pick<ComponentsSpec, 'namePattern'>>;
  readonly fileShare: Partial<FileShareSpec>;
  readonly groupChat: Partial<GroupChatSpec>;
  readonly proxy65: Partial<Proxy65Spec>;
  readonly pubsub: Partial<PubsubSpec>;
  readonly calls: Partial<CallsSpec>;
  readonly web: Partial<WebSpec>;
  readonly droplet: Partial<DropletSpec>;
  readonly dns: Partial<DnsSpec>;
  readonly acme: Partial<AcmeSpec>;
  readonly federation: Partial<FederationSpec>;
  readonly ports: Partial<PortsSpec>;
  readonly configDelivery: Partial<ConfigDeliverySpec>;
  readonly alerts: Partial<AlertsSpec>;
  readonly offsiteBackups: Partial<OffsiteBackupsSpec>;
  readonly backupRetention: Required<BackupRetentionSpec>;
};

/**
 * The TTL ceiling of records that follow a droplet's own address (the TURN name's, and AAAA records
 * without reserved IPv6): a replaced droplet's new address reaches resolvers within it.
 */
export const TURN_MAX_TTL_SECONDS = 300;

/** `components.fileShare.dailyQuotaBytesPerUser`: ten files of the largest size a day. */
export function defaultDailyQuotaBytesPerUser(fileSizeLimitBytes: number): number {
  return fileSizeLimitBytes * 10;
}

/** The share of the data volume the upload services may fill by default (the rest: messages, archives of them). */
export const UPLOADS_DEFAULT_SHARE_OF_VOLUME = 0.5;
/** The most of the data volume uploads may be given: above it, the backup job warns every day. */
export const UPLOADS_MAX_SHARE_OF_VOLUME = 0.8;

/**
 * `components.fileShare.globalQuotaBytes`: half the data volume, shared equally by the upload
 * services of the `domainCount` domains (Prosody keeps a quota per service), but room for at least
 * one file of the largest size on each.
 */
export function defaultGlobalQuotaBytes(volumeSizeGib: number, domainCount: number, fileSizeLimitBytes: number): number {
  const share = Math.floor((volumeSizeGib * 1024 ** 3 * UPLOADS_DEFAULT_SHARE_OF_VOLUME) / Math.max(1, domainCount));
  return Math.max(share, fileSizeLimitBytes);
}

/** `droplet.name`: `xmpp-` and the primary domain, hyphenated, within the 59 characters a name may have. */
export function defaultDropletName(primaryDomain: string): string {
  return `xmpp-${primaryDomain.replace(/\./g, '-')}`.slice(0, 59).replace(/-+$/, '');
}

/** `droplet.reservedIpv6`: on where DigitalOcean offers it, never without IPv6. */
export function defaultReservedIpv6(ipv6: unknown, region: unknown): boolean {
  return ipv6 === true && typeof region === 'string' && offersReservedIpv6(region);
}

/**
 * A contact role nobody declared: the roles that reach the people in charge (abuse, admin,
 * security, support) point at the admins' `xmpp:` addresses; feedback and sales stay empty.
 */
export function defaultContactAddresses(role: ContactRole, admins: readonly string[]): string[] {
  return role === 'feedback' || role === 'sales' ? [] : admins.map((a) => `xmpp:${a}`);
}

/** `configDelivery.bucket`: the droplet's name and `-config`, within the 63 characters a bucket name may have. */
export function defaultConfigBucket(dropletName: string): string {
  return `${dropletName.slice(0, 56).replace(/-+$/, '')}-config`;
}

/** `offsiteBackups.bucket`: the droplet's name and `-backups`, within the 63 characters a bucket name may have. */
export function defaultBackupBucket(dropletName: string): string {
  return `${dropletName.slice(0, 55).replace(/-+$/, '')}-backups`;
}
