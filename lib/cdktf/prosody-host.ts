import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { ProjectResources } from '@cdktf/provider-digitalocean/lib/project-resources';
import { ReservedIp } from '@cdktf/provider-digitalocean/lib/reserved-ip';
import { ReservedIpAssignment } from '@cdktf/provider-digitalocean/lib/reserved-ip-assignment';
import { ReservedIpv6 } from '@cdktf/provider-digitalocean/lib/reserved-ipv6';
import { ReservedIpv6Assignment } from '@cdktf/provider-digitalocean/lib/reserved-ipv6-assignment';
import { Volume } from '@cdktf/provider-digitalocean/lib/volume';
import { SpacesBucket } from '@cdktf/provider-digitalocean/lib/spaces-bucket';
import { SpacesBucketObject } from '@cdktf/provider-digitalocean/lib/spaces-bucket-object';
import { SpacesKey } from '@cdktf/provider-digitalocean/lib/spaces-key';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { XmppServiceSpec } from '../core/spec';
import { CdktfServicePlan, planForCdktf, terraformLifecycle, userDataForTerraform } from './spec';

export interface ProsodyHostProps {
  /** The service, planned from its declaration (`planForCdktf`); `ProsodyHost.fromSpec` plans it for you. */
  readonly plan: CdktfServicePlan;
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
}

/** `ProsodyHostProps` with the declaration in place of a plan, for `ProsodyHost.fromSpec`. */
export interface ProsodyHostSpecProps extends Omit<ProsodyHostProps, 'plan'> {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
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
   * The in-place configuration channel (`configDelivery.channel: "spaces"`): the private bucket,
   * the key that may only read it, and the configuration bundle's object.
   */
  public readonly configBucket?: SpacesBucket;
  public readonly configReadKey?: SpacesKey;
  public readonly configBundle?: SpacesBucketObject;
  /**
   * The off-host backups (`offsiteBackups`): their bucket (absent with `createBucket: false`) and the
   * key that may read and write only it.
   */
  public readonly backupBucket?: SpacesBucket;
  public readonly backupKey?: SpacesKey;
  /**
   * The droplet's cloud-init user_data, exactly as the core renders it (in the JSON it is escaped
   * as a Terraform template literal, which Terraform evaluates back to this text).
   */
  public readonly userData: string;

  /** The host on its own, planned from `props.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(scope: Construct, id: string, props: ProsodyHostSpecProps): ProsodyHost {
    const { spec, protectVolume, protectReservedIps, ...rest } = props;
    return new ProsodyHost(scope, id, { ...rest, plan: planForCdktf(spec, { protectVolume, protectReservedIps }) });
  }

  constructor(scope: Construct, id: string, props: ProsodyHostProps) {
    super(scope, id);
    const { plan } = props;
    const { host, lifecycle } = plan;
    const channel = host.configChannel;
    if (channel) {
      // Spaces operations need the provider's spaces_access_id and spaces_secret_key (or the
      // SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY variables): see the README.
      this.configBucket = new SpacesBucket(this, 'ConfigBucket', { ...channel.bucket, lifecycle: terraformLifecycle(lifecycle.configBucket) });
      this.configReadKey = new SpacesKey(this, 'ConfigReadKey', {
        name: channel.readKey.name,
        grant: [{ bucket: this.configBucket.name, permission: channel.readKey.grant.permission }],
        lifecycle: terraformLifecycle(lifecycle.configReadKey),
      });
      this.configBundle = new SpacesBucketObject(this, 'ConfigBundle', { ...channel.object, bucket: this.configBucket.name, lifecycle: terraformLifecycle(lifecycle.configObject) });
    }
    const backups = host.offsiteBackups;
    if (backups) {
      if (backups.bucket) this.backupBucket = new SpacesBucket(this, 'BackupBucket', { ...backups.bucket, lifecycle: terraformLifecycle(lifecycle.backupBucket) });
      this.backupKey = new SpacesKey(this, 'BackupKey', {
        name: backups.key.name,
        // The bucket's reference when the stack makes it, so the key is granted once it exists.
        grant: [{ bucket: this.backupBucket?.name ?? backups.key.grant.bucket, permission: backups.key.grant.permission }],
        lifecycle: terraformLifecycle(lifecycle.backupKey),
      });
    }
    const readKey = this.configReadKey;
    const backupKey = this.backupKey;
    const userData = userDataForTerraform(
      host.rendered.userData,
      plan.deployTimeSecret,
      readKey && { accessKey: readKey.accessKey, secretKey: readKey.secretKey },
      backupKey && { accessKey: backupKey.accessKey, secretKey: backupKey.secretKey, deployTimePassword: plan.deployTimeBackupPassword },
    );
    this.userData = userData.text;

    this.volume = new Volume(this, 'DataVolume', {
      ...host.volume,
      tags: props.tags ? [...props.tags] : undefined,
      lifecycle: terraformLifecycle(lifecycle.volume),
    });

    this.droplet = new Droplet(this, 'Droplet', {
      ...host.droplet,
      userData: userData.template,
      // The bundle is in its bucket before the droplet boots and fetches it.
      dependsOn: this.configBundle ? [this.configBundle] : undefined,
      // Attached at creation, so the disk is there when cloud-init runs.
      volumeIds: [this.volume.id],
      tags: props.tags ? [...props.tags] : undefined,
      vpcUuid: props.vpcUuid,
      lifecycle: terraformLifecycle(lifecycle.droplet),
    });

    this.reservedIp = new ReservedIp(this, 'ReservedIp', { region: host.droplet.region, lifecycle: terraformLifecycle(lifecycle.reservedIp) });
    this.reservedIpAssignment = new ReservedIpAssignment(this, 'ReservedIpAssignment', {
      ipAddress: this.reservedIp.ipAddress,
      dropletId: Token.asNumber(this.droplet.id),
      lifecycle: terraformLifecycle(lifecycle.reservedIpAssignment),
    });
    if (host.reservedIpv6) {
      // Like the reserved IPv4: its region is its only attribute, so nothing else replaces it.
      // The droplet puts the address on itself once assigned (cloud-init's reserved IPv6 timer).
      this.reservedIpv6 = new ReservedIpv6(this, 'ReservedIpv6', { ...host.reservedIpv6, lifecycle: terraformLifecycle(lifecycle.reservedIpv6) });
      this.reservedIpv6Assignment = new ReservedIpv6Assignment(this, 'ReservedIpv6Assignment', {
        ip: this.reservedIpv6.ip,
        dropletId: Token.asNumber(this.droplet.id),
        lifecycle: terraformLifecycle(lifecycle.reservedIpv6Assignment),
      });
    }

    if (props.projectId !== undefined) {
      this.projectResources = new ProjectResources(this, 'ProjectResources', {
        project: props.projectId,
        resources: [this.droplet.urn, this.volume.urn, this.reservedIp.urn],
        lifecycle: terraformLifecycle(lifecycle.projectResources),
      });
    }
  }
}
