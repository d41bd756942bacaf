import * as pulumi from '@pulumi/pulumi';
import { Droplet } from '@pulumi/digitalocean/droplet';
import { ProjectResources } from '@pulumi/digitalocean/projectResources';
import { ReservedIp } from '@pulumi/digitalocean/reservedIp';
import { ReservedIpAssignment } from '@pulumi/digitalocean/reservedIpAssignment';
import { ReservedIpv6 } from '@pulumi/digitalocean/reservedIpv6';
import { ReservedIpv6Assignment } from '@pulumi/digitalocean/reservedIpv6Assignment';
import { SpacesBucket } from '@pulumi/digitalocean/spacesBucket';
import { SpacesBucketObject } from '@pulumi/digitalocean/spacesBucketObject';
import { SpacesKey } from '@pulumi/digitalocean/spacesKey';
import { Volume } from '@pulumi/digitalocean/volume';
import { componentType, numericDropletId, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec, userDataOutput, withLifecycle } from './spec';

export interface ProsodyHostArgs {
  /** The service, planned from its declaration (`planForPulumi`); `ProsodyHost.fromSpec` plans it for you. */
  readonly plan: PulumiServicePlan;
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
}

/** `ProsodyHostArgs` with the declaration in place of a plan, for `ProsodyHost.fromSpec`. */
export interface ProsodyHostSpecArgs extends Omit<ProsodyHostArgs, 'plan'> {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
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
  /** The droplet's cloud-init user_data, exactly as the core renders it; a secret when it holds one. */
  public readonly userData: pulumi.Output<string>;
  /** The droplet's ID as the number DigitalOcean's firewall and reserved-IP APIs take. */
  public readonly dropletId: pulumi.Output<number>;

  /** The host on its own, planned from `args.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(name: string, args: ProsodyHostSpecArgs, opts?: pulumi.ComponentResourceOptions): ProsodyHost {
    const { spec, protectVolume, protectReservedIps, ...rest } = args;
    return new ProsodyHost(name, { ...rest, plan: planForPulumi(spec, { protectVolume, protectReservedIps }) }, opts);
  }

  constructor(name: string, args: ProsodyHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType('ProsodyHost'), name, {}, opts);
    const { plan } = args;
    const { host, lifecycle } = plan;
    const child = { parent: this };
    const channel = host.configChannel;
    if (channel) {
      // Spaces operations need the provider's spacesAccessId and spacesSecretKey (or the
      // SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY variables): see the README.
      this.configBucket = new SpacesBucket(`${name}-config-bucket`, channel.bucket, withLifecycle(lifecycle.configBucket, child));
      this.configReadKey = new SpacesKey(
        `${name}-config-read-key`,
        { name: channel.readKey.name, grants: [{ bucket: this.configBucket.name, permission: channel.readKey.grant.permission }] },
        withLifecycle(lifecycle.configReadKey, child),
      );
      this.configBundle = new SpacesBucketObject(`${name}-config-bundle`, { ...channel.object, bucket: this.configBucket.name }, withLifecycle(lifecycle.configObject, child));
    }
    const backups = host.offsiteBackups;
    if (backups) {
      if (backups.bucket) this.backupBucket = new SpacesBucket(`${name}-backup-bucket`, backups.bucket, withLifecycle(lifecycle.backupBucket, child));
      this.backupKey = new SpacesKey(
        `${name}-backup-key`,
        // The bucket's reference when the stack makes it, so the key is granted once it exists.
        { name: backups.key.name, grants: [{ bucket: this.backupBucket?.name ?? backups.key.grant.bucket, permission: backups.key.grant.permission }] },
        withLifecycle(lifecycle.backupKey, child),
      );
    }
    const readKey = this.configReadKey;
    const backupKey = this.backupKey;
    this.userData = userDataOutput(
      host.rendered.userData,
      plan,
      readKey && { accessKey: readKey.accessKey, secretKey: readKey.secretKey },
      backupKey && { accessKey: backupKey.accessKey, secretKey: backupKey.secretKey },
    );

    this.volume = new Volume(`${name}-volume`, { ...host.volume, tags: args.tags }, withLifecycle(lifecycle.volume, child));

    this.droplet = new Droplet(
      `${name}-droplet`,
      {
        ...host.droplet,
        userData: this.userData,
        // Attached at creation, so the disk is there when cloud-init runs.
        volumeIds: [this.volume.id],
        tags: args.tags,
        vpcUuid: args.vpcUuid,
      },
      // The bundle is in its bucket before the droplet boots and fetches it.
      withLifecycle(lifecycle.droplet, { ...child, ...(this.configBundle ? { dependsOn: [this.configBundle] } : {}) }),
    );
    this.dropletId = numericDropletId(this.droplet.id);

    this.reservedIp = new ReservedIp(`${name}-reserved-ip`, { region: host.droplet.region }, withLifecycle(lifecycle.reservedIp, child));
    this.reservedIpAssignment = new ReservedIpAssignment(
      `${name}-reserved-ip-assignment`,
      { ipAddress: this.reservedIp.ipAddress, dropletId: this.dropletId },
      withLifecycle(lifecycle.reservedIpAssignment, child),
    );
    if (host.reservedIpv6) {
      // Like the reserved IPv4: its region is its only input, so nothing else replaces it. The
      // droplet puts the address on itself once assigned (its reserved IPv6 timer).
      this.reservedIpv6 = new ReservedIpv6(`${name}-reserved-ipv6`, host.reservedIpv6, withLifecycle(lifecycle.reservedIpv6, child));
      this.reservedIpv6Assignment = new ReservedIpv6Assignment(
        `${name}-reserved-ipv6-assignment`,
        { ip: this.reservedIpv6.ip, dropletId: this.dropletId },
        withLifecycle(lifecycle.reservedIpv6Assignment, child),
      );
    }

    if (args.projectId !== undefined) {
      this.projectResources = new ProjectResources(
        `${name}-project-resources`,
        { project: args.projectId, resources: [this.droplet.dropletUrn, this.volume.volumeUrn, this.reservedIp.reservedIpUrn] },
        withLifecycle(lifecycle.projectResources, child),
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
