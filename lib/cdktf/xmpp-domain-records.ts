import { Domain } from '@cdktf/provider-digitalocean/lib/domain';
import { Record as DnsRecord } from '@cdktf/provider-digitalocean/lib/record';
import { TerraformElement, TerraformIterator, TerraformLocal, TerraformStack, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AddressSource, DnsRecordPlan, isAddressRef, resolveRecordValue } from '../core/dns';
import { recordAddresses, recordFields, RecordFields } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { preResolved } from './resolved';
import { CdktfServicePlan, planForCdktf, terraformLifecycle } from './spec';

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
  /**
   * The service, planned from its declaration (`planForCdktf`, with `existingZones` there);
   * `XmppDomainRecords.fromSpec` plans it for you.
   */
  readonly plan: CdktfServicePlan;
  /** Where the records point. */
  readonly addresses: RecordAddresses;
  /**
   * Write `moved` blocks from the DNS layout of xmpp-constructs 0.1 (one `digitalocean_domain` and one
   * `digitalocean_record` for all zones) to this one, so that a service deployed with it upgrades
   * without a zone or record being destroyed and created. Once one apply with this version has run,
   * they have done their work: set this to false to drop them, which shortens every later plan (one
   * block per record: about a third of a 1,000-domain plan).
   * @default true
   */
  readonly movedFromFormerDnsLayout?: boolean;
}

/** `XmppDomainRecordsProps` with the declaration in place of a plan, for `XmppDomainRecords.fromSpec`. */
export interface XmppDomainRecordsSpecProps extends Omit<XmppDomainRecordsProps, 'plan'> {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
  /**
   * Zones that already exist in your DigitalOcean account: records are added to them, and the zone
   * itself is neither created nor destroyed here. The same as `zone: "existing"` on the domain in
   * the spec, which is the preferred way to say it (it also reaches the review files and fleets).
   * @default - each domain's `zone` setting
   */
  readonly existingZones?: readonly string[];
}

/**
 * Every DNS record the service needs, in one resource block per zone: a `digitalocean_domain` for
 * each zone created here, and a `digitalocean_record` with `for_each` over that zone's records, keyed
 * by plan key (`digitalocean_record.<id>["example.net/_xmpp-client._tcp/SRV"]` in a plan).
 *
 * Why per zone: Terraform 1.11 evaluates a resource's whole `for_each` value again for every one of
 * its instances, so a single resource over all records makes a plan quadratic in their number (a
 * thousand domains are some nine thousand records: minutes). Per zone, each instance reads its own
 * zone's dozen entries, and plan time grows with the number of domains, below that of a resource
 * per record written by hand. Adding or removing a domain adds or removes exactly its own blocks.
 *
 * Stacks synthesized before this layout kept all records in one resource and all zones in another;
 * `moved` blocks carry their state over to the per-zone resources, so upgrading replaces nothing.
 */
export class XmppDomainRecords extends Construct {
  /** The zones created here, by name (none for existing and external zones). */
  public readonly zones: { readonly [zone: string]: Domain };
  /** Each zone's records: one `digitalocean_record` with `for_each` over them, by zone name. */
  public readonly records: { readonly [zone: string]: DnsRecord };
  /** The addresses the records point at, by source (tokens until deploy). */
  public readonly addresses: Partial<Record<AddressSource, string>>;
  /** The planned records created at DigitalOcean (those of external zones are not among them). */
  public readonly plan: readonly DnsRecordPlan[];

  /** The records on their own, planned from `props.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(scope: Construct, id: string, props: XmppDomainRecordsSpecProps): XmppDomainRecords {
    const { spec, existingZones, ...rest } = props;
    return new XmppDomainRecords(scope, id, { ...rest, plan: planForCdktf(spec, { existingZones }) });
  }

  constructor(scope: Construct, id: string, props: XmppDomainRecordsProps) {
    super(scope, id);
    const { spec, dns, lifecycle } = props.plan;
    const hosting = dns.hosting;
    const addresses = recordAddresses(props.addresses);
    this.addresses = addresses;
    // Zones served elsewhere get no records here; the service's zone_files output carries them.
    this.plan = dns.records;
    const known = Object.fromEntries(Object.entries(addresses).filter(([, address]) => address !== undefined));
    // Terraform would only fail at plan time on an address the local lacks; say so now, as Pulumi does.
    const missing = this.plan.find((r) => isAddressRef(r.value) && !(r.value.of in known));
    if (missing) resolveRecordValue(missing, known);
    const addressLocal = new TerraformLocal(this, 'Addresses', known);

    const byZone = new Map<string, { [key: string]: RecordFields }>();
    for (const record of this.plan) {
      const entries = byZone.get(record.zone) ?? {};
      entries[record.key] = recordFields(record);
      byZone.set(record.zone, entries);
    }
    // Parents named as the single resources of the former layout were: their logical ids are the
    // `from` of the moved blocks.
    const zonesScope = new Construct(this, 'Zones');
    const recordsScope = new Construct(this, 'Records');
    const recordsLocals = new Construct(this, 'Planned');
    const stack = TerraformStack.of(this);
    const former = { zones: stack.getLogicalId(zonesScope.node), records: stack.getLogicalId(recordsScope.node) };
    const moves: { from: string; to: string }[] = [];

    const zones: { [zone: string]: Domain } = {};
    const records: { [zone: string]: DnsRecord } = {};
    const field = (name: keyof RecordFields) => `each.value.${name}`;
    // Every zone's resource reads its records alike, so the attributes (tokens among them, whose
    // creation is costly: cdktf records where each was made) are made once for all zones.
    const attributes = {
      domain: `\${${field('domain')}}`,
      type: `\${${field('type')}}`,
      name: `\${${field('name')}}`,
      // An address record's value is its deployed address, looked up by name.
      value: `\${${field('address')} == null ? ${field('value')} : local.${addressLocal.friendlyUniqueId}[${field('address')}]}`,
      // null (absent) is what the provider reads as "not set".
      ttl: Token.asNumber(`\${${field('ttl')}}`),
      priority: Token.asNumber(`\${${field('priority')}}`),
      weight: Token.asNumber(`\${${field('weight')}}`),
      port: Token.asNumber(`\${${field('port')}}`),
      flags: Token.asNumber(`\${${field('flags')}}`),
      tag: `\${${field('tag')}}`,
    };
    // Zone by zone in the declaration's order, so that adding a domain appends its blocks.
    const created = new Set(hosting.create);
    for (const zoneName of spec.domains.map((d) => d.name)) {
      if (created.has(zoneName)) {
        const zone = new Domain(zonesScope, zoneName, { name: zoneName, lifecycle: terraformLifecycle(lifecycle.zone) });
        zones[zoneName] = zone;
        moves.push({ from: `digitalocean_domain.${former.zones}[${JSON.stringify(zoneName)}]`, to: `digitalocean_domain.${zone.friendlyUniqueId}` });
      }
      const entries = byZone.get(zoneName);
      if (!entries) continue;
      // Plain data without tokens: cdktf need not walk its nodes (preResolved).
      const recordsLocal = new TerraformLocal(recordsLocals, zoneName, preResolved(entries));
      const zone = zones[zoneName];
      const resource = new DnsRecord(recordsScope, zoneName, {
        ...attributes,
        forEach: TerraformIterator.fromMap(recordsLocal.asAnyMap),
        // The zone by its name, not by reference (the records read it from the local); depends_on
        // orders creation and destruction just the same.
        dependsOn: zone ? [zone] : [],
        lifecycle: terraformLifecycle(lifecycle.record),
      });
      records[zoneName] = resource;
      for (const key of Object.keys(entries)) {
        moves.push({ from: `digitalocean_record.${former.records}[${JSON.stringify(key)}]`, to: `digitalocean_record.${resource.friendlyUniqueId}[${JSON.stringify(key)}]` });
      }
    }
    const stray = [...byZone.keys()].find((zone) => !records[zone]);
    if (stray) throw new Error(`DNS records planned in zone ${stray}, which is none of the served domains`);
    this.zones = zones;
    this.records = records;
    if (props.movedFromFormerDnsLayout ?? true) new MovedBlocks(this, 'Moved', moves);
  }
}

/**
 * `moved` blocks (Terraform 1.1+, OpenTofu): state recorded under a former address is carried over to
 * the new one instead of being destroyed and created. A block whose former address is not in state
 * does nothing, so new stacks carry them harmlessly.
 */
class MovedBlocks extends TerraformElement {
  constructor(
    scope: Construct,
    id: string,
    private readonly moves: readonly { readonly from: string; readonly to: string }[],
  ) {
    super(scope, id);
  }

  public override toTerraform(): { moved?: { from: string; to: string }[] } {
    return this.moves.length > 0 ? { moved: this.moves.map((m) => ({ ...m })) } : {};
  }
}
