/**
 * An engine-neutral inventory of what a deployment asks DigitalOcean for: DNS records, firewalls,
 * droplets (with the user_data the droplet receives), volumes and reserved IPs. Built from cdktf's
 * synthesized JSON or from the Pulumi mock cloud; the parity test compares the two.
 *
 * References become symbols both sides share: `<droplet name>#ipv4_address`, `<droplet name>#id`,
 * `reserved-ip#ip_address`, `reserved-ipv6#ip`, `volume-<volume name>`, and a created zone's own name.
 */
import { evaluateTemplate } from '../support/terraform-template';
import { SynthOutput } from '../cdktf/synth';
import { synthRecords } from '../support/synth-records';
import { MockCloud, ofType, TYPES } from './mocks';

export interface Inventory {
  readonly records: object[];
  readonly firewalls: object[];
  readonly droplets: object[];
  readonly volumes: object[];
  readonly reservedIps: object[];
  readonly reservedIpAssignments: object[];
  readonly reservedIpv6s: object[];
  readonly reservedIpv6Assignments: object[];
  /**
   * How each resource may be destroyed and replaced, by the resource it is (`droplet <name>`,
   * `volume <name>`, `firewall <name>`, `zone <name>`, `reserved-ip`, …; the records share one).
   */
  readonly lifecycles: object[];
  /**
   * Spaces: the in-place configuration channel's bucket, read key (with its grant) and bundle object,
   * and the off-host backups' bucket and key.
   */
  readonly configChannel: object[];
  /** The uptime check, its alerts (naming the check) and the monitor alerts (naming their droplets). */
  readonly alerts: object[];
}

/** A resource as both sides name it: its kind, and the name that tells it from others of its kind. */
const RESOURCE_KINDS: { readonly [terraformType: string]: { readonly pulumiType: string; readonly kind: string; readonly named?: boolean } } = {
  digitalocean_droplet: { pulumiType: TYPES.droplet, kind: 'droplet', named: true },
  digitalocean_volume: { pulumiType: TYPES.volume, kind: 'volume', named: true },
  digitalocean_firewall: { pulumiType: TYPES.firewall, kind: 'firewall', named: true },
  digitalocean_domain: { pulumiType: TYPES.domain, kind: 'zone', named: true },
  digitalocean_record: { pulumiType: TYPES.record, kind: 'record' },
  digitalocean_reserved_ip: { pulumiType: TYPES.reservedIp, kind: 'reserved-ip' },
  digitalocean_reserved_ip_assignment: { pulumiType: TYPES.reservedIpAssignment, kind: 'reserved-ip-assignment' },
  digitalocean_reserved_ipv6: { pulumiType: TYPES.reservedIpv6, kind: 'reserved-ipv6' },
  digitalocean_reserved_ipv6_assignment: { pulumiType: TYPES.reservedIpv6Assignment, kind: 'reserved-ipv6-assignment' },
  digitalocean_project_resources: { pulumiType: TYPES.projectResources, kind: 'project-resources' },
  digitalocean_spaces_bucket: { pulumiType: TYPES.spacesBucket, kind: 'bucket', named: true },
  digitalocean_spaces_key: { pulumiType: TYPES.spacesKey, kind: 'spaces-key', named: true },
  digitalocean_spaces_bucket_object: { pulumiType: TYPES.spacesBucketObject, kind: 'bucket-object' },
  digitalocean_uptime_check: { pulumiType: TYPES.uptimeCheck, kind: 'uptime-check', named: true },
  digitalocean_uptime_alert: { pulumiType: TYPES.uptimeAlert, kind: 'uptime-alert', named: true },
  digitalocean_monitor_alert: { pulumiType: TYPES.monitorAlert, kind: 'monitor-alert' },
};

/**
 * Notifications as both sides compare them: Terraform's names (`email`, `slack`), the webhook as its
 * value (a `var.*` reference as the value in `variables`).
 */
function notifications(
  n: { email?: string[]; emails?: string[]; slack?: { channel: string; url: string }[]; slacks?: { channel: string; url: string }[] },
  variables: { readonly [name: string]: string } = {},
): object {
  const slack = n.slack ?? n.slacks;
  return defined({ email: n.email ?? n.emails, slack: slack?.map((s) => ({ channel: s.channel, url: unwrapSensitive(s.url, variables) })) });
}

/**
 * `${sensitive("…")}` or `${sensitive(var.name)}`, as cdktf writes a webhook wrapped in `Fn.sensitive`,
 * as the string Terraform evaluates it to (a variable's from `variables`).
 */
function unwrapSensitive(value: string, variables: { readonly [name: string]: string } = {}): string {
  const literal = /^\$\{sensitive\((".*")\)\}$/.exec(value);
  if (literal) return JSON.parse(literal[1]) as string;
  const variable = /^\$\{sensitive\(var\.(\w+)\)\}$/.exec(value);
  if (!variable) return value;
  const given = variables[variable[1]];
  if (given === undefined) throw new Error(`no value given for var.${variable[1]}`);
  return given;
}

/** The live references to the configuration channel's read key in a droplet's user_data template, as the symbols the Pulumi mocks give. */
function withSpacesKeySymbols(template: string): string {
  return template.replace(/(?<!\$)\$\{digitalocean_spaces_key\.[^.}]+\.(access_key|secret_key)\}/g, (_, attribute: string) => `spaces-key#${attribute}`);
}

/** One entry per distinct resource and lifecycle, sorted. */
function distinct(items: object[]): object[] {
  return sorted([...new Map(items.map((i) => [JSON.stringify(i), i])).values()]);
}

/** Drops undefined fields, so "absent" compares equal on both sides. */
function defined(o: { [key: string]: unknown }): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function sorted(items: object[]): object[] {
  return items.map((i) => [JSON.stringify(i), i] as const).sort(([a], [b]) => a.localeCompare(b)).map(([, i]) => i);
}

/** From `cdktf synth` output; `variables` are the values Terraform would give `var.*`. */
export function inventoryFromCdktf(out: SynthOutput, variables: { readonly [name: string]: string } = {}): Inventory {
  const all = (type: string) => Object.values(out.resource[type] ?? {});
  const symbol = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const m = /^\$\{(digitalocean_\w+)\.([^.}]+)\.(\w+)\}$/.exec(value);
    if (!m) return value;
    const [, type, logical, attribute] = m;
    const body = out.resource[type]?.[logical];
    if (!body) throw new Error(`reference to a resource that is not in the stack: ${value}`);
    if (type === 'digitalocean_droplet') return `${body.name}#${attribute}`;
    if (type === 'digitalocean_reserved_ip' && attribute === 'ip_address') return 'reserved-ip#ip_address';
    if (type === 'digitalocean_reserved_ipv6' && attribute === 'ip') return 'reserved-ipv6#ip';
    if (type === 'digitalocean_domain' && attribute === 'name') return body.name;
    if (type === 'digitalocean_volume' && attribute === 'id') return `volume-${body.name}`;
    if (type === 'digitalocean_spaces_bucket' && attribute === 'name') return body.name;
    if (type === 'digitalocean_uptime_check' && attribute === 'id') return 'uptime-check';
    throw new Error(`no symbol for ${value}`);
  };
  const rules = (list: { protocol: string; port_range?: string; source_addresses?: string[]; destination_addresses?: string[] }[] = []) =>
    list.map((r) => defined({ protocol: r.protocol, ports: r.port_range, addresses: r.source_addresses ?? r.destination_addresses }));
  return {
    records: sorted(synthRecords(out).map((r) => defined({ zone: r.domain, type: r.type, name: r.name, value: symbol(r.value), ttl: r.ttl, priority: r.priority, weight: r.weight, port: r.port, flags: r.flags, tag: r.tag }))),
    firewalls: sorted(all('digitalocean_firewall').map((f) => ({ name: f.name, dropletIds: f.droplet_ids.map(symbol), inbound: rules(f.inbound_rule), outbound: rules(f.outbound_rule) }))),
    droplets: sorted(
      all('digitalocean_droplet').map((d) =>
        defined({ name: d.name, image: d.image, region: d.region, size: d.size, sshKeys: d.ssh_keys, ipv6: d.ipv6, monitoring: d.monitoring, backups: d.backups, volumeIds: d.volume_ids?.map(symbol), userData: evaluateTemplate(withSpacesKeySymbols(d.user_data), variables) }),
      ),
    ),
    volumes: sorted(all('digitalocean_volume').map((v) => defined({ name: v.name, region: v.region, size: v.size, description: v.description }))),
    reservedIps: sorted(all('digitalocean_reserved_ip').map((r) => ({ region: r.region }))),
    reservedIpAssignments: sorted(all('digitalocean_reserved_ip_assignment').map((a) => ({ ipAddress: symbol(a.ip_address), dropletId: symbol(a.droplet_id) }))),
    reservedIpv6s: sorted(all('digitalocean_reserved_ipv6').map((r) => ({ regionSlug: r.region_slug }))),
    reservedIpv6Assignments: sorted(all('digitalocean_reserved_ipv6_assignment').map((a) => ({ ip: symbol(a.ip), dropletId: symbol(a.droplet_id) }))),
    configChannel: sorted([
      ...all('digitalocean_spaces_bucket').map((b) => defined({ bucket: b.name, region: b.region, acl: b.acl })),
      ...all('digitalocean_spaces_key').map((k) => ({ key: k.name, grants: k.grant.map((g: { bucket: string; permission: string }) => ({ bucket: symbol(g.bucket), permission: g.permission })) })),
      ...all('digitalocean_spaces_bucket_object').map((o) => defined({ object: o.key, bucket: symbol(o.bucket), region: o.region, contentBase64: o.content_base64, contentType: o.content_type, acl: o.acl })),
    ]),
    alerts: sorted([
      ...all('digitalocean_uptime_check').map((c) => ({ check: c.name, target: c.target, type: c.type, regions: c.regions, enabled: c.enabled })),
      ...all('digitalocean_uptime_alert').map((a) =>
        defined({ alert: a.name, checkId: symbol(a.check_id), type: a.type, threshold: a.threshold, comparison: a.comparison, period: a.period, notifications: a.notifications.map((n: Parameters<typeof notifications>[0]) => notifications(n, variables)) }),
      ),
      ...all('digitalocean_monitor_alert').map((a) =>
        ({ description: a.description, type: a.type, compare: a.compare, value: a.value, window: a.window, enabled: a.enabled, entities: a.entities.map(symbol), alerts: notifications(a.alerts, variables) }),
      ),
    ]),
    lifecycles: distinct(
      Object.entries(out.resource).flatMap(([type, bodies]) => {
        const known = RESOURCE_KINDS[type];
        if (!known) throw new Error(`the parity inventory does not know ${type}: add it to RESOURCE_KINDS`);
        return Object.values(bodies).map((body) => ({
          resource: known.named ? `${known.kind} ${body.name}` : known.kind,
          protect: body.lifecycle?.prevent_destroy ?? false,
          replacement: body.lifecycle?.create_before_destroy ? 'create-first' : 'delete-first',
          ignoreChanges: body.lifecycle?.ignore_changes ?? [],
        }));
      }),
    ),
  };
}

/** From the Pulumi mock cloud. */
export function inventoryFromPulumi(cloud: MockCloud): Inventory {
  const inputs = (type: string) => ofType(cloud, type).map((r) => r.inputs);
  const rules = (list: { protocol: string; portRange?: string; sourceAddresses?: string[]; destinationAddresses?: string[] }[] = []) =>
    list.map((r) => defined({ protocol: r.protocol, ports: r.portRange, addresses: r.sourceAddresses ?? r.destinationAddresses }));
  return {
    records: sorted(inputs(TYPES.record).map((r) => defined({ zone: r.domain, type: r.type, name: r.name, value: r.value, ttl: r.ttl, priority: r.priority, weight: r.weight, port: r.port, flags: r.flags, tag: r.tag }))),
    firewalls: sorted(inputs(TYPES.firewall).map((f) => ({ name: f.name, dropletIds: f.dropletIds.map((id: number) => cloud.dropletIdSymbol(id)), inbound: rules(f.inboundRules), outbound: rules(f.outboundRules) }))),
    droplets: sorted(
      inputs(TYPES.droplet).map((d) =>
        defined({ name: d.name, image: d.image, region: d.region, size: d.size, sshKeys: d.sshKeys, ipv6: d.ipv6, monitoring: d.monitoring, backups: d.backups, volumeIds: d.volumeIds, userData: d.userData }),
      ),
    ),
    volumes: sorted(inputs(TYPES.volume).map((v) => defined({ name: v.name, region: v.region, size: v.size, description: v.description }))),
    reservedIps: sorted(inputs(TYPES.reservedIp).map((r) => ({ region: r.region }))),
    reservedIpAssignments: sorted(inputs(TYPES.reservedIpAssignment).map((a) => ({ ipAddress: a.ipAddress, dropletId: cloud.dropletIdSymbol(a.dropletId) }))),
    reservedIpv6s: sorted(inputs(TYPES.reservedIpv6).map((r) => ({ regionSlug: r.regionSlug }))),
    reservedIpv6Assignments: sorted(inputs(TYPES.reservedIpv6Assignment).map((a) => ({ ip: a.ip, dropletId: cloud.dropletIdSymbol(a.dropletId) }))),
    configChannel: sorted([
      ...inputs(TYPES.spacesBucket).map((b) => defined({ bucket: b.name, region: b.region, acl: b.acl })),
      ...inputs(TYPES.spacesKey).map((k) => ({ key: k.name, grants: k.grants })),
      ...inputs(TYPES.spacesBucketObject).map((o) => defined({ object: o.key, bucket: o.bucket, region: o.region, contentBase64: o.contentBase64, contentType: o.contentType, acl: o.acl })),
    ]),
    alerts: sorted([
      ...inputs(TYPES.uptimeCheck).map((c) => ({ check: c.name, target: c.target, type: c.type, regions: c.regions, enabled: c.enabled })),
      ...inputs(TYPES.uptimeAlert).map((a) =>
        defined({ alert: a.name, checkId: a.checkId, type: a.type, threshold: a.threshold, comparison: a.comparison, period: a.period, notifications: a.notifications.map((n: Parameters<typeof notifications>[0]) => notifications(n)) }),
      ),
      ...inputs(TYPES.monitorAlert).map((a) =>
        ({ description: a.description, type: a.type, compare: a.compare, value: a.value, window: a.window, enabled: a.enabled, entities: a.entities.map((id: string) => cloud.dropletIdSymbol(Number(id))), alerts: notifications(a.alerts) }),
      ),
    ]),
    lifecycles: distinct(
      cloud.resources
        .filter((r) => r.type.startsWith('digitalocean:'))
        .map((r) => {
          const known = Object.values(RESOURCE_KINDS).find((k) => k.pulumiType === r.type);
          if (!known) throw new Error(`the parity inventory does not know ${r.type}: add it to RESOURCE_KINDS`);
          return {
            resource: known.named ? `${known.kind} ${r.inputs.name}` : known.kind,
            protect: r.protect ?? false,
            replacement: r.deleteBeforeReplace ? 'delete-first' : 'create-first',
            // By the Terraform names cdktf uses: userData → user_data.
            ignoreChanges: (r.ignoreChanges ?? []).map((name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)),
          };
        }),
    ),
  };
}
