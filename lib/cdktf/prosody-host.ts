import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { ProjectResources } from '@cdktf/provider-digitalocean/lib/project-resources';
import { ReservedIp } from '@cdktf/provider-digitalocean/lib/reserved-ip';
import { ReservedIpAssignment } from '@cdktf/provider-digitalocean/lib/reserved-ip-assignment';
import { Volume } from '@cdktf/provider-digitalocean/lib/volume';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { renderCloudInit } from '../core/cloud-init';
import { prosodyDropletAttributes, volumeAttributes } from '../core/resources';
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
}

/**
 * The droplet that runs Prosody (and, by default, nginx and coturn), with all state on a volume
 * and a reserved IP so that replacing the droplet moves neither data nor DNS.
 */
export class ProsodyHost extends Construct {
  public readonly droplet: Droplet;
  public readonly volume: Volume;
  public readonly reservedIp: ReservedIp;
  public readonly reservedIpAssignment: ReservedIpAssignment;
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

    this.reservedIp = new ReservedIp(this, 'ReservedIp', { region: spec.droplet.region });
    this.reservedIpAssignment = new ReservedIpAssignment(this, 'ReservedIpAssignment', {
      ipAddress: this.reservedIp.ipAddress,
      dropletId: Token.asNumber(this.droplet.id),
    });

    if (props.projectId !== undefined) {
      this.projectResources = new ProjectResources(this, 'ProjectResources', {
        project: props.projectId,
        resources: [this.droplet.urn, this.volume.urn, this.reservedIp.urn],
      });
    }
  }
}
