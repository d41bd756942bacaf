/**
 * Turns a plan, as `tofu show -json plan.bin` (or `terraform show -json`) prints it, into Markdown
 * for a pull request: how many resources are created, updated, replaced and deleted, a table of the
 * changes, and loud warnings for what a reviewer of an XMPP service must not miss — the droplet being
 * replaced (minutes of downtime), and the data volume, the reserved IP or a DNS zone being destroyed
 * (not recoverable by another apply).
 *
 *   npx ts-node --transpile-only plan-summary.ts plan.json            # or: … < plan.json
 *   npx ts-node --transpile-only plan-summary.ts --github-output "$GITHUB_OUTPUT" plan.json
 *
 * It prints names of resources and attributes, never attribute values: plan JSON holds sensitive
 * values in clear text. Exit code 0 whatever the plan says (the warnings are for people, and the
 * workflow decides what fails); 1 only when the input is not a readable plan.
 */
import { appendFileSync, readFileSync } from 'fs';

export type ChangeKind = 'create' | 'update' | 'replace' | 'delete' | 'forget';

export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  readonly kind: ChangeKind;
  /** Attribute paths that force a replacement, e.g. `user_data` (from `replace_paths`). */
  readonly replacePaths: readonly string[];
  /** OpenTofu/Terraform's `action_reason`, e.g. `replace_because_cannot_update`. */
  readonly reason?: string;
  /** For a replacement: the old one goes before the new one exists (no create_before_destroy). */
  readonly deleteFirst: boolean;
}

export interface PlanSummary {
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** Every managed resource that changes, most dangerous first. */
  readonly changes: readonly PlannedChange[];
  /** Droplets deleted and created again: downtime, nothing lost. */
  readonly dropletReplacements: readonly PlannedChange[];
  /** Droplets deleted for good: their service stops (their volume is listed apart, if it goes too). */
  readonly dropletDeletions: readonly PlannedChange[];
  /** Deletions and replacements that no later apply can undo (see {@link IRREVERSIBLE}). */
  readonly irreversible: readonly PlannedChange[];
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

/** Reads the parsed output of `show -json <plan>`. Throws {@link UnreadablePlanError} for anything else. */
export function summarizePlan(plan: unknown): PlanSummary {
  if (!isObject(plan) || typeof plan.format_version !== 'string') {
    throw new UnreadablePlanError('not a plan: expected the JSON that `tofu show -json <plan file>` prints (an object with "format_version")');
  }
  const resourceChanges = plan.resource_changes ?? [];
  if (!Array.isArray(resourceChanges)) throw new UnreadablePlanError('not a plan: "resource_changes" is not a list');

  const changes: PlannedChange[] = [];
  for (const rc of resourceChanges) {
    if (!isObject(rc) || !isObject(rc.change) || !Array.isArray(rc.change.actions) || typeof rc.address !== 'string') {
      throw new UnreadablePlanError(`not a plan: a resource change without address or change.actions: ${JSON.stringify(rc).slice(0, 200)}`);
    }
    // Data sources are read, never changed.
    if (rc.mode === 'data') continue;
    const actions = rc.change.actions.map(String);
    const kind = changeKind(actions);
    if (kind === undefined) continue;
    const replacePaths = Array.isArray(rc.change.replace_paths) ? rc.change.replace_paths.map(pathText) : [];
    changes.push({
      address: rc.address,
      type: typeof rc.type === 'string' ? rc.type : rc.address.split('.')[0],
      kind,
      replacePaths,
      reason: typeof rc.action_reason === 'string' ? rc.action_reason : undefined,
      deleteFirst: kind === 'replace' && actions.indexOf('delete') < actions.indexOf('create'),
    });
  }
  changes.sort((a, b) => SEVERITY[a.kind] - SEVERITY[b.kind] || a.address.localeCompare(b.address));

  const counts: Record<ChangeKind, number> = { create: 0, update: 0, replace: 0, delete: 0, forget: 0 };
  for (const c of changes) counts[c.kind] += 1;
  return {
    counts,
    changes,
    dropletReplacements: changes.filter((c) => c.type === 'digitalocean_droplet' && c.kind === 'replace'),
    dropletDeletions: changes.filter((c) => c.type === 'digitalocean_droplet' && c.kind === 'delete'),
    irreversible: changes.filter((c) => c.type in IRREVERSIBLE && (c.kind === 'delete' || c.kind === 'replace')),
    errored: plan.errored === true,
  };
}

/** A Markdown code span that survives backticks and table pipes inside `text`. */
function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`.replace(/\|/g, '\\|');
}

function why(change: PlannedChange): string {
  if (change.kind === 'replace') {
    if (change.replacePaths.length > 0) return `${change.replacePaths.map(code).join(', ')} changed`;
    if (change.reason === 'replace_by_request') return 'replacement requested (-replace)';
    if (change.reason === 'replace_because_tainted') return 'tainted (a previous apply failed)';
  }
  if (change.kind === 'delete') {
    if (change.reason === 'delete_because_no_resource_config') return 'no longer declared';
    if (change.reason === 'delete_because_each_key') return 'its key is no longer in for_each';
    if (change.reason === 'delete_because_count_index') return 'its index is beyond count';
  }
  if (change.kind === 'forget') return 'removed from state only; the resource itself is kept';
  return '';
}

const ICON: Readonly<Record<ChangeKind, string>> = { create: '🟢 create', update: '🟡 update', replace: '🟠 replace', delete: '🔴 delete', forget: '⚪ forget' };

/** Rows beyond this are counted, not listed: the plan artifact has them all. */
export const MAX_TABLE_ROWS = 100;

/** The Markdown a pull request shows for `summary`; `tool` names the CLI in the text. */
export function renderPlanSummary(summary: PlanSummary, tool = 'OpenTofu'): string {
  const out: string[] = [];
  const { counts } = summary;

  if (summary.irreversible.length > 0) {
    out.push('> [!CAUTION]');
    out.push('> ## 🛑 This change DESTROYS something no later apply can bring back');
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
    out.push('> ## ⚠️ This change REPLACES the droplet');
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
    out.push('> - **Addresses:** the reserved IP moves to the new droplet, so the domains\' A records stay; records that name the droplet\'s own address (the TURN name, short TTL) change in the same apply.');
    out.push('>');
    out.push('> Merge when a few minutes without chat are acceptable. If in doubt, run `xmpp-constructs-backup create` on the host first.');
    out.push('');
  }

  if (summary.dropletDeletions.length > 0) {
    out.push('> [!WARNING]');
    out.push('> ## ⚠️ This change DELETES a droplet, and nothing replaces it');
    for (const c of summary.dropletDeletions) out.push(`> - ${code(c.address)}${why(c) ? ` — ${why(c)}` : ''}`);
    out.push('>');
    out.push('> The XMPP service it runs stops. Its data volume stays unless it is listed as destroyed above.');
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
  if (summary.errored) {
    out.push('');
    out.push(`> [!WARNING]\n> ${tool} reported an error while planning: the plan above may be incomplete. Read the run's log.`);
  }
  return `${out.join('\n')}\n`;
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
