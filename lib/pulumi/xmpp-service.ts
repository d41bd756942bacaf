import * as pulumi from '@pulumi/pulumi';
import { Droplet } from '@pulumi/digitalocean/droplet';
import { join } from 'path';
import { firstAdminInstructions, plannedOutputs, ServiceOutputName, sshInstructions } from '../core/outputs';
import { serviceAddresses } from '../core/resources';
import { renderExternalZoneFilesWithTokens } from '../core/zone';
import { ResolvedSpec } from '../core/spec';
import { writeReviewFiles } from '../review-writer';
import { FirewallRules } from './firewall-rules';
import { NginxProxy } from './nginx-proxy';
import { ProsodyHost } from './prosody-host';
import { componentType, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec } from './spec';
import { TurnServer } from './turn-server';
import { XmppDomainRecords } from './xmpp-domain-records';
import { ServiceAlerts } from './service-alerts';

export interface XmppServiceArgs {
  /** The whole service, declared once. Invalid input fails here with the core's message. */
  readonly spec: PulumiXmppServiceSpec;
  /**
   * DNS zones that already exist in your DigitalOcean account; records go into them and the zones
   * themselves are left alone.
   * @default - a zone is created for every XMPP domain
   */
  readonly existingZones?: readonly string[];
  /**
   * DigitalOcean project for the droplet, volume and reserved IP.
   * @default - the account's default project
   */
  readonly projectId?: pulumi.Input<string>;
  /**
   * Tags for the droplet and the volume.
   * @default - none
   */
  readonly tags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * UUID of the VPC the droplet joins.
   * @default - the region's default VPC
   */
  readonly vpcUuid?: pulumi.Input<string>;
  /**
   * Refuse to delete the data volume (Pulumi `protect`).
   * @default true
   */
  readonly protectVolume?: boolean;
  /**
   * Refuse to delete the reserved IPv4 and IPv6 addresses the domains point at (see `ProsodyHost`).
   * @default true
   */
  readonly protectReservedIps?: boolean;
  /**
   * Write the rendered files under `<reviewDirectory>/<name>/` whenever the program runs
   * (`pulumi preview` and `pulumi up`), for review in pull requests. Secrets are never written;
   * files from an earlier run that are no longer rendered are removed.
   * @default - not written; they are available as `reviewFiles`
   */
  readonly reviewDirectory?: string;
}

/** The service's stack outputs, under the same names as the cdktf outputs (which add the construct id as prefix). */
export interface XmppServiceOutputs {
  /** The droplet's own IPv4 address (changes when the droplet is replaced). */
  readonly ipv4: pulumi.Output<string>;
  /** The droplet's IPv6 address, when IPv6 is on. */
  readonly ipv6?: pulumi.Output<string>;
  /** The stable IPv4 address the domains point at. */
  readonly reserved_ipv4: pulumi.Output<string>;
  /** The stable IPv6 address the domains point at, with a reserved IPv6 (`droplet.reservedIpv6`). */
  readonly reserved_ipv6?: pulumi.Output<string>;
  /** The dedicated TURN droplet's IPv4 address, when coturn has its own droplet. */
  readonly turn_ipv4?: pulumi.Output<string>;
  /** The XMPP domains served. */
  readonly domains: pulumi.Output<string[]>;
  /** How to reach the host as root. */
  readonly ssh: pulumi.Output<string>;
  /** How to create the first admin account (no password is ever output). */
  readonly first_admin: pulumi.Output<string>;
  /** The SHA-256 of the configuration bundle the host should run, with `configDelivery.channel: "spaces"`. */
  readonly config_bundle?: pulumi.Output<string>;
  /** Records of the zones hosted outside DigitalOcean, by zone, when a domain's zone is external. */
  readonly zone_files?: pulumi.Output<{ [zone: string]: string }>;
}

/**
 * A complete XMPP service from one declaration: DNS records, the Prosody droplet with its volume
 * and reserved IP, coturn, nginx and the cloud firewall, wired together. The same service as the
 * cdktf `XmppService`, from the same core plans.
 */
export class XmppService extends pulumi.ComponentResource {
  /** The declaration with every default filled in. */
  public readonly spec: ResolvedSpec;
  public readonly host: ProsodyHost;
  public readonly records: XmppDomainRecords;
  public readonly turn: TurnServer;
  public readonly nginx: NginxProxy;
  public readonly firewall: FirewallRules;
  /** The uptime check and the monitor alerts, when the spec declares `alerts`. */
  public readonly alerts?: ServiceAlerts;
  public readonly outputs: XmppServiceOutputs;
  /** `{ relative path: content }` of the review files (see `reviewDirectory`). Never holds a secret. */
  public readonly reviewFiles: { readonly [path: string]: string };

  /** Everything the service deploys, planned once from `args.spec`; the children are built from it. */
  public readonly plan: PulumiServicePlan;

  /**
   * @param plan the plan of `args.spec` when the caller has made it already (as `XmppFleet` has,
   * to check its hosts together); planned here otherwise.
   */
  constructor(name: string, args: XmppServiceArgs, opts?: pulumi.ComponentResourceOptions, plan?: PulumiServicePlan) {
    // Planned before anything registers, so a bad spec leaves no half-made component behind.
    const planned = plan ?? planForPulumi(args.spec, args);
    super(componentType('XmppService'), name, {}, opts);
    this.plan = planned;
    const spec = planned.spec;
    this.spec = spec;
    const child = { parent: this };

    this.host = new ProsodyHost(`${name}-host`, { plan: planned, projectId: args.projectId, tags: args.tags, vpcUuid: args.vpcUuid }, child);
    this.turn = new TurnServer(`${name}-turn`, { plan: planned, tags: args.tags, vpcUuid: args.vpcUuid }, child);
    const turnDroplet = this.turn.droplet;
    this.nginx = new NginxProxy(`${name}-nginx`, { plan: planned }, child);
    this.records = new XmppDomainRecords(`${name}-records`, { plan: planned, addresses: dropletAddresses(spec, this.host, turnDroplet) }, child);
    this.firewall = new FirewallRules(`${name}-firewall`, { plan: planned, dropletIds: [this.host.dropletId] }, child);
    if (planned.alerts) {
      this.alerts = new ServiceAlerts(`${name}-alerts`, { plan: planned, dropletIds: { 'prosody-host': this.host.droplet.id, 'turn-host': turnDroplet?.id } }, child);
    }

    const values: { readonly [name in ServiceOutputName]: () => pulumi.Output<unknown> } = {
      ipv4: () => this.host.droplet.ipv4Address,
      ipv6: () => this.host.droplet.ipv6Address,
      reserved_ipv4: () => this.host.reservedIp.ipAddress,
      reserved_ipv6: () => this.host.reservedIpv6!.ip,
      turn_ipv4: () => turnDroplet!.ipv4Address,
      domains: () => pulumi.output(spec.domains.map((d) => d.name)),
      ssh: () => this.host.reservedIp.ipAddress.apply((address) => sshInstructions(spec, address)),
      first_admin: () => pulumi.output(firstAdminInstructions(spec)),
      zone_files: () => externalZoneFiles(spec, this.host, turnDroplet),
      config_bundle: () => pulumi.output(planned.host.configChannel!.bundleSha256),
    };
    this.outputs = Object.fromEntries(plannedOutputs(planned).map((output) => [output, values[output]()])) as unknown as XmppServiceOutputs;

    this.reviewFiles = planned.reviewFiles();
    if (args.reviewDirectory !== undefined) writeReviewFiles(join(args.reviewDirectory, name), this.reviewFiles);
    this.registerOutputs({ ...this.outputs });
  }
}

/**
 * The external zones' files once the addresses exist. The same substitution as cdktf's: the files
 * are rendered with stand-in addresses, then each A/AAAA value becomes the deployed address.
 */
function externalZoneFiles(spec: ResolvedSpec, host: ProsodyHost, turnDroplet: Droplet | undefined): pulumi.Output<{ [zone: string]: string }> {
  const { reservedIpv4, reservedIpv6, dropletIpv4, dropletIpv6, turnIpv4, turnIpv6 } = dropletAddresses(spec, host, turnDroplet);
  return pulumi
    .all([reservedIpv4, reservedIpv6, dropletIpv4, dropletIpv6, turnIpv4, turnIpv6])
    .apply(([reservedIpv4, reservedIpv6, dropletIpv4, dropletIpv6, turnIpv4, turnIpv6]) =>
      renderExternalZoneFilesWithTokens(spec, { reservedIpv4, reservedIpv6, dropletIpv4, dropletIpv6, turnIpv4, turnIpv6 }),
    );
}

/** The service's addresses as Outputs of its droplets. */
function dropletAddresses(spec: ResolvedSpec, host: ProsodyHost, turnDroplet: Droplet | undefined) {
  return serviceAddresses<pulumi.Output<string>>(
    spec,
    { reservedIpv4: host.reservedIp.ipAddress, reservedIpv6: host.reservedIpv6?.ip, ipv4: host.droplet.ipv4Address, ipv6: host.droplet.ipv6Address },
    turnDroplet && { ipv4: turnDroplet.ipv4Address, ipv6: turnDroplet.ipv6Address },
  );
}
