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
  /** Always one whole CIDR block: coturn 4.6.1 reads any other IPv6 range with holes (see DENIED_PEER_CIDRS). */
  readonly cidr: string;
  /**
   * The block as coturn reads it: `cidrToRange(cidr)`, written out because the table is fixed and
   * computing it cost 5 ms of every synthesis (ipaddr.js parses IPv6 slowly in a fresh process).
   * A test holds every entry to cidrToRange.
   */
  readonly range: string;
  readonly why: string;
}

/** Why for each part of ::/96 after ::1 (see DENIED_PEER_CIDRS on why it is split). */
const IPV4_COMPATIBLE = 'IPv4-compatible (deprecated, RFC 4291): embeds IPv4, as in ::127.0.0.1; with ::1, all of ::/96 but :: itself';

/**
 * Peers coturn refuses to relay to. Without these, a TURN client can use the relay to reach the
 * droplet's own loopback services, DigitalOcean's VPC and metadata service (169.254.169.254 serves
 * user data), or anything else that is not the public Internet.
 *
 * What is denied, held to IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its
 * updates, as they stood in 2025; test/core/turn.test.ts carries both row by row):
 * - every block a registry marks not globally reachable, or N/A (deprecated: Teredo, ORCHID, 6to4
 *   and its relay anycast);
 * - every IPv6 block that embeds IPv4 addresses, global or not (IPv4-mapped, -compatible and
 *   -translated, NAT64, 6to4, Teredo): through a translator or a tunnel each reaches the IPv4
 *   address it carries, private ones included, and coturn 4.6.1 does not hold such a peer to the
 *   IPv4 entries;
 * - multicast and the deprecated site-local block, which are in neither registry.
 * 192.0.0.0/24 and 2001::/23 are denied whole, with the few globally reachable entries inside them
 * (PCP, TURN and SRP anycast, AMT relays, AS112 sinks, ORCHIDv2 and DET identifiers): no call's
 * media goes to any of them, and carving them out would only add ranges. The registries' other global blocks (AS112 192.31.196.0/24, 192.175.48.0/24 and
 * 2620:4f:8000::/48, AMT 192.52.193.0/24) are ordinary unicast and stay open like any public peer.
 *
 * How coturn 4.6.1 reads a range (ioa_addr_in_range and addr_less_eq in src/client/ns_turn_ioaddr.c,
 * and observed with the real daemon):
 * - it compares IPv6 bounds byte by byte, each byte of the peer between the bounds' bytes, not as
 *   numbers (fixed only in coturn 4.16): `::1-::ffff:ffff` lets ::10.0.0.0 through. A whole CIDR
 *   block is read exactly, so every entry is one (a split block takes several entries).
 * - an all-zero bound means "no bound", and an IPv4 peer sorts below every IPv6 bound: a range
 *   from `::` denies every IPv4 peer, one up to `::` denies everything. So no range starts or ends
 *   at `::`: ::/96 is split into ::1/128 and the 31 blocks after it, and `::` itself is left to
 *   coturn, which always refuses it (and 0.0.0.0/8). The 0.0.0.0 starting 0.0.0.0/8 is harmless:
 *   "no lower bound" is the same thing within IPv4, and an IPv4 range never holds an IPv6 peer.
 * `no-multicast-peers` refuses 224.0.0.0 and above and ff00::/8 already; those entries keep the
 * list complete on its own.
 */
export const DENIED_PEER_CIDRS: readonly DeniedPeerCidr[] = [
  { cidr: '0.0.0.0/8', range: '0.0.0.0-0.255.255.255', why: '"this network" (RFC 791), not global; 0.0.0.0 reaches the local host on Linux' },
  { cidr: '10.0.0.0/8', range: '10.0.0.0-10.255.255.255', why: 'private (RFC 1918), includes the DigitalOcean VPC and anchor addresses' },
  { cidr: '100.64.0.0/10', range: '100.64.0.0-100.127.255.255', why: 'carrier-grade NAT shared space (RFC 6598)' },
  { cidr: '127.0.0.0/8', range: '127.0.0.0-127.255.255.255', why: "loopback: Prosody's HTTP port and other local-only services" },
  { cidr: '169.254.0.0/16', range: '169.254.0.0-169.254.255.255', why: 'link-local, includes the metadata service that serves user data' },
  { cidr: '172.16.0.0/12', range: '172.16.0.0-172.31.255.255', why: 'private (RFC 1918)' },
  {
    cidr: '192.0.0.0/24',
    range: '192.0.0.0-192.0.0.255',
    why: 'IETF protocol assignments (RFC 6890): service continuity /29, dummy .8 and NAT64 discovery .170-.171 are not global; the global PCP and TURN anycast .9-.10 are never a media peer',
  },
  { cidr: '192.0.2.0/24', range: '192.0.2.0-192.0.2.255', why: 'documentation, TEST-NET-1 (RFC 5737)' },
  { cidr: '192.88.99.0/24', range: '192.88.99.0-192.88.99.255', why: 'deprecated 6to4 relay anycast (RFC 7526), includes the 6a44 relay 192.88.99.2 (not global)' },
  { cidr: '192.168.0.0/16', range: '192.168.0.0-192.168.255.255', why: 'private (RFC 1918)' },
  { cidr: '198.18.0.0/15', range: '198.18.0.0-198.19.255.255', why: 'benchmarking (RFC 2544)' },
  { cidr: '198.51.100.0/24', range: '198.51.100.0-198.51.100.255', why: 'documentation, TEST-NET-2 (RFC 5737)' },
  { cidr: '203.0.113.0/24', range: '203.0.113.0-203.0.113.255', why: 'documentation, TEST-NET-3 (RFC 5737)' },
  { cidr: '224.0.0.0/4', range: '224.0.0.0-239.255.255.255', why: 'multicast, also refused by no-multicast-peers' },
  { cidr: '240.0.0.0/4', range: '240.0.0.0-255.255.255.255', why: 'reserved (RFC 1112) and limited broadcast 255.255.255.255' },
  { cidr: '::1/128', range: '::1-::1', why: 'loopback' },
  { cidr: '::2/127', range: '::2-::3', why: IPV4_COMPATIBLE },
  { cidr: '::4/126', range: '::4-::7', why: IPV4_COMPATIBLE },
  { cidr: '::8/125', range: '::8-::f', why: IPV4_COMPATIBLE },
  { cidr: '::10/124', range: '::10-::1f', why: IPV4_COMPATIBLE },
  { cidr: '::20/123', range: '::20-::3f', why: IPV4_COMPATIBLE },
  { cidr: '::40/122', range: '::40-::7f', why: IPV4_COMPATIBLE },
  { cidr: '::80/121', range: '::80-::ff', why: IPV4_COMPATIBLE },
  { cidr: '::100/120', range: '::100-::1ff', why: IPV4_COMPATIBLE },
  { cidr: '::200/119', range: '::200-::3ff', why: IPV4_COMPATIBLE },
  { cidr: '::400/118', range: '::400-::7ff', why: IPV4_COMPATIBLE },
  { cidr: '::800/117', range: '::800-::fff', why: IPV4_COMPATIBLE },
  { cidr: '::1000/116', range: '::1000-::1fff', why: IPV4_COMPATIBLE },
  { cidr: '::2000/115', range: '::2000-::3fff', why: IPV4_COMPATIBLE },
  { cidr: '::4000/114', range: '::4000-::7fff', why: IPV4_COMPATIBLE },
  { cidr: '::8000/113', range: '::8000-::ffff', why: IPV4_COMPATIBLE },
  { cidr: '::1:0/112', range: '::1:0-::1:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::2:0/111', range: '::2:0-::3:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::4:0/110', range: '::4:0-::7:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::8:0/109', range: '::8:0-::f:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::10:0/108', range: '::10:0-::1f:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::20:0/107', range: '::20:0-::3f:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::40:0/106', range: '::40:0-::7f:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::80:0/105', range: '::80:0-::ff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::100:0/104', range: '::100:0-::1ff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::200:0/103', range: '::200:0-::3ff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::400:0/102', range: '::400:0-::7ff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::800:0/101', range: '::800:0-::fff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::1000:0/100', range: '::1000:0-::1fff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::2000:0/99', range: '::2000:0-::3fff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::4000:0/98', range: '::4000:0-::7fff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::8000:0/97', range: '::8000:0-::ffff:ffff', why: IPV4_COMPATIBLE },
  { cidr: '::ffff:0:0/96', range: '::ffff:0.0.0.0-::ffff:255.255.255.255', why: 'IPv4-mapped: would bypass every IPv4 entry above' },
  { cidr: '::ffff:0:0:0/96', range: '::ffff:0:0:0-::ffff:0:ffff:ffff', why: 'IPv4-translated (RFC 2765): embeds IPv4 like IPv4-mapped; in neither registry' },
  { cidr: '64:ff9b::/96', range: '64:ff9b::-64:ff9b::ffff:ffff', why: 'NAT64 (RFC 6052): globally reachable, but reaches the IPv4 address it embeds through a translator' },
  { cidr: '64:ff9b:1::/48', range: '64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff', why: 'local-use NAT64 (RFC 8215), not global; embeds IPv4' },
  { cidr: '100::/64', range: '100::-100::ffff:ffff:ffff:ffff', why: 'discard-only (RFC 6666)' },
  { cidr: '100:0:0:1::/64', range: '100:0:0:1::-100::1:ffff:ffff:ffff:ffff', why: 'dummy prefix (RFC 9780)' },
  {
    cidr: '2001::/23',
    range: '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff',
    why: 'IETF protocol assignments (RFC 2928): Teredo 2001::/32 embeds IPv4, benchmarking 2001:2::/48 and old ORCHID are not global; its global anycast, AMT, AS112, ORCHIDv2 and DET blocks are never a media peer',
  },
  { cidr: '2001:db8::/32', range: '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', why: 'documentation (RFC 3849)' },
  { cidr: '2002::/16', range: '2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: '6to4 (RFC 3056, deprecated): embeds IPv4 (2002:a9fe:a9fe:: is the metadata service)' },
  { cidr: '3fff::/20', range: '3fff::-3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'documentation (RFC 9637)' },
  { cidr: '5f00::/16', range: '5f00::-5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'SRv6 segment identifiers (RFC 9602), not global' },
  { cidr: 'fc00::/7', range: 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'unique local (RFC 4193), the IPv6 private space' },
  { cidr: 'fe80::/10', range: 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'link-local' },
  { cidr: 'fec0::/10', range: 'fec0::-feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'site-local (deprecated by RFC 3879, still private where used); in neither registry' },
  { cidr: 'ff00::/8', range: 'ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', why: 'multicast, also refused by no-multicast-peers' },
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
  if (DEPRECATED_COMPATIBLE.test(cidr.split('/')[0])) {
    // ipaddr.js would quietly compute the IPv4-mapped block instead.
    throw new Error(`cidrToRange: write "${cidr}" in hex: ipaddr.js reads "::a.b.c.d" as "::ffff:a.b.c.d"`);
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

/** `::a.b.c.d`, the deprecated IPv4-compatible spelling, which ipaddr.js reads as IPv4-mapped. */
const DEPRECATED_COMPATIBLE = /^::(\d{1,3}(?:\.\d{1,3}){3})$/;

/**
 * The 4 or 16 bytes of `address` as inet_pton, and so coturn, reads them. ipaddr.js alone will not
 * do: it reads `::127.0.0.1` as ::ffff:127.0.0.1, not as the IPv4-compatible ::7f00:1.
 */
function addressBytes(address: string, caller: string): number[] {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return ipaddr.IPv4.parse(address).toByteArray();
  if (address.includes('%') || !ipaddr.IPv6.isValid(address)) {
    throw new Error(`${caller}: "${address}" is not an IPv4 (dotted quad) or IPv6 address`);
  }
  const compatible = DEPRECATED_COMPATIBLE.exec(address);
  if (compatible) return [...new Array<number>(12).fill(0), ...ipaddr.IPv4.parse(compatible[1]).toByteArray()];
  return ipaddr.IPv6.parse(address).toByteArray();
}

/**
 * coturn 4.6.1's `addr_less_eq`: families first (AF_INET sorts below AF_INET6), IPv4 as a number,
 * IPv6 byte by byte, every byte of `a` at most the same byte of `b` (not a numeric comparison).
 */
function coturnLessEq(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  if (a.length === 4) {
    const i = a.findIndex((byte, j) => byte !== b[j]);
    return i < 0 || a[i] < b[i];
  }
  return a.every((byte, j) => byte <= b[j]);
}

function coturnRangeHolds(min: readonly number[], max: readonly number[], peer: readonly number[]): boolean {
  // ioa_addr_in_range: an all-zero bound is no bound at all.
  const unbounded = (bound: readonly number[]) => bound.every((byte) => byte === 0);
  return (unbounded(min) || coturnLessEq(min, peer)) && (unbounded(max) || coturnLessEq(peer, max));
}

/**
 * Whether coturn 4.6.1 reads the `denied-peer-ip` value `range` (`first-last`, or one address) as
 * holding the peer `address`, quirks included: see DENIED_PEER_CIDRS. For tests and diagnostics.
 */
export function coturnDenies(range: string, address: string): boolean {
  const [min, max = min] = range.split('-').map((bound) => addressBytes(bound, 'coturnDenies'));
  return coturnRangeHolds(min, max, addressBytes(address, 'coturnDenies'));
}

/**
 * Whether the rendered `denied-peer-ip` list makes coturn 4.6.1 refuse to relay to `address`.
 * coturn also refuses `::`, 0.0.0.0/8 and (unless allow-loopback-peers) loopback on its own,
 * before it reads the list; this answers for the list alone. For tests and diagnostics.
 */
export function isDeniedPeer(address: string): boolean {
  const peer = addressBytes(address, 'isDeniedPeer');
  return DENIED_PEER_CIDRS.some(({ range }) => {
    const [min, max] = range.split('-').map((bound) => addressBytes(bound, 'isDeniedPeer'));
    return coturnRangeHolds(min, max, peer);
  });
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
 * Suites for TURN over TLS: forward-secret AEAD with ECDHE (Mozilla "intermediate" minus
 * DHE, which would use coturn's predefined non-standard DH group and which no TURN client needs).
 * coturn 4.6.1 speaks at most TLS 1.2, so this list is all it ever negotiates; it also
 * excludes everything TLS 1.0/1.1 could use.
 */
export const TURN_CIPHER_LIST = ECDHE_AEAD_CIPHERS;

/** coturn counts bandwidth in bytes per second; the spec in bits. */
export function turnBytesPerSecond(bitsPerSecond: number): number {
  return Math.floor(bitsPerSecond / 8);
}

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
  w.comment('No client is offered DTLS (external_services): no DTLS listener.');
  w.option('no-dtls');
  w.blank();

  w.comment(
    'Relay only UDP to public unicast addresses. coturn reads blocks only as first-last ranges;\n' +
      'a CIDR is ignored with "Wrong address format". Each range is one whole CIDR block, because\n' +
      'coturn 4.6 compares IPv6 bounds byte by byte, and none starts or ends at ::, which it reads as\n' +
      '"no bound".',
  );
  w.option('no-tcp-relay');
  w.option('no-multicast-peers');
  DENIED_PEER_CIDRS.forEach(({ cidr, range, why }, i) => {
    // A block split into several (::/96) gets one comment, naming its first and last part.
    if (DENIED_PEER_CIDRS[i - 1]?.why !== why) {
      let last = i;
      while (DENIED_PEER_CIDRS[last + 1]?.why === why) last++;
      w.comment(last === i ? `${cidr}: ${why}` : `${cidr} to ${DENIED_PEER_CIDRS[last].cidr}: ${why}`);
    }
    w.option('denied-peer-ip', range);
  });
  w.blank();

  w.comment('Limits: allocations per user (one call needs a few) and on the whole server.');
  w.option('user-quota', calls.userQuota);
  w.option('total-quota', calls.totalQuota);
  w.comment('Bytes/s per allocation, and for all (each sets its max-bps aside; then 486).');
  w.option('max-bps', turnBytesPerSecond(calls.allocationMaxKbps * 1000));
  w.option('bps-capacity', turnBytesPerSecond(calls.totalMaxMbps * 1000 * 1000));
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
