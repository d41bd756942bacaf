import { Domain } from '@cdktf/provider-digitalocean/lib/domain';
import { Record as DnsRecord } from '@cdktf/provider-digitalocean/lib/record';
import { TerraformIterator, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AddressSource, DnsRecordPlan, isAddressRef, planDigitalOceanRecords, resolveRecordValue, zonesByHosting } from '../core/dns';
import { recordAddresses } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { preResolved } from './resolved';
import { resolveForCdktf } from './spec';

/** Addresses the records point at; tokens (e.g. `droplet.ipv4Address`) are welcome. */
export interface RecordAddresses {
  /** The reserved IPv4 address the domains' apex A records point at. */
  readonly reservedIpv4: string;
  /**
   * The reserved IPv6 address the domains' apex AAAA records point at.
   * @default - required when the spec uses a reserved IPv6 (`droplet.reservedIpv6`)
   */
  readonly reservedIpv6?: string;
  /** The droplet's own IPv4 address, for the TURN name (coturn relays from it). */
  readonly dropletIpv4: string;
  /**
   * The droplet's IPv6 address: for the AAAA records without a reserved IPv6, and for the TURN name.
   * @default - required when the spec enables IPv6
   */
  readonly dropletIpv6?: string;
  /**
   * IPv4 address of the host running coturn, for the TURN name.
   * @default - `dropletIpv4` (coturn on the Prosody host)
   */
  readonly turnIpv4?: string;
  /**
   * IPv6 address of the host running coturn.
   * @default - `dropletIpv6`
   */
  readonly turnIpv6?: string;
}

export interface XmppDomainRecordsProps {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
  /** Where the records point. */
  readonly addresses: RecordAddresses;
  /**
   * Zones that already exist in your DigitalOcean account: records are added to them, and the zone
   * itself is neither created nor destroyed here. The same as `zone: "existing"` on the domain in
   * the spec, which is the preferred way to say it (it also reaches the review files and fleets).
   * @default - each domain's `zone` setting
   */
  readonly existingZones?: readonly string[];
}

/**
 * One record as an entry of the records local: its attributes by name. Every field is present in
 * every entry, `null` where the record has no such attribute, so that every entry has the same
 * object type and `each.value.<field>` always exists. An address record carries the name of its
 * address (`"address": "reservedIpv4"`, `"value": null`), which the addresses local turns into the
 * deployed one; every other record carries its value and `"address": null`.
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

/** The entry of `record` in the records local. */
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

/**
 * Every DNS record the service needs, as one `digitalocean_record` with `for_each` over the plan,
 * keyed by plan key: `digitalocean_record.<id>["example.net/_xmpp-client._tcp/SRV"]` in a plan.
 * One resource block instead of one per record keeps synthesis time independent of the number of
 * records (a thousand domains are some eleven thousand records), and adding or removing a domain
 * touches exactly that domain's keys.
 */
export class XmppDomainRecords extends Construct {
  /** Zones created here: one `digitalocean_domain` with `for_each` over their names; absent when every zone exists already. */
  public readonly zones?: Domain;
  /** The records: one `digitalocean_record` with `for_each` over the plan. */
  public readonly records: DnsRecord;
  /** The addresses the records point at, by source (tokens until deploy). */
  public readonly addresses: Partial<Record<AddressSource, string>>;
  /** The planned records created at DigitalOcean (those of external zones are not among them). */
  public readonly plan: readonly DnsRecordPlan[];

  constructor(scope: Construct, id: string, props: XmppDomainRecordsProps) {
    super(scope, id);
    const { spec } = resolveForCdktf(props.spec);
    const hosting = zonesByHosting(spec, props.existingZones);
    const created = hosting.create;
    if (created.length > 0) {
      const zone = TerraformIterator.fromList([...created]);
      this.zones = new Domain(this, 'Zones', { forEach: zone, name: zone.value });
    }
    const addresses = recordAddresses(props.addresses);
    this.addresses = addresses;
    // Zones served elsewhere get no records here; the service's zone_files output carries them.
    this.plan = planDigitalOceanRecords(spec, hosting);
    const entries: { [key: string]: RecordFields } = {};
    for (const record of this.plan) entries[record.key] = recordFields(record);
    const known = Object.fromEntries(Object.entries(addresses).filter(([, address]) => address !== undefined));
    // Terraform would only fail at plan time on an address the local lacks; say so now, as Pulumi does.
    const missing = this.plan.find((r) => isAddressRef(r.value) && !(r.value.of in known));
    if (missing) resolveRecordValue(missing, known);
    const addressLocal = new TerraformLocal(this, 'Addresses', known);
    // The records live in a local and for_each refers to it: Terraform 1.11 evaluates a literal
    // for_each expression again for every instance, which made a plan of thousands of records
    // quadratic; a reference is evaluated once.
    // Plain data without tokens: cdktf need not walk its hundred thousand nodes (preResolved).
    const recordsLocal = new TerraformLocal(this, 'Planned', preResolved(entries));
    const field = (name: keyof RecordFields) => `each.value.${name}`;
    this.records = new DnsRecord(this, 'Records', {
      forEach: TerraformIterator.fromMap(recordsLocal.asAnyMap),
      domain: `\${${field('domain')}}`,
      type: `\${${field('type')}}`,
      name: `\${${field('name')}}`,
      // The zone by its name, not a reference per record (synthesis time); depends_on below orders
      // creation and destruction just the same. An address record's value is its deployed address.
      value: `\${${field('address')} == null ? ${field('value')} : local.${addressLocal.friendlyUniqueId}[${field('address')}]}`,
      // null (absent) is what the provider reads as "not set".
      ttl: Token.asNumber(`\${${field('ttl')}}`),
      priority: Token.asNumber(`\${${field('priority')}}`),
      weight: Token.asNumber(`\${${field('weight')}}`),
      port: Token.asNumber(`\${${field('port')}}`),
      flags: Token.asNumber(`\${${field('flags')}}`),
      tag: `\${${field('tag')}}`,
      dependsOn: this.zones ? [this.zones] : [],
    });
  }
}
