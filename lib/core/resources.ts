/**
 * The attributes of each DigitalOcean resource, as plain data. cdktf's provider and Pulumi's name
 * them alike (both camelCase over the same Terraform schema), so each adapter passes these on and
 * adds only its engine's references (IDs, addresses, user_data, tags).
 */
import { AddressSource, DnsRecordPlan, isAddressRef, resolveRecordValue } from './dns';
import { FirewallPlan, FirewallRulePlan } from './firewall';
import { ResolvedSpec } from './spec';

/** A droplet's own attributes, without user_data, volumes, tags or VPC. */
export interface DropletAttributes {
  readonly name: string;
  readonly image: string;
  readonly region: string;
  readonly size: string;
  readonly sshKeys: string[];
  readonly ipv6: boolean;
  readonly monitoring: boolean;
  readonly backups?: boolean;
}

/** The droplet that runs Prosody. */
export function prosodyDropletAttributes(spec: ResolvedSpec): DropletAttributes {
  const d = spec.droplet;
  return { name: d.name, image: d.image, region: d.region, size: d.size, sshKeys: [...d.sshKeyFingerprints], ipv6: d.ipv6, monitoring: d.monitoring, backups: d.backups };
}

/** coturn's own droplet: the Prosody droplet's region, image, keys and options, its own name and size. */
export function turnDropletAttributes(spec: ResolvedSpec): DropletAttributes {
  const d = spec.droplet;
  return { name: spec.calls.droplet.name, image: d.image, region: d.region, size: spec.calls.droplet.size, sshKeys: [...d.sshKeyFingerprints], ipv6: d.ipv6, monitoring: d.monitoring };
}

/** The data volume. */
export function volumeAttributes(spec: ResolvedSpec): { name: string; region: string; size: number; description: string } {
  const d = spec.droplet;
  return {
    name: d.volumeName,
    region: d.region,
    size: d.volumeSizeGib,
    // Names the droplet, never the domains: the provider replaces a volume whose description
    // changes, so a description listing domains would make adding one destroy everyone's data
    // (or, with the volume protected, fail the apply). It is also limited to 1024 bytes.
    description: `XMPP state of ${d.name}: accounts, archives, uploads, certificates, secrets`,
  };
}

/**
 * The reserved IPv6 address the domains' AAAA records point at, in the droplet's region. Its region
 * is its only attribute, so nothing but a change of region replaces it (as for the reserved IPv4).
 */
export function reservedIpv6Attributes(spec: ResolvedSpec): { regionSlug: string } {
  return { regionSlug: spec.droplet.region };
}

/** The addresses records point at, as an adapter is given them; TURN defaults to the droplet's own. */
export interface GivenAddresses<T> {
  readonly reservedIpv4: T;
  readonly reservedIpv6?: T;
  readonly dropletIpv4: T;
  readonly dropletIpv6?: T;
  readonly turnIpv4?: T;
  readonly turnIpv6?: T;
}

/**
 * A service's addresses from its droplets' attributes, in the engine's own terms (tokens, Outputs):
 * IPv6 only when the spec enables it, the reserved IPv6 only when the spec uses one, and the TURN
 * droplet's only when coturn has a droplet of its own.
 */
export function serviceAddresses<T>(
  spec: ResolvedSpec,
  host: { readonly reservedIpv4: T; readonly reservedIpv6?: T; readonly ipv4: T; readonly ipv6: T },
  turn: { readonly ipv4: T; readonly ipv6: T } | undefined,
): GivenAddresses<T> {
  const v6 = spec.droplet.ipv6;
  if (spec.droplet.reservedIpv6 && host.reservedIpv6 === undefined) {
    throw new Error('The spec puts the AAAA records on a reserved IPv6 address (droplet.reservedIpv6), but the host has none. Fix: create the reserved IPv6 (ProsodyHost does) and pass its address.');
  }
  return {
    reservedIpv4: host.reservedIpv4,
    ...(spec.droplet.reservedIpv6 ? { reservedIpv6: host.reservedIpv6 } : {}),
    dropletIpv4: host.ipv4,
    dropletIpv6: v6 ? host.ipv6 : undefined,
    ...(turn ? { turnIpv4: turn.ipv4, turnIpv6: v6 ? turn.ipv6 : undefined } : {}),
  };
}

/** Every address source filled in: coturn runs on the Prosody droplet unless told otherwise. */
export function recordAddresses<T>(given: GivenAddresses<T>): Partial<Record<AddressSource, T>> {
  return { ...given, turnIpv4: given.turnIpv4 ?? given.dropletIpv4, turnIpv6: given.turnIpv6 ?? given.dropletIpv6 };
}

/** A `digitalocean_record`'s attributes, with the zone and addresses in the engine's own terms. */
export function dnsRecordAttributes<Z, T>(record: DnsRecordPlan, zone: Z, addresses: Partial<Record<AddressSource, T>>) {
  return {
    domain: zone,
    type: record.type,
    name: record.name,
    value: resolveRecordValue(record, addresses),
    ttl: record.ttlSeconds,
    priority: record.priority,
    weight: record.weight,
    port: record.port,
    flags: record.flags,
    tag: record.tag,
  };
}

/**
 * One record as plain data, its attributes by name, for an engine that iterates over records (cdktf
 * puts one entry per record in a Terraform local). Every field is present, `null` where the record
 * has no such attribute, so that every entry has the same object type. An address record carries
 * the name of its address (`"address": "reservedIpv4"`, `"value": null`), which the engine turns
 * into the deployed one; every other record carries its value and `"address": null`.
 */
export interface RecordFields {
  readonly domain: string;
  readonly type: DnsRecordPlan['type'];
  readonly name: string;
  readonly value: string | null;
  readonly address: AddressSource | null;
  readonly ttl: number;
  readonly priority: number | null;
  readonly weight: number | null;
  readonly port: number | null;
  readonly flags: number | null;
  readonly tag: string | null;
}

/** `record` as plain data (see `RecordFields`). */
export function recordFields(record: DnsRecordPlan): RecordFields {
  const address = isAddressRef(record.value) ? record.value.of : null;
  return {
    domain: record.zone,
    type: record.type,
    name: record.name,
    value: typeof record.value === 'string' ? record.value : null,
    address,
    ttl: record.ttlSeconds,
    priority: record.priority ?? null,
    weight: record.weight ?? null,
    port: record.port ?? null,
    flags: record.flags ?? null,
    tag: record.tag ?? null,
  };
}


/** The firewall's name. */
export function firewallName(spec: ResolvedSpec, role: 'prosody-host' | 'turn-host'): string {
  return `${role === 'turn-host' ? spec.calls.droplet.name : spec.droplet.name}-fw`;
}

/** The rules of a firewall plan as the provider takes them. */
export function firewallRuleAttributes(plan: FirewallPlan): {
  inbound: { protocol: string; portRange?: string; sourceAddresses: string[] }[];
  outbound: { protocol: string; portRange?: string; destinationAddresses: string[] }[];
} {
  const common = (r: FirewallRulePlan) => ({ protocol: r.protocol, portRange: r.ports });
  return {
    inbound: plan.inbound.map((r) => ({ ...common(r), sourceAddresses: [...r.addresses] })),
    outbound: plan.outbound.map((r) => ({ ...common(r), destinationAddresses: [...r.addresses] })),
  };
}
