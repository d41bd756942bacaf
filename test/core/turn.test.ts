/**
 * coturn's configuration: pure rendering checks, then the rendered turnserver.conf run by the real
 * coturn 4.6.1 with real TURN clients, and the systemd drop-in read by the real systemd, for each
 * platform (systemd 257 on Debian 13, 252 on Debian 12). Both are the platform's own, run inside its
 * image (test/support/platform.ts), never whatever the host has.
 *
 * The daemon runs in a private network namespace whose loopback interface carries two ordinary
 * global unicast addresses standing in for the droplet's public ones (the documentation blocks
 * cannot serve: they are on the deny list). Nothing leaves the namespace, so a peer that ought to be
 * denied but is not would get a "network unreachable", never a packet.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHmac, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ipaddr from 'ipaddr.js';
import { TURN_ADDRESSES_ENV, TURN_CERT_DIR, TURN_CONFIG, TURN_SYSTEMD_DROPIN, TURN_USERDB } from '../../lib/core/paths';
import { ResolvedSpec } from '../../lib/core/spec';
import {
  cidrToRange,
  coturnDenies,
  DENIED_PEER_CIDRS,
  isDeniedPeer,
  renderTurnConfig,
  renderTurnFiles,
  renderTurnSystemdDropin,
  TURN_CIPHER_LIST,
  turnAddressArgs,
  turnRealm,
} from '../../lib/core/turn';
import { resolveSpec } from '../../lib/core/validate';
import { probeAddressesForDeniedBlocks } from '../support/denied-peers';
import { Platform, PLATFORMS, PlatformTools, platformUnavailable } from '../support/platform';
import type { PlatformName } from '../../lib/core/platforms';
import { closedSpec, minimalSpec, onImage, representativeSpecs } from '../support/specs';
import { describeUnless } from '../support/tools';

const resolved: readonly [string, ResolvedSpec][] = representativeSpecs.map(([name, spec]) => [name, resolveSpec(spec)]);
const withCalls = resolved.filter(([, spec]) => spec.calls.enabled);

/** `[key, value]` for every option line of a turnserver.conf. */
function options(conf: string): [string, string | undefined][] {
  return conf
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return eq < 0 ? [line, undefined] : [line.slice(0, eq), line.slice(eq + 1)];
    });
}

function values(conf: string, key: string): (string | undefined)[] {
  return options(conf).filter(([k]) => k === key).map(([, v]) => v);
}

/** Ends each child the test started that still runs (SIGTERM, SIGKILL after 3 s), then removes `dir`. */
async function stopAndRemove(children: readonly (ChildProcess | undefined)[], dir: string | undefined): Promise<void> {
  for (const child of children) {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Pure rendering
// ---------------------------------------------------------------------------------------------

describe('cidrToRange', () => {
  describe.each([
    ['10.0.0.0/8', '10.0.0.0-10.255.255.255'],
    ['100.64.0.0/10', '100.64.0.0-100.127.255.255'],
    ['172.16.0.0/12', '172.16.0.0-172.31.255.255'],
    ['198.18.0.0/15', '198.18.0.0-198.19.255.255'],
    ['192.0.2.0/24', '192.0.2.0-192.0.2.255'],
    ['203.0.113.7/32', '203.0.113.7-203.0.113.7'],
    ['0.0.0.0/0', '0.0.0.0-255.255.255.255'],
    ['224.0.0.0/3', '224.0.0.0-255.255.255.255'],
    ['::1/128', '::1-::1'],
    ['::ffff:0:0/96', '::ffff:0.0.0.0-::ffff:255.255.255.255'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0-::ffff:10.255.255.255'],
    ['64:ff9b::/96', '64:ff9b::-64:ff9b::ffff:ffff'],
    ['100::/64', '100::-100::ffff:ffff:ffff:ffff'],
    ['2001:DB8::/32', '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['fc00::/7', 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['fe80::/10', 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['ff00::/8', 'ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ])('GIVEN %s', (cidr, range) => {
    it(`THEN it is the range ${range}`, () => {
      expect(cidrToRange(cidr)).toBe(range);
    });
  });

  describe.each([
    ['10.0.0.1/8', /host bits/],
    ['fe80::1/10', /host bits/],
    ['10.0.0.0', /not an IPv4/],
    ['10/8', /not an IPv4/],
    ['10.0.0.0/33', /not an IPv4/],
    ['fe80::/129', /not an IPv4/],
    ['fe80::%eth0/64', /not an IPv4/],
    ['::127.0.0.0/104', /in hex/],
    ['example.net/24', /not an IPv4/],
    ['', /not an IPv4/],
  ])('fails when the block is %j', (cidr, message) => {
    it('THEN it throws, naming the block', () => {
      expect(() => cidrToRange(cidr)).toThrow(message);
    });
  });
});

describe('DENIED_PEER_CIDRS', () => {
  const blocks = DENIED_PEER_CIDRS.map((d) => d.cidr);

  it.each([
    '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
    '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
    '224.0.0.0/4', '240.0.0.0/4', '::1/128', '::ffff:0:0/96', '64:ff9b::/96', '100::/64', '2001:db8::/32',
    'fc00::/7', 'fe80::/10', 'ff00::/8',
  ])('denies %s', (cidr) => {
    expect(blocks).toContain(cidr);
  });

  it.each(DENIED_PEER_CIDRS.map((d) => [d.cidr, d.range]))('writes %s as the range cidrToRange computes', (cidr, range) => {
    expect(range).toBe(cidrToRange(cidr));
  });

  it('says why for every entry, and names each block once', () => {
    for (const entry of DENIED_PEER_CIDRS) expect(entry.why.length).toBeGreaterThan(5);
    expect(new Set(blocks).size).toBe(blocks.length);
  });

  it('has no range bound at the unspecified address :: (coturn 4.6.1 reads it as "unbounded" and denies everything)', () => {
    for (const cidr of blocks) {
      const bounds = cidrToRange(cidr).split('-').map((a) => ipaddr.parse(a));
      for (const bound of bounds) {
        expect(bound.kind() === 'ipv6' && bound.toNormalizedString() === '0:0:0:0:0:0:0:0').toBe(false);
      }
    }
  });
});

describe('coturnDenies: how coturn 4.6.1 reads a denied-peer-ip range (each row as the real daemon answered)', () => {
  describe.each([
    // Whole CIDR blocks are read exactly.
    ['2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8:1::1', true],
    ['10.0.0.0-10.255.255.255', '10.0.0.1', true],
    // IPv6 bounds are compared byte by byte: a range that is no CIDR block has holes.
    ['::1-::ffff:ffff', '::a00:1', true],
    ['::1-::ffff:ffff', '::a00:0', false],
    ['::1-::ffff:ffff', '::100', false],
    // An all-zero bound is no bound, and every IPv4 peer sorts below an IPv6 bound.
    ['::-::ffff:ffff', '11.0.0.10', true],
    ['::-::ffff:ffff', '2600::10', false],
    ['::-::', '2600::10', true],
    ['::-::', '11.0.0.10', true],
    // ...which makes 0.0.0.0 harmless as a lower bound: an IPv4 range never holds an IPv6 peer.
    ['0.0.0.0-0.255.255.255', '11.0.0.10', false],
    ['0.0.0.0-0.255.255.255', '2600::10', false],
    // An IPv4-mapped peer is compared as IPv6: IPv4 ranges do not hold it.
    ['10.0.0.0-10.255.255.255', '::ffff:10.0.0.1', false],
  ])('GIVEN denied-peer-ip=%s', (range, peer, denied) => {
    it(`WHEN a client asks to relay to ${peer} THEN coturn ${denied ? 'refuses' : 'relays'}`, () => {
      expect(coturnDenies(range, peer)).toBe(denied);
    });
  });

  it('GIVEN the deprecated spelling ::a.b.c.d THEN it is the IPv4-compatible address, as inet_pton reads it', () => {
    expect(coturnDenies('::7f00:1', '::127.0.0.1')).toBe(true);
    expect(coturnDenies('::ffff:127.0.0.1', '::127.0.0.1')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The deny list, held to IANA's special-purpose address registries
// ---------------------------------------------------------------------------------------------

/** A registry's "Globally Reachable" column: N/A for the deprecated blocks. */
type GloballyReachable = true | false | 'N/A';

/**
 * Every row of IANA's IPv4 Special-Purpose Address Registry (RFC 6890 and its updates) as of 2025:
 * [block, name, globally reachable, embeds IPv4]. Written out by hand and checked against published
 * copies of the registry, not fetched: a test must not depend on the network. When IANA adds a row,
 * add it here; the tests below then say whether the list must grow.
 */
const IPV4_SPECIAL_PURPOSE: readonly [string, string, GloballyReachable, boolean][] = [
  ['0.0.0.0/8', '"This network"', false, false],
  ['0.0.0.0/32', '"This host on this network"', false, false],
  ['10.0.0.0/8', 'Private-Use', false, false],
  ['100.64.0.0/10', 'Shared Address Space', false, false],
  ['127.0.0.0/8', 'Loopback', false, false],
  ['169.254.0.0/16', 'Link Local', false, false],
  ['172.16.0.0/12', 'Private-Use', false, false],
  ['192.0.0.0/24', 'IETF Protocol Assignments', false, false],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', false, false],
  ['192.0.0.8/32', 'IPv4 dummy address', false, false],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', true, false],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', true, false],
  ['192.0.0.170/32', 'NAT64/DNS64 Discovery', false, false],
  ['192.0.0.171/32', 'NAT64/DNS64 Discovery', false, false],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', false, false],
  ['192.31.196.0/24', 'AS112-v4', true, false],
  ['192.52.193.0/24', 'AMT', true, false],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', 'N/A', false],
  ['192.88.99.2/32', '6a44-relay anycast address', false, false],
  ['192.168.0.0/16', 'Private-Use', false, false],
  ['192.175.48.0/24', 'Direct Delegation AS112 Service', true, false],
  ['198.18.0.0/15', 'Benchmarking', false, false],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', false, false],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', false, false],
  ['240.0.0.0/4', 'Reserved', false, false],
  ['255.255.255.255/32', 'Limited Broadcast', false, false],
];

/** Every row of IANA's IPv6 Special-Purpose Address Registry, likewise (checked against a copy dated 2025-10-09). */
const IPV6_SPECIAL_PURPOSE: readonly [string, string, GloballyReachable, boolean][] = [
  ['::1/128', 'Loopback Address', false, false],
  ['::/128', 'Unspecified Address', false, false],
  ['::ffff:0:0/96', 'IPv4-mapped Address', false, true],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat.', true, true],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat.', false, true],
  ['100::/64', 'Discard-Only Address Block', false, false],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', false, false],
  ['2001::/23', 'IETF Protocol Assignments', false, false],
  ['2001::/32', 'TEREDO', 'N/A', true],
  ['2001:1::1/128', 'Port Control Protocol Anycast', true, false],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', true, false],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', true, false],
  ['2001:2::/48', 'Benchmarking', false, false],
  ['2001:3::/32', 'AMT', true, false],
  ['2001:4:112::/48', 'AS112-v6', true, false],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', 'N/A', false],
  ['2001:20::/28', 'ORCHIDv2', true, false],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', true, false],
  ['2001:db8::/32', 'Documentation', false, false],
  ['2002::/16', '6to4', 'N/A', true],
  ['2620:4f:8000::/48', 'Direct Delegation AS112 Service', true, false],
  ['3fff::/20', 'Documentation', false, false],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs', false, false],
  ['fc00::/7', 'Unique-Local', false, false],
  ['fe80::/10', 'Link-Local Unicast', false, false],
];

/** Blocks in neither registry that are no public unicast either: [block, name, globally reachable, embeds IPv4]. */
const BEYOND_THE_REGISTRIES: readonly [string, string, GloballyReachable, boolean][] = [
  ['224.0.0.0/4', 'IPv4 multicast', false, false],
  ['::/96', 'IPv4-compatible (deprecated, RFC 4291)', 'N/A', true],
  ['::ffff:0:0:0/96', 'IPv4-translated (RFC 2765)', 'N/A', true],
  ['fec0::/10', 'site-local (deprecated, RFC 3879)', 'N/A', false],
  ['ff00::/8', 'IPv6 multicast', false, false],
];

/** Globally reachable rows denied all the same, as part of a wider block (see DENIED_PEER_CIDRS). */
const DENIED_WITH_A_WIDER_BLOCK: Readonly<Record<string, string>> = {
  '192.0.0.9/32': '192.0.0.0/24',
  '192.0.0.10/32': '192.0.0.0/24',
  '2001:1::1/128': '2001::/23',
  '2001:1::2/128': '2001::/23',
  '2001:1::3/128': '2001::/23',
  '2001:3::/32': '2001::/23',
  '2001:4:112::/48': '2001::/23',
  '2001:20::/28': '2001::/23',
  '2001:30::/28': '2001::/23',
};

const mustBeDenied = ([, , reachable, embedsIPv4]: readonly [string, string, GloballyReachable, boolean]) => reachable !== true || embedsIPv4;

function toBigInt(bytes: readonly number[]): bigint {
  return bytes.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
}

/** In RFC 5952 form, never in the `::a.b.c.d` that ipaddr.js would misread. */
function fromBigInt(value: bigint, length: number): string {
  const bytes = Array.from({ length }, (_, i) => Number((value >> BigInt(8 * (length - 1 - i))) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The first, middle and last address of a block. */
function firstMiddleLast(cidr: string): string[] {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const length = address.kind() === 'ipv4' ? 4 : 16;
  cidrToRange(cidr); // throws on a mistyped row: host bits set, or ::a.b.c.d
  const first = toBigInt(address.toByteArray());
  const size = 1n << BigInt(length * 8 - bits);
  return [...new Set([first, first + size / 2n, first + size - 1n])].map((n) => fromBigInt(n, length));
}

function inBlock(address: string, cidr: string): boolean {
  const parsed = ipaddr.parse(address);
  const block = ipaddr.parseCIDR(cidr);
  return parsed.kind() === block[0].kind() && parsed.match(block);
}

/**
 * What happens to a peer: the list's ranges (as coturn 4.6.1 reads them) and its CIDR blocks (as
 * ipaddr.js reads them) must agree, and only `::` may be left to coturn's own refusal.
 */
function verdict(address: string): string {
  const byRange = isDeniedPeer(address);
  const byBlock = DENIED_PEER_CIDRS.some(({ cidr }) => inBlock(address, cidr));
  if (byRange !== byBlock) return `the ranges say ${byRange}, the blocks ${byBlock}`;
  if (byRange) return 'denied';
  return ipaddr.parse(address).toNormalizedString() === '0:0:0:0:0:0:0:0' ? 'refused by coturn itself' : 'open';
}

describe('the deny list, held to IANA\'s special-purpose address registries', () => {
  describe.each([...IPV4_SPECIAL_PURPOSE, ...IPV6_SPECIAL_PURPOSE, ...BEYOND_THE_REGISTRIES])(
    'GIVEN %s (%s), globally reachable: %s, embeds IPv4: %s',
    (cidr, name, reachable, embedsIPv4) => {
      const samples = firstMiddleLast(cidr);
      const wider = DENIED_WITH_A_WIDER_BLOCK[cidr];
      const denied = mustBeDenied([cidr, name, reachable, embedsIPv4]) || wider !== undefined;
      const expected = (address: string) => (!denied ? 'open' : address === '::' ? 'refused by coturn itself' : 'denied');
      const how = !denied ? 'relays to them, as to any public peer' : wider ? `refuses them all the same, with ${wider}` : 'refuses every one';
      it(`WHEN a client asks to relay to ${samples.join(', ')} THEN coturn ${how}`, () => {
        expect(Object.fromEntries(samples.map((a) => [a, verdict(a)]))).toEqual(Object.fromEntries(samples.map((a) => [a, expected(a)])));
      });
    },
  );

  it.each(DENIED_PEER_CIDRS.map((d) => [d.cidr]))('GIVEN the entry %s THEN it lies inside a block the tables above require denied', (cidr) => {
    const [address, bits] = ipaddr.parseCIDR(cidr);
    const reasons = [...IPV4_SPECIAL_PURPOSE, ...IPV6_SPECIAL_PURPOSE, ...BEYOND_THE_REGISTRIES]
      .filter(mustBeDenied)
      .filter(([block]) => bits >= ipaddr.parseCIDR(block)[1] && inBlock(address.toString(), block));
    expect(reasons).not.toEqual([]);
  });

  it.each([
    ['2001::1', 'Teredo'],
    ['2001:2::1', 'benchmarking'],
    ['2002:a9fe:a9fe::1', '6to4, wrapping the metadata service 169.254.169.254'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['fec0::1', 'site-local'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::7f00:1', 'IPv4-compatible loopback, in hex'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata service'],
    ['::a00:0', 'IPv4-compatible, the hole a ::1-::ffff:ffff range would leave'],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated metadata service'],
    ['5f00::1', 'SRv6 SID'],
    ['3fff::1', 'documentation'],
  ])('GIVEN the peer %s (%s) THEN the list denies it', (address) => {
    expect(isDeniedPeer(address)).toBe(true);
  });

  it.each([
    ['11.0.0.1', 'the real-coturn tests\' stand-in for the droplet'],
    ['8.8.8.8', 'public DNS'],
    ['1.1.1.1', 'public DNS'],
    ['100.128.0.1', 'just past CGNAT space'],
    ['172.32.0.1', 'just past 172.16.0.0/12'],
    ['198.20.0.1', 'just past benchmarking'],
    ['192.31.196.1', 'AS112, globally reachable'],
    ['192.52.193.1', 'AMT, globally reachable'],
    ['223.255.255.254', 'just below multicast'],
    ['2600::1', 'the real-coturn tests\' stand-in for the droplet'],
    ['2a00:1450::1', 'public unicast'],
    ['2001:200::1', 'just past 2001::/23'],
    ['2001:4860:4860::8888', 'public DNS'],
    ['2003::1', 'just past 6to4'],
    ['2620:4f:8000::1', 'AS112, globally reachable'],
    ['3fff:1000::1', 'just past 3fff::/20'],
  ])('GIVEN the ordinary peer %s (%s) THEN the list lets coturn relay to it', (address) => {
    expect(isDeniedPeer(address)).toBe(false);
  });

  it.each([['10.0.0.1/8'], ['not an address'], ['fe80::1%eth0'], ['10.1']])('GIVEN %j THEN isDeniedPeer throws', (address) => {
    expect(() => isDeniedPeer(address)).toThrow(/not an IPv4/);
  });

  it.each(withCalls)('GIVEN the rendered turnserver.conf (%s) THEN no range is bounded by ::, and its only all-zero bound is the harmless 0.0.0.0 of 0.0.0.0/8', (_name, spec) => {
    const ranges = values(renderTurnConfig(spec), 'denied-peer-ip') as string[];
    const zeroBounds = ranges.flatMap((range) =>
      range.split('-').flatMap((bound, i) => (ipaddr.parse(bound).toByteArray().every((b) => b === 0) ? [`${i === 0 ? 'from' : 'to'} ${bound} in ${range}`] : [])),
    );
    expect(zeroBounds).toEqual(['from 0.0.0.0 in 0.0.0.0-0.255.255.255']);
  });

  it('GIVEN the probe addresses for the rehearsal THEN each is inside its block, denied, and not all-zero', () => {
    const probes = probeAddressesForDeniedBlocks();
    expect(probes.map((p) => p.cidr)).toEqual(DENIED_PEER_CIDRS.map((d) => d.cidr));
    for (const { cidr, address } of probes) {
      expect({ cidr, address, inside: inBlock(address, cidr), denied: isDeniedPeer(address) }).toEqual({ cidr, address, inside: true, denied: true });
      expect(ipaddr.parse(address).toByteArray().some((b) => b !== 0)).toBe(true);
    }
    expect(probes.find((p) => p.cidr === '2001::/23')?.address).toBe('2001::1');
    expect(probes.find((p) => p.cidr === '::ffff:0:0/96')?.address).toBe('::ffff:0.0.0.1');
    expect(probes.find((p) => p.cidr === '::1/128')?.address).toBe('::1');
  });
});

describe('turnAddressArgs', () => {
  it('GIVEN only IPv4 THEN coturn listens and relays on it', () => {
    expect(turnAddressArgs('203.0.113.5')).toBe('--listening-ip=203.0.113.5 --relay-ip=203.0.113.5');
  });

  it('GIVEN IPv4 and IPv6 THEN both are listening and relay addresses, IPv6 in RFC 5952 form', () => {
    expect(turnAddressArgs('203.0.113.5', '2001:DB8:0:0::10')).toBe(
      '--listening-ip=203.0.113.5 --relay-ip=203.0.113.5 --listening-ip=2001:db8::10 --relay-ip=2001:db8::10',
    );
  });

  it('GIVEN an empty IPv6 (no AAAA on the droplet) THEN only IPv4 is used', () => {
    expect(turnAddressArgs('203.0.113.5', '')).toBe('--listening-ip=203.0.113.5 --relay-ip=203.0.113.5');
  });

  it.each([['203.0.113'], ['2001:db8::1'], ['203.0.113.5 --cli'], ['']])('fails when the IPv4 address is %j', (v4) => {
    expect(() => turnAddressArgs(v4)).toThrow(/not an IPv4 address/);
  });

  it.each([['203.0.113.5'], ['fe80::1%eth0'], ['2001:db8::1 --cli']])('fails when the IPv6 address is %j', (v6) => {
    expect(() => turnAddressArgs('203.0.113.5', v6)).toThrow(/not an IPv6 address/);
  });
});

describe.each(withCalls)('renderTurnConfig(%s)', (_name, spec) => {
  const conf = renderTurnConfig(spec);

  it('is deterministic and ends with a newline', () => {
    expect(renderTurnConfig(spec)).toBe(conf);
    expect(conf.endsWith('\n')).toBe(true);
    expect(conf).not.toMatch(/\r|\t| $/m);
  });

  it('listens on the spec ports and relays on exactly its port range', () => {
    expect(values(conf, 'listening-port')).toEqual([String(spec.calls.port)]);
    expect(values(conf, 'tls-listening-port')).toEqual([String(spec.calls.tlsPort)]);
    expect(values(conf, 'min-port')).toEqual([String(spec.calls.relayPortMin)]);
    expect(values(conf, 'max-port')).toEqual([String(spec.calls.relayPortMax)]);
  });

  it('authenticates with TURN REST credentials whose secret is in the userdb, under the TURN host name as realm', () => {
    expect(values(conf, 'use-auth-secret')).toEqual([undefined]);
    expect(values(conf, 'userdb')).toEqual([TURN_USERDB]);
    expect(values(conf, 'realm')).toEqual([spec.calls.host]);
    expect(turnRealm(spec)).toBe(spec.calls.host);
    expect(values(conf, 'server-name')).toEqual([spec.calls.host]);
    expect(conf).not.toMatch(/static-auth-secret|lt-cred-mech|^user=|no-auth/m);
  });

  it('carries no address: the drop-in passes the droplet\'s own, and there is no external-ip', () => {
    expect(conf).not.toMatch(/^(listening-ip|relay-ip|external-ip|listening-device|alternate-server)=/m);
  });

  it('uses the copied certificate, TLS 1.2+ and ECDHE AEAD suites only', () => {
    expect(values(conf, 'cert')).toEqual([`${TURN_CERT_DIR}/fullchain.pem`]);
    expect(values(conf, 'pkey')).toEqual([`${TURN_CERT_DIR}/privkey.pem`]);
    expect(values(conf, 'cipher-list')).toEqual([`"${TURN_CIPHER_LIST}"`]);
    for (const suite of TURN_CIPHER_LIST.split(':')) expect(suite).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(values(conf, 'no-tlsv1')).toEqual([undefined]);
    expect(values(conf, 'no-tlsv1_1')).toEqual([undefined]);
  });

  it('denies every block of DENIED_PEER_CIDRS, as a range coturn can read', () => {
    const denied = values(conf, 'denied-peer-ip');
    expect(denied).toEqual(DENIED_PEER_CIDRS.map((d) => cidrToRange(d.cidr)));
    for (const range of denied) {
      expect(range).not.toContain('/');
      expect(range).toMatch(/^[0-9a-f.:]+-[0-9a-f.:]+$/);
    }
    expect(conf).not.toMatch(/^allowed-peer-ip|^allow-loopback-peers/m);
  });

  it('sets the hardening and quota options', () => {
    for (const flag of ['no-tcp-relay', 'no-multicast-peers', 'no-cli', 'fingerprint', 'no-software-attribute', 'no-rfc5780', 'no-stun-backward-compatibility', 'response-origin-only-with-rfc5780', 'simple-log']) {
      expect(values(conf, flag)).toEqual([undefined]);
    }
    expect(values(conf, 'user-quota')).toEqual([String(spec.calls.userQuota)]);
    expect(values(conf, 'total-quota')).toEqual([String(spec.calls.totalQuota)]);
    expect(values(conf, 'stale-nonce')).toEqual(['600']);
    expect(values(conf, 'log-file')).toEqual(['stdout']);
    expect(conf).not.toMatch(/^(proc-user|proc-group|verbose|Verbose|cli-password|web-admin|prometheus|syslog)\b/m);
  });

  it('opens no DTLS listener, since no client is offered DTLS', () => {
    expect(values(conf, 'no-dtls')).toEqual([undefined]);
    expect(values(conf, 'no-tls')).toEqual([]);
  });

  it('caps each allocation and the whole server, in bytes per second', () => {
    expect(values(conf, 'max-bps')).toEqual([String(spec.calls.allocationMaxKbps * 125)]);
    expect(values(conf, 'bps-capacity')).toEqual([String(spec.calls.totalMaxMbps * 125000)]);
  });

  it('names every option at most once, except denied-peer-ip', () => {
    const keys = options(conf).map(([k]) => k).filter((k) => k !== 'denied-peer-ip');
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('never contains a shared secret, even one the user supplied', () => {
    const secret = 'Sup3rS3cretTurnValue-' + 'q'.repeat(24);
    const withSecret = resolveSpec({ ...minimalSpec, calls: { sharedSecret: secret } });
    expect(withSecret.calls.sharedSecret).toBe(secret);
    for (const content of Object.values(renderTurnFiles(withSecret))) expect(content).not.toContain(secret);
    expect(renderTurnConfig(withSecret)).toBe(renderTurnConfig(resolveSpec(minimalSpec)));
  });
});

describe('the TURN bandwidth caps', () => {
  it.each(['s-1vcpu-512mb-10gb', 's-1vcpu-2gb', 's-8vcpu-16gb', 'c-2'])('GIVEN the droplet resized to %s THEN coturn\'s configuration is that of the default size: the resize changes no configuration, so it stays an in-place update', (size) => {
    const resized = resolveSpec({ ...minimalSpec, droplet: { size } });
    expect(resized.calls.totalMaxMbps).toBe(400);
    expect(renderTurnConfig(resized)).toBe(renderTurnConfig(resolveSpec({ ...minimalSpec, droplet: { size: 's-1vcpu-1gb' } })));
  });

  it('GIVEN a dedicated TURN droplet resized THEN its configuration stays the same too', () => {
    const dedicated = (dropletSize: string) => resolveSpec({ ...minimalSpec, calls: { placement: 'dedicated', sharedSecret: 'x'.repeat(32), dropletSize } });
    expect(renderTurnConfig(dedicated('s-2vcpu-4gb'))).toBe(renderTurnConfig(dedicated('s-1vcpu-1gb')));
  });

  it('GIVEN a declared total THEN it is coturn\'s bps-capacity, in bytes per second', () => {
    expect(values(renderTurnConfig(resolveSpec({ ...minimalSpec, calls: { totalMaxMbps: 1600 } })), 'bps-capacity')).toEqual(['200000000']);
  });

  it('GIVEN the defaults THEN an allocation may take 2 Mbit/s (250000 bytes/s), enough for a video call, and 200 fit on a 1 GiB droplet', () => {
    const spec = resolveSpec(minimalSpec);
    expect(spec.calls.allocationMaxKbps).toBe(2000);
    expect(values(renderTurnConfig(spec), 'max-bps')).toEqual(['250000']);
    expect(values(renderTurnConfig(spec), 'bps-capacity')).toEqual(['50000000']);
  });

  it.each([
    [{ allocationMaxKbps: 10 }, 'calls.allocationMaxKbps', /whole number from 64 to 100000 kbit\/s/],
    [{ allocationMaxKbps: 1.5 }, 'calls.allocationMaxKbps', /whole number/],
    [{ totalMaxMbps: 0 }, 'calls.totalMaxMbps', /whole number from 1 to 100000 Mbit\/s/],
    [{ totalMaxMbps: 2, allocationMaxKbps: 3000 }, 'calls.totalMaxMbps', /less than one allocation may use \(calls.allocationMaxKbps 3000 kbit\/s\).*raise calls.totalMaxMbps to at least 3/],
  ])('fails when calls is %j, naming %s', (calls, field, message) => {
    expect(() => resolveSpec({ ...minimalSpec, calls })).toThrow(field);
    expect(() => resolveSpec({ ...minimalSpec, calls })).toThrow(message);
  });
});

describe('renderTurnSystemdDropin', () => {
  const dropin = renderTurnSystemdDropin();

  it('replaces ExecStart with the address flags from the environment file, split into words', () => {
    expect(dropin).toContain(`EnvironmentFile=${TURN_ADDRESSES_ENV}\n`);
    expect(dropin).toMatch(/^ExecStart=\n/m);
    expect(dropin).toContain(`ExecStart=/usr/bin/turnserver -c ${TURN_CONFIG} --pidfile= $TURN_ADDRESS_ARGS\n`);
    expect(dropin.indexOf('ExecStart=\n')).toBeLessThan(dropin.indexOf('ExecStart=/usr/bin/turnserver'));
    expect(dropin).not.toContain('${TURN_ADDRESS_ARGS}');
    expect(dropin).toMatch(/^\[Service\]$/m);
  });

  it('does not override what Debian\'s unit gets right (user, notify type)', () => {
    expect(dropin).not.toMatch(/^(User|Group|Type|AmbientCapabilities|CapabilityBoundingSet)=/m);
  });
});

describe('renderTurnFiles', () => {
  it('GIVEN calls are disabled THEN there are no coturn files', () => {
    expect(renderTurnFiles(resolveSpec(closedSpec))).toEqual({});
  });

  it.each(withCalls)('GIVEN %s THEN it maps the config and the drop-in to their paths', (_name, spec) => {
    expect(renderTurnFiles(spec)).toEqual({
      [TURN_CONFIG]: renderTurnConfig(spec),
      [TURN_SYSTEMD_DROPIN]: renderTurnSystemdDropin(),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Real systemd and coturn: the platform's own, inside its image
// ---------------------------------------------------------------------------------------------

/**
 * Why the platform image cannot be used here, if it cannot: then the blocks below fail under CI,
 * and are skipped with a warning elsewhere. Nothing here needs systemd or coturn on the host.
 */
const PLATFORM_UNAVAILABLE = platformUnavailable();

/** The image is built on first use (about a minute, from Debian's archive); opening a cached one takes a second. */
const OPEN_TIMEOUT_MS = 900000;

/** Runs `argv` inside the image; throws, with its output, unless it exits 0. */
function mustRun(tools: PlatformTools, argv: readonly string[], cwd?: string): string {
  const r = tools.run(argv, { cwd, timeoutMs: 20000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}) in the ${tools.image.platform.name} image: ${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** Each platform's systemd and coturn, for the titles and to prove the image holds them. */
const VERSIONS: Readonly<Record<PlatformName, { readonly systemd: string; readonly coturn: string }>> = {
  'debian-13': { systemd: '257', coturn: '4.6.1' },
  'debian-12': { systemd: '252', coturn: '4.6.1' },
};

describe.each(Object.values(PLATFORMS))('on $name', (platform: Platform) => {
  const versions = VERSIONS[platform.name as PlatformName];
  /** The representative specs with calls, deployed on this platform. */
  const onThisPlatform: readonly [string, ResolvedSpec][] = representativeSpecs
    .map(([name, spec]): [string, ResolvedSpec] => [name, resolveSpec(onImage(spec, platform.image))])
    .filter(([, spec]) => spec.calls.enabled);

  describeUnless(PLATFORM_UNAVAILABLE, `the drop-in, as systemd ${versions.systemd} reads it over Debian's coturn.service (${platform.name} image)`, () => {
    let tools: PlatformTools | undefined;
    let root: string;

    beforeAll(() => {
      tools = PlatformTools.open(platform);
      // Under the system temp dir, which the image shares at the same path.
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-unit-'));
      // The image's own units, Debian's coturn.service among them, as its package installed them, where
      // systemd reads them: /usr/lib/systemd/system (systemd 255 on reads no other; /lib is a link to usr/lib).
      mustRun(tools, ['sh', '-c', 'mkdir -p "$1/usr/lib/systemd" && cp -a /usr/lib/systemd/system "$1/usr/lib/systemd/"', 'sh', root]);
      const stub = path.join(root, 'usr/bin/turnserver');
      fs.mkdirSync(path.dirname(stub), { recursive: true });
      fs.writeFileSync(stub, '#!/bin/sh\n', { mode: 0o755 });
      const env = path.join(root, TURN_ADDRESSES_ENV);
      fs.mkdirSync(path.dirname(env), { recursive: true });
      fs.writeFileSync(env, `TURN_ADDRESS_ARGS=${turnAddressArgs('203.0.113.5', '2001:db8::5')}\n`);
    }, OPEN_TIMEOUT_MS);

    afterAll(() => {
      tools?.close();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    function verify(dropin: string): { status: number | null; output: string } {
      const file = path.join(root, TURN_SYSTEMD_DROPIN);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, dropin);
      // --man=no: the unit's Documentation= man pages are Debian's business, not the drop-in's, and
      // the image has no man-db to look them up with (verify would report each as a failed command).
      const r = tools!.run(['systemd-analyze', 'verify', '--man=no', `--root=${root}`, 'coturn.service'], { timeoutMs: 20000 });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it(`checks with the image's systemd ${versions.systemd}, over the coturn.service its coturn package ships`, () => {
      expect(mustRun(tools!, ['systemd-analyze', '--version'])).toMatch(new RegExp(`^systemd ${versions.systemd} `));
      const unit = fs.readFileSync(path.join(root, 'usr/lib/systemd/system/coturn.service'), 'utf8');
      expect(unit).toContain('\nExecStart=/usr/bin/turnserver -c /etc/turnserver.conf --pidfile=\n');
      expect(unit).toContain('\nUser=turnserver\n');
      expect(unit).toContain('\nType=notify\n');
    });

    it('verifies without a complaint', () => {
      const result = verify(renderTurnSystemdDropin());
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    });

    it('(control) refuses a drop-in that forgets to reset ExecStart', () => {
      const result = verify(renderTurnSystemdDropin().replace('ExecStart=\n', ''));
      expect(result.output).toMatch(/more than one ExecStart/);
      expect(result.status).not.toBe(0);
    });
  });

  /** Stand-ins for the droplet's public addresses; only ever configured inside the private namespace. */
  const DROPLET_V4 = '11.0.0.10';
  const DROPLET_V6 = '2600::10';
  /** turnutils_peer's echo port (uclient's default peer port), outside every relay range. */
  const PEER_PORT = 3480;

  /**
   * The host's nsenter into the network namespace of `pid`, to put before a command run in the image
   * (`tools.argv(...)`): the image's nsenter then enters only its mount namespace, so the command runs
   * in the daemon's network with the image's files.
   */
  function inNetnsOf(pid: number): string[] {
    return ['nsenter', `--target=${pid}`, '--net', '--'];
  }

  interface RunResult {
    readonly code: number | null;
    readonly output: string;
  }

  /** Runs a command to completion with a hard time limit; stdout and stderr together. */
  /** Runs `argv` to its end, or stops it once its output satisfies `until`, or after `timeoutMs`. */
  function run(argv: readonly string[], timeoutMs = 10000, until?: (output: string) => boolean): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const read = (d: Buffer) => {
        output += d;
        if (until?.(output)) child.kill('SIGKILL');
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  /**
   * The image's turnadmin. It always writes a `turn_<pid>_<date>.log` to /var/log: inside the image,
   * that is the throwaway root, gone with `tools.close()`.
   */
  function turnadmin(tools: PlatformTools, args: readonly string[], cwd: string): string {
    return mustRun(tools, ['turnadmin', ...args], cwd);
  }

  /** What Prosody's mod_external_services mints: base64(HMAC-SHA1(secret, username)). */
  function restPassword(secret: string, username: string): string {
    return createHmac('sha1', secret).update(username).digest('base64');
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** The harness copy: only the absolute paths of files the test provides are changed. */
  function harnessConfig(rendered: string, dir: string): string {
    const replacements: [RegExp, string][] = [
      [/^cert=.*$/m, `cert=${dir}/cert.pem`],
      [/^pkey=.*$/m, `pkey=${dir}/key.pem`],
      [/^userdb=.*$/m, `userdb=${dir}/turndb`],
    ];
    let conf = rendered;
    for (const [pattern, line] of replacements) {
      expect(conf.match(new RegExp(pattern.source, 'gm'))).toHaveLength(1);
      conf = conf.replace(pattern, line);
    }
    return conf;
  }

  /**
   * Writes into `dir` what a droplet's coturn reads: a self-signed certificate for the TURN name, the
   * shared secret in coturn's database (as the provisioning script puts it there), and the rendered
   * configuration pointing at both. Returns the configuration's path.
   */
  function prepareTurnFiles(tools: PlatformTools, spec: ResolvedSpec, dir: string, secret: string, realm: string): string {
    mustRun(tools, ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${spec.calls.host}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], dir);
    turnadmin(tools, ['--set-secret', secret, '--realm', realm, '--db', path.join(dir, 'turndb')], dir);
    const conf = path.join(dir, 'turnserver.conf');
    fs.writeFileSync(conf, harnessConfig(renderTurnConfig(spec), dir));
    return conf;
  }

  /** A peer address inside a block: its second address (its only one for a single-address block). */
  function sampleInside(cidr: string): string {
    const [first, last] = cidrToRange(cidr).split('-');
    const bytes = ipaddr.parse(first).toByteArray();
    if (first !== last) bytes[bytes.length - 1] += 1;
    const addr = ipaddr.fromByteArray(bytes);
    return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
      ? `::ffff:${(addr as ipaddr.IPv6).toIPv4Address().toString()}`
      : addr.toString();
  }

  /**
   * An address as inet_pton, and so coturn's log, reads it. coturn logs IPv4-compatible peers as
   * `::a.b.c.d`, which ipaddr.js alone reads as IPv4-mapped.
   */
  function normalizedAsCoturn(address: string): string {
    const compatible = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address);
    if (!compatible) return ipaddr.parse(address).toNormalizedString();
    return ipaddr.fromByteArray([...new Array<number>(12).fill(0), ...ipaddr.IPv4.parse(compatible[1]).toByteArray()]).toNormalizedString();
  }

  /**
   * Peers refused before denied-peer-ip is consulted: by `no-multicast-peers` (coturn counts all of
   * 224.0.0.0 and above, and ff00::/8) and by coturn itself (0.0.0.0/8 and ::, always).
   */
  function refusedByCoturnItself(peer: string): boolean {
    const bytes = ipaddr.parse(peer).toByteArray();
    return bytes.length === 4 ? bytes[0] === 0 || bytes[0] > 223 : bytes[0] === 0xff || bytes.every((b) => b === 0);
  }

  /** The name of process `pid` (what it last exec'd), or '' once it is gone. */
  function comm(pid: number): string {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  }

  describeUnless(PLATFORM_UNAVAILABLE, `coturn ${versions.coturn} from the ${platform.name} image`, () => {
    let tools: PlatformTools | undefined;

    beforeAll(() => {
      tools = PlatformTools.open(platform);
    }, OPEN_TIMEOUT_MS);

    // Runs after each block's afterAll below has stopped its daemon and peer.
    afterAll(() => tools?.close());

    const image = (): PlatformTools => {
      if (!tools) throw new Error(`the ${platform.name} image is not open`);
      return tools;
    };

    it(`is coturn ${versions.coturn}, the version coturnDenies models`, () => {
      expect(mustRun(image(), ['turnserver', '--version']).trim()).toBe(versions.coturn);
    });

    describe.each(onThisPlatform)('running the rendered turnserver.conf (%s)', (_name, spec) => {
      const realm = turnRealm(spec);
      const ipv6 = spec.droplet.ipv6;
      const secret = randomBytes(32).toString('hex');
      let dir: string;
      let logFile: string;
      let daemon: ChildProcess | undefined;
      let peer: ChildProcess | undefined;
      let startupLog = '';
      /** What the spawned process was once turnserver answered, and the network namespace it ran in. */
      let started: { comm: string; netns: string } | undefined;
      let caseNumber = 0;

      const log = (): string => fs.readFileSync(logFile, 'utf8');
      const pid = (): number => {
        if (!daemon?.pid) throw new Error('turnserver is not running');
        return daemon.pid;
      };
      /** `argv` run by the image, in the daemon's network namespace. */
      const inDaemonNetwork = (argv: readonly string[]): string[] => [...inNetnsOf(pid()), ...image().argv(argv)];

      /** A fresh username per client run: allocations of failed runs linger and count against user-quota. */
      function credentials(opts: { expiresInSeconds?: number; wrongPassword?: boolean; plain?: boolean } = {}): { user: string; password: string } {
        const expiry = Math.floor(Date.now() / 1000) + (opts.expiresInSeconds ?? spec.calls.credentialTtlSeconds);
        const user = opts.plain ? String(expiry) : `${expiry}:case${++caseNumber}`;
        const password = restPassword(opts.wrongPassword ? `${secret}x` : secret, user);
        return { user, password };
      }

      function uclient(opts: { user: string; password: string; peer: string; family: 4 | 6; tcp?: boolean; messages?: number }): Promise<RunResult> {
        const server = opts.family === 6 ? DROPLET_V6 : DROPLET_V4;
        return run(inDaemonNetwork([
          'turnutils_uclient', '-v', '-c',
          ...(opts.family === 6 ? ['-x'] : []),
          ...(opts.tcp ? ['-t'] : []),
          '-n', String(opts.messages ?? 1),
          '-u', opts.user, '-w', opts.password,
          '-e', opts.peer, '-r', String(PEER_PORT),
          '-p', String(spec.calls.port),
          server,
        ]));
      }

      /** The log from character `from` on, once `pattern` appears in it (or after `timeoutMs`). */
      async function waitForLog(pattern: RegExp, from = 0, timeoutMs = 2000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const text = log().slice(from);
          if (pattern.test(text) || Date.now() > deadline) return text;
          await sleep(50);
        }
      }

      function expectAllocated(result: RunResult, family: 4 | 6): void {
        const relay = /IPv[46]\. Received relay addr: (\S+)/.exec(result.output);
        expect(relay).not.toBeNull();
        const address = relay![1];
        const colon = address.lastIndexOf(':');
        expect(ipaddr.parse(address.slice(0, colon)).toString()).toBe(ipaddr.parse(family === 6 ? DROPLET_V6 : DROPLET_V4).toString());
        const port = Number(address.slice(colon + 1));
        expect(port).toBeGreaterThanOrEqual(spec.calls.relayPortMin);
        expect(port).toBeLessThanOrEqual(spec.calls.relayPortMax);
      }

      beforeAll(async () => {
        // Under the system temp dir, which the image shares at the same path. turnserver runs as root
        // here (the rendered file sets no proc-user, and the harness starts it as root, not through
        // Debian's unit with its User=turnserver), so root-only files suit it.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-daemon-'));
        logFile = path.join(dir, 'turnserver.log');

        const conf = prepareTurnFiles(image(), spec, dir, secret, realm);

        // Split like systemd splits $TURN_ADDRESS_ARGS.
        const addressArgs = turnAddressArgs(DROPLET_V4, ipv6 ? DROPLET_V6 : undefined).split(/\s+/);
        const setup = ['ip link set lo up', `ip addr add ${DROPLET_V4}/32 dev lo`, ...(ipv6 ? [`ip -6 addr add ${DROPLET_V6}/128 dev lo nodad`] : [])];
        const out = fs.openSync(logFile, 'a');
        // The image's nsenter (mount namespace only), chroot, env, unshare and sh each exec the next:
        // the spawned process becomes turnserver itself, in a network namespace of its own, so its pid
        // is both what afterAll stops and what the clients' nsenter targets. Checked below.
        const argv = image().argv(['unshare', '--net', '--', 'sh', '-c', `${setup.join(' && ')} && exec "$@"`, 'sh',
          // Harness-only flags: loopback peers allowed so that our deny list, not coturn's built-in
          // loopback check, must refuse 127.0.0.1 and ::1; -v logs which range refused a peer.
          'turnserver', '-c', conf, ...addressArgs, `--pidfile=${dir}/turnserver.pid`, '--allow-loopback-peers', '-v']);
        daemon = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out] });
        fs.closeSync(out);
        let exited = false;
        daemon.on('exit', () => (exited = true));

        const deadline = Date.now() + 10000;
        for (;;) {
          if (exited) throw new Error(`turnserver exited during startup:\n${log()}`);
          if (Date.now() > deadline) throw new Error(`turnserver did not answer STUN within 10 s (the spawned process is ${comm(pid())}):\n${log()}`);
          // Until the spawned process is turnserver, its network namespace may not be the new one yet.
          if (comm(pid()) === 'turnserver') {
            const stun = await run(inDaemonNetwork(['turnutils_stunclient', '-p', String(spec.calls.port), DROPLET_V4]), 2000);
            if (stun.code === 0 && /reflexive addr/.test(stun.output)) break;
          }
          await sleep(100);
        }
        startupLog = log();
        started = { comm: comm(pid()), netns: fs.readlinkSync(`/proc/${pid()}/ns/net`) };
        if (started.netns === fs.readlinkSync('/proc/self/ns/net')) throw new Error('turnserver runs in the test\'s own network namespace, not a new one');

        const peerArgv = inDaemonNetwork(['turnutils_peer', '-L', DROPLET_V4, ...(ipv6 ? ['-L', DROPLET_V6] : []), '-p', String(PEER_PORT)]);
        peer = spawn(peerArgv[0], peerArgv.slice(1), { stdio: 'ignore' });
        await sleep(200);
      }, 30000);

      afterAll(() => stopAndRemove([peer, daemon], dir));

      it('runs as the process the test spawned, in a network namespace of its own', () => {
        expect(started).toEqual({ comm: 'turnserver', netns: expect.stringMatching(/^net:\[\d+\]$/) });
        expect(started!.netns).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
        expect(comm(pid())).toBe('turnserver');
        expect(peer?.pid && comm(peer.pid)).toBe('turnutils_peer');
        expect(peer?.pid && fs.readlinkSync(`/proc/${peer.pid}/ns/net`)).toBe(started!.netns);
      });

      it('starts without a word about the configuration', () => {
        const problems = startupLog
          .split('\n')
          .filter((line) => /Bad configuration format|Wrong address format|error resolving|CONFIG ERROR|\bERROR\b|cannot|Cannot|CONFIG WARNING/.test(line))
          // Harness-only flag, see beforeAll.
          .filter((line) => !/CONFIG WARNING: allow_loopback_peers/.test(line));
        expect(problems).toEqual([]);
        expect(startupLog).toContain(`Default realm: ${realm}`);
        expect(startupLog).toContain(`SQLite DB connection success: ${dir}/turndb`);
        expect(startupLog).toContain(`TLS cipher suite: ${TURN_CIPHER_LIST}\n`);
        for (const address of ipv6 ? [DROPLET_V4, DROPLET_V6] : [DROPLET_V4]) {
          expect(startupLog).toContain(`Relay address to use: ${address}\n`);
          for (const port of [spec.calls.port, spec.calls.tlsPort]) {
            expect(startupLog).toContain(`TLS/TCP listener opened on : ${address}:${port}\n`);
          }
        }
      });

      it('opens no DTLS listener: clients are offered STUN and TURN over UDP and TCP, and TURN over TLS only', () => {
        expect(startupLog).not.toContain('DTLS/UDP listener opened');
        expect(startupLog).toContain(`UDP listener opened on: ${DROPLET_V4}:${spec.calls.port}\n`);
      });

      it('refuses TURN over DTLS on the TLS port', async () => {
        const c = credentials();
        const dtls = await run(inDaemonNetwork(['turnutils_uclient', '-v', '-S', '-n', '1', '-u', c.user, '-w', c.password,
          '-e', DROPLET_V4, '-r', String(PEER_PORT), '-p', String(spec.calls.tlsPort), DROPLET_V4]), 8000);
        expect(dtls.code).not.toBe(0);
        expect(dtls.output).not.toContain('Received relay addr');
      });

      it('reads every denied range', () => {
        for (const { cidr } of DENIED_PEER_CIDRS) expect(startupLog).toContain(`Black listing: ${cidrToRange(cidr)}\n`);
      });

      it('holds the secret only in the userdb, for the configured realm', () => {
        expect(fs.readFileSync(path.join(dir, 'turnserver.conf'), 'utf8')).not.toContain(secret);
        expect(turnadmin(image(), ['--show-secret', '--realm', realm, '--db', path.join(dir, 'turndb')], dir)).toContain(`${secret}[${realm}]`);
      });

      it('allocates for a Prosody-style credential and relays to public peers over UDP and TCP, IPv4 and IPv6', async () => {
        const cases: { family: 4 | 6; tcp: boolean; creds: { user: string; password: string } }[] = [
          { family: 4, tcp: false, creds: credentials({ plain: true }) },
          { family: 4, tcp: true, creds: credentials() },
          ...(ipv6 ? [{ family: 6 as const, tcp: false, creds: credentials() }] : []),
        ];
        const results = await Promise.all(
          cases.map((c) => uclient({ ...c.creds, family: c.family, tcp: c.tcp, peer: c.family === 6 ? DROPLET_V6 : DROPLET_V4, messages: 3 })),
        );
        results.forEach((result, i) => {
          expect({ case: cases[i], code: result.code }).toEqual({ case: cases[i], code: 0 });
          expectAllocated(result, cases[i].family);
          expect(result.output).toContain('tot_send_msgs=3, tot_recv_msgs=3');
          expect(result.output).toMatch(/Total lost packets 0 /);
        });
      });

      it('serves TLS 1.2 with an ECDHE AEAD suite on the TLS port, and refuses CBC suites', async () => {
        const connect = (extra: string[]): Promise<RunResult> =>
          run(inDaemonNetwork(['openssl', 's_client', '-connect', `${DROPLET_V4}:${spec.calls.tlsPort}`, '-servername', spec.calls.host, '-tls1_2', '-brief', ...extra]), 5000);
        const [good, cbc] = await Promise.all([connect([]), connect(['-cipher', 'ECDHE-ECDSA-AES256-SHA384'])]);
        expect(good.output).toContain('Protocol version: TLSv1.2');
        const suite = /Ciphersuite: (\S+)/.exec(good.output);
        expect(TURN_CIPHER_LIST.split(':')).toContain(suite?.[1]);
        expect(cbc.output).not.toContain('CONNECTION ESTABLISHED');
        expect(cbc.output).toMatch(/alert handshake failure/);
      });

      it('refuses a wrong password and an expired credential with 401', async () => {
        const wrong = credentials({ wrongPassword: true });
        const expired = credentials({ expiresInSeconds: -60 });
        const results = await Promise.all([wrong, expired].map((c) => uclient({ ...c, family: 4, peer: DROPLET_V4 })));
        for (const [i, c] of [wrong, expired].entries()) {
          expect(results[i].code).not.toBe(0);
          expect(results[i].output).toContain('Cannot complete Allocation');
          expect(results[i].output).not.toContain('Received relay addr');
          const text = await waitForLog(new RegExp(`user <${c.user}>: incoming packet message processed, error 401: Unauthorized`));
          expect(text).toContain(`user <${c.user}>: incoming packet message processed, error 401: Unauthorized`);
        }
      });

      const deniedCases: { peer: string; range?: string }[] = [
        ...DENIED_PEER_CIDRS.map(({ cidr }) => {
          const peerAddress = sampleInside(cidr);
          return { peer: peerAddress, range: refusedByCoturnItself(peerAddress) ? undefined : cidrToRange(cidr) };
        }),
        { peer: '127.0.0.1', range: cidrToRange('127.0.0.0/8') },
        { peer: '169.254.169.254', range: cidrToRange('169.254.0.0/16') },
        { peer: '::ffff:169.254.169.254', range: cidrToRange('::ffff:0:0/96') },
        { peer: '64:ff9b::a9fe:a9fe', range: cidrToRange('64:ff9b::/96') },
        { peer: '0.0.0.0' },
        { peer: '::' },
      ].filter(({ peer: p }) => ipv6 || ipaddr.parse(p).kind() === 'ipv4');

      it.each(deniedCases)('allocates but refuses the peer $peer with 403 Forbidden IP', async ({ peer: peerAddress, range }) => {
        const family = ipaddr.parse(peerAddress).kind() === 'ipv6' ? 6 : 4;
        const logBefore = log().length;
        const result = await uclient({ ...credentials(), family, peer: peerAddress });
        expect(result.code).not.toBe(0);
        expectAllocated(result, family);
        expect(result.output).toContain('error 403 (Forbidden IP)');
        expect(result.output).not.toContain('tot_recv_msgs=1');
        if (range) {
          const line = new RegExp(`A peer IP (\\S+) denied in the range: ${range.replace(/[.]/g, '\\.')}\\n`);
          const match = line.exec(await waitForLog(line, logBefore));
          expect(match).not.toBeNull();
          expect(normalizedAsCoturn(match![1])).toBe(normalizedAsCoturn(peerAddress));
        }
      });

      it('stops accepting credentials as soon as the secret leaves the userdb (it is read per request)', async () => {
        turnadmin(image(), ['--delete-secret', secret, '--realm', realm, '--db', path.join(dir, 'turndb')], dir);
        const c = credentials();
        const result = await uclient({ ...c, family: 4, peer: DROPLET_V4 });
        expect(result.code).not.toBe(0);
        expect(result.output).toContain('Cannot complete Allocation');
        expect(await waitForLog(new RegExp(`user <${c.user}>: incoming packet message processed, error 401`))).toContain(`user <${c.user}>`);
      });
    });

    // Two daemons: allocations a test leaves behind (a client stopped mid-flood, or one that gave up)
    // stay until they expire and would take another test's share.
    describe.each([
      { limits: 'room for two allocations', totalMaxMbps: 1 },
      { limits: 'room for many allocations', totalMaxMbps: 100 },
    ])('running with 500 kbit/s per allocation and $totalMaxMbps Mbit/s in all ($limits)', ({ totalMaxMbps }) => {
      const spec = resolveSpec(onImage({ ...minimalSpec, calls: { allocationMaxKbps: 500, totalMaxMbps, userQuota: 10 } }, platform.image));
      const realm = turnRealm(spec);
      const secret = randomBytes(32).toString('hex');
      let dir: string;
      let logFile: string;
      let daemon: ChildProcess | undefined;
      let peer: ChildProcess | undefined;
      let startupLog = '';
      let caseNumber = 0;

      const log = (): string => fs.readFileSync(logFile, 'utf8');
      const inDaemonNetwork = (argv: readonly string[]): string[] => {
        if (!daemon?.pid) throw new Error('turnserver is not running');
        return [...inNetnsOf(daemon.pid), ...image().argv(argv)];
      };
      const credentials = (): { user: string; password: string } => {
        const user = `${Math.floor(Date.now() / 1000) + 3600}:bw${++caseNumber}`;
        return { user, password: restPassword(secret, user) };
      };
      const uclient = (args: readonly string[], timeoutMs = 15000, until?: (output: string) => boolean): Promise<RunResult> => {
        const c = credentials();
        return run(inDaemonNetwork(['turnutils_uclient', '-v', '-u', c.user, '-w', c.password, '-e', DROPLET_V4, '-r', String(PEER_PORT),
          '-p', String(spec.calls.port), ...args, DROPLET_V4]), timeoutMs, until);
      };

      beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-bandwidth-'));
        logFile = path.join(dir, 'turnserver.log');
        const conf = prepareTurnFiles(image(), spec, dir, secret, realm);
        const out = fs.openSync(logFile, 'a');
        const argv = image().argv(['unshare', '--net', '--', 'sh', '-c', `ip link set lo up && ip addr add ${DROPLET_V4}/32 dev lo && exec "$@"`, 'sh',
          'turnserver', '-c', conf, ...turnAddressArgs(DROPLET_V4).split(/\s+/), `--pidfile=${dir}/turnserver.pid`, '-v']);
        daemon = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out] });
        fs.closeSync(out);
        const deadline = Date.now() + 10000;
        for (;;) {
          if (daemon.exitCode !== null) throw new Error(`turnserver exited during startup:\n${log()}`);
          if (Date.now() > deadline) throw new Error(`turnserver did not answer STUN within 10 s:\n${log()}`);
          if (comm(daemon.pid!) === 'turnserver') {
            const stun = await run(inDaemonNetwork(['turnutils_stunclient', '-p', String(spec.calls.port), DROPLET_V4]), 2000);
            if (stun.code === 0 && /reflexive addr/.test(stun.output)) break;
          }
          await sleep(100);
        }
        startupLog = log();
        const peerArgv = inDaemonNetwork(['turnutils_peer', '-L', DROPLET_V4, '-p', String(PEER_PORT)]);
        peer = spawn(peerArgv[0], peerArgv.slice(1), { stdio: 'ignore' });
        await sleep(200);
      }, 30000);

      afterAll(() => stopAndRemove([peer, daemon], dir));

      it('reads both limits, in bytes per second', () => {
        expect(startupLog).toContain('62500 bytes per second allowed per session\n');
        expect(startupLog).toContain(`${totalMaxMbps * 125000} bytes per second allowed, combined server capacity\n`);
      });

      if (totalMaxMbps === 1) it('grants two allocations, then refuses more with 486', async () => {
        const r = await uclient(['-c', '-m', '3', '-n', '5']);
        expect(r.output.match(/Received relay addr/g)).toHaveLength(2);
        expect(r.output).toContain('error 486 (Allocation Bandwidth Quota Reached)');
        expect(log()).toContain('Allocation Bandwidth Quota Reached');
      });

      if (totalMaxMbps === 100) it('relays all of a stream within max-bps, and drops most of one four times as fast', async () => {
        // 50 messages a second (uclient's pace) of 1000 bytes: 50 kB/s, under the 62.5 kB/s cap.
        const within = await uclient(['-c', '-n', '100', '-l', '1000']);
        expect(within.code).toBe(0);
        expect(within.output).toMatch(/Total lost packets 0 /);
        // 200 a second of 1200 bytes: 240 kB/s. uclient waits for every echo, so it is stopped once
        // a progress line counts 600 sent (by count, not by time: a busy machine sets up slowly), and
        // that line counts what came back.
        const progressOf = (output: string) => [...output.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].map((m) => ({ sent: Number(m[1]), received: Number(m[2]) }));
        const flood = await uclient(['-c', '-n', '2000', '-l', '1200', '-z', '5'], 30000, (output) => progressOf(output).some((p) => p.sent >= 600));
        const progress = progressOf(flood.output);
        const last = progress[progress.length - 1];
        expect(last.sent).toBeGreaterThanOrEqual(600);
        expect(last.received / last.sent).toBeLessThan(0.6);
      });
    });
  });
});
