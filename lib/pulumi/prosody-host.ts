import * as pulumi from '@pulumi/pulumi';
import { Droplet } from '@pulumi/digitalocean/droplet';
import { ProjectResources } from '@pulumi/digitalocean/projectResources';
import { ReservedIp } from '@pulumi/digitalocean/reservedIp';
import { ReservedIpAssignment } from '@pulumi/digitalocean/reservedIpAssignment';
import { ReservedIpv6 } from '@pulumi/digitalocean/reservedIpv6';
import { ReservedIpv6Assignment } from '@pulumi/digitalocean/reservedIpv6Assignment';
import { Volume } from '@pulumi/digitalocean/volume';
import { renderCloudInit } from '../core/cloud-init';
import { prosodyDropletAttributes, reservedIpv6Attributes, volumeAttributes } from '../core/resources';
import { componentType, numericDropletId, PulumiXmppServiceSpec, resolveForPulumi, userDataOutput } from './spec';

export interface ProsodyHostArgs {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
  /**
   * ID of a DigitalOcean project to put the droplet, volume and reserved IP in.
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
   * Refuse to delete the data volume (Pulumi `protect`). It holds every account, message archive,
   * upload, certificate and secret; turn this off only to tear a test down.
   * @default true
   */
  readonly protectVolume?: boolean;
  /**
   * Refuse to destroy the reserved IPv4 and IPv6 addresses (Pulumi `protect`). The domains'
   * A and AAAA records point at them; a destroyed one comes back as another address, and resolvers
   * keep the old one until its TTL ends. Their region is their only attribute, so nothing but a change
   * of region (or of the construct's path) would replace them; turn this off only to tear a test down
   * or to move regions.
   * @default true
   */
  readonly protectReservedIps?: boolean;
}

/**
 * The droplet that runs Prosody (and, by default, nginx and coturn), with all state on a volume
 * and reserved IPs (IPv4, and IPv6 where the region offers it) so that replacing the droplet moves
 * neither data nor DNS.
 */
export class ProsodyHost extends pulumi.ComponentResource {
  public readonly droplet: Droplet;
  public readonly volume: Volume;
  public readonly reservedIp: ReservedIp;
  public readonly reservedIpAssignment: ReservedIpAssignment;
  /** The reserved IPv6 address the AAAA records point at; absent without `droplet.reservedIpv6`. */
  public readonly reservedIpv6?: ReservedIpv6;
  public readonly reservedIpv6Assignment?: ReservedIpv6Assignment;
  public readonly projectResources?: ProjectResources;
  /** The droplet's cloud-init user_data, exactly as the core renders it; a secret when it holds one. */
  public readonly userData: pulumi.Output<string>;
  /** The droplet's ID as the number DigitalOcean's firewall and reserved-IP APIs take. */
  public readonly dropletId: pulumi.Output<number>;

  constructor(name: string, args: ProsodyHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const resolved = resolveForPulumi(args.spec);
    const { spec } = resolved;
    const rendered = renderCloudInit(spec);
    super(componentType('ProsodyHost'), name, {}, opts);
    this.userData = userDataOutput(rendered, resolved);

    this.volume = new Volume(
      `${name}-volume`,
      { ...volumeAttributes(spec), tags: args.tags },
      { parent: this, protect: args.protectVolume ?? true },
    );

    this.droplet = new Droplet(
      `${name}-droplet`,
      {
        ...prosodyDropletAttributes(spec),
        userData: this.userData,
        // Attached at creation, so the disk is there when cloud-init runs.
        volumeIds: [this.volume.id],
        tags: args.tags,
        vpcUuid: args.vpcUuid,
      },
      // A volume attaches to one droplet at a time: the old droplet must be gone (and the volume
      // free) before its replacement is created. Pulumi's default, create-then-delete, would hang.
      { parent: this, deleteBeforeReplace: true },
    );
    this.dropletId = numericDropletId(this.droplet.id);

    const protectAddresses = args.protectReservedIps ?? true;
    this.reservedIp = new ReservedIp(`${name}-reserved-ip`, { region: spec.droplet.region }, { parent: this, protect: protectAddresses });
    this.reservedIpAssignment = new ReservedIpAssignment(
      `${name}-reserved-ip-assignment`,
      { ipAddress: this.reservedIp.ipAddress, dropletId: this.dropletId },
      { parent: this },
    );
    if (spec.droplet.reservedIpv6) {
      // Like the reserved IPv4: its region is its only input, so nothing else replaces it, and it
      // is protected. The droplet puts the address on itself once assigned (its reserved IPv6 timer).
      this.reservedIpv6 = new ReservedIpv6(`${name}-reserved-ipv6`, reservedIpv6Attributes(spec), { parent: this, protect: protectAddresses });
      this.reservedIpv6Assignment = new ReservedIpv6Assignment(
        `${name}-reserved-ipv6-assignment`,
        { ip: this.reservedIpv6.ip, dropletId: this.dropletId },
        { parent: this },
      );
    }

    if (args.projectId !== undefined) {
      this.projectResources = new ProjectResources(
        `${name}-project-resources`,
        { project: args.projectId, resources: [this.droplet.dropletUrn, this.volume.volumeUrn, this.reservedIp.reservedIpUrn] },
        { parent: this },
      );
    }
    this.registerOutputs({
      dropletId: this.dropletId,
      ipv4Address: this.droplet.ipv4Address,
      ipv6Address: this.droplet.ipv6Address,
      reservedIpv4: this.reservedIp.ipAddress,
      ...(this.reservedIpv6 ? { reservedIpv6: this.reservedIpv6.ip } : {}),
      volumeId: this.volume.id,
    });
  }
}
