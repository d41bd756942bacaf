/**
 * coturn's configuration: /etc/turnserver.conf and the systemd drop-in that feeds it the
 * droplet's addresses.
 *
 * Two things never appear in what is rendered here, because they are only known on the host:
 * - the shared secret (Prosody mints TURN REST credentials with it). The provisioning script
 *   stores it in coturn's SQLite userdb (`turnadmin --set-secret`), from the copy on the data
 *   volume. With `use-auth-secret` and no `static-auth-secret`, coturn reads the realm's secrets
 *   from that database on every authentication.
 * - the droplet's public addresses. coturn has no include directive, so the drop-in passes them
 *   as `--listening-ip`/`--relay-ip` flags from an environment file the provisioning script writes.
 */
import * as ipaddr from 'ipaddr.js';
import { ResolvedSpec } from './spec';
import { TURN_ADDRESSES_ENV, TURN_CERT_DIR, TURN_CONFIG, TURN_SYSTEMD_DROPIN, TURN_USERDB } from './paths';
import { ECDHE_AEAD_CIPHERS } from './tls';

/** One address block relayed media must never reach, and why. */
export interface DeniedPeerCidr {
  readonly cidr: string;
  /**
   * The block as coturn reads it: `cidrToRange(cidr)`, written out because the table is fixed and
   * computing it cost 5 ms of every synthesis (ipaddr.js parses IPv6 slowly in a fresh process).
   * A test holds every entry to cidrToRange.
   */
  readonly range: string;
  readonly why: string;
}

/**
 * Peers coturn refuses to relay to. Without these, a TURN client can use the relay to reach the
 * droplet's own loopback services, DigitalOcean's VPC and metadata service (169.254.169.254 serves
 * user data), or anything else that is not the public Internet.
 *
 * `::/128` is deliberately absent: coturn 4.6.1 always refuses 0.0.0.0/8 and `::` itself, and it
 * reads an all-zero `::` range bound as "unbounded", so `denied-peer-ip=::-::` denies every peer of
 * both families and breaks all relaying. No entry may start or end at `::`.
 */
export const DENIED_PEER_CIDRS: readonly DeniedPeerCidr[] = [
  { cidr: '0.0.0.0/8', range: '0.0.0.0-0.255.255.255', why: '"this network"; 0.0.0.0 reaches the local host on Linux' },
  { cidr: '10.0.0.0/8', range: '10.0.0.0-10.255.255.255', why: 'private (RFC 1918), includes the DigitalOcean VPC and anchor addresses' },
  { cidr: '100.64.0.0/10', range: '100.64.0.0-100.127.255.255', why: 'carrier-grade NAT shared space (RFC 6598)' },
  { cidr: '127.0.0.0/8', range: '127.0.0.0-127.255.255.255', why: "loopback: Prosody's HTTP port and other local-only services" },
  { cidr: '169.254.0.0/16', range: '169.254.0.0-169.254.255.255', why: 'link-local, includes the metadata service that serves user data' },
  { cidr: '172.16.0.0/12', range: '172.16.0.0-172.31.255.255', why: 'private (RFC 1918)' },
  { cidr: '192.0.0.0/24', range: '192.0.0.0-192.0.0.255', why: 'IETF protocol assignments (RFC 6890)' },
  { cidr: '192.0.2.0/24', range: '192.0.2.0-192.0.2.255', why: 'documentation, TEST-NET-1 (RFC 5737)' },
  { cidr: '192.88.99.0/24', range: '192.88.99.0-192.88.99.255', why: 'deprecated 6to4 relay anycast (RFC 7526)' },
  { cidr: '192.168.0.0/16', range: '192.168.0.0-192.168.255.255', why: 'private (RFC 1918)' },
  { cidr: '198.18.0.0/15', range: '198.18.0.0-198.19.255.255', why: 'benchmarking (RFC 2544)' },
  { cidr: '198.51.100.0/24', range: '198.51.100.0-198.51.100.255', why: 'documentation, TEST-NET-2 (RFC 5737)' },
  { cidr: '203.0.113.0/24', range: '203.0.113.0-203.0.113.255', why: 'documentation, TEST-NET-3 (RFC 5737)' },
  { cidr: '224.0.0.0/4', range: '224.0.0.0-239.255.255.255', why: 'multicast' },
  { cidr: '240.0.0.0/4', range: '240.0.0.0-255.255.255.255', why: 'reserved (RFC 1112) and limited broadcast 255.255.255.255' },
  { cidr: '::1/128', range: '::1-::1', why: 'loopback' },
  { cidr: '::ffff:0:0/96', range: '::ffff:0.0.0.0-::ffff:255.255.255.255', why: 'IPv4-mapped: would bypass every IPv4 entry above' },
  { cidr: '64:ff9b::/96', range: '64:ff9b::-64:ff9b::ffff:ffff', why: 'NAT64 (RFC 6052): reaches IPv4 space through a translator' },
  { cidr: '100::/64', range: '100::-100::ffff:ffff:ffff:ffff', why: 'discard-only (RFC 6666)' },
  { cidr: '2001:db8::/32', range: '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', why: 'documentation (RFC 3849)' },
  { cidr: 'fc00::/7', range: 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'unique local (RFC 4193), the IPv6 private space' },
  { cidr: 'fe80::/10', range: 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'link-local' },
  { cidr: 'ff00::/8', range: 'ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'multicast' },
];

/**
 * The inclusive range `first-last` of a CIDR block, the only block syntax coturn's
 * `denied-peer-ip` understands (a CIDR is logged as "Wrong address format" and ignored, leaving
 * the block open). IPv6 is written per RFC 5952; IPv4-mapped addresses in mixed notation.
 * Throws on anything but a canonical block (no host bits set), so a typo cannot widen or narrow it.
 */
export function cidrToRange(cidr: string): string {
  const canonicalV4 = ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr);
  if (cidr.includes('%') || (!canonicalV4 && !ipaddr.IPv6.isValidCIDR(cidr))) {
    throw new Error(`cidrToRange: "${cidr}" is not an IPv4 (dotted quad) or IPv6 CIDR block`);
  }
  const [address] = ipaddr.parseCIDR(cidr);
  const first = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  const last = address.kind() === 'ipv4' ? ipaddr.IPv4.broadcastAddressFromCIDR(cidr) : ipaddr.IPv6.broadcastAddressFromCIDR(cidr);
  if (first.toNormalizedString() !== address.toNormalizedString()) {
    throw new Error(`cidrToRange: "${cidr}" has host bits set; the block starts at ${formatAddress(first)}`);
  }
  return `${formatAddress(first)}-${formatAddress(last)}`;
}

function formatAddress(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv4') return address.toString();
  const v6 = address as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String();
}

/**
 * The value of `TURN_ADDRESS_ARGS` in TURN_ADDRESSES_ENV: coturn listens and relays on the
 * droplet's own public addresses (on eth0), which are also what the TURN name's A/AAAA records
 * point at. Not the reserved IP: that one is NAT'd, and relayed media must leave from the address
 * clients were told.
 */
export function turnAddressArgs(ipv4: string, ipv6?: string): string {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ipv4)) throw new Error(`turnAddressArgs: "${ipv4}" is not an IPv4 address`);
  const args = [`--listening-ip=${ipv4}`, `--relay-ip=${ipv4}`];
  if (ipv6 !== undefined && ipv6 !== '') {
    if (!ipaddr.IPv6.isValid(ipv6) || ipv6.includes('%')) throw new Error(`turnAddressArgs: "${ipv6}" is not an IPv6 address`);
    const v6 = ipaddr.IPv6.parse(ipv6).toRFC5952String();
    args.push(`--listening-ip=${v6}`, `--relay-ip=${v6}`);
  }
  return args.join(' ');
}

/**
 * coturn's realm: the TURN host name. The provisioning script must store the shared secret under
 * exactly this realm (`turnadmin --set-secret S --realm R`), because coturn looks secrets up by its
 * configured realm. REST credentials do not depend on it (the HMAC covers only the username), so
 * Prosody's external_services needs no realm setting; clients learn it from the 401 challenge.
 */
export function turnRealm(spec: ResolvedSpec): string {
  return spec.calls.host;
}

/**
 * Suites for TURN over TLS and DTLS: forward-secret AEAD with ECDHE (Mozilla "intermediate" minus
 * DHE, which would use coturn's predefined non-standard DH group and which no TURN client needs).
 * coturn 4.6.1 speaks at most TLS 1.2 and DTLS 1.2, so this list is all it ever negotiates; it also
 * excludes everything TLS 1.0/1.1 could use.
 */
export const TURN_CIPHER_LIST = ECDHE_AEAD_CIPHERS;

/** Builds a line-oriented file: `key`, `key=value` and `# comment` lines. */
class ConfigWriter {
  private readonly lines: string[] = [];

  comment(text: string): this {
    for (const line of text.split('\n')) this.lines.push(line === '' ? '#' : `# ${line}`);
    return this;
  }

  option(key: string, value?: string | number): this {
    const text = value === undefined ? key : `${key}=${value}`;
    if (/[\r\n]/.test(text)) throw new Error(`turnserver.conf: option ${key} would span lines`);
    this.lines.push(text);
    return this;
  }

  blank(): this {
    this.lines.push('');
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** /etc/turnserver.conf for `spec.calls`. Holds no secret and no address (see the module comment). */
export function renderTurnConfig(spec: ResolvedSpec): string {
  const calls = spec.calls;
  const w = new ConfigWriter();
  w.comment(
    'Rendered by xmpp-constructs; changes here are lost on the next deployment.\n' +
      `Listening and relay addresses come from ${TURN_SYSTEMD_DROPIN}\n` +
      `(values in ${TURN_ADDRESSES_ENV}), because only the droplet knows them.`,
  );
  w.blank();

  w.option('listening-port', calls.port);
  w.option('tls-listening-port', calls.tlsPort);
  w.comment('Relayed media; the firewall opens exactly this UDP range.');
  w.option('min-port', calls.relayPortMin);
  w.option('max-port', calls.relayPortMax);
  w.blank();

  w.comment(
    'TURN REST credentials minted by Prosody (external_services): username "<expiry>",\n' +
      'password base64(HMAC-SHA1(secret, username)). The secret is stored in the userdb for this\n' +
      'realm at boot (turnadmin --set-secret) from the data volume, so it never appears here.',
  );
  w.option('use-auth-secret');
  w.option('userdb', TURN_USERDB);
  w.option('realm', turnRealm(spec));
  w.option('server-name', calls.host);
  w.blank();

  w.comment("The primary domain's certificate, copied where the turnserver user can read it; SIGUSR2 reloads it.");
  w.option('cert', `${TURN_CERT_DIR}/fullchain.pem`);
  w.option('pkey', `${TURN_CERT_DIR}/privkey.pem`);
  w.option('cipher-list', `"${TURN_CIPHER_LIST}"`);
  w.option('no-tlsv1');
  w.option('no-tlsv1_1');
  w.blank();

  w.comment(
    'Relay only UDP to public unicast addresses. coturn reads blocks only as first-last ranges;\n' +
      'a CIDR is ignored with "Wrong address format".',
  );
  w.option('no-tcp-relay');
  w.option('no-multicast-peers');
  for (const { cidr, range, why } of DENIED_PEER_CIDRS) {
    w.comment(`${cidr}: ${why}`);
    w.option('denied-peer-ip', range);
  }
  w.blank();

  w.comment('Limits: allocations per user (one call needs a few) and on the whole server.');
  w.option('user-quota', calls.userQuota);
  w.option('total-quota', calls.totalQuota);
  w.option('stale-nonce', 600);
  w.blank();

  w.comment('Less surface: no telnet CLI, no version banner.');
  w.option('no-cli');
  w.option('fingerprint');
  w.option('no-software-attribute');
  w.comment("Debian's defaults, kept: no NAT-behaviour discovery (it needs a second address), no RFC 3489 STUN.");
  w.option('no-rfc5780');
  w.option('no-stun-backward-compatibility');
  w.option('response-origin-only-with-rfc5780');
  w.blank();

  w.comment(
    'Log to stdout only, which systemd puts in the journal: no log files under /var/log.\n' +
      'simple-log keeps a file name as written should log-file ever name a file (logrotate-friendly).',
  );
  w.option('log-file', 'stdout');
  w.option('simple-log');
  return w.toString();
}

/**
 * The drop-in for Debian's coturn.service (which runs `turnserver -c /etc/turnserver.conf
 * --pidfile=` as User=turnserver, Type=notify). Ports above 1024 need no capabilities.
 */
export function renderTurnSystemdDropin(): string {
  return [
    '# Rendered by xmpp-constructs. coturn binds to the droplet\'s own public addresses, which',
    `# the provisioning script writes to ${TURN_ADDRESSES_ENV}. Without that file coturn`,
    '# does not start, rather than listening on every address.',
    '[Unit]',
    '# Binding to a specific address needs it configured (IPv6 also past duplicate detection).',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    `EnvironmentFile=${TURN_ADDRESSES_ENV}`,
    '# $VAR (not ${VAR}) so systemd splits the value into separate arguments.',
    'ExecStart=',
    `ExecStart=/usr/bin/turnserver -c ${TURN_CONFIG} --pidfile= $TURN_ADDRESS_ARGS`,
    '# Debian restarts on failure; space the attempts so an address that appears late is picked up.',
    'RestartSec=5s',
    '',
  ].join('\n');
}

/** `{ path: content }` of every coturn file; empty when calls are disabled. */
export function renderTurnFiles(spec: ResolvedSpec): Record<string, string> {
  if (!spec.calls.enabled) return {};
  return {
    [TURN_CONFIG]: renderTurnConfig(spec),
    [TURN_SYSTEMD_DROPIN]: renderTurnSystemdDropin(),
  };
}
