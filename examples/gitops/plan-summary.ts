/**
 * Turns a plan, as `tofu show -json plan.bin` (or `terraform show -json`) prints it, into Markdown
 * for a pull request: how many resources are created, updated, replaced and deleted, a table of the
 * changes, and loud warnings for what a reviewer of an XMPP service must not miss — the droplet being
 * replaced (minutes of downtime, and the DNS records that change with it), the droplet being resized
 * (powered off, and its disk grown for good), and the data volume, the reserved IP or a DNS zone being
 * destroyed (not recoverable by another apply). A configuration change that reaches the host in place
 * (configDelivery "spaces": a new configuration bundle in its bucket, the droplet untouched) is said
 * to be one, so that a reviewer can tell it from a replacement at a glance.
 *
 *   npx ts-node --transpile-only plan-summary.ts plan.json            # or: … < plan.json
 *   npx ts-node --transpile-only plan-summary.ts --github-output "$GITHUB_OUTPUT" plan.json
 *
 * It prints names of resources and attributes, never attribute values: plan JSON holds sensitive
 * values in clear text. The exceptions are what a reviewer needs to judge DNS caching and cannot read
 * from the addresses alone: a record's zone, name and type (its for_each key says the same) and its TTL,
 * each only where the plan does not mark it sensitive; and the SHA-256 of a new configuration bundle
 * (the `<service>_config_bundle` output), a digest that tells what to wait for and reveals nothing of
 * the bundle. The bundle's content and the key that reads it are never printed. Exit code 0 whatever the plan says (the warnings
 * are for people, and the workflow decides what fails); 1 only when the input is not a readable plan.
 *
 * Everything but `main` is pure (plan JSON in, summary or Markdown out), so tests can run it on plans
 * that OpenTofu or Terraform really produced.
 */
import { appendFileSync, readFileSync } from 'fs';

export type ChangeKind = 'create' | 'update' | 'replace' | 'delete' | 'forget';

export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  readonly kind: ChangeKind;
  /** `change.actions` as the plan says them, e.g. `["create", "delete"]`. */
  readonly actions: readonly string[];
  /** Attribute paths that force a replacement, e.g. `user_data` (from `replace_paths`). */
  readonly replacePaths: readonly string[];
  /** OpenTofu/Terraform's `action_reason`, e.g. `replace_because_cannot_update`. */
  readonly reason?: string;
  /** For a replacement: the old one goes before the new one exists (no create_before_destroy). */
  readonly deleteFirst: boolean;
  /**
   * For an update: the top-level attributes whose value changes or becomes known only after apply
   * (names only, sorted). Empty for other kinds.
   */
  readonly changedAttributes: readonly string[];
  /** The subset of {@link changedAttributes} known only after apply (`after_unknown`). */
  readonly unknownAttributes: readonly string[];
  /** The address in the previous state, when a `moved` block or a rename moves it. */
  readonly previousAddress?: string;
  /** The key of a deposed object: one left behind by an interrupted create-before-destroy replacement. */
  readonly deposed?: string;
}

/** A droplet whose `size` changes in place: the provider powers it off to resize it. */
export interface DropletResize {
  readonly address: string;
  /**
   * Whether the disk grows with the resize, which DigitalOcean can never undo. True when the plan
   * says `resize_disk = true`, leaves it unknown or does not say (the provider's default is true).
   */
  readonly resizeDisk: boolean;
}

/** A `digitalocean_record` whose value this apply changes: resolvers may keep the old one until its TTL runs out. */
export interface RewrittenRecord {
  readonly address: string;
  readonly zone: string;
  /** Relative to the zone, `@` for the apex. */
  readonly name: string;
  readonly type: string;
  /** The name in full, without the trailing dot. */
  readonly fqdn: string;
  /**
   * The TTL the current record was published with, which is how long resolvers may keep the old
   * answer. Undefined when the plan does not say or marks it sensitive.
   */
  readonly ttl?: number;
  /** The TTL after the apply, when it differs from {@link ttl}. */
  readonly newTtl?: number;
  /** The new value is known only after apply: typically the new droplet's address. */
  readonly valueUnknown: boolean;
}

/**
 * A configuration bundle (configDelivery "spaces") whose object is updated in place: the host fetches
 * the new bundle from its bucket and applies it without being replaced.
 */
export interface ConfigBundleUpdate {
  readonly address: string;
}

/**
 * A `<service>_config_bundle` output whose value changes: the SHA-256 the host reports once it runs
 * the new bundle. Only a known, non-sensitive SHA-256 in hex is kept.
 */
export interface ConfigBundleHash {
  readonly output: string;
  readonly sha256: string;
}

/** The resource type holding a configuration bundle. */
export const CONFIG_BUNDLE_TYPE = 'digitalocean_spaces_bucket_object';

/** A change the plan postpones to a later plan (Terraform's `deferred_changes`). */
export interface DeferredChange {
  readonly address: string;
  /** Terraform's reason, e.g. `resource_config_unknown`, `instance_count_unknown`. */
  readonly reason: string;
}

export interface PlanSummary {
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** Every managed resource that changes, most dangerous first. */
  readonly changes: readonly PlannedChange[];
  /** Droplets deleted and created again: downtime, nothing lost. */
  readonly dropletReplacements: readonly PlannedChange[];
  /** Droplets whose size changes in place: downtime while powered off, and perhaps a disk grown for good. */
  readonly dropletResizes: readonly DropletResize[];
  /** Droplets deleted for good: their service stops (their volume is listed apart, if it goes too). */
  readonly dropletDeletions: readonly PlannedChange[];
  /** Configuration bundles updated in place: the change reaches the host without replacing it. */
  readonly configBundleUpdates: readonly ConfigBundleUpdate[];
  /** The new bundles' SHA-256, from the `<service>_config_bundle` outputs that change. */
  readonly configBundleHashes: readonly ConfigBundleHash[];
  /**
   * The names of the `<service>_config_bundle` outputs that change, also when the plan keeps no
   * value (the workflow's redact-plan.jq keeps only their names and actions).
   */
  readonly configBundleOutputs: readonly string[];
  /** Deletions and replacements that no later apply can undo (see {@link IRREVERSIBLE}). */
  readonly irreversible: readonly PlannedChange[];
  /**
   * DNS records whose value changes in place or becomes known only after apply, in zone, name, type
   * order. With a droplet replacement, these are the records that follow its new addresses.
   */
  readonly rewrittenRecords: readonly RewrittenRecord[];
  /** Resources changed outside OpenTofu/Terraform since the last apply (`resource_drift`). */
  readonly drift: readonly PlannedChange[];
  /** Changes postponed to a later plan (`deferred_changes`). */
  readonly deferred: readonly DeferredChange[];
  /** False when the plan says it is incomplete (`complete: false`): applying it will not converge. */
  readonly complete: boolean;
  /**
   * The stack has a `zone_files` output, so some zones are served outside DigitalOcean: their records
   * are not in the plan, and whoever runs that DNS must load the new ones.
   */
  readonly externalZoneFiles: boolean;
  /** The plan reported an error and may be incomplete. */
  readonly errored: boolean;
}

/** Resource types whose destruction loses something that cannot be created again as it was. */
export const IRREVERSIBLE: Readonly<Record<string, { readonly what: string; readonly loss: string }>> = {
  digitalocean_volume: {
    what: 'the data volume',
    loss: 'accounts, rosters, message archives, rooms, uploads, certificates, the TURN secret and the on-volume backups are gone, unless you restore a snapshot or an off-host backup',
  },
  digitalocean_reserved_ip: {
    what: 'the reserved IP',
    loss: 'the service\'s public address changes for good; every A record moves, and clients and servers that cached the old address fail until their DNS caches expire',
  },
  digitalocean_domain: {
    what: 'a DNS zone',
    loss: 'every record in it is deleted, so the domain stops resolving and nobody reaches its XMPP service until the zone is back and resolvers have forgotten the failure',
  },
};

/** Thrown for input that is not plan JSON; the CLI reports it and exits 1. */
export class UnreadablePlanError extends Error {
  override readonly name = 'UnreadablePlanError';
}

const SEVERITY: Readonly<Record<ChangeKind, number>> = { delete: 0, replace: 1, forget: 2, update: 3, create: 4 };

/** The kind of change a `change.actions` list means, or undefined for no-op and read. */
export function changeKind(actions: readonly string[]): ChangeKind | undefined {
  const has = (a: string) => actions.includes(a);
  if (has('delete') && has('create')) return 'replace';
  // Terraform's create-then-forget: a new object takes the old one's place, which is only dropped from state.
  if (has('create') && has('forget')) return 'replace';
  if (has('delete')) return 'delete';
  if (has('create')) return 'create';
  if (has('update')) return 'update';
  if (has('forget')) return 'forget';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathText(path: unknown): string {
  if (!Array.isArray(path)) return String(path);
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : `${i === 0 ? '' : '.'}${String(step)}`)).join('');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Whether a `*_sensitive` or `after_unknown` value holds a `true` anywhere: marks nest like the value. */
function anyTrue(marks: unknown): boolean {
  if (marks === true) return true;
  if (Array.isArray(marks)) return marks.some(anyTrue);
  return isObject(marks) && Object.values(marks).some(anyTrue);
}

/**
 * Whether `attribute` is marked, wholly or in part, in a `before_sensitive`/`after_sensitive` value:
 * `true` marks the whole object; an object marks attributes one by one, with `{}` for an attribute
 * holding nothing sensitive.
 */
function sensitive(marks: unknown, attribute: string): boolean {
  return marks === true || (isObject(marks) && anyTrue(marks[attribute]));
}

/**
 * Whether `attribute` is known, wholly or in part, only after apply. Terraform and OpenTofu leave
 * unknown values out of `after` and mark them `true` in `after_unknown` (`{}` where nothing in an
 * attribute is unknown). Without `after_unknown` (hand-written plans), an attribute missing from
 * `after` counts as unknown, since a known null is written as null.
 */
function unknownAfter(change: Record<string, unknown>, attribute: string): boolean {
  const unknown = change.after_unknown;
  if (unknown === true) return true;
  if (isObject(unknown)) return anyTrue(unknown[attribute]);
  return isObject(change.after) && !(attribute in change.after);
}

/** The resource type of an address such as `module.m["k"].digitalocean_record.r["a/b"]`. */
function typeOfAddress(address: string): string {
  const m = /^(?:module\.[^.[]+(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?\.)*(?:data\.)?([^.[]+)\./.exec(address);
  return m ? m[1] : address.split('.')[0];
}

/** Top-level attributes an update changes: names only, values are never kept. */
function changedAttributes(change: Record<string, unknown>): { changed: string[]; unknown: string[] } {
  const { before, after } = change;
  if (!isObject(before) || !isObject(after)) return { changed: [], unknown: [] };
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  if (isObject(change.after_unknown)) for (const k of Object.keys(change.after_unknown)) names.add(k);
  const changed: string[] = [];
  const unknown: string[] = [];
  for (const name of [...names].sort()) {
    if (unknownAfter(change, name)) {
      changed.push(name);
      unknown.push(name);
    } else if (!deepEqual(before[name], after[name])) {
      changed.push(name);
    }
  }
  return { changed, unknown };
}

/** One entry of `resource_changes` or `resource_drift`, or undefined for data sources, no-ops and reads. */
function plannedChange(rc: unknown, strict: boolean): PlannedChange | undefined {
  if (!isObject(rc) || !isObject(rc.change) || !Array.isArray(rc.change.actions) || typeof rc.address !== 'string') {
    if (strict) throw new UnreadablePlanError(`not a plan: a resource change without address or change.actions: ${JSON.stringify(rc)?.slice(0, 200)}`);
    return undefined;
  }
  // Data sources are read, never changed.
  if (rc.mode === 'data' || (rc.mode === undefined && rc.address.startsWith('data.'))) return undefined;
  const change = rc.change;
  const actions = rc.change.actions.map(String);
  const kind = changeKind(actions);
  if (kind === undefined) return undefined;
  const attributes = kind === 'update' ? changedAttributes(change) : { changed: [], unknown: [] };
  return {
    address: rc.address,
    type: typeof rc.type === 'string' ? rc.type : typeOfAddress(rc.address),
    kind,
    actions,
    replacePaths: Array.isArray(change.replace_paths) ? change.replace_paths.map(pathText) : [],
    reason: typeof rc.action_reason === 'string' ? rc.action_reason : undefined,
    deleteFirst: kind === 'replace' && actions.includes('delete') && actions.indexOf('delete') < actions.indexOf('create'),
    changedAttributes: attributes.changed,
    unknownAttributes: attributes.unknown,
    previousAddress: typeof rc.previous_address === 'string' ? rc.previous_address : undefined,
    deposed: typeof rc.deposed === 'string' ? rc.deposed : undefined,
  };
}

/** A droplet update that changes `size`, with what the plan says of `resize_disk`. */
function dropletResize(rc: Record<string, unknown>, c: PlannedChange): DropletResize | undefined {
  if (c.type !== 'digitalocean_droplet' || c.kind !== 'update' || !c.changedAttributes.includes('size')) return undefined;
  const change = rc.change as Record<string, unknown>;
  // Only an explicit, known false keeps the disk; unset means the provider's default, true.
  const keepsDisk = isObject(change.after) && change.after.resize_disk === false && !unknownAfter(change, 'resize_disk');
  return { address: c.address, resizeDisk: !keepsDisk };
}

/** The parts of a record key `<zone>/<name>/<type>` (a CAA key adds `/<tag>`), or undefined. */
export function parseRecordKey(key: string): { zone: string; name: string; type: string } | undefined {
  const parts = key.split('/');
  if (parts.length < 3 || parts.length > 4 || parts.slice(0, 3).some((p) => p === '') || !/^[A-Z][A-Z0-9]*$/.test(parts[2])) return undefined;
  return { zone: parts[0], name: parts[1], type: parts[2] };
}

/** The for_each key of an instance: its `index`, or else the last `["…"]` of its address. */
function instanceKey(rc: Record<string, unknown>): string | undefined {
  if (typeof rc.index === 'string') return rc.index;
  const m = /\["((?:[^"\\]|\\.)*)"\]$/.exec(String(rc.address));
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return undefined;
  }
}

function ttlOf(value: unknown, marks: unknown): number | undefined {
  if (!isObject(value) || sensitive(marks, 'ttl')) return undefined;
  return typeof value.ttl === 'number' ? value.ttl : undefined;
}

/** A `digitalocean_record` whose value this apply changes, named by zone, name, type and TTL. */
function rewrittenRecord(rc: Record<string, unknown>, c: PlannedChange): RewrittenRecord | undefined {
  if (c.type !== 'digitalocean_record' || (c.kind !== 'update' && c.kind !== 'replace')) return undefined;
  const change = rc.change as Record<string, unknown>;
  const { before, after } = change;
  if (!isObject(before)) return undefined;
  const valueUnknown = unknownAfter(change, 'value');
  if (!valueUnknown && (!isObject(after) || deepEqual(before.value, after.value))) return undefined;

  const key = instanceKey(rc);
  let identity = key === undefined ? undefined : parseRecordKey(key);
  if (!identity) {
    // Not keyed like the library's records: read the record's own attributes, where not sensitive.
    const attribute = (name: string) => (typeof before[name] === 'string' && !sensitive(change.before_sensitive, name) ? before[name] as string : undefined);
    const zone = attribute('domain');
    const name = attribute('name');
    const type = attribute('type');
    identity = zone && name && type ? { zone, name, type } : { zone: '', name: c.address, type: type ?? '?' };
  }
  const { zone, name, type } = identity;
  const fqdn = zone === '' ? name : name === '@' ? zone : name.endsWith('.') ? name.slice(0, -1) : `${name}.${zone}`;
  const ttl = ttlOf(before, change.before_sensitive);
  const afterTtl = unknownAfter(change, 'ttl') ? undefined : ttlOf(after, change.after_sensitive);
  return { address: c.address, zone, name, type, fqdn, ttl, newTtl: afterTtl !== undefined && afterTtl !== ttl ? afterTtl : undefined, valueUnknown };
}

const TYPE_ORDER = ['A', 'AAAA', 'CNAME', 'SRV', 'CAA'];
const typeRank = (type: string) => (TYPE_ORDER.includes(type) ? TYPE_ORDER.indexOf(type) : TYPE_ORDER.length);

function compareRecords(a: RewrittenRecord, b: RewrittenRecord): number {
  return a.zone.localeCompare(b.zone) || (a.name === '@' ? 0 : 1) - (b.name === '@' ? 0 : 1) || a.name.localeCompare(b.name) || typeRank(a.type) - typeRank(b.type) || a.type.localeCompare(b.type) || a.address.localeCompare(b.address);
}

function deferredChange(entry: unknown): DeferredChange | undefined {
  if (!isObject(entry)) return undefined;
  const rc = isObject(entry.resource_change) ? entry.resource_change : undefined;
  if (rc?.mode === 'data') return undefined;
  const address = typeof rc?.address === 'string' ? rc.address : undefined;
  if (address === undefined) return undefined;
  return { address, reason: typeof entry.reason === 'string' ? entry.reason : 'unknown' };
}

/** Reads the parsed output of `show -json <plan>`. Throws {@link UnreadablePlanError} for anything else. */
export function summarizePlan(plan: unknown): PlanSummary {
  if (!isObject(plan) || typeof plan.format_version !== 'string') {
    throw new UnreadablePlanError('not a plan: expected the JSON that `tofu show -json <plan file>` prints (an object with "format_version")');
  }
  const list = (name: string): unknown[] => {
    const value = plan[name] ?? [];
    if (!Array.isArray(value)) throw new UnreadablePlanError(`not a plan: "${name}" is not a list`);
    return value;
  };
  const resourceChanges = list('resource_changes');

  const changes: PlannedChange[] = [];
  const dropletResizes: DropletResize[] = [];
  const rewrittenRecords: RewrittenRecord[] = [];
  for (const rc of resourceChanges) {
    const c = plannedChange(rc, true);
    if (c === undefined) continue;
    changes.push(c);
    const resize = dropletResize(rc as Record<string, unknown>, c);
    if (resize) dropletResizes.push(resize);
    const record = rewrittenRecord(rc as Record<string, unknown>, c);
    if (record) rewrittenRecords.push(record);
  }
  changes.sort((a, b) => SEVERITY[a.kind] - SEVERITY[b.kind] || a.address.localeCompare(b.address));
  dropletResizes.sort((a, b) => a.address.localeCompare(b.address));
  rewrittenRecords.sort(compareRecords);

  // Drift and deferred changes only inform: a malformed entry there is skipped, not fatal.
  const drift = list('resource_drift').map((rc) => plannedChange(rc, false)).filter((c): c is PlannedChange => c !== undefined);
  drift.sort((a, b) => a.address.localeCompare(b.address));
  const deferred = list('deferred_changes').map(deferredChange).filter((c): c is DeferredChange => c !== undefined);

  const counts: Record<ChangeKind, number> = { create: 0, update: 0, replace: 0, delete: 0, forget: 0 };
  for (const c of changes) counts[c.kind] += 1;
  const outputs = isObject(plan.output_changes) ? Object.keys(plan.output_changes) : [];
  const configBundleUpdates = changes.filter((c) => c.type === CONFIG_BUNDLE_TYPE && c.kind === 'update').map((c) => ({ address: c.address }));
  return {
    counts,
    changes,
    dropletReplacements: changes.filter((c) => c.type === 'digitalocean_droplet' && c.kind === 'replace'),
    dropletResizes,
    // A deposed droplet is the leftover of an earlier replacement, not the one serving.
    dropletDeletions: changes.filter((c) => c.type === 'digitalocean_droplet' && c.kind === 'delete' && c.deposed === undefined),
    configBundleUpdates,
    configBundleHashes: configBundleHashes(plan.output_changes),
    configBundleOutputs: configBundleOutputs(plan.output_changes),
    irreversible: changes.filter((c) => c.type in IRREVERSIBLE && (c.kind === 'delete' || c.kind === 'replace')),
    rewrittenRecords,
    drift,
    deferred,
    complete: plan.complete !== false,
    // The output is named `<service id>_zone_files` (see lib/cdktf/xmpp-service.ts).
    externalZoneFiles: outputs.some((name) => /(^|_)zone_files$/.test(name)),
    errored: plan.errored === true,
  };
}

/**
 * The `<service>_config_bundle` outputs whose value changes to a known SHA-256 (see lib/core/outputs.ts).
 * Anything else there (unknown, sensitive, not a hex digest) is left out rather than printed.
 */
function configBundleHashes(outputChanges: unknown): ConfigBundleHash[] {
  if (!isObject(outputChanges)) return [];
  const hashes: ConfigBundleHash[] = [];
  for (const [output, change] of Object.entries(outputChanges)) {
    if (!/(^|_)config_bundle$/.test(output) || !isObject(change)) continue;
    if (change.after_sensitive === true || change.after_unknown === true) continue;
    const { before, after } = change;
    if (typeof after === 'string' && /^[0-9a-f]{64}$/.test(after) && after !== before) hashes.push({ output, sha256: after });
  }
  return hashes.sort((a, b) => a.output.localeCompare(b.output));
}

/** The `<service>_config_bundle` outputs whose actions change them, by name. */
function configBundleOutputs(outputChanges: unknown): string[] {
  if (!isObject(outputChanges)) return [];
  return Object.entries(outputChanges)
    .filter(([output, change]) => /(^|_)config_bundle$/.test(output) && isObject(change) && Array.isArray(change.actions) && change.actions.some((a) => a !== 'no-op'))
    .map(([output]) => output)
    .sort();
}

/** A Markdown code span that survives backticks and table pipes inside `text`. */
function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`.replace(/\|/g, '\\|');
}

/** Attribute names in the table: a few, then a count, so one cell stays readable. */
function attributeList(names: readonly string[]): string {
  const shown = names.slice(0, 5).map(code).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

function why(change: PlannedChange): string {
  const parts: string[] = [];
  if (change.kind === 'replace') {
    if (change.replacePaths.length > 0) parts.push(`${change.replacePaths.map(code).join(', ')} changed`);
    else if (change.reason === 'replace_by_request') parts.push('replacement requested (-replace)');
    else if (change.reason === 'replace_because_tainted') parts.push('tainted (a previous apply failed)');
    else if (change.reason === 'replace_by_triggers') parts.push('replace_triggered_by');
    if (change.actions.includes('forget')) parts.push('the old one is only removed from state, not deleted');
  }
  if (change.kind === 'delete') {
    if (change.deposed !== undefined) parts.push('a deposed object left by an earlier replacement');
    else if (change.reason === 'delete_because_no_resource_config') parts.push('no longer declared');
    else if (change.reason === 'delete_because_each_key') parts.push('its key is no longer in for_each');
    else if (change.reason === 'delete_because_count_index') parts.push('its index is beyond count');
    else if (change.reason === 'delete_because_no_module') parts.push('its module is no longer declared');
    else if (change.reason === 'delete_because_wrong_repetition') parts.push('count or for_each was added or removed');
    else if (change.reason === 'delete_because_no_move_target') parts.push('moved to an address that is not declared');
  }
  if (change.kind === 'update') {
    if (change.type === 'digitalocean_droplet' && change.changedAttributes.includes('size')) parts.push('`size` changed: resized in place, powered off');
    if (change.type === CONFIG_BUNDLE_TYPE) parts.push('new configuration bundle: the host applies it in place');
    const known = change.changedAttributes.filter((n) => !change.unknownAttributes.includes(n) && !(n === 'size' && change.type === 'digitalocean_droplet'));
    if (known.length > 0) parts.push(`${attributeList(known)} changed`);
    if (change.unknownAttributes.length > 0) parts.push(`${attributeList(change.unknownAttributes)} known after apply`);
  }
  if (change.kind === 'forget') parts.push('removed from state only; the resource itself is kept');
  if (change.previousAddress !== undefined) parts.push(`moved from ${code(change.previousAddress)}`);
  return parts.join('; ');
}

const ICON: Readonly<Record<ChangeKind, string>> = { create: '🟢 create', update: '🟡 update', replace: '🟠 replace', delete: '🔴 delete', forget: '⚪ forget' };

/** Rows beyond this are counted, not listed: the plan artifact has them all. */
export const MAX_TABLE_ROWS = 100;

/** Names listed in the DNS part of the replacement warning; the rest are counted by type. */
export const MAX_LISTED_RECORD_NAMES = 20;

/** Drifted and deferred resources listed by address; the rest are counted. */
export const MAX_LISTED_RESOURCES = 10;

/** The headings of the warning blocks, for tests and for anyone scanning a comment. */
export const HEADINGS = {
  destroys: '## 🛑 This change DESTROYS something no later apply can bring back',
  replaces: '## ⚠️ This change REPLACES the droplet',
  resizesWithDisk: '## ⚠️ This change RESIZES the droplet: it is powered off, and its disk grows for good',
  resizes: '## ⚠️ This change RESIZES the droplet: it is powered off',
  deletes: '## ⚠️ This change DELETES a droplet, and nothing replaces it',
  deferred: '## ⚠️ This plan is incomplete: another plan and apply must follow',
  configInPlace: '## ✅ This change updates the configuration IN PLACE: the droplet stays, no downtime',
  configWithReplacement: '## ℹ️ This change also writes a new configuration bundle',
} as const;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `A`, `A and AAAA`, `A, AAAA and CAA`. */
function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A TTL as people read it: `30 minutes`, `5 minutes`, `1 hour`, `90 seconds`. */
export function ttlDuration(seconds: number): string {
  if (seconds < 120) return plural(seconds, 'second');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return plural(Math.round(seconds / 60), 'minute');
}

function ttlText(records: readonly RewrittenRecord[]): string {
  const old = [...new Set(records.map((r) => r.ttl))];
  if (old.some((t) => t === undefined)) return 'TTL not in the plan';
  const values = (old as number[]).sort((a, b) => a - b);
  const range = values.length === 1 ? `TTL ${values[0]}` : `TTL ${values[0]}–${values[values.length - 1]}`;
  const next = [...new Set(records.map((r) => r.newTtl).filter((t): t is number => t !== undefined))].sort((a, b) => a - b);
  return next.length === 0 ? range : `${range}, then ${next.join(' or ')}`;
}

const isApex = (r: RewrittenRecord) => r.name === '@';

/**
 * The DNS records a replacement rewrites, as Markdown list items (without the quote prefix): one per
 * name and TTL, names other than apexes first (usually the TURN name), at most
 * {@link MAX_LISTED_RECORD_NAMES}; the rest counted by type, e.g. `… and 980 more AAAA records at apexes (TTL 1800)`.
 */
export function recordLines(records: readonly RewrittenRecord[]): string[] {
  const groups = new Map<string, RewrittenRecord[]>();
  const ordered = [...records].sort((a, b) => Number(isApex(a)) - Number(isApex(b)) || compareRecords(a, b));
  for (const r of ordered) {
    const key = `${r.fqdn}\u0000${r.ttl}\u0000${r.newTtl}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const all = [...groups.values()];
  const lines = all.slice(0, MAX_LISTED_RECORD_NAMES).map((group) => {
    const types = [...new Set(group.map((r) => r.type))].sort((a, b) => typeRank(a) - typeRank(b) || a.localeCompare(b));
    return `${code(group[0].fqdn)} ${joinAnd(types)} (${ttlText(group)})`;
  });
  const rest = new Map<string, RewrittenRecord[]>();
  for (const r of all.slice(MAX_LISTED_RECORD_NAMES).flat()) {
    const key = `${r.type}\u0000${isApex(r)}`;
    const group = rest.get(key);
    if (group) group.push(r);
    else rest.set(key, [r]);
  }
  const restSorted = [...rest.values()].sort((a, b) => b.length - a.length || typeRank(a[0].type) - typeRank(b[0].type));
  for (const group of restSorted) {
    const where = isApex(group[0]) ? (group.length === 1 ? 'at an apex' : 'at apexes') : (group.length === 1 ? 'at another name' : 'at other names');
    lines.push(`… and ${group.length} more ${group[0].type} ${group.length === 1 ? 'record' : 'records'} ${where} (${ttlText(group)})`);
  }
  return lines;
}

/** The replacement warning's lines about DNS, each starting with `> `. */
function dnsLines(summary: PlanSummary): string[] {
  const out: string[] = [];
  const records = summary.rewrittenRecords;
  const consequence = 'clients may use the old address until their caches expire';
  // When the reserved IP goes too, the CAUTION block above says what that does to the A records.
  const reservedIpStays = !summary.irreversible.some((c) => c.type === 'digitalocean_reserved_ip');
  if (records.length === 0) {
    out.push(reservedIpStays
      ? '> - **DNS: no record changes with the replacement.** The reserved IP moves to the new droplet, so the records that point at it stay.'
      : '> - **DNS: no record in this plan changes with the replacement.**');
  } else {
    const lines = recordLines(records);
    const count = plural(records.length, 'record');
    if (lines.length === 1) {
      out.push(`> - **DNS: the replacement rewrites ${count}: ${lines[0]}**; ${consequence}.`);
    } else {
      out.push(`> - **DNS: the replacement rewrites ${count}**; ${consequence}:`);
      for (const line of lines) out.push(`>   - ${line}`);
    }
    const apexAaaa = records.filter((r) => isApex(r) && r.type === 'AAAA');
    if (apexAaaa.length > 0) {
      const ttls = apexAaaa.map((r) => r.ttl).filter((t): t is number => t !== undefined);
      const upTo = ttls.length === apexAaaa.length ? `for up to ${ttlDuration(Math.max(...ttls))}` : 'until their caches expire';
      const which = apexAaaa.length === 1 ? `the apex AAAA record of ${code(apexAaaa[0].zone)}` : `the apex AAAA records of ${apexAaaa.length} domains`;
      out.push(`> - **IPv6 clients may reach a dead address ${upTo}.** No reserved IPv6 address holds ${which}: ${apexAaaa.length === 1 ? 'it points' : 'they point'} at the droplet's own IPv6 address, which goes away with the old droplet. Resolvers that cached the old record send IPv6 clients there until its TTL runs out, and clients that do not fall back to IPv4 cannot connect meanwhile.`);
    }
    if (reservedIpStays) out.push('> - Records that point at the reserved IP stay: it moves to the new droplet.');
  }
  if (summary.externalZoneFiles) {
    out.push('> - **Zones served outside DigitalOcean are not in this plan.** After the apply, load the new `zone_files` output into their DNS: records that name the droplet\'s own addresses (the TURN name, AAAA records) change with it.');
  }
  return out;
}

/** A bounded list of addresses, each with what happens to it. */
function addressLines(items: readonly { address: string; text: string }[]): string[] {
  const lines = items.slice(0, MAX_LISTED_RESOURCES).map((i) => `> - ${code(i.address)}${i.text ? ` — ${i.text}` : ''}`);
  if (items.length > MAX_LISTED_RESOURCES) lines.push(`> - … and ${items.length - MAX_LISTED_RESOURCES} more`);
  return lines;
}

/** How often the host looks for a new bundle (lib/core/cloud-init.ts, FETCH_INTERVAL_SECONDS). */
const FETCH_INTERVAL_TEXT = 'every minute';

/** The note on configuration bundles updated in place: what the host does with them, and what to wait for. */
function configBundleLines(summary: PlanSummary): string[] {
  const out: string[] = [];
  const replaced = summary.dropletReplacements.length > 0;
  out.push('> [!NOTE]');
  out.push(`> ${replaced ? HEADINGS.configWithReplacement : HEADINGS.configInPlace}`);
  out.push(...addressLines(summary.configBundleUpdates.map((u) => ({ address: u.address, text: 'updated in place: a new configuration bundle in the service\'s private Spaces bucket' }))));
  out.push('>');
  if (replaced) {
    out.push('> A droplet is replaced as well (see above), so this change is not free of downtime: the new droplet fetches this bundle when it boots.');
  } else {
    out.push('> What happens on merge:');
    out.push(`> - **No droplet is replaced or powered off.** The apply writes the new bundle into the bucket; the host looks for one ${FETCH_INTERVAL_TEXT}, so it applies it **within about a minute**.`);
    out.push('> - The host checks the bundle first (`prosodyctl check config`, `nginx -t`) and refuses one that fails: the running configuration then stays. A bundle that passes is installed in place: nginx reloads, Prosody activates new domains and components without dropping sessions (only a change to its global or a domain\'s own section restarts it, and clients reconnect), coturn restarts only when its own file changed.');
  }
  const hashes = summary.configBundleHashes;
  if (hashes.length > 0) {
    const listed = hashes.map((h) => `${code(h.sha256)} (output ${code(h.output)})`);
    out.push(`> - **To know it is live**, wait until the host reports ${hashes.length === 1 ? 'the new bundle' : 'the new bundles'}: ${joinAnd(listed)}. \`xmpp-doctor --bundle\` compares the output with what the host applied.`);
  } else {
    const outputs = summary.configBundleOutputs.length > 0 ? `the ${joinAnd(summary.configBundleOutputs.map(code))} output` : 'the `<service>_config_bundle` output';
    out.push(`> - **To know it is live**, after the apply read ${outputs} (the new bundle's SHA-256) and wait until the host reports it: \`xmpp-doctor --bundle\` compares the two.`);
  }
  return out;
}

const DEFERRED_REASON: Readonly<Record<string, string>> = {
  instance_count_unknown: 'its count or for_each is known only after this apply',
  resource_config_unknown: 'its configuration is known only after this apply',
  provider_config_unknown: 'its provider\'s configuration is known only after this apply',
  absent_prereq: 'something it needs does not exist yet',
  deferred_prereq: 'something it needs is deferred too',
};

/** The Markdown a pull request shows for `summary`; `tool` names the CLI in the text. */
export function renderPlanSummary(summary: PlanSummary, tool = 'OpenTofu'): string {
  const out: string[] = [];
  const { counts } = summary;

  if (summary.irreversible.length > 0) {
    out.push('> [!CAUTION]');
    out.push(`> ${HEADINGS.destroys}`);
    for (const c of summary.irreversible) {
      const { what, loss } = IRREVERSIBLE[c.type];
      out.push(`> - ${code(c.address)} (${what}) is **${c.kind === 'replace' ? 'replaced: deleted, then created empty' : 'deleted'}**: ${loss}.`);
    }
    out.push('>');
    out.push('> Merge only if that is what you want.');
    if (summary.irreversible.some((c) => c.type === 'digitalocean_volume')) {
      out.push('> A volume refuses destruction (`prevent_destroy`) unless the declaration sets `protectVolume: false`: check that this is meant. First take a snapshot (`doctl compute volume snapshot <volume id> --snapshot-name …`) and copy the backups off the host (`/srv/xmpp-data/backups/`).');
    }
    out.push('');
  }

  if (summary.dropletReplacements.length > 0) {
    out.push('> [!WARNING]');
    out.push(`> ${HEADINGS.replaces}`);
    for (const c of summary.dropletReplacements) {
      out.push(`> - ${code(c.address)}${why(c) ? ` — ${why(c)}` : ''}`);
    }
    out.push('>');
    const deleteFirst = summary.dropletReplacements.some((c) => c.deleteFirst);
    out.push('> What happens on merge:');
    out.push(deleteFirst
      ? '> - **A few minutes of downtime.** The old droplet is deleted first (its volume attaches to one droplet at a time); the new one boots, installs its packages and provisions. Clients reconnect on their own once it is back.'
      : '> - **A few minutes of disruption.** The new droplet is created before the old one is deleted; the service moves over when the volume and the reserved IP do. Clients reconnect on their own.');
    out.push('> - **Nothing is lost.** Accounts, rosters, archives, rooms, uploads and the TURN secret live on the data volume, which the new droplet mounts as it is (never formatting it).');
    out.push('> - **Certificates are kept** on the volume: Let\'s Encrypt is not asked again.');
    out.push(...dnsLines(summary));
    out.push('>');
    out.push('> Merge when a few minutes without chat are acceptable. If in doubt, run `xmpp-constructs-backup create` on the host first.');
    out.push('');
  }

  if (summary.dropletResizes.length > 0) {
    const growsDisk = summary.dropletResizes.some((r) => r.resizeDisk);
    const keepsDisk = summary.dropletResizes.some((r) => !r.resizeDisk);
    out.push('> [!WARNING]');
    out.push(`> ${growsDisk ? HEADINGS.resizesWithDisk : HEADINGS.resizes}`);
    for (const r of summary.dropletResizes) {
      out.push(`> - ${code(r.address)} — \`size\` changed, ${r.resizeDisk ? 'and the disk grows with it (`resize_disk` is true)' : 'CPU and RAM only (`resize_disk` is false)'}`);
    }
    out.push('>');
    out.push('> What happens on merge:');
    out.push('> - **Minutes of downtime for everyone on it.** The DigitalOcean provider powers the droplet off, resizes it and powers it on again; every connection drops until it has booted, and clients reconnect on their own. Nothing is lost: the volume, the addresses and the certificates stay.');
    if (growsDisk) {
      out.push('> - **The disk grows, and can never shrink back.** With `resize_disk` true (the provider\'s default), DigitalOcean enlarges the droplet\'s disk to the new size\'s, and no disk is ever made smaller: from then on this droplet can never be resized to a smaller size. To change only CPU and RAM, and keep the way back, set `resize_disk` to false in this change (cdktf: `service.host.droplet.resizeDisk = false`).');
    }
    if (keepsDisk) {
      out.push('> - **Only CPU and RAM change** where `resize_disk` is false: the disk keeps its size, so this stays reversible (the droplet can be resized back to its former size later).');
    }
    out.push('>');
    out.push('> Merge when minutes without chat are acceptable.');
    out.push('');
  }

  if (summary.dropletDeletions.length > 0) {
    out.push('> [!WARNING]');
    out.push(`> ${HEADINGS.deletes}`);
    for (const c of summary.dropletDeletions) out.push(`> - ${code(c.address)}${why(c) ? ` — ${why(c)}` : ''}`);
    out.push('>');
    out.push('> The XMPP service it runs stops. Its data volume stays unless it is listed as destroyed above.');
    out.push('');
  }

  if (summary.configBundleUpdates.length > 0) out.push(...configBundleLines(summary), '');

  if (summary.deferred.length > 0 || !summary.complete) {
    out.push('> [!WARNING]');
    out.push(`> ${HEADINGS.deferred}`);
    if (summary.deferred.length > 0) {
      out.push(`> ${tool} deferred ${plural(summary.deferred.length, 'change')}: this apply does not make ${summary.deferred.length === 1 ? 'it' : 'them'}, and the warnings above cannot cover ${summary.deferred.length === 1 ? 'it' : 'them'}.`);
      out.push(...addressLines(summary.deferred.map((d) => ({ address: d.address, text: DEFERRED_REASON[d.reason] ?? `deferred (${d.reason})` }))));
    } else {
      out.push(`> ${tool} says this plan does not converge (\`complete: false\`, e.g. a plan with \`-target\`): what it leaves out is not shown here.`);
    }
    out.push('>');
    out.push('> After the apply, run the workflow again (or plan again) and read that plan too.');
    out.push('');
  }

  const total = counts.create + counts.update + counts.replace + counts.delete + counts.forget;
  if (total === 0) {
    out.push(`**${tool} plan: no changes.** The infrastructure matches the configuration.`);
  } else {
    const parts = [`**${counts.create}** to create`, `**${counts.update}** to update`, `**${counts.replace}** to replace`, `**${counts.delete}** to delete`];
    if (counts.forget > 0) parts.push(`**${counts.forget}** to forget`);
    out.push(`**${tool} plan:** ${parts.join(' · ')}`);
    out.push('');
    out.push('| change | resource | why |');
    out.push('|---|---|---|');
    for (const c of summary.changes.slice(0, MAX_TABLE_ROWS)) out.push(`| ${ICON[c.kind]} | ${code(c.address)} | ${why(c)} |`);
    if (summary.changes.length > MAX_TABLE_ROWS) {
      out.push('');
      out.push(`… and ${summary.changes.length - MAX_TABLE_ROWS} more changes: see the full plan in the run's artifact.`);
    }
  }
  if (summary.drift.length > 0) {
    out.push('');
    out.push('> [!NOTE]');
    out.push(`> ${plural(summary.drift.length, 'resource')} changed outside ${tool} since the last apply (by hand, in the DigitalOcean console or API). The plan above starts from what exists now, so it undoes those changes where the declaration says otherwise:`);
    out.push(...addressLines(summary.drift.map((c) => ({ address: c.address, text: c.kind === 'delete' ? 'deleted' : c.changedAttributes.length > 0 ? `${attributeList(c.changedAttributes)} changed` : c.kind }))));
  }
  if (summary.errored) {
    out.push('');
    out.push(`> [!WARNING]\n> ${tool} reported an error while planning: the plan above may be incomplete. Read the run's log.`);
  }
  return `${out.join('\n')}\n`;
}

/** The Markdown for a parsed plan in one call: {@link summarizePlan}, then {@link renderPlanSummary}. */
export function planSummaryMarkdown(plan: unknown, tool = 'OpenTofu'): string {
  return renderPlanSummary(summarizePlan(plan), tool);
}

/** key=value lines for $GITHUB_OUTPUT, so the workflow can annotate the run. */
export function githubOutputs(summary: PlanSummary): string {
  const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  return [
    `changes=${total}`,
    `replaces_droplet=${summary.dropletReplacements.length > 0}`,
    `irreversible=${summary.irreversible.length > 0}`,
  ].join('\n') + '\n';
}

function main(argv: readonly string[]): number {
  let input: string | undefined;
  let outputFile: string | undefined;
  let tool = 'OpenTofu';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--github-output') outputFile = argv[++i];
    else if (argv[i] === '--tool') tool = argv[++i] ?? tool;
    else input = argv[i];
  }
  let summary: PlanSummary;
  try {
    // fd 0 is stdin: `plan-summary.ts < plan.json` and `tofu show -json plan | plan-summary.ts` both work.
    const text = readFileSync(input ?? 0, 'utf8');
    summary = summarizePlan(JSON.parse(text));
  } catch (error) {
    const what = error instanceof UnreadablePlanError || error instanceof SyntaxError ? error.message : String(error);
    process.stderr.write(`plan-summary: cannot read the plan from ${input ?? 'standard input'}: ${what}\n`);
    return 1;
  }
  process.stdout.write(renderPlanSummary(summary, tool));
  if (outputFile) appendFileSync(outputFile, githubOutputs(summary));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
