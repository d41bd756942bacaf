/**
 * planDnsRecords(): every DNS record an XMPP service needs, as plain data.
 *
 * The plan is written in the form the DigitalOcean API and its Terraform/Pulumi providers read
 * back, so that an adapter maps each record 1:1 onto a `digitalocean_record` and the next plan
 * shows no drift:
 * - CNAME and SRV targets are absolute names with a trailing dot (the provider appends one on
 *   read, so a value without it differs from state forever);
 * - CAA `issue` values carry a trailing dot as well: the API requires it and the provider appends
 *   one on read, although the record DigitalOcean serves has none. `zone.ts` strips it again.
 * - Addresses known only at deploy time are `AddressRef`s that each adapter resolves with its own
 *   engine's tokens or outputs.
 */
import { ResolvedSpec, ZoneHosting } from './spec';
import { SpecValidationError, SpecIssue } from './validate';

/**
 * Where an address comes from once the droplets and the reserved IPs exist. `reservedIpv6` is the
 * reserved IPv6 address assigned to the Prosody droplet (where the region offers one, see
 * `droplet.reservedIpv6`). `turnIpv4`/`turnIpv6` are the addresses of whichever droplet runs
 * coturn: the Prosody droplet's own when co-located, the TURN droplet's when `calls.placement` is
 * `"dedicated"`. Adapters map them accordingly.
 */
export type AddressSource = 'reservedIpv4' | 'reservedIpv6' | 'dropletIpv4' | 'dropletIpv6' | 'turnIpv4' | 'turnIpv6';

/** Every address source, in a fixed order (for listings and command-line parsing). */
export const ADDRESS_SOURCES: readonly AddressSource[] = ['reservedIpv4', 'reservedIpv6', 'dropletIpv4', 'dropletIpv6', 'turnIpv4', 'turnIpv6'];

/** A deploy-time address, resolved by the cdktf and Pulumi adapters. */
export interface AddressRef {
  readonly kind: 'address';
  readonly of: AddressSource;
}

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'SRV' | 'CAA';

/** Records are sorted by zone, then by type in this order, then by name. */
export const DNS_RECORD_TYPE_ORDER: readonly DnsRecordType[] = ['A', 'AAAA', 'CNAME', 'SRV', 'CAA'];

/** One DNS record, in DigitalOcean's terms. */
export interface DnsRecordPlan {
  /**
   * Stable, unique identifier: `<zone>/<name>/<type>`, plus `/<tag>` for CAA (a name may hold
   * several CAA records). Adapters use it as construct ID / resource name, so it depends only on
   * the record itself, never on which other records exist.
   */
  readonly key: string;
  /** The DigitalOcean domain (DNS zone) holding the record, without trailing dot. */
  readonly zone: string;
  readonly type: DnsRecordType;
  /** Relative to `zone`; `@` for the apex. */
  readonly name: string;
  /**
   * A/AAAA: an `AddressRef`. CNAME/SRV: an absolute name with trailing dot (`.` alone is the
   * RFC 2782 "service not offered" target). CAA: the issuer domain with trailing dot.
   */
  readonly value: string | AddressRef;
  readonly ttlSeconds: number;
  /** SRV only. */
  readonly priority?: number;
  /** SRV only. */
  readonly weight?: number;
  /** SRV only. */
  readonly port?: number;
  /** CAA only. */
  readonly flags?: number;
  /** CAA only: `issue`, `issuewild` or `iodef`. */
  readonly tag?: string;
}

export const RESERVED_IPV4: AddressRef = { kind: 'address', of: 'reservedIpv4' };
export const RESERVED_IPV6: AddressRef = { kind: 'address', of: 'reservedIpv6' };
export const DROPLET_IPV4: AddressRef = { kind: 'address', of: 'dropletIpv4' };
export const DROPLET_IPV6: AddressRef = { kind: 'address', of: 'dropletIpv6' };
export const TURN_IPV4: AddressRef = { kind: 'address', of: 'turnIpv4' };
export const TURN_IPV6: AddressRef = { kind: 'address', of: 'turnIpv6' };

/**
 * Every XMPP SRV record has one target, so weight only matters in RFC 2782's rule that weight 0
 * is picked last among several; 5 avoids that corner. Priority 0 for both the STARTTLS and the
 * direct TLS records: XEP-0368 mixes them as one set, so equal priorities leave the choice to
 * the client (XEP-0368-aware clients prefer direct TLS).
 */
export const SRV_PRIORITY = 0;
export const SRV_WEIGHT = 5;

/**
 * RFC 2782 / RFC 6120 §3.2.1: an SRV target of "." means the service is decidedly not offered.
 * Adapter caveat (unverified against the live API): terraform-provider-digitalocean appends "."
 * to every SRV value it reads back, so if the API returns "." the state holds ".." and the record
 * shows a diff on every plan; ignoring changes to `value` on this one record would hide that.
 */
export const NULL_SRV_TARGET = '.';

/** The only CA allowed to issue for the served names (certbot uses Let's Encrypt). */
export const CAA_ISSUER = 'letsencrypt.org';

export function isAddressRef(value: DnsRecordPlan['value']): value is AddressRef {
  return typeof value === 'object' && value !== null && value.kind === 'address';
}

/** The fully qualified name of `name` in `zone`, without trailing dot (`@` is the zone itself). */
export function fqdn(name: string, zone: string): string {
  const z = zone.replace(/\.$/, '');
  return name === '@' ? z : `${name}.${z}`;
}

/** The fully qualified name a record is published at, without trailing dot. */
export function recordFqdn(record: Pick<DnsRecordPlan, 'name' | 'zone'>): string {
  return fqdn(record.name, record.zone);
}

/** An absolute DNS name as DigitalOcean wants CNAME/SRV targets: with trailing dot. */
export function absoluteName(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

/** `name` without its trailing dot, as DNS answers and TLS compare it; the root `.` stays itself. */
export function withoutTrailingDot(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

/** `host` relative to `zone` (`@` for the apex); fails if the host is not inside the zone. */
export function relativeName(host: string, zone: string): string {
  if (host === zone) return '@';
  const suffix = `.${zone}`;
  if (!host.endsWith(suffix) || host.length === suffix.length) {
    throw new Error(`DNS name "${host}" is not inside zone "${zone}"`);
  }
  return host.slice(0, -suffix.length);
}

/** The zones records are planned in: one per served domain, primary first. */
export function dnsZones(spec: ResolvedSpec): string[] {
  return spec.domains.map((d) => d.name);
}

/** The zones by where they live, each list in spec order. */
export interface ZonesByHosting {
  /** DigitalOcean zones created (and destroyed) with the service. */
  readonly create: readonly string[];
  /** DigitalOcean zones that exist already: records only. */
  readonly existing: readonly string[];
  /** Zones served elsewhere: nothing at DigitalOcean, the zone file is the deliverable. */
  readonly external: readonly string[];
}

/**
 * Where each zone lives: the domains' `zone` settings, with an adapter's `existingZones` (the
 * older way to say `zone: "existing"`) applied. Fails naming an `existingZones` entry that is not
 * a served domain (its records would go nowhere) or that the spec declares external.
 */
export function zonesByHosting(spec: ResolvedSpec, existingZones: readonly string[] = []): ZonesByHosting {
  const hosting = new Map<string, ZoneHosting>(spec.domains.map((d) => [d.name, d.zone]));
  const issues: SpecIssue[] = [];
  existingZones.forEach((zone, i) => {
    const declared = hosting.get(zone);
    if (declared === undefined) {
      issues.push({ field: `existingZones[${i}]`, value: zone, problem: 'not one of the served domains, so no record would go into it', fix: 'remove it, or add the domain to `domains`' });
    } else if (declared === 'external') {
      issues.push({ field: `existingZones[${i}]`, value: zone, problem: 'the spec declares this domain\'s zone "external" (hosted outside DigitalOcean)', fix: 'remove it here, or set the domain\'s zone to "existing"' });
    } else {
      hosting.set(zone, 'existing');
    }
  });
  if (issues.length > 0) throw new SpecValidationError(issues);
  const of = (kind: ZoneHosting) => [...hosting].filter(([, h]) => h === kind).map(([zone]) => zone);
  return { create: of('create'), existing: of('existing'), external: of('external') };
}

/** The planned records that go to DigitalOcean: all but those of zones served elsewhere. */
export function planDigitalOceanRecords(spec: ResolvedSpec, hosting: ZonesByHosting): DnsRecordPlan[] {
  const external = new Set(hosting.external);
  return planDnsRecords(spec).filter((record) => !external.has(record.zone));
}

/** Deterministic order: zone (in spec order), type (DNS_RECORD_TYPE_ORDER), name (`@` first), key. */
export function sortDnsRecords(records: readonly DnsRecordPlan[], zoneOrder?: readonly string[]): DnsRecordPlan[] {
  // A map, not indexOf: with a thousand zones the sort would otherwise be quadratic.
  const ranks = new Map((zoneOrder ?? []).map((zone, i) => [zone, i] as const));
  const zoneRank = (zone: string): number => ranks.get(zone) ?? Number.MAX_SAFE_INTEGER;
  const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...records].sort(
    (a, b) =>
      zoneRank(a.zone) - zoneRank(b.zone) ||
      byCodeUnit(a.zone, b.zone) ||
      DNS_RECORD_TYPE_ORDER.indexOf(a.type) - DNS_RECORD_TYPE_ORDER.indexOf(b.type) ||
      (a.name === '@' ? 0 : 1) - (b.name === '@' ? 0 : 1) ||
      byCodeUnit(a.name, b.name) ||
      byCodeUnit(a.key, b.key),
  );
}

function recordKey(zone: string, name: string, type: DnsRecordType, tag?: string): string {
  return [zone, name, type, ...(tag !== undefined ? [tag] : [])].join('/');
}

/** Every record the service needs, across all its zones, in a deterministic order. */
export function planDnsRecords(spec: ResolvedSpec): DnsRecordPlan[] {
  const ttlSeconds = spec.dns.ttlSeconds;
  const records: DnsRecordPlan[] = [];
  const add = (r: Omit<DnsRecordPlan, 'key' | 'ttlSeconds'> & { ttlSeconds?: number }): void => {
    records.push({ key: recordKey(r.zone, r.name, r.type, r.tag), ...r, ttlSeconds: r.ttlSeconds ?? ttlSeconds });
  };

  // Without a reserved IPv6 (a region that has none, or declined), AAAA follows the droplet's own
  // address, which every replacement changes: hence the TURN name's short TTL. The apex's other
  // records take it too, since DigitalOcean keeps one TTL per name.
  const apexIpv6 = spec.droplet.reservedIpv6 ? RESERVED_IPV6 : DROPLET_IPV6;
  const apexTtl = spec.droplet.ipv6 && !spec.droplet.reservedIpv6 ? spec.dns.turnTtlSeconds : ttlSeconds;
  for (const domain of spec.domains) {
    const zone = domain.name;
    const apex = absoluteName(zone);

    // The apex gets addresses, never a CNAME; the reserved IPs keep it stable across droplet
    // replacement.
    add({ zone, type: 'A', name: '@', value: RESERVED_IPV4, ttlSeconds: apexTtl });
    if (spec.droplet.ipv6) add({ zone, type: 'AAAA', name: '@', value: apexIpv6, ttlSeconds: apexTtl });

    // Components are aliases of the apex: they follow its addresses and inherit its CAA.
    for (const component of domain.components) {
      add({ zone, type: 'CNAME', name: relativeName(component.host, zone), value: apex });
    }

    // SRV targets are the apex, which owns A/AAAA itself (RFC 2782: a target is never an alias).
    const srv = (service: string, port: number, target = apex): void =>
      add({
        zone,
        type: 'SRV',
        name: `_${service}._tcp`,
        value: target,
        priority: SRV_PRIORITY,
        weight: target === NULL_SRV_TARGET ? 0 : SRV_WEIGHT,
        port,
      });
    srv('xmpp-client', spec.ports.c2s);
    srv('xmpps-client', spec.ports.c2sDirectTls);
    if (spec.federation.enabled) {
      srv('xmpp-server', spec.ports.s2s);
      if (spec.federation.directTls) srv('xmpps-server', spec.ports.s2sDirectTls);
    } else {
      // Without it, other servers would fall back to the apex on 5269 and wait for a timeout;
      // "." tells them at once that this domain does not federate.
      srv('xmpp-server', 0, NULL_SRV_TARGET);
    }

    // Issuance for the apex and (by tree climbing) every name below it is limited to Let's
    // Encrypt. No `issuewild ";"`: DigitalOcean's API rejects ";" as a CAA value, and without
    // issuewild the issue record governs wildcard requests too.
    add({ zone, type: 'CAA', name: '@', value: absoluteName(CAA_ISSUER), flags: 0, tag: 'issue', ttlSeconds: apexTtl });
  }

  // The TURN name points at the own addresses of the droplet running coturn, not the reserved IPs:
  // coturn binds to them and relayed media must leave from the address clients were told. Those
  // change when that droplet is replaced, hence the short TTL. A TURN droplet inherits IPv6.
  if (spec.calls.enabled) {
    const zone = spec.primaryDomain;
    const name = relativeName(spec.calls.host, zone);
    const ttl = spec.dns.turnTtlSeconds;
    add({ zone, type: 'A', name, value: TURN_IPV4, ttlSeconds: ttl });
    if (spec.droplet.ipv6) add({ zone, type: 'AAAA', name, value: TURN_IPV6, ttlSeconds: ttl });
  }

  const keys = new Set<string>();
  for (const r of records) {
    if (keys.has(r.key)) throw new Error(`Two DNS records share the key "${r.key}"; names of components, domains and the TURN server must differ`);
    keys.add(r.key);
  }
  return sortDnsRecords(records, dnsZones(spec));
}

/**
 * The record's value with its deploy-time address filled in from `addresses`, whatever type the
 * engine uses for them (a cdktf token string, a Pulumi Output). Fails naming the missing address.
 */
export function resolveRecordValue<T>(record: DnsRecordPlan, addresses: Partial<Record<AddressSource, T>>): string | T {
  if (!isAddressRef(record.value)) return record.value;
  const address = addresses[record.value.of];
  if (address === undefined) {
    throw new Error(`DNS record ${record.key} needs the ${record.value.of} address, but none was given. Fix: pass addresses.${record.value.of}.`);
  }
  return address;
}
