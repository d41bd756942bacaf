import { Domain } from '@cdktf/provider-digitalocean/lib/domain';
import { Record as DnsRecord } from '@cdktf/provider-digitalocean/lib/record';
import { TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AddressSource, DnsRecordPlan, planDigitalOceanRecords, zonesByHosting } from '../core/dns';
import { dnsRecordAttributes, recordAddresses } from '../core/resources';
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

/** The optional record attributes, present in a record's `for_each` value only where the plan sets them. */
const OPTIONAL_RECORD_ATTRIBUTES = ['priority', 'weight', 'port', 'flags', 'tag'] as const;

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
    const values: { [key: string]: { [attribute: string]: string | number } } = {};
    for (const record of this.plan) {
      // The zone by its name: a reference per record would cost synthesis time, and depends_on
      // below orders creation (and destruction) just the same.
      const { domain, type, name, value, ttl, ...optional } = dnsRecordAttributes(record, record.zone, addresses);
      const entry: { [attribute: string]: string | number } = { domain, type, name, value, ttl };
      for (const attribute of OPTIONAL_RECORD_ATTRIBUTES) if (optional[attribute] !== undefined) entry[attribute] = optional[attribute]!;
      values[record.key] = entry;
    }
    const each = TerraformIterator.fromMap(values);
    // lookup(), since most records lack most of these; cdktf's Fn.lookup on an iterator would
    // render plain `each.value.<attribute>`, which fails where the attribute is absent.
    const optional = (attribute: (typeof OPTIONAL_RECORD_ATTRIBUTES)[number]) => `\${lookup(each.value, "${attribute}", null)}`;
    this.records = new DnsRecord(this, 'Records', {
      forEach: each,
      domain: each.getString('domain'),
      type: each.getString('type'),
      name: each.getString('name'),
      value: each.getString('value'),
      ttl: each.getNumber('ttl'),
      priority: Token.asNumber(optional('priority')),
      weight: Token.asNumber(optional('weight')),
      port: Token.asNumber(optional('port')),
      flags: Token.asNumber(optional('flags')),
      tag: Token.asString(optional('tag')),
      dependsOn: this.zones ? [this.zones] : [],
    });
  }
}
