import { Domain } from '@cdktf/provider-digitalocean/lib/domain';
import { Record as DnsRecord } from '@cdktf/provider-digitalocean/lib/record';
import { Construct } from 'constructs';
import { dnsZones, DnsRecordPlan, planDnsRecords } from '../core/dns';
import { dnsRecordAttributes, recordAddresses } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { constructIdFromKey } from './ids';
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
   * itself is neither created nor destroyed here.
   * @default - a `digitalocean_domain` is created for every XMPP domain
   */
  readonly existingZones?: readonly string[];
}

/** Every DNS record the service needs, one `digitalocean_record` per planned record. */
export class XmppDomainRecords extends Construct {
  /** Zones created here, by name (none for `existingZones`). */
  public readonly zones: { readonly [zone: string]: Domain } = {};
  /** Records by plan key, e.g. `example.net/_xmpp-client._tcp/SRV`. */
  public readonly records: { readonly [key: string]: DnsRecord } = {};
  /** The plan the records were made from. */
  public readonly plan: readonly DnsRecordPlan[];

  constructor(scope: Construct, id: string, props: XmppDomainRecordsProps) {
    super(scope, id);
    const { spec } = resolveForCdktf(props.spec);
    const existing = new Set(props.existingZones ?? []);
    const zoneNames: { [zone: string]: string } = {};
    for (const zone of dnsZones(spec)) {
      if (existing.has(zone)) {
        zoneNames[zone] = zone;
      } else {
        const domain = new Domain(this, `Zone--${zone}`, { name: zone });
        (this.zones as { [zone: string]: Domain })[zone] = domain;
        zoneNames[zone] = domain.name;
      }
    }
    const addresses = recordAddresses(props.addresses);
    this.plan = planDnsRecords(spec);
    for (const record of this.plan) {
      (this.records as { [key: string]: DnsRecord })[record.key] = new DnsRecord(
        this,
        constructIdFromKey(record.key),
        dnsRecordAttributes(record, zoneNames[record.zone], addresses),
      );
    }
  }
}
