/**
 * A service planned once: the declaration resolved, its deploy-time secret set aside, every host
 * file and user_data rendered, every resource's attributes and lifecycle decided. The engine
 * adapters build their resources from this plan alone, so cdktf and Pulumi cannot drift apart, and
 * nothing is resolved or rendered twice.
 */
import { AlertsPlan, planAlerts } from './alerts';
import { RenderedHost, renderExpandedFiles, renderProsodyHost, renderTurnHost } from './cloud-init';
import { IsDeployTimeValue, resolveSpecDeferringSecret, SpecWithDeployTimeSecret } from './deploy-time';
import { DnsRecordPlan, planDigitalOceanRecords, ZonesByHosting, zonesByHosting } from './dns';
import { FirewallPlan, planFirewall, planTurnFirewall } from './firewall';
import { LifecycleIntent, LifecyclePlan, planLifecycles, Protection } from './lifecycle';
import { HOST_META_ROOT, NGINX_SITE } from './paths';
import { DropletAttributes, firewallName, prosodyDropletAttributes, reservedIpv6Attributes, turnDropletAttributes, volumeAttributes } from './resources';
import { renderReviewFiles } from './review';
import { BUNDLE_OBJECT_KEY, ConfigBundle } from './config-bundle';
import { deliversInPlace, hasDedicatedTurnDroplet, ResolvedOffsiteBackups, ResolvedSpec } from './spec';
import { renderTurnFiles } from './turn';

/** What a service is planned from besides its declaration. */
export interface ServicePlanOptions extends Protection {
  /**
   * Zones that already exist in the DigitalOcean account: records go into them, the zones are left
   * alone (the same as `zone: "existing"` on the domain).
   * @default - each domain's `zone` setting
   */
  readonly existingZones?: readonly string[];
}

/** A firewall: its name and rules. */
export interface FirewallResourcePlan {
  readonly name: string;
  readonly rules: FirewallPlan;
}

/** The Prosody droplet and what belongs to it. */
export interface ProsodyHostPlan {
  /** Its files and user_data (with the deploy-time secret's placeholder, if any). */
  readonly rendered: RenderedHost;
  readonly droplet: DropletAttributes;
  readonly volume: { readonly name: string; readonly region: string; readonly size: number; readonly description: string };
  /** The reserved IPv6 address, when the spec uses one. */
  readonly reservedIpv6?: { readonly regionSlug: string };
  readonly firewall: FirewallResourcePlan;
  /** The in-place configuration channel (`configDelivery.channel: "spaces"`). */
  readonly configChannel?: ConfigChannelPlan;
  /** The off-host backups' bucket and key (`offsiteBackups`). */
  readonly offsiteBackups?: OffsiteBackupsPlan;
}

/**
 * Where the off-host backups go: the bucket (when the stack creates it) and the key that may read and
 * write only that bucket (its ID and secret go into the droplet's user_data, like the channel's key).
 */
export interface OffsiteBackupsPlan {
  /** Absent with `offsiteBackups.createBucket: false`: the bucket exists already. */
  readonly bucket?: { readonly name: string; readonly region: string; readonly acl: 'private' };
  readonly key: { readonly name: string; readonly grant: { readonly bucket: string; readonly permission: 'readwrite' } };
}

/**
 * The private bucket holding the host's configuration bundle, the key that may only read it (its ID
 * and secret go into the droplet's user_data), and the bundle's object.
 */
export interface ConfigChannelPlan {
  readonly bucket: { readonly name: string; readonly region: string; readonly acl: 'private' };
  readonly readKey: { readonly name: string; readonly grant: { readonly bucket: string; readonly permission: 'read' } };
  readonly object: { readonly bucket: string; readonly region: string; readonly key: string; readonly contentBase64: string; readonly contentType: string; readonly acl: 'private' };
  /** The bundle's SHA-256 (hex): what the host reports once it runs it. */
  readonly bundleSha256: string;
}

/** coturn, on the Prosody host or on a droplet of its own. */
export interface TurnPlan {
  /** The TURN server's host name, e.g. `turn.example.net`. */
  readonly hostName: string;
  /** `{ path on the host: content }` of coturn's files (empty when calls are off). */
  readonly files: Record<string, string>;
  /** coturn's own droplet, with `calls.placement: 'dedicated'`. */
  readonly dedicated?: {
    readonly rendered: RenderedHost;
    readonly droplet: DropletAttributes;
    readonly firewall: FirewallResourcePlan;
  };
}

/** Everything a service deploys, decided; `S` is the engine's type of a deploy-time secret. */
export interface ServicePlan<S = never> {
  /** The declaration with every default filled in. */
  readonly spec: ResolvedSpec;
  /** The TURN secret when only the engine knows it (a sensitive variable, a Pulumi secret). */
  readonly deployTimeSecret?: S;
  /**
   * The Slack webhook of `alerts` when only the engine knows it (a sensitive variable, a Pulumi
   * secret); `alerts` then holds `DEPLOY_TIME_WEBHOOK_PLACEHOLDER` where it goes.
   */
  readonly deployTimeWebhookUrl?: S;
  /** The backup password when only the engine knows it; user_data then holds its placeholder. */
  readonly deployTimeBackupPassword?: S;
  readonly lifecycle: LifecyclePlan;
  readonly host: ProsodyHostPlan;
  /**
   * `{ path on the host: content }` of the files the host expands from the templates in user_data
   * (prosody.cfg.lua, the nginx site, certificates.list, every domain's host-meta), as it writes them.
   */
  readonly expandedFiles: Record<string, string>;
  readonly turn: TurnPlan;
  /** `{ path on the host: content }` of every nginx file. */
  readonly nginxFiles: Record<string, string>;
  readonly dns: {
    readonly hosting: ZonesByHosting;
    /** The records created at DigitalOcean (those of external zones are not among them). */
    readonly records: readonly DnsRecordPlan[];
  };
  /** The uptime check and the monitor alerts, when the spec declares `alerts`. */
  readonly alerts?: AlertsPlan;
  /** The review files (see `renderReviewFiles`), rendered when asked for: not every use wants them. */
  reviewFiles(): Record<string, string>;
}

/**
 * Resolve `declared` (failing with every problem at once) and plan the whole service. A TURN secret
 * or Slack webhook that `isDeployTime` recognises is planned as a placeholder; the adapter puts its
 * engine's value in.
 */
export function planService<S>(declared: SpecWithDeployTimeSecret<S>, isDeployTime: IsDeployTimeValue<S>, options: ServicePlanOptions = {}): ServicePlan<S> {
  const { spec, deployTimeSecret, deployTimeWebhookUrl, deployTimeBackupPassword } = resolveSpecDeferringSecret(declared, isDeployTime);
  const rendered = renderProsodyHost(spec);
  const expandedFiles = renderExpandedFiles(spec, { files: rendered.files });
  const dedicated = hasDedicatedTurnDroplet(spec)
    ? { rendered: renderTurnHost(spec), droplet: turnDropletAttributes(spec), firewall: { name: firewallName(spec, 'turn-host'), rules: planTurnFirewall(spec) } }
    : undefined;
  const hosting = zonesByHosting(spec, options.existingZones);
  const alerts = planAlerts(spec);
  return {
    spec,
    ...(deployTimeSecret !== undefined ? { deployTimeSecret } : {}),
    ...(deployTimeWebhookUrl !== undefined ? { deployTimeWebhookUrl } : {}),
    ...(deployTimeBackupPassword !== undefined ? { deployTimeBackupPassword } : {}),
    lifecycle: planLifecycles(spec, options),
    host: {
      rendered,
      droplet: prosodyDropletAttributes(spec),
      volume: volumeAttributes(spec),
      ...(spec.droplet.reservedIpv6 ? { reservedIpv6: reservedIpv6Attributes(spec) } : {}),
      firewall: { name: firewallName(spec, 'prosody-host'), rules: planFirewall(spec) },
      ...(rendered.bundle && deliversInPlace(spec) ? { configChannel: configChannelPlan(spec.configDelivery, rendered.bundle) } : {}),
      ...(spec.offsiteBackups ? { offsiteBackups: offsiteBackupsPlan(spec.offsiteBackups) } : {}),
    },
    expandedFiles,
    turn: { hostName: spec.calls.host, files: renderTurnFiles(spec), ...(dedicated ? { dedicated } : {}) },
    // The expanded site and host-meta documents: what nginx serves.
    nginxFiles: Object.fromEntries(Object.entries(expandedFiles).filter(([path]) => path === NGINX_SITE || path.startsWith(`${HOST_META_ROOT}/`))),
    dns: { hosting, records: planDigitalOceanRecords(spec, hosting) },
    ...(alerts ? { alerts } : {}),
    reviewFiles: () => renderReviewFiles(spec, undefined, { host: rendered, expandedFiles, turnHost: dedicated?.rendered }),
  };
}

function configChannelPlan(delivery: { readonly region: string; readonly bucket: string }, bundle: ConfigBundle): ConfigChannelPlan {
  const { region, bucket } = delivery;
  return {
    bucket: { name: bucket, region, acl: 'private' },
    readKey: { name: `${bucket}-read`, grant: { bucket, permission: 'read' } },
    object: { bucket, region, key: BUNDLE_OBJECT_KEY, contentBase64: bundle.archiveBase64, contentType: 'application/gzip', acl: 'private' },
    bundleSha256: bundle.sha256,
  };
}

function offsiteBackupsPlan(backups: ResolvedOffsiteBackups): OffsiteBackupsPlan {
  const { bucket, region } = backups;
  return {
    ...(backups.createBucket ? { bucket: { name: bucket, region, acl: 'private' as const } } : {}),
    key: { name: `${bucket}-backup`, grant: { bucket, permission: 'readwrite' } },
  };
}

/** Which host a firewall protects. */
export type FirewallRole = 'prosody-host' | 'turn-host';

/** The planned firewall of the host in `role`, and its lifecycle. */
export function firewallOfRole(plan: ServicePlan<unknown>, role: FirewallRole = 'prosody-host'): { readonly firewall: FirewallResourcePlan; readonly lifecycle: LifecycleIntent } {
  if (role === 'prosody-host') return { firewall: plan.host.firewall, lifecycle: plan.lifecycle.firewall };
  const dedicated = plan.turn.dedicated;
  if (!dedicated) {
    throw new Error('FirewallRules: role "turn-host" protects coturn\'s own droplet, and this service has none. Fix: set calls.placement to "dedicated", or use role "prosody-host".');
  }
  return { firewall: dedicated.firewall, lifecycle: plan.lifecycle.turnFirewall };
}
