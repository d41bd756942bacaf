import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { ProjectResources } from '@cdktf/provider-digitalocean/lib/project-resources';
import { ReservedIp } from '@cdktf/provider-digitalocean/lib/reserved-ip';
import { ReservedIpAssignment } from '@cdktf/provider-digitalocean/lib/reserved-ip-assignment';
import { ReservedIpv6 } from '@cdktf/provider-digitalocean/lib/reserved-ipv6';
import { ReservedIpv6Assignment } from '@cdktf/provider-digitalocean/lib/reserved-ipv6-assignment';
import { Volume } from '@cdktf/provider-digitalocean/lib/volume';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { renderCloudInit } from '../core/cloud-init';
import { prosodyDropletAttributes, reservedIpv6Attributes, volumeAttributes } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { resolveForCdktf, userDataForTerraform } from './spec';

export interface ProsodyHostProps {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
  /**
   * ID of a DigitalOcean project to put the droplet, volume and reserved IP in.
   * @default - the account's default project
   */
  readonly projectId?: string;
  /**
   * Tags for the droplet and the volume.
   * @default - none
   */
  readonly tags?: readonly string[];
  /**
   * UUID of the VPC the droplet joins.
   * @default - the region's default VPC
   */
  readonly vpcUuid?: string;
  /**
   * Refuse to destroy the data volume (Terraform `prevent_destroy`). It holds every account,
   * message archive, upload, certificate and secret; turn this off only to tear a test down.
   * @default true
   */
  readonly protectVolume?: boolean;
  /**
   * Refuse to destroy the reserved IPv4 and IPv6 addresses (Terraform `prevent_destroy`). The domains'
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
export class ProsodyHost extends Construct {
  public readonly droplet: Droplet;
  public readonly volume: Volume;
  public readonly reservedIp: ReservedIp;
  public readonly reservedIpAssignment: ReservedIpAssignment;
  /** The reserved IPv6 address the AAAA records point at; absent without `droplet.reservedIpv6`. */
  public readonly reservedIpv6?: ReservedIpv6;
  public readonly reservedIpv6Assignment?: ReservedIpv6Assignment;
  public readonly projectResources?: ProjectResources;
  /**
   * The droplet's cloud-init user_data, exactly as the core renders it (in the JSON it is escaped
   * as a Terraform template literal, which Terraform evaluates back to this text).
   */
  public readonly userData: string;

  constructor(scope: Construct, id: string, props: ProsodyHostProps) {
    super(scope, id);
    const { spec, deployTimeSecret } = resolveForCdktf(props.spec);
    const userData = userDataForTerraform(renderCloudInit(spec), deployTimeSecret);
    this.userData = userData.text;

    this.volume = new Volume(this, 'DataVolume', {
      ...volumeAttributes(spec),
      tags: props.tags ? [...props.tags] : undefined,
      lifecycle: { preventDestroy: props.protectVolume ?? true },
    });

    this.droplet = new Droplet(this, 'Droplet', {
      ...prosodyDropletAttributes(spec),
      userData: userData.template,
      // Attached at creation, so the disk is there when cloud-init runs.
      volumeIds: [this.volume.id],
      tags: props.tags ? [...props.tags] : undefined,
      vpcUuid: props.vpcUuid,
    });

    const protectAddresses = { lifecycle: { preventDestroy: props.protectReservedIps ?? true } };
    this.reservedIp = new ReservedIp(this, 'ReservedIp', { region: spec.droplet.region, ...protectAddresses });
    this.reservedIpAssignment = new ReservedIpAssignment(this, 'ReservedIpAssignment', {
      ipAddress: this.reservedIp.ipAddress,
      dropletId: Token.asNumber(this.droplet.id),
    });
    if (spec.droplet.reservedIpv6) {
      // Like the reserved IPv4: its region is its only attribute, so nothing else replaces it, and
      // it refuses destruction.
      // The droplet puts the address on itself once assigned (cloud-init's reserved IPv6 timer).
      this.reservedIpv6 = new ReservedIpv6(this, 'ReservedIpv6', { ...reservedIpv6Attributes(spec), ...protectAddresses });
      this.reservedIpv6Assignment = new ReservedIpv6Assignment(this, 'ReservedIpv6Assignment', {
        ip: this.reservedIpv6.ip,
        dropletId: Token.asNumber(this.droplet.id),
      });
    }

    if (props.projectId !== undefined) {
      this.projectResources = new ProjectResources(this, 'ProjectResources', {
        project: props.projectId,
        resources: [this.droplet.urn, this.volume.urn, this.reservedIp.urn],
      });
    }
  }
}
