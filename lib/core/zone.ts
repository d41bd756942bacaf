/**
 * renderZoneFile(): the planned records of one zone as a BIND zone file.
 *
 * DigitalOcean serves the real zone; this file is for review in pull requests, for the
 * rehearsal's DNS server, for tests (`named-checkzone`) and for people who host DNS elsewhere.
 * It shows what resolvers will see, so values are in DNS presentation form: the trailing dot
 * DigitalOcean wants on CAA values is not part of the published record and is dropped here.
 */
import * as ipaddr from 'ipaddr.js';
import { AddressSource, DnsRecordPlan, isAddressRef, planDnsRecords } from './dns';
import { hasDedicatedTurnDroplet, ResolvedSpec } from './spec';

/** The deploy-time addresses an `AddressRef` stands for. */
export interface ZoneAddresses {
  readonly reservedIpv4: string;
  /** The reserved IPv6 address; when absent, records on it are left out. */
  readonly reservedIpv6?: string;
  readonly dropletIpv4: string;
  /** When absent, AAAA records are left out. */
  readonly dropletIpv6?: string;
  /**
   * The TURN droplet's IPv4 address, when coturn runs on a droplet of its own.
   * @default - `dropletIpv4`, and `turnIpv6` defaults to `dropletIpv6` (coturn on the Prosody droplet)
   */
  readonly turnIpv4?: string;
  /**
   * The TURN droplet's IPv6 address.
   * @default - `dropletIpv6` when `turnIpv4` is absent too; otherwise the TURN name has no AAAA record
   */
  readonly turnIpv6?: string;
}

export interface ZoneFileOptions {
  /**
   * SOA serial. DigitalOcean manages its own; a fixed one keeps the output deterministic.
   * @default 1
   */
  readonly serial?: number;
  /**
   * Authoritative name servers, absolute (trailing dot) or not.
   * @default - DigitalOcean's ns1, ns2 and ns3.digitalocean.com
   */
  readonly nameservers?: readonly string[];
  /**
   * Say in the header that the addresses are stand-ins.
   * @default false
   */
  readonly placeholderAddresses?: boolean;
  /**
   * The zone is served outside DigitalOcean: leave out SOA and NS (that DNS keeps its own) and say
   * in the header that these records are to be loaded there. Most DNS hosts import such a file.
   * @default false
   */
  readonly forImport?: boolean;
}

export const DIGITALOCEAN_NAMESERVERS: readonly string[] = ['ns1.digitalocean.com.', 'ns2.digitalocean.com.', 'ns3.digitalocean.com.'];

/** Documentation addresses (RFC 5737, RFC 3849): readable in review files, never routable. */
export const PLACEHOLDER_ADDRESSES: Required<Pick<ZoneAddresses, 'reservedIpv4' | 'reservedIpv6' | 'dropletIpv4' | 'dropletIpv6'>> = {
  reservedIpv4: '192.0.2.10',
  reservedIpv6: '2001:db8::10',
  dropletIpv4: '192.0.2.20',
  dropletIpv6: '2001:db8::20',
};

/** Stand-ins for a dedicated TURN droplet's addresses, in the same documentation blocks. */
export const PLACEHOLDER_TURN_ADDRESSES: Required<Pick<ZoneAddresses, 'turnIpv4' | 'turnIpv6'>> = {
  turnIpv4: '192.0.2.30',
  turnIpv6: '2001:db8::30',
};

export const DEFAULT_ZONE_SERIAL = 1;

/** SOA timers as DigitalOcean publishes them: refresh, retry, expire, negative-caching TTL. */
const SOA_TIMERS = { refresh: 10800, retry: 3600, expire: 604800, minimum: 1800 };

function checkAddresses(addresses: ZoneAddresses): void {
  const expect = (field: AddressSource, value: string | undefined, kind: 'ipv4' | 'ipv6'): void => {
    if (value === undefined) return;
    const ok = kind === 'ipv4' ? ipaddr.IPv4.isValidFourPartDecimal(value) : ipaddr.IPv6.isValid(value) && !/[/%]/.test(value);
    if (!ok) throw new Error(`Zone address ${field} = ${JSON.stringify(value)} is not an ${kind === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
  };
  expect('reservedIpv4', addresses.reservedIpv4, 'ipv4');
  expect('reservedIpv6', addresses.reservedIpv6, 'ipv6');
  expect('dropletIpv4', addresses.dropletIpv4, 'ipv4');
  expect('dropletIpv6', addresses.dropletIpv6, 'ipv6');
  expect('turnIpv4', addresses.turnIpv4, 'ipv4');
  expect('turnIpv6', addresses.turnIpv6, 'ipv6');
}

/** The address `source` stands for, or `undefined` when it was not given. */
function addressOf(addresses: ZoneAddresses, source: AddressSource): string | undefined {
  // Without TURN addresses, coturn is on the droplet; with them, the TURN droplet's are all there is.
  const coLocated = addresses.turnIpv4 === undefined && addresses.turnIpv6 === undefined;
  switch (source) {
    case 'turnIpv4':
      return coLocated ? addresses.dropletIpv4 : addresses.turnIpv4;
    case 'turnIpv6':
      return coLocated ? addresses.dropletIpv6 : addresses.turnIpv6;
    default:
      return addresses[source];
  }
}

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A record's data in zone-file presentation form, or `undefined` when it names an address that
 * was not given (AAAA without `dropletIpv6`).
 */
export function recordData(record: DnsRecordPlan, addresses: ZoneAddresses): string | undefined {
  const value = record.value;
  switch (record.type) {
    case 'A':
    case 'AAAA':
      if (!isAddressRef(value)) return value;
      return addressOf(addresses, value.of);
    case 'CNAME':
      return String(value);
    case 'SRV':
      return `${record.priority ?? 0} ${record.weight ?? 0} ${record.port ?? 0} ${String(value)}`;
    case 'CAA': {
      const text = String(value);
      // DigitalOcean's form carries a trailing dot on issuer names that the served record lacks.
      const published = record.tag === 'iodef' || text === ';' ? text : text.replace(/\.$/, '');
      return `${record.flags ?? 0} ${record.tag ?? 'issue'} ${quoted(published)}`;
    }
  }
}

/** One zone as a BIND zone file: $ORIGIN, $TTL, SOA, NS, then every record of `records` in `zone`. */
export function renderZoneFile(
  records: readonly DnsRecordPlan[],
  zone: string,
  addresses: ZoneAddresses,
  options: ZoneFileOptions = {},
): string {
  checkAddresses(addresses);
  const origin = zone.replace(/\.$/, '');
  const inZone = records.filter((r) => r.zone === origin);
  const defaultTtl = inZone[0]?.ttlSeconds ?? SOA_TIMERS.minimum;
  const serial = options.serial ?? DEFAULT_ZONE_SERIAL;
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw new Error(`SOA serial ${serial} is not a 32-bit unsigned integer`);
  const nameservers = (options.nameservers ?? DIGITALOCEAN_NAMESERVERS).map((ns) => (ns.endsWith('.') ? ns : `${ns}.`));
  if (nameservers.length === 0) throw new Error('A zone needs at least one name server');

  const rows: [name: string, ttl: number, type: string, data: string][] = [];
  const { refresh, retry, expire, minimum } = SOA_TIMERS;
  if (!options.forImport) {
    rows.push(['@', defaultTtl, 'SOA', `${nameservers[0]} hostmaster.${origin}. ${serial} ${refresh} ${retry} ${expire} ${minimum}`]);
    for (const ns of nameservers) rows.push(['@', defaultTtl, 'NS', ns]);
  }
  for (const record of inZone) {
    const data = recordData(record, addresses);
    if (data !== undefined) rows.push([record.name, record.ttlSeconds, record.type, data]);
  }

  const nameWidth = Math.max(...rows.map(([name]) => name.length));
  const ttlWidth = Math.max(...rows.map(([, ttl]) => String(ttl).length));
  const header = options.forImport
    ? [
        `; Zone ${origin}, rendered by xmpp-constructs. Its DNS is hosted outside DigitalOcean: load these records`,
        '; into it (most DNS hosts import this format; keep their own SOA and NS records).',
      ]
    : [`; Zone ${origin}, rendered by xmpp-constructs. DigitalOcean serves the live zone; this file is for review.`];
  if (options.placeholderAddresses) {
    const a = addresses;
    header.push(
      `; placeholder addresses: known only after deploy (reserved IPv4 ${a.reservedIpv4}` +
        `${a.reservedIpv6 !== undefined ? `, reserved IPv6 ${a.reservedIpv6}` : ''}, droplet IPv4 ${a.dropletIpv4}` +
        `${a.dropletIpv6 !== undefined ? `, droplet IPv6 ${a.dropletIpv6}` : ''}` +
        `${a.turnIpv4 !== undefined ? `, TURN droplet IPv4 ${a.turnIpv4}` : ''}` +
        `${a.turnIpv6 !== undefined ? `, TURN droplet IPv6 ${a.turnIpv6}` : ''}).`,
    );
  }
  const lines = [
    ...header,
    `$ORIGIN ${origin}.`,
    `$TTL ${defaultTtl}`,
    ...rows.map(([name, ttl, type, data]) => `${name.padEnd(nameWidth)} ${String(ttl).padStart(ttlWidth)} IN ${type.padEnd(5)} ${data}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Every zone of the service, as `{ "<zone>.zone": content }`. Without `addresses`, documentation
 * addresses stand in for the ones that exist only after deploy, and each file says so.
 */
export function renderZoneFiles(spec: ResolvedSpec, addresses?: ZoneAddresses, options: Omit<ZoneFileOptions, 'placeholderAddresses'> = {}): Record<string, string> {
  const records = planDnsRecords(spec);
  const { dropletIpv6, reservedIpv6, ...ipv4Only } = PLACEHOLDER_ADDRESSES;
  const { turnIpv6, ...turnIpv4Only } = PLACEHOLDER_TURN_ADDRESSES;
  const placeholders: ZoneAddresses = {
    ...(spec.droplet.ipv6 ? { ...ipv4Only, dropletIpv6, ...(spec.droplet.reservedIpv6 ? { reservedIpv6 } : {}) } : ipv4Only),
    ...(hasDedicatedTurnDroplet(spec) ? (spec.droplet.ipv6 ? { ...turnIpv4Only, turnIpv6 } : turnIpv4Only) : {}),
  };
  if (addresses && hasDedicatedTurnDroplet(spec) && addresses.turnIpv4 === undefined) {
    // Falling back to the Prosody droplet's address would send calls to a host without coturn.
    throw new Error(`The TURN name ${spec.calls.host} is on a droplet of its own, but no address was given for it. Fix: pass addresses.turnIpv4 (and turnIpv6).`);
  }
  const given = addresses ?? placeholders;
  // Grouped once: each zone scanning every record would be quadratic in the number of domains.
  const byZone = new Map<string, DnsRecordPlan[]>();
  for (const record of records) {
    const inZone = byZone.get(record.zone);
    if (inZone) inZone.push(record);
    else byZone.set(record.zone, [record]);
  }
  const files: Record<string, string> = {};
  for (const domain of spec.domains) {
    const zone = domain.name;
    files[`${zone}.zone`] = renderZoneFile(byZone.get(zone) ?? [], zone, given, { ...options, placeholderAddresses: addresses === undefined, forImport: domain.zone === 'external' });
  }
  return files;
}

/**
 * The zones served outside DigitalOcean, as files to load into their DNS, with the deployed
 * addresses: `{ "<zone>": content }`. Empty when every zone is at DigitalOcean.
 */
export function renderExternalZoneFiles(spec: ResolvedSpec, addresses: ZoneAddresses): Record<string, string> {
  const external = new Set(spec.domains.filter((d) => d.zone === 'external').map((d) => d.name));
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(renderZoneFiles(spec, addresses))) {
    const zone = name.slice(0, -'.zone'.length);
    if (external.has(zone)) files[zone] = content;
  }
  return files;
}

/**
 * `renderExternalZoneFiles` for engines whose addresses are placeholders in a string until deploy
 * (cdktf tokens): each zone is rendered with distinct documentation addresses, and the data of
 * every A/AAAA line is then replaced by the token of the address it stands for.
 */
export function renderExternalZoneFilesWithTokens(spec: ResolvedSpec, tokens: Partial<Record<AddressSource, string>>): Record<string, string> {
  const stand: ZoneAddresses = {
    ...PLACEHOLDER_ADDRESSES,
    ...(tokens.turnIpv4 !== undefined ? PLACEHOLDER_TURN_ADDRESSES : {}),
  };
  const tokenOf = new Map<string, string | undefined>([
    [PLACEHOLDER_ADDRESSES.reservedIpv4, tokens.reservedIpv4],
    [PLACEHOLDER_ADDRESSES.reservedIpv6, tokens.reservedIpv6],
    [PLACEHOLDER_ADDRESSES.dropletIpv4, tokens.dropletIpv4],
    [PLACEHOLDER_ADDRESSES.dropletIpv6, tokens.dropletIpv6],
    [PLACEHOLDER_TURN_ADDRESSES.turnIpv4, tokens.turnIpv4],
    [PLACEHOLDER_TURN_ADDRESSES.turnIpv6, tokens.turnIpv6],
  ]);
  const files: Record<string, string> = {};
  const v6 = spec.droplet.ipv6 ? { reservedIpv6: spec.droplet.reservedIpv6 ? stand.reservedIpv6 : undefined } : { reservedIpv6: undefined, dropletIpv6: undefined, turnIpv6: undefined };
  for (const [zone, content] of Object.entries(renderExternalZoneFiles(spec, { ...stand, ...v6 }))) {
    files[zone] = content.replace(/^(\S+ +\d+ IN (?:A|AAAA) +)(\S+)$/gm, (_line, head: string, address: string) => {
      const token = tokenOf.get(address);
      if (token === undefined) throw new Error(`The external zone ${zone} needs an address for ${address}, but none was given`);
      return `${head}${token}`;
    });
  }
  return files;
}
