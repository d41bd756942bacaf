import * as pulumi from '@pulumi/pulumi';
import { DnsRecord } from '@pulumi/digitalocean/dnsRecord';
import { Domain } from '@pulumi/digitalocean/domain';
import { DnsRecordPlan } from '../core/dns';
import { dnsRecordAttributes, recordAddresses } from '../core/resources';
import { componentType, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec, withLifecycle } from './spec';

/** Addresses the records point at; Outputs (e.g. `droplet.ipv4Address`) are welcome. */
export interface RecordAddresses {
  /** The reserved IPv4 address the domains' apex A records point at. */
  readonly reservedIpv4: pulumi.Input<string>;
  /**
   * The reserved IPv6 address the domains' apex AAAA records point at.
   * @default - required when the spec uses a reserved IPv6 (`droplet.reservedIpv6`)
   */
  readonly reservedIpv6?: pulumi.Input<string>;
  /** The droplet's own IPv4 address, for the TURN name (coturn relays from it). */
  readonly dropletIpv4: pulumi.Input<string>;
  /**
   * The droplet's IPv6 address: for the AAAA records without a reserved IPv6, and for the TURN name.
   * @default - required when the spec enables IPv6
   */
  readonly dropletIpv6?: pulumi.Input<string>;
  /**
   * IPv4 address of the host running coturn, for the TURN name.
   * @default - `dropletIpv4` (coturn on the Prosody host)
   */
  readonly turnIpv4?: pulumi.Input<string>;
  /**
   * IPv6 address of the host running coturn.
   * @default - `dropletIpv6`
   */
  readonly turnIpv6?: pulumi.Input<string>;
}

export interface XmppDomainRecordsArgs {
  /**
   * The service, planned from its declaration (`planForPulumi`, with `existingZones` there);
   * `XmppDomainRecords.fromSpec` plans it for you.
   */
  readonly plan: PulumiServicePlan;
  /** Where the records point. */
  readonly addresses: RecordAddresses;
}

/** `XmppDomainRecordsArgs` with the declaration in place of a plan, for `XmppDomainRecords.fromSpec`. */
export interface XmppDomainRecordsSpecArgs extends Omit<XmppDomainRecordsArgs, 'plan'> {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
  /**
   * Zones that already exist in your DigitalOcean account: records are added to them, and the zone
   * itself is neither created nor destroyed here. The same as `zone: "existing"` on the domain in
   * the spec, which is the preferred way to say it (it also reaches the review files and fleets).
   * @default - each domain's `zone` setting
   */
  readonly existingZones?: readonly string[];
}

/**
 * Every DNS record the service needs, one `digitalocean.DnsRecord` per planned record. Resource
 * names are `<name>-<plan key>`, e.g. `xmpp-records-example.net/_xmpp-client._tcp/SRV`: stable,
 * so adding a domain never renames (and so replaces) another domain's records.
 */
export class XmppDomainRecords extends pulumi.ComponentResource {
  /** Zones created here, by name (none for `existingZones`). */
  public readonly zones: { readonly [zone: string]: Domain } = {};
  /** Records by plan key, e.g. `example.net/_xmpp-client._tcp/SRV`. */
  public readonly records: { readonly [key: string]: DnsRecord } = {};
  /** The planned records created at DigitalOcean (those of external zones are not among them). */
  public readonly plan: readonly DnsRecordPlan[];

  /** The records on their own, planned from `args.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(name: string, args: XmppDomainRecordsSpecArgs, opts?: pulumi.ComponentResourceOptions): XmppDomainRecords {
    const { spec, existingZones, ...rest } = args;
    return new XmppDomainRecords(name, { ...rest, plan: planForPulumi(spec, { existingZones }) }, opts);
  }

  constructor(name: string, args: XmppDomainRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType('XmppDomainRecords'), name, {}, opts);
    const { dns, lifecycle } = args.plan;
    const hosting = dns.hosting;
    const zoneNames: { [zone: string]: pulumi.Input<string> } = {};
    for (const zone of hosting.existing) zoneNames[zone] = zone;
    for (const zone of hosting.create) {
      const domain = new Domain(`${name}-zone-${zone}`, { name: zone }, withLifecycle(lifecycle.zone, { parent: this }));
      (this.zones as { [zone: string]: Domain })[zone] = domain;
      zoneNames[zone] = domain.name;
    }
    const addresses = recordAddresses<pulumi.Input<string>>(args.addresses);
    // Zones served elsewhere get no records here; the service's zone_files output carries them.
    this.plan = dns.records;
    for (const record of this.plan) {
      (this.records as { [key: string]: DnsRecord })[record.key] = new DnsRecord(
        `${name}-${record.key}`,
        dnsRecordAttributes(record, zoneNames[record.zone], addresses),
        withLifecycle(lifecycle.record, { parent: this }),
      );
    }
    this.registerOutputs({ zones: Object.keys(zoneNames), recordKeys: this.plan.map((r) => r.key) });
  }
}
