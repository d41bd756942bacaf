/**
 * How each cloud resource of a service may be destroyed and replaced, decided once for both engines.
 * cdktf turns an intent into Terraform's `lifecycle` block, Pulumi into resource options; left to
 * themselves the two engines replace in opposite orders (Terraform deletes first, Pulumi creates
 * first), which for a volume, a droplet holding it or a reserved IP is the difference between a
 * clean replacement and a stuck one.
 */
import { ResolvedSpec } from './spec';

/** The order of a replacement. */
export const REPLACEMENT_ORDERS = ['delete-first', 'create-first'] as const;
export type ReplacementOrder = (typeof REPLACEMENT_ORDERS)[number];

/** What may happen to one resource over its life. */
export interface LifecycleIntent {
  /** Refuse to destroy it (Terraform `prevent_destroy`, Pulumi `protect`). */
  readonly protect: boolean;
  /**
   * `delete-first`: the old one is gone before its replacement is made (Terraform's default, Pulumi
   * `deleteBeforeReplace`); `create-first`: the replacement is up before the old one goes (Terraform
   * `create_before_destroy`, Pulumi's default).
   */
  readonly replacement: ReplacementOrder;
  /**
   * Arguments, by the provider's (Terraform) names, whose changes are left alone rather than
   * applied (Terraform `ignore_changes`, Pulumi `ignoreChanges` by the same names in camelCase).
   */
  readonly ignoreChanges: readonly string[];
}

/** The cloud resources of a service, by the part they play. */
export const RESOURCE_ROLES = [
  'volume',
  'droplet',
  'reservedIp',
  'reservedIpAssignment',
  'reservedIpv6',
  'reservedIpv6Assignment',
  'projectResources',
  'firewall',
  'turnDroplet',
  'turnFirewall',
  'zone',
  'record',
  'configBucket',
  'configReadKey',
  'configObject',
  'backupBucket',
  'backupKey',
  'uptimeCheck',
  'uptimeAlert',
  'monitorAlert',
] as const;
export type ResourceRole = (typeof RESOURCE_ROLES)[number];

export type LifecyclePlan = { readonly [role in ResourceRole]: LifecycleIntent };

/** Whether destroying the data volume and the reserved addresses is refused; both default to true. */
export interface Protection {
  /**
   * Refuse to destroy the data volume, and the bucket of the off-host backups.
   * @default true
   */
  readonly protectVolume?: boolean;
  /**
   * Refuse to destroy the reserved IPv4 and IPv6 addresses.
   * @default true
   */
  readonly protectReservedIps?: boolean;
}

const DELETE_FIRST: LifecycleIntent = { protect: false, replacement: 'delete-first', ignoreChanges: [] };

/**
 * Every resource's intent. Delete-first unless a resource says otherwise: DigitalOcean holds names
 * unique (a volume's in its region, a zone's, a record set's), a volume attaches to one droplet at a
 * time and a droplet holds one reserved IPv4, so a replacement made first would collide with the
 * resource it replaces.
 */
export function planLifecycles(spec: ResolvedSpec, protection: Protection = {}): LifecyclePlan {
  const reservedAddress: LifecycleIntent = { ...DELETE_FIRST, protect: protection.protectReservedIps ?? true };
  return {
    // Every account, archive, upload, certificate and secret.
    volume: { ...DELETE_FIRST, protect: protection.protectVolume ?? true },
    // Its volume must be free before the replacement can attach it at creation.
    droplet: DELETE_FIRST,
    // The domains' A and AAAA records point at them: a new one is another address.
    reservedIp: reservedAddress,
    reservedIpAssignment: DELETE_FIRST,
    reservedIpv6: spec.droplet.reservedIpv6 ? reservedAddress : DELETE_FIRST,
    reservedIpv6Assignment: DELETE_FIRST,
    projectResources: DELETE_FIRST,
    firewall: DELETE_FIRST,
    // Holds nothing that lasts (its certificate is issued again), and the TURN name's records follow
    // its new address: made first, calls keep working until the new droplet is up.
    turnDroplet: { ...DELETE_FIRST, replacement: 'create-first' },
    turnFirewall: DELETE_FIRST,
    zone: DELETE_FIRST,
    record: DELETE_FIRST,
    // The in-place configuration channel. The bucket's name is unique across Spaces; the key and the
    // object hold nothing that lasts (the stack writes them again). The object changes in place.
    configBucket: DELETE_FIRST,
    configReadKey: DELETE_FIRST,
    configObject: DELETE_FIRST,
    // The off-host backups: what is left when the droplet and the volume are gone. Protected as the
    // volume is (Spaces also refuses to delete a bucket that holds objects). The key holds nothing
    // that lasts; a new one changes user_data, and so replaces the droplet.
    backupBucket: { ...DELETE_FIRST, protect: protection.protectVolume ?? true },
    backupKey: DELETE_FIRST,
    // The alerts hold nothing that lasts and nothing DigitalOcean keeps unique; no attribute of
    // theirs forces a replacement (an alert follows a new check ID in place).
    uptimeCheck: DELETE_FIRST,
    uptimeAlert: DELETE_FIRST,
    monitorAlert: DELETE_FIRST,
  };
}
