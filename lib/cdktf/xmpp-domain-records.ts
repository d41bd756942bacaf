import { Domain } from '@cdktf/provider-digitalocean/lib/domain';
import { Record as DnsRecord } from '@cdktf/provider-digitalocean/lib/record';
import { TerraformIterator, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AddressSource, DnsRecordPlan, planDigitalOceanRecords, zonesByHosting } from '../core/dns';
import { recordAddresses } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { resolveForCdktf } from './spec';

/** Addresses the records point at; tokens (e.g. `droplet.ipv4Address`) are welcome. */
export interface RecordAddresses {
  /** The reserved IPv4 address the domains' apex A records point at. */
  readonly reservedIpv4: string;
  /** The droplet's own IPv4 address, for the TURN name (coturn relays from it). */
  readonly dropletIpv4: string;
  /**
   * The droplet's IPv6 address, for AAAA records.
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
 * A record in the `for_each` map is one line of these fields, space-separated (no field of a planned
 * record can hold a space), `-` where the record has no such attribute:
 * `example.net SRV _xmpp-client._tcp example.net. 1800 0 5 5222 - -`. One string per record rather
 * than an object: cdktf resolves every node of the map one by one, and with a thousand domains
 * (eleven thousand records) objects made that a third of the whole synthesis. An address record's
 * value is the name of its address (`reservedIpv4`), looked up in the addresses local.
 */
export const PACKED_RECORD_FIELDS = ['domain', 'type', 'name', 'value', 'ttl', 'priority', 'weight', 'port', 'flags', 'tag'] as const;
const ABSENT = '-';

/** The `for_each` value of one record: its fields, in PACKED_RECORD_FIELDS order. */
export function packRecord(record: DnsRecordPlan): string {
  const value = typeof record.value === 'string' ? record.value : record.value.of;
  const fields = [record.zone, record.type, record.name, value, record.ttlSeconds, record.priority, record.weight, record.port, record.flags, record.tag];
  return fields
    .map((field, i) => {
      const text = field === undefined ? ABSENT : String(field);
      // Planned records never hold these (names, numbers, CAA issuers); fail loudly if one ever does.
      if (text === '' || /\s/.test(text) || (text === ABSENT && field !== undefined)) {
        throw new Error(`DNS record ${record.key}: its ${PACKED_RECORD_FIELDS[i]} ${JSON.stringify(text)} cannot be packed into the record map`);
      }
      return text;
    })
    .join(' ');
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
    const packed: { [key: string]: string } = {};
    for (const record of this.plan) packed[record.key] = packRecord(record);
    const known = Object.fromEntries(Object.entries(addresses).filter(([, address]) => address !== undefined));
    const addressLocal = new TerraformLocal(this, 'Addresses', known);
    const field = (name: (typeof PACKED_RECORD_FIELDS)[number]) => `split(" ", each.value)[${PACKED_RECORD_FIELDS.indexOf(name)}]`;
    // Absent ("-") becomes null, which the provider reads as "not set".
    const optional = (name: (typeof PACKED_RECORD_FIELDS)[number], convert: (expression: string) => string) =>
      `\${${field(name)} == "${ABSENT}" ? null : ${convert(field(name))}}`;
    const number = (expression: string) => `tonumber(${expression})`;
    this.records = new DnsRecord(this, 'Records', {
      forEach: TerraformIterator.fromMap(packed),
      domain: `\${${field('domain')}}`,
      type: `\${${field('type')}}`,
      name: `\${${field('name')}}`,
      // The zone by its name, not a reference per record (synthesis time); depends_on below orders
      // creation and destruction just the same. Addresses by name, anything else passes through.
      value: `\${lookup(local.${addressLocal.friendlyUniqueId}, ${field('value')}, ${field('value')})}`,
      ttl: Token.asNumber(`\${${number(field('ttl'))}}`),
      priority: Token.asNumber(optional('priority', number)),
      weight: Token.asNumber(optional('weight', number)),
      port: Token.asNumber(optional('port', number)),
      flags: Token.asNumber(optional('flags', number)),
      tag: Token.asString(optional('tag', (e) => e)),
      dependsOn: this.zones ? [this.zones] : [],
    });
  }
}
