/**
 * examples/gitops: the claims its guide makes about credentials, each held by a test.
 *
 * - The job split, read from workflow.yml: code from the repository and its npm packages runs only
 *   where there is no secret; the jobs with secrets run no npm; read and write credentials live under
 *   separate names and the write ones reach only the apply job in its environment, on main.
 * - plan-guard.js, on the synthesized example (accepted) and on hostile variants (refused, named).
 * - redact-plan.jq keeps the summary and drops every sensitive value.
 * - The plan and apply jobs' own scripts, run as GitHub runs them against the real terraform binary
 *   and the stand-in DigitalOcean provider: guard, init -lockfile=readonly, plan, redaction, the
 *   encrypted plan file, its checksum, the apply of exactly that file, and each way it must fail.
 */
import { spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { DigitaloceanProvider } from '@cdktf/provider-digitalocean/lib/provider';
import { parse } from 'yaml';
import { buildApp, STACK_ID } from '../../examples/gitops/main';
import { renderPlanSummary, summarizePlan } from '../../examples/gitops/plan-summary';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { XmppService } from '../../lib/cdktf';
import { installStandIn, PROVIDER_SOURCE, terraformEngine } from '../support/terraform/harness';
import { describeUnless, missingCommands, testWith } from '../support/tools';
import { NO_ENGINE } from '../plan/stacks';
import { copyCheckout } from '../support/checkout';
import { Job, Step, WORKFLOW, WORKFLOW_TEXT } from './workflow';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const guard = require('../../examples/gitops/plan-guard.js') as {
  findings(config: unknown): string[];
  checkStackDirectory(dir: string): string[];
  templateExpressions(text: string): string[];
};

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
const GITOPS = path.join(ROOT, 'examples/gitops');
const GUARD = path.join(GITOPS, 'plan-guard.js');
const REDACT = path.join(GITOPS, 'redact-plan.jq');
const FIXTURES = path.join(__dirname, 'fixtures');

const JOBS = Object.entries(WORKFLOW.jobs);

let workDir: string;
beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-gitops-security-'));
});
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

const tempDir = (label: string) => fs.mkdtempSync(path.join(workDir, `${label}-`));

/** Whether a step runs the repository's code or its npm packages. */
const runsRepositoryCode = (step: Step) => /\b(npm|npx|yarn|pnpm|ts-node)\b|node_modules/.test(step.run ?? '');
/** Every `secrets.X` a job names anywhere (its env, its steps' env, with and run). */
const secretsOf = (job: Job) => [...JSON.stringify(job).matchAll(/secrets\.(\w+)/g)].map((m) => m[1]);
const step = (jobId: string, name: string): Step => {
  const found = WORKFLOW.jobs[jobId].steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step "${name}" in job ${jobId}`);
  return found;
};

// ------------------------------------------------------------------------------------------------
// The job split
// ------------------------------------------------------------------------------------------------

describe('examples/gitops/workflow.yml — GIVEN the job split', () => {
  test('THEN the jobs that run the repository\'s code or npm packages see no secret at all', () => {
    const running = JOBS.filter(([, job]) => job.steps.some(runsRepositoryCode)).map(([id]) => id);
    expect(running.sort()).toEqual(['check', 'report', 'synthesize']);
    for (const id of running) expect({ id, secrets: secretsOf(WORKFLOW.jobs[id]) }).toEqual({ id, secrets: [] });
  });

  test('THEN the jobs that see secrets run no npm, no repository script, and check out only the workflow\'s directory', () => {
    const holding = JOBS.filter(([, job]) => secretsOf(job).length > 0).map(([id]) => id);
    expect(holding.sort()).toEqual(['apply', 'plan']);
    for (const id of holding) {
      const job = WORKFLOW.jobs[id];
      expect({ id, running: job.steps.filter(runsRepositoryCode).map((s) => s.name) }).toEqual({ id, running: [] });
      // The only JavaScript they run is plan-guard.js, which needs no package.
      const nodeRuns = job.steps.flatMap((s) => (s.run ?? '').split('\n')).filter((line) => /^\s*node\b/.test(line));
      expect(nodeRuns.map((l) => l.trim())).toEqual(['node "$XMPP_DIR/plan-guard.js" "$RUNNER_TEMP/synth/stack"']);
      for (const checkout of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
        expect(checkout.with).toEqual({ 'sparse-checkout': '${{ env.XMPP_DIR }}', 'persist-credentials': false });
      }
      expect(job.steps.filter((s) => s.uses?.startsWith('actions/setup-node@')).map((s) => s.with?.['package-manager-cache'])).toEqual([false]);
    }
  });

  test('THEN every npm ci skips install scripts, and no job shares an npm cache', () => {
    const installs = JOBS.flatMap(([, job]) => job.steps.flatMap((s) => (s.run ?? '').split('\n'))).filter((line) => /\bnpm (ci|install|i)\b/.test(line));
    expect(installs.length).toBeGreaterThanOrEqual(4);
    for (const line of installs) expect(line).toContain('--ignore-scripts');
    expect(WORKFLOW_TEXT).not.toMatch(/actions\/cache@|package-manager-cache: true|cache: npm/);
  });

  test('THEN a step sees a secret only to run tofu or openssl, and jobs see them only as booleans', () => {
    for (const [jobId, job] of JOBS) {
      for (const [name, value] of Object.entries(job.env ?? {})) {
        if (value.includes('secrets.')) expect({ jobId, name, value: value.replace(/\s+/g, ' ') }).toEqual({ jobId, name, value: expect.stringMatching(/^\$\{\{ (secrets\.\w+ != '' ?(&&|\|\|)? ?)+\}\}$/) });
      }
      for (const s of job.steps) {
        expect(JSON.stringify(s.with ?? {})).not.toContain('secrets.');
        if (JSON.stringify(s.env ?? {}).includes('secrets.')) {
          expect({ jobId, step: s.name, runsTofuOrOpenssl: /"\$TF" (plan|apply)|openssl enc/.test(s.run ?? '') }).toEqual({ jobId, step: s.name, runsTofuOrOpenssl: true });
        }
      }
    }
  });

  test('THEN read-only credentials plan, write credentials apply, under separate names', () => {
    const credentialEnv = (jobId: string) => WORKFLOW.jobs[jobId].steps.filter((s) => s.env?.DIGITALOCEAN_TOKEN).map((s) => ({ step: s.name, token: s.env!.DIGITALOCEAN_TOKEN, id: s.env!.AWS_ACCESS_KEY_ID, secret: s.env!.AWS_SECRET_ACCESS_KEY }));
    expect(credentialEnv('plan')).toEqual([{ step: 'Plan', token: '${{ secrets.XMPP_READ_DIGITALOCEAN_TOKEN }}', id: '${{ secrets.XMPP_READ_SPACES_ACCESS_KEY_ID }}', secret: '${{ secrets.XMPP_READ_SPACES_SECRET_ACCESS_KEY }}' }]);
    expect(credentialEnv('apply')).toEqual([{ step: 'Apply', token: '${{ secrets.XMPP_WRITE_DIGITALOCEAN_TOKEN }}', id: '${{ secrets.XMPP_WRITE_SPACES_ACCESS_KEY_ID }}', secret: '${{ secrets.XMPP_WRITE_SPACES_SECRET_ACCESS_KEY }}' }]);
    // Outside the apply job, the write secrets are read only by the check that they are not visible.
    for (const [jobId, job] of JOBS.filter(([id]) => id !== 'apply')) {
      const uses = JSON.stringify({ ...job, env: { ...job.env, WRITE_CREDENTIALS_VISIBLE: undefined } });
      expect({ jobId, write: uses.includes('secrets.XMPP_WRITE_') }).toEqual({ jobId, write: false });
    }
    expect(WORKFLOW.jobs.plan.env?.WRITE_CREDENTIALS_VISIBLE).toContain('secrets.XMPP_WRITE_DIGITALOCEAN_TOKEN');
    // The old, unscoped names are read only to refuse them.
    expect([...WORKFLOW_TEXT.matchAll(/secrets\.(DIGITALOCEAN_TOKEN|SPACES_\w+)/g)].length).toBe(3);
    expect(WORKFLOW.jobs.plan.env?.UNSCOPED_CREDENTIALS_SET).toContain('secrets.DIGITALOCEAN_TOKEN');
  });

  test('THEN the apply job runs only on main, behind the xmpp-production environment, after the plan and the report', () => {
    const apply = WORKFLOW.jobs.apply;
    expect(apply.environment).toBe('xmpp-production');
    expect(apply.needs).toEqual(['plan', 'report']);
    expect(apply.if).toContain("github.ref == 'refs/heads/main'");
    expect(apply.if).toContain("github.event_name != 'pull_request'");
    expect(apply.if).toContain("needs.plan.outputs.planned == 'true'");
    expect(Object.keys(WORKFLOW.on)).not.toContain('pull_request_target');
    expect(Object.keys(WORKFLOW.on)).not.toContain('workflow_run');
  });

  test('THEN the guard runs before any tofu command in both jobs that hold credentials', () => {
    for (const jobId of ['plan', 'apply']) {
      const steps = WORKFLOW.jobs[jobId].steps;
      const guardAt = steps.findIndex((s) => (s.run ?? '').includes('plan-guard.js'));
      const tofuAt = steps.findIndex((s) => (s.run ?? '').includes('"$TF"'));
      expect({ jobId, guardFirst: guardAt >= 0 && guardAt < tofuAt }).toEqual({ jobId, guardFirst: true });
    }
  });

  test('THEN every init uses the committed lock file read-only', () => {
    const inits = [...WORKFLOW_TEXT.matchAll(/"\$TF" init[^\n]*/g)].map((m) => m[0]);
    expect(inits).toHaveLength(2);
    for (const init of inits) expect(init).toContain('-lockfile=readonly');
    expect(WORKFLOW_TEXT).toContain('cp "$RUNNER_TEMP/synth/stack/cdk.tf.json" "$XMPP_DIR/.terraform.lock.hcl" "$RUNNER_TEMP/stack/"');
  });

  test('THEN the apply job never plans: it applies the plan file whose SHA-256 the plan job recorded', () => {
    const apply = WORKFLOW.jobs.apply;
    expect(JSON.stringify(apply)).not.toMatch(/"\$TF\\?" plan/);
    expect(step('apply', 'Apply').run).toMatch(/"\$TF" apply -input=false -no-color -lock-timeout=10m plan\.bin\n/);
    expect(apply.env?.PLAN_SHA256).toBe('${{ needs.plan.outputs.plan_sha256 }}');
    expect(WORKFLOW.jobs.plan.outputs?.plan_sha256).toBe('${{ steps.plan.outputs.plan_sha256 }}');
    const verify = WORKFLOW.jobs.apply.steps.findIndex((s) => s.id === 'verify');
    expect(verify).toBe(WORKFLOW.jobs.apply.steps.findIndex((s) => s.id === 'apply') - 2);
  });

  test('THEN neither the plain plan file nor the plain plan JSON is handed on', () => {
    const plan = step('plan', 'Plan').run!;
    // The plan file stays in the planned directory; its JSON exists only in a pipe to the redaction.
    expect(plan).toContain('-out=plan.bin');
    expect(plan).toMatch(/"\$TF" show -json plan\.bin \| jq -f "\$GITHUB_WORKSPACE\/\$XMPP_DIR\/redact-plan\.jq"/);
    expect(WORKFLOW_TEXT).not.toMatch(/show -json[^|\n]*>/);
    const upload = step('plan', 'Hand the plan on');
    expect(upload.with?.path).toBe('${{ runner.temp }}/plan/');
    expect(step('plan', 'Encrypt the plan file for the apply job').run).toContain('-out "$RUNNER_TEMP/plan/plan.bin.enc"');
    expect(step('plan', 'Encrypt the plan file for the apply job').if).toContain("github.event_name != 'pull_request'");
  });

  test('THEN allow_irreversible is an explicit input of a run by hand, off unless checked', () => {
    expect(WORKFLOW.on.workflow_dispatch.inputs.allow_irreversible).toMatchObject({ type: 'boolean', default: false });
    expect(step('report', 'Stop before an irreversible change').env).toEqual({ IRREVERSIBLE: '${{ steps.summary.outputs.irreversible }}', ALLOW_IRREVERSIBLE: '${{ inputs.allow_irreversible }}' });
  });

  test('THEN the apply job ends with a step, run only on failure, that says how to recover', () => {
    const steps = WORKFLOW.jobs.apply.steps;
    expect(steps[steps.length - 1]).toMatchObject({ name: 'Say what happened and how to recover', if: 'failure()' });
  });

  test('THEN dependabot.yml keeps the pinned actions and the npm packages current', () => {
    const config = parse(fs.readFileSync(path.join(GITOPS, 'dependabot.yml'), 'utf8'));
    expect(config.version).toBe(2);
    expect(config.updates.map((u: { 'package-ecosystem': string; directory: string }) => [u['package-ecosystem'], u.directory])).toEqual([['github-actions', '/'], ['npm', '/']]);
  });

  testWith('yamllint')('THEN dependabot.yml passes yamllint --strict', () => {
    const r = spawnSync('yamllint', ['--strict', '-c', path.join(GITOPS, 'yamllint.yml'), path.join(GITOPS, 'dependabot.yml')], { encoding: 'utf8' });
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  });
});

// ------------------------------------------------------------------------------------------------
// The workflow's checks, run as GitHub runs them
// ------------------------------------------------------------------------------------------------

interface StepRun {
  readonly runnerTemp: string;
  readonly status: number | null;
  readonly output: string;
  readonly githubOutput: string;
  readonly summary: string;
}

/** Runs one step's script as GitHub does (bash -e -o pipefail) in `cwd`, with `runnerTemp` as RUNNER_TEMP. */
function runStep(jobId: string, name: string, options: { cwd?: string; runnerTemp?: string; env?: NodeJS.ProcessEnv } = {}): StepRun {
  const runnerTemp = options.runnerTemp ?? tempDir('runner');
  const script = path.join(runnerTemp, `step-${name.replace(/\W+/g, '-')}.sh`);
  fs.writeFileSync(script, step(jobId, name).run!);
  const githubOutput = path.join(runnerTemp, 'github-output');
  const summary = path.join(runnerTemp, 'step-summary.md');
  for (const file of [githubOutput, summary]) fs.writeFileSync(file, '');
  const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
    cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: 240_000,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      XMPP_DIR: WORKFLOW.env.XMPP_DIR, XMPP_STACK: WORKFLOW.env.XMPP_STACK, TF: WORKFLOW.env.TF,
      XMPP_STATE_BUCKET: 'my-xmpp-state', XMPP_STATE_REGION: 'ams3',
      RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: githubOutput, GITHUB_STEP_SUMMARY: summary,
      RUN_URL: 'https://github.example/run/3', ...options.env,
    },
  });
  return { runnerTemp, status: r.status, output: `${r.stdout}${r.stderr}`, githubOutput: fs.readFileSync(githubOutput, 'utf8'), summary: fs.readFileSync(summary, 'utf8') };
}

describe('the plan job\'s credential check — GIVEN where the secrets are', () => {
  const CHECK = 'Check where the credentials are';
  const FINE = { EVENT: 'pull_request', HAS_READ_CREDENTIALS: 'true', WRITE_CREDENTIALS_VISIBLE: 'false', UNSCOPED_CREDENTIALS_SET: 'false', IS_FORK: 'false' };

  test('WHEN the read-only credentials and the variables are there, and nothing else THEN it plans', () => {
    expect(runStep('plan', CHECK, { env: FINE })).toMatchObject({ status: 0, githubOutput: '' });
  });

  test.each([
    ['the write credentials are visible (repository secrets)', { WRITE_CREDENTIALS_VISIBLE: 'true' }, 'Write credentials exposed::XMPP_WRITE_* secrets are visible to the plan job'],
    ['the old unscoped names are still set', { UNSCOPED_CREDENTIALS_SET: 'true' }, 'Unscoped credentials::DIGITALOCEAN_TOKEN, SPACES_ACCESS_KEY_ID or SPACES_SECRET_ACCESS_KEY'],
    ['main has no read-only credentials', { EVENT: 'push', HAS_READ_CREDENTIALS: 'false' }, 'Cannot plan main::No plan, so nothing to apply: the secrets XMPP_READ_DIGITALOCEAN_TOKEN'],
    ['main has no state bucket variable', { EVENT: 'push', XMPP_STATE_BUCKET: '' }, 'Cannot plan main::No plan, so nothing to apply: the repository variables XMPP_STATE_BUCKET'],
  ])('WHEN %s THEN it fails closed, saying what to do', (_what, env, message) => {
    const r = runStep('plan', CHECK, { env: { ...FINE, ...env } });
    expect(r.status).toBe(1);
    expect(r.output).toContain(`::error title=${message}`);
  });

  test.each([
    ['from a fork', { IS_FORK: 'true', HAS_READ_CREDENTIALS: 'false' }, 'this pull request comes from a fork, and GitHub gives such runs no secrets.'],
    ['from Dependabot, or with no secrets set', { HAS_READ_CREDENTIALS: 'false' }, 'the secrets XMPP_READ_DIGITALOCEAN_TOKEN, XMPP_READ_SPACES_ACCESS_KEY_ID and XMPP_READ_SPACES_SECRET_ACCESS_KEY are not available'],
  ])('WHEN a pull request comes %s THEN the plan is skipped, and the comment says why', (_what, env, why) => {
    const r = runStep('plan', CHECK, { env: { ...FINE, ...env } });
    expect(r.status).toBe(0);
    expect(r.githubOutput).toContain(`skipped=${why}`);
  });
});

describe('the apply job\'s checks — GIVEN its environment', () => {
  test('WHEN the write credentials are missing THEN it stops before anything else', () => {
    const r = runStep('apply', 'Check the write credentials', { env: { HAS_WRITE_CREDENTIALS: 'false' } });
    expect(r.status).toBe(1);
    expect(r.output).toContain('::error title=No write credentials::Set XMPP_WRITE_DIGITALOCEAN_TOKEN');
    expect(runStep('apply', 'Check the write credentials', { env: { HAS_WRITE_CREDENTIALS: 'true' } }).status).toBe(0);
  });

  test.each([
    [{ IRREVERSIBLE: 'true', ALLOW_IRREVERSIBLE: '' }, 1, '::error title=Stopped before an irreversible change::'],
    [{ IRREVERSIBLE: 'true', ALLOW_IRREVERSIBLE: 'false' }, 1, 'with allow_irreversible checked'],
    [{ IRREVERSIBLE: 'true', ALLOW_IRREVERSIBLE: 'true' }, 0, '::warning title=Irreversible change allowed::'],
    [{ IRREVERSIBLE: 'false', ALLOW_IRREVERSIBLE: '' }, 0, ''],
    [{ IRREVERSIBLE: '', ALLOW_IRREVERSIBLE: '' }, 0, ''],
  ])('WHEN the stop before an irreversible change sees %j THEN it exits %i', (env, status, message) => {
    const r = runStep('report', 'Stop before an irreversible change', { env });
    expect(r.status).toBe(status);
    if (message) expect(r.output).toContain(message);
    else expect(r.output).toBe('');
  });

  test.each([
    [{ VERIFY_OUTCOME: 'success', APPLY_OUTCOME: 'failure' }, ['Saved plan is stale', '`tofu force-unlock <ID>`', 'cdktf.out/stacks/xmpp', 'Re-run the', '.tflock']],
    [{ VERIFY_OUTCOME: 'failure', APPLY_OUTCOME: 'skipped' }, ['failed its checks', 'nothing was applied']],
    [{ VERIFY_OUTCOME: 'skipped', APPLY_OUTCOME: 'skipped' }, ['A step before the apply failed', 'nothing was applied']],
  ])('WHEN the recovery step runs after %j THEN the run summary says what happened and what to do', (env, phrases) => {
    const r = runStep('apply', 'Say what happened and how to recover', { env: { ...env, XMPP_STACK: 'xmpp', TF: 'tofu' } });
    expect(r.status).toBe(0);
    expect(r.output).toContain('::error title=Apply did not complete::');
    for (const phrase of phrases) expect(r.summary).toContain(phrase);
  });
});

describe('the synthesize job\'s scripts — GIVEN a pull request on a copy of this repository, and no secret in the environment', () => {
  let copy: string;
  let runnerTemp: string;
  const ran: Record<string, StepRun> = {};
  beforeAll(() => {
    // main: this checkout as it is; the pull request changes the abuse contact in the declaration.
    copy = tempDir('checkout');
    copyCheckout(copy);
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=Reviewer', '-c', 'user.email=reviewer@example.net', ...args], { cwd: copy, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'main');
    const spec = path.join(copy, 'examples/cdktf-basic/spec.ts');
    fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').replace("'mailto:abuse@example.net'", "'mailto:abuse-desk@example.net'"));
    git('commit', '-q', '-a', '-m', 'pull request');
    runnerTemp = tempDir('runner');
    // As GitHub runs them, one after the other, with npm's cache but nothing else of this machine's environment.
    for (const name of ['Synthesize', 'Synthesize main (the base)', 'Diff the rendered files']) {
      ran[name] = runStep('synthesize', name, { cwd: copy, runnerTemp, env: { EVENT: 'pull_request', NPM_CONFIG_PREFER_OFFLINE: 'true' } });
      if (ran[name].status !== 0) break;
    }
  });

  test('WHEN it runs as shipped (npm ci --ignore-scripts, the type-checked main.ts) THEN it hands on cdk.tf.json and the review files, which pass the plan job\'s guard', () => {
    expect({ status: ran.Synthesize.status, output: ran.Synthesize.status === 0 ? '' : ran.Synthesize.output }).toEqual({ status: 0, output: '' });
    const handed = path.join(runnerTemp, 'synth');
    expect(fs.existsSync(path.join(handed, 'stack/cdk.tf.json'))).toBe(true);
    expect(fs.existsSync(path.join(handed, 'stack/review/Xmpp/host/etc/prosody/prosody.cfg.lua'))).toBe(true);
    expect(guard.checkStackDirectory(path.join(handed, 'stack'))).toEqual([]);
  });

  test('WHEN main is synthesized in its own worktree and the trees are diffed THEN the review diff shows exactly the pull request\'s change to the host\'s files', () => {
    const base = ran['Synthesize main (the base)'];
    expect({ status: base?.status, output: base?.status === 0 ? '' : base?.output }).toEqual({ status: 0, output: '' });
    expect(ran['Diff the rendered files']).toMatchObject({ status: 0, output: '' });
    const diff = fs.readFileSync(path.join(runnerTemp, 'synth/review/review.diff'), 'utf8');
    const changedLines = diff.split('\n').filter((line) => /^[-+][^-+]/.test(line));
    expect(changedLines.length).toBeGreaterThan(0);
    for (const line of changedLines) expect(line).toMatch(/^[-+]\s*contact_info = \{ abuse = \{ "mailto:abuse(-desk)?@example\.net"/);
    expect(changedLines.some((line) => line.startsWith('+') && line.includes('abuse-desk@example.net'))).toBe(true);
    expect(changedLines.some((line) => line.startsWith('-') && line.includes('mailto:abuse@example.net'))).toBe(true);
    expect(diff).toContain('--- base/Xmpp/host/etc/prosody/prosody.cfg.lua');
  });
});

// ------------------------------------------------------------------------------------------------
// plan-guard.js
// ------------------------------------------------------------------------------------------------

/** cdk.tf.json of the GitOps example as the synthesize job makes it (dummy bucket, no credentials). */
function synthesizeGitopsExample(): { dir: string; config: any } {
  const outdir = tempDir('synth');
  buildApp({ XMPP_STATE_BUCKET: 'my-xmpp-state', XMPP_STATE_REGION: 'ams3' }, outdir).synth();
  const dir = path.join(outdir, 'stacks', STACK_ID);
  return { dir, config: JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')) };
}

describe('plan-guard.js — GIVEN the synthesized GitOps example', () => {
  let example: { dir: string; config: any };
  beforeAll(() => {
    example = synthesizeGitopsExample();
  });
  const variant = (mutate: (config: any) => void) => {
    const config = JSON.parse(JSON.stringify(example.config));
    mutate(config);
    return config;
  };

  test('THEN it accepts it as it is, review files beside it', () => {
    expect(fs.existsSync(path.join(example.dir, 'review'))).toBe(true);
    expect(guard.checkStackDirectory(example.dir)).toEqual([]);
    const r = spawnSync(process.execPath, [GUARD, example.dir], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('holds only digitalocean resources');
  });

  test.each<[string, (c: any) => void, string]>([
    ['an external data source', (c) => { c.data = { external: { x: { program: ['sh', '-c', 'env'] } } }; }, 'data.external: a data source of another provider'],
    ['an http data source', (c) => { c.data = { http: { x: { url: 'https://attacker.example/' } } }; }, 'data.http: a data source of another provider'],
    ['terraform_remote_state', (c) => { c.data = { terraform_remote_state: { x: { backend: 's3' } } }; }, 'data.terraform_remote_state'],
    ['a terraform_data resource with a local-exec provisioner', (c) => { c.resource.terraform_data = { x: { provisioner: [{ 'local-exec': { command: 'env' } }] } }; }, 'resource.terraform_data.x.provisioner: provisioners run commands'],
    ['a provisioner on a droplet', (c) => { const [name] = Object.keys(c.resource.digitalocean_droplet); c.resource.digitalocean_droplet[name].provisioner = [{ 'local-exec': { command: 'env' } }]; }, '.provisioner: provisioners run commands'],
    ['a connection block', (c) => { const [name] = Object.keys(c.resource.digitalocean_droplet); c.resource.digitalocean_droplet[name].connection = { host: 'x' }; }, '.connection: provisioners run commands'],
    ['another provider', (c) => { c.terraform.required_providers.evil = { source: 'attacker/evil' }; }, 'terraform.required_providers.evil: source "attacker/evil" is not digitalocean/digitalocean'],
    ['the digitalocean name from another source', (c) => { c.terraform.required_providers.digitalocean.source = 'attacker/digitalocean'; }, 'terraform.required_providers.digitalocean: source "attacker/digitalocean"'],
    ['an api_endpoint override', (c) => { c.provider.digitalocean[0].api_endpoint = 'https://attacker.example'; }, 'provider.digitalocean[0].api_endpoint: endpoint and credential settings are not allowed'],
    ['a spaces_endpoint override', (c) => { c.provider.digitalocean[0].spaces_endpoint = 'https://attacker.example'; }, 'provider.digitalocean[0].spaces_endpoint'],
    ['a token in the configuration', (c) => { c.provider.digitalocean[0].token = 'x'; }, 'provider.digitalocean[0].token'],
    ['a second provider block', (c) => { c.provider.http = [{}]; }, 'provider.http: only the digitalocean provider runs here'],
    ['a module', (c) => { c.module = { x: { source: 'git::https://attacker.example/m' } }; }, 'module: a top-level "module" block is not part of an xmpp-constructs stack'],
    ['a check block', (c) => { c.check = { x: {} }; }, 'check: a top-level "check" block'],
    ['an http backend', (c) => { c.terraform.backend = { http: { address: 'https://attacker.example/state' } }; }, 'terraform.backend.http: only the s3 backend'],
    ['an s3 backend at another endpoint', (c) => { c.terraform.backend.s3.endpoints.s3 = 'https://attacker.example'; }, 'terraform.backend.s3.endpoints.s3 = "https://attacker.example": not a DigitalOcean Spaces endpoint'],
    ['an s3 backend with an sts endpoint', (c) => { c.terraform.backend.s3.endpoints.sts = 'https://attacker.example'; }, 'terraform.backend.s3.endpoints.sts: only the s3 endpoint may be set'],
    ['an s3 backend without an endpoint', (c) => { delete c.terraform.backend.s3.endpoints; }, 'terraform.backend.s3: no endpoint, so it would talk to AWS'],
    ['keys in the s3 backend', (c) => { c.terraform.backend.s3.secret_key = 'x'; }, 'terraform.backend.s3.secret_key: not allowed'],
    ['a cloud block', (c) => { c.terraform.cloud = { organization: 'x' }; }, 'terraform.cloud: not allowed here'],
    ['file() in an output', (c) => { c.output.leak = { value: '${file("/proc/self/environ")}' }; }, 'output.leak.value: calls file(), which reads files of the machine running OpenTofu'],
    ['templatefile() inside a directive', (c) => { c.locals.x = '%{ if templatefile("/etc/passwd", {}) != "" }y%{ endif }'; }, 'locals.x: calls templatefile()'],
    ['a provider-defined function', (c) => { c.locals.x = '${provider::digitalocean::anything("x")}'; }, 'locals.x: calls a provider-defined function'],
  ])('WHEN it has %s THEN it is refused, naming where and what to do', (_what, mutate, message) => {
    const found = guard.findings(variant(mutate));
    expect(found).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    for (const finding of found) expect(finding).toMatch(/Fix: /);
  });

  test.each([
    ['an escaped interpolation ($${file(…)}), which is literal text', '$${file("/proc/self/environ")}'],
    ['an escaped directive (%%{…})', '%%{ if file("x") }'],
    ['shell text naming a file (', 'cat file (x) > /dev/null'],
    ['a function whose name ends in file', '${mydatafile("x")}'],
  ])('WHEN a string holds %s THEN that is not a finding', (_what, text) => {
    expect(guard.findings(variant((c) => { c.locals.x = text; }))).toEqual([]);
  });

  test('WHEN the directory holds another configuration file, a dot-file, a .terraform directory or a symbolic link THEN each is refused', () => {
    const dir = tempDir('extra');
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(example.config));
    fs.writeFileSync(path.join(dir, 'x_override.tf.json'), '{}');
    fs.writeFileSync(path.join(dir, 'extra.tf'), '');
    fs.writeFileSync(path.join(dir, '.terraformrc'), '');
    fs.mkdirSync(path.join(dir, '.terraform'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'review'));
    const found = guard.checkStackDirectory(dir);
    expect(found.map((f) => f.split(':')[0].replace(`${dir}/`, '')).sort()).toEqual(['.terraform', '.terraformrc', 'extra.tf', 'review', 'x_override.tf.json']);
  });

  test('WHEN it refuses THEN it exits 1 with one line per finding (GitHub annotations under Actions), and 2 on unusable input', () => {
    const dir = tempDir('refused');
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(variant((c) => { c.data = { external: { x: {} } }; c.module = { m: {} }; })));
    const plain = spawnSync(process.execPath, [GUARD, dir], { encoding: 'utf8' });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/refusing .*cdk\.tf\.json \(2 findings\); nothing was planned:\n {2}- module: [^\n]*\n {2}- data\.external: [^\n]*\n$/);
    const annotated = spawnSync(process.execPath, [GUARD, dir], { encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: 'true' } });
    expect(annotated.stderr.split('\n').filter((l) => l.startsWith('::error title=Refused by plan-guard::'))).toHaveLength(2);
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), '{ not json');
    expect(spawnSync(process.execPath, [GUARD, dir], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync(process.execPath, [GUARD, path.join(dir, 'missing')], { encoding: 'utf8' }).status).toBe(2);
    expect(spawnSync(process.execPath, [GUARD], { encoding: 'utf8' }).status).toBe(2);
  });
});

// ------------------------------------------------------------------------------------------------
// redact-plan.jq
// ------------------------------------------------------------------------------------------------

function redact(plan: unknown): any {
  const r = spawnSync('jq', ['-f', REDACT], { input: JSON.stringify(plan), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jq failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('redact-plan.jq', () => {
  const fixtures = fs.readdirSync(FIXTURES).filter((f) => /^plan-.*\.json$/.test(f));

  testWith('jq')('GIVEN each plan fixture THEN the redacted plan gives the same summary, word for word', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(6);
    for (const file of fixtures) {
      const plan = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
      expect({ file, summary: summarizePlan(redact(plan)) }).toEqual({ file, summary: summarizePlan(plan) });
    }
  });

  testWith('jq')('GIVEN sensitive values in changes, drift, outputs and variables THEN none survives, and which attributes change still shows', () => {
    const secret = 's3cr3t-value';
    const plan = {
      format_version: '1.2', terraform_version: '1.11.4', complete: true, errored: false,
      variables: { turn_secret: { value: secret } },
      prior_state: { values: { root_module: { resources: [{ values: { user_data: secret } }] } } },
      planned_values: { root_module: { resources: [{ values: { user_data: secret } }] } },
      configuration: { root_module: { variables: { turn_secret: { sensitive: true } } } },
      resource_changes: [
        { address: 'digitalocean_droplet.x', type: 'digitalocean_droplet', name: 'x', change: {
          actions: ['delete', 'create'], replace_paths: [['user_data']],
          before: { user_data: `a ${secret}`, size: 's-1vcpu-1gb', tags: ['a', secret] }, after: { user_data: `b ${secret}`, size: 's-1vcpu-1gb', tags: ['a', secret] },
          after_unknown: { id: true }, before_sensitive: { user_data: true, tags: [false, true] }, after_sensitive: { user_data: true, tags: [false, true] },
          generated_config: `user_data = "${secret}"`,
        } },
        { address: 'digitalocean_record.y', type: 'digitalocean_record', name: 'y', change: {
          actions: ['update'], before: secret, after: secret, before_sensitive: true, after_sensitive: true,
        } },
      ],
      resource_drift: [{ address: 'digitalocean_droplet.x', type: 'digitalocean_droplet', name: 'x', change: { actions: ['update'], before: { user_data: secret }, after: { user_data: 'z' }, before_sensitive: { user_data: true }, after_sensitive: { user_data: true } } }],
      output_changes: { first_admin: { actions: ['create'], before: null, after: secret, after_sensitive: true } },
    };
    const redacted = redact(plan);
    expect(JSON.stringify(redacted)).not.toContain(secret);
    expect(Object.keys(redacted).sort()).toEqual(['complete', 'errored', 'format_version', 'output_changes', 'resource_changes', 'resource_drift', 'terraform_version']);
    const droplet = redacted.resource_changes[0].change;
    expect(droplet.before).toEqual({ user_data: '(sensitive)', size: 's-1vcpu-1gb', tags: '(sensitive)' });
    expect(droplet.after).toEqual({ user_data: '(sensitive, changed)', size: 's-1vcpu-1gb', tags: '(sensitive)' });
    expect(droplet.generated_config).toBeUndefined();
    expect(redacted.resource_changes[1].change).toMatchObject({ before: '(sensitive)', after: '(sensitive)' });
    expect(redacted.output_changes).toEqual({ first_admin: { actions: ['create'] } });
    // The summary still says the droplet is replaced because user_data changed.
    expect(renderPlanSummary(summarizePlan(redacted))).toBe(renderPlanSummary(summarizePlan(plan)));
  });

  testWith('jq')('GIVEN a configuration bundle output THEN its hash alone survives, and only when it is a plain SHA-256', () => {
    const hash = 'c'.repeat(64);
    const redacted = redact({
      output_changes: {
        Xmpp_config_bundle: { actions: ['update'], before: 'd'.repeat(64), after: hash, after_sensitive: false },
        Other_config_bundle: { actions: ['update'], before: null, after: 'not a hash s3cr3t', after_sensitive: false },
        Marked_config_bundle: { actions: ['update'], before: null, after: hash, after_sensitive: true },
        Xmpp_ssh: { actions: ['update'], before: null, after: 'ssh root@203.0.113.7' },
      },
    });
    expect(redacted.output_changes).toEqual({
      Xmpp_config_bundle: { actions: ['update'], after: hash },
      Other_config_bundle: { actions: ['update'] },
      Marked_config_bundle: { actions: ['update'] },
      Xmpp_ssh: { actions: ['update'] },
    });
  });
});

// ------------------------------------------------------------------------------------------------
// The plan and apply jobs, end to end against terraform and the stand-in provider
// ------------------------------------------------------------------------------------------------

const engine = terraformEngine();
const pipelineMissing = engine ? missingCommands(['jq', 'openssl']) : NO_ENGINE;

/** The example service with the TURN secret as a sensitive variable (as the README shows), its state in `statePath`. */
function synthesizeWithSensitiveSecret(statePath: string): string {
  const outdir = tempDir('synth-secret');
  const app = new App({ outdir, stackTraces: false });
  class SecretStack extends TerraformStack {
    constructor(scope: App, id: string) {
      super(scope, id);
      new LocalBackend(this, { path: statePath });
      new DigitaloceanProvider(this, 'do');
      const secret = new TerraformVariable(this, 'turn_secret', { type: 'string', sensitive: true });
      new XmppService(this, 'Xmpp', { spec: { ...exampleSpec, calls: { sharedSecret: secret.stringValue } } });
    }
  }
  new SecretStack(app, STACK_ID);
  app.synth();
  return path.join(outdir, 'stacks', STACK_ID);
}

describeUnless(pipelineMissing, 'the plan and apply jobs\' scripts — GIVEN the real engine, the stand-in provider and a sensitive TURN secret', () => {
  const TURN_SECRET = `turn-${randomBytes(16).toString('hex')}`;
  const PASSPHRASE = 'read-only-spaces-secret';
  let workspace: string;
  let planTemp: string;
  let stateDir: string;
  let planEnv: NodeJS.ProcessEnv;
  let planned: StepRun;

  /** A runner's temp with the synthesize job's artifact (and the plan job's, when given) downloaded. */
  const runnerWith = (synthStack: string, planArtifact?: string) => {
    const temp = tempDir('runner');
    fs.cpSync(synthStack, path.join(temp, 'synth', 'stack'), { recursive: true });
    if (planArtifact) fs.cpSync(planArtifact, path.join(temp, 'plan'), { recursive: true });
    return temp;
  };
  /** The checkout: the workflow's directory with the committed lock file. */
  const checkoutWith = (lockFile: string) => {
    const dir = tempDir('workspace');
    const gitops = path.join(dir, WORKFLOW.env.XMPP_DIR);
    fs.mkdirSync(gitops, { recursive: true });
    for (const file of ['plan-guard.js', 'redact-plan.jq']) fs.copyFileSync(path.join(GITOPS, file), path.join(gitops, file));
    fs.writeFileSync(path.join(gitops, '.terraform.lock.hcl'), lockFile);
    return dir;
  };

  beforeAll(() => {
    const install = installStandIn();
    stateDir = tempDir('state');
    const synthStack = synthesizeWithSensitiveSecret(path.join(stateDir, 'terraform.tfstate'));

    // The lock file as `providers lock` writes it (from the stand-in's mirror in place of the registry).
    const lockDir = tempDir('lock');
    fs.copyFileSync(path.join(synthStack, 'cdk.tf.json'), path.join(lockDir, 'cdk.tf.json'));
    const platform = `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`;
    const locked = spawnSync(engine!.command, ['providers', 'lock', `-fs-mirror=${install.mirror}`, `-platform=${platform}`, PROVIDER_SOURCE], { cwd: lockDir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, CHECKPOINT_DISABLE: '1' } });
    if (locked.status !== 0) throw new Error(`providers lock failed:\n${locked.stdout}${locked.stderr}`);
    const lockFile = fs.readFileSync(path.join(lockDir, '.terraform.lock.hcl'), 'utf8');

    workspace = checkoutWith(lockFile);
    planTemp = runnerWith(synthStack);
    planEnv = {
      TF: engine!.command, TF_CLI_CONFIG_FILE: install.cliConfig, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0',
      GITHUB_WORKSPACE: workspace, DIGITALOCEAN_TOKEN: 'dop_v1_read_only_example', AWS_ACCESS_KEY_ID: 'DO00READ', AWS_SECRET_ACCESS_KEY: PASSPHRASE,
      TF_VAR_turn_secret: TURN_SECRET,
    };
    expect(runStep('plan', 'Check the synthesized configuration', { cwd: workspace, runnerTemp: planTemp, env: planEnv })).toMatchObject({ status: 0 });
    planned = runStep('plan', 'Plan', { cwd: workspace, runnerTemp: planTemp, env: planEnv });
  });

  test('THEN the guard accepts the stack, init uses the committed lock file read-only, and the plan creates the service', () => {
    expect(planned.status).toBe(0);
    const planText = fs.readFileSync(path.join(planTemp, 'plan/plan.txt'), 'utf8');
    expect(planText).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
    expect(planText).toContain('digitalocean_droplet.');
    expect(fs.readdirSync(path.join(planTemp, 'stack')).sort()).toEqual(['.terraform', '.terraform.lock.hcl', 'cdk.tf.json', 'plan.bin']);
  });

  test('THEN it records the plan file\'s SHA-256 as the job\'s output and in the run summary', () => {
    const sha = createHash('sha256').update(fs.readFileSync(path.join(planTemp, 'stack/plan.bin'))).digest('hex');
    expect(planned.githubOutput).toBe(`plan_sha256=${sha}\n`);
    expect(planned.summary).toContain(sha);
  });

  test('THEN the TURN secret is in the plan, but not in anything that leaves the job, and the redacted plan gives the same summary', () => {
    const full = spawnSync(engine!.command, ['show', '-json', 'plan.bin'], { cwd: path.join(planTemp, 'stack'), encoding: 'utf8', env: { ...process.env, ...planEnv } });
    expect(full.status).toBe(0);
    // The test would see a leak: the unredacted JSON holds the secret.
    expect(full.stdout).toContain(TURN_SECRET);
    for (const file of fs.readdirSync(path.join(planTemp, 'plan'))) {
      expect({ file, leaks: fs.readFileSync(path.join(planTemp, 'plan', file), 'utf8').includes(TURN_SECRET) }).toEqual({ file, leaks: false });
    }
    const redacted = JSON.parse(fs.readFileSync(path.join(planTemp, 'plan/plan-redacted.json'), 'utf8'));
    const fullPlan = JSON.parse(full.stdout);
    expect(summarizePlan(redacted)).toEqual(summarizePlan(fullPlan));
    expect(renderPlanSummary(summarizePlan(redacted))).not.toContain(TURN_SECRET);
  });

  describe('WHEN main\'s plan file is encrypted and handed to the apply job', () => {
    let applyTemp: string;
    let sha: string;
    beforeAll(() => {
      sha = /plan_sha256=(\w+)/.exec(planned.githubOutput)![1];
      const encrypted = runStep('plan', 'Encrypt the plan file for the apply job', { cwd: workspace, runnerTemp: planTemp, env: { PLAN_PASSPHRASE: PASSPHRASE } });
      expect(encrypted.status).toBe(0);
      applyTemp = runnerWith(path.join(planTemp, 'synth/stack'), path.join(planTemp, 'plan'));
    });

    test('THEN the artifact holds the plan file only encrypted', () => {
      expect(fs.readdirSync(path.join(planTemp, 'plan')).sort()).toEqual(['plan-redacted.json', 'plan.bin.enc', 'plan.txt']);
      const plain = fs.readFileSync(path.join(planTemp, 'stack/plan.bin'));
      const sealed = fs.readFileSync(path.join(planTemp, 'plan/plan.bin.enc'));
      expect(sealed.subarray(0, 8).toString()).toBe('Salted__');
      expect(sealed.includes(plain.subarray(0, 64))).toBe(false);
    });

    test.each([
      ['another SHA-256 than the plan job recorded', () => ({ PLAN_SHA256: '0'.repeat(64), PLAN_PASSPHRASE: PASSPHRASE }), 'Plan file mismatch'],
      ['no recorded SHA-256 at all', () => ({ PLAN_SHA256: '', PLAN_PASSPHRASE: PASSPHRASE }), 'Plan file mismatch'],
      ['the wrong passphrase', () => ({ PLAN_SHA256: sha, PLAN_PASSPHRASE: 'wrong' }), 'bad decrypt'],
    ])('THEN a check with %s stops the apply before any tofu command', (_what, env, message) => {
      const temp = runnerWith(path.join(planTemp, 'synth/stack'), path.join(planTemp, 'plan'));
      const r = runStep('apply', 'Check the configuration and the plan file', { cwd: workspace, runnerTemp: temp, env: env() });
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(message);
    });

    test('THEN the apply applies exactly that plan; applied again, the stale plan is refused and the recovery step says what to do', () => {
      const verified = runStep('apply', 'Check the configuration and the plan file', { cwd: workspace, runnerTemp: applyTemp, env: { PLAN_SHA256: sha, PLAN_PASSPHRASE: PASSPHRASE } });
      expect(verified).toMatchObject({ status: 0 });
      const applyEnv = { ...planEnv, TF_VAR_turn_secret: undefined, DIGITALOCEAN_TOKEN: 'dop_v1_write_example', AWS_SECRET_ACCESS_KEY: 'write' };
      const applied = runStep('apply', 'Apply', { cwd: workspace, runnerTemp: applyTemp, env: applyEnv });
      expect(applied.status).toBe(0);
      expect(applied.output).toMatch(/Apply complete! Resources: \d+ added, 0 changed, 0 destroyed\./);
      const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'terraform.tfstate'), 'utf8'));
      expect(state.resources.map((r: { type: string }) => r.type)).toContain('digitalocean_droplet');

      const again = runStep('apply', 'Apply', { cwd: workspace, runnerTemp: applyTemp, env: applyEnv });
      expect(again.status).not.toBe(0);
      expect(again.output).toMatch(/Saved plan is stale/);
      const recovery = runStep('apply', 'Say what happened and how to recover', { cwd: workspace, runnerTemp: applyTemp, env: { VERIFY_OUTCOME: 'success', APPLY_OUTCOME: 'failure' } });
      expect(recovery.summary).toContain('**Saved plan is stale**');
    });
  });

  test('WHEN the committed lock file holds another checksum THEN init -lockfile=readonly stops the plan, and nothing is planned', () => {
    const lock = fs.readFileSync(path.join(workspace, WORKFLOW.env.XMPP_DIR, '.terraform.lock.hcl'), 'utf8');
    const tampered = lock.replace(/"h1:[^"]+"/g, '"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="').replace(/"zh:[0-9a-f]+"/g, `"zh:${'0'.repeat(64)}"`);
    expect(tampered).not.toBe(lock);
    const temp = runnerWith(path.join(planTemp, 'synth/stack'));
    const checkout = checkoutWith(tampered);
    expect(runStep('plan', 'Check the synthesized configuration', { cwd: checkout, runnerTemp: temp, env: planEnv }).status).toBe(0);
    const r = runStep('plan', 'Plan', { cwd: checkout, runnerTemp: temp, env: { ...planEnv, GITHUB_WORKSPACE: checkout } });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/doesn't match any\s+of the checksums previously recorded in the dependency lock file/);
    expect(fs.existsSync(path.join(temp, 'stack/plan.bin'))).toBe(false);
    expect(r.githubOutput).toBe('');
  });

  test('WHEN the lock file is missing THEN the plan job stops, saying how to make one', () => {
    const temp = runnerWith(path.join(planTemp, 'synth/stack'));
    const checkout = checkoutWith('');
    fs.rmSync(path.join(checkout, WORKFLOW.env.XMPP_DIR, '.terraform.lock.hcl'));
    const r = runStep('plan', 'Check the synthesized configuration', { cwd: checkout, runnerTemp: temp, env: planEnv });
    expect(r.status).toBe(1);
    expect(r.output).toContain('::error title=No provider lock file::examples/gitops/.terraform.lock.hcl is missing: create it once with tofu providers lock');
  });

  test('WHEN synthesis adds an external data source THEN the guard step refuses it and nothing reaches the planned directory', () => {
    const hostile = tempDir('hostile');
    const config = JSON.parse(fs.readFileSync(path.join(planTemp, 'synth/stack/cdk.tf.json'), 'utf8'));
    config.data = { external: { env: { program: ['sh', '-c', 'env'] } } };
    fs.writeFileSync(path.join(hostile, 'cdk.tf.json'), JSON.stringify(config));
    const temp = runnerWith(hostile);
    const r = runStep('plan', 'Check the synthesized configuration', { cwd: workspace, runnerTemp: temp, env: planEnv });
    expect(r.status).toBe(1);
    expect(r.output).toContain('data.external: a data source of another provider');
    expect(fs.existsSync(path.join(temp, 'stack'))).toBe(false);
  });
});
