/**
 * The README's quickstart on a laptop, followed up to the first call to the cloud: in a copy of this
 * checkout (its tracked files and its untracked, not ignored ones, so uncommitted work is tested as
 * well), `npm ci && npm run synth` exactly as "Set up" and "Quickstart" write them; what synth prints
 * is what the README says it prints; then, in the stack directory synth printed, the next command it
 * prints, `tofu init && tofu plan` (`terraform` when there is no `tofu`), with the stand-in
 * DigitalOcean provider (test/support/terraform) in place of the real one and a made-up
 * DIGITALOCEAN_TOKEN where the README has the user export theirs. The plan must create the service.
 * In a network namespace of its own (nothing leaves this machine), `npm run synth` writes the same
 * stack again ("no network"), and the README's `npm run doctor -- --plan cdktf.out` finds the plan
 * in cdktf.out and checks everything it plans, failing each check since nothing is deployed.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { installStandIn, terraformEngine } from '../support/terraform/harness';
import { testUnless } from '../support/tools';
import { NO_ENGINE } from '../plan/stacks';
import { copyCheckout } from '../support/checkout';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const engine = terraformEngine();

/** A `## ` section of the README, without its heading. */
function section(title: string): string {
  const start = README.split('\n').findIndex((line) => line.startsWith(`## ${title}`));
  if (start < 0) throw new Error(`README.md has no section "## ${title}…": the quickstart test follows it, so update the test with the README`);
  const rest = README.split('\n').slice(start + 1);
  const end = rest.findIndex((line) => /^## /.test(line));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The lines of a section's first ```sh block, comments removed. */
function shBlock(text: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(text);
  if (!block) throw new Error('no ```sh block in the section');
  return block[1].split('\n').map((line) => line.replace(/(^|\s)#.*$/, '').trim()).filter(Boolean);
}

/** A section's prose (code blocks removed), its line breaks as spaces. */
const prose = (text: string) => text.replace(/```[\s\S]*?```/g, '').replace(/\s+/g, ' ');

const SET_UP = section('Set up');
const QUICKSTART = section('Quickstart');

/** What the README says synth writes and prints ("Set up", the paragraph after the block). */
const CLAIMS = (() => {
  const text = prose(SET_UP);
  const writes = /`npm run synth`[^.]*? writes `([^`]+\/cdk\.tf\.json)`[^`]*?next to it, `([^`]+)`/.exec(text);
  const next = /prints both paths and the next command \(`([^`]+)`, or `([^`]+)` in the stack's directory\)/.exec(text);
  if (!writes || !next) throw new Error(`README.md's "Set up" no longer says, as this test reads it, where npm run synth writes and what it prints next; update the test with the README:\n${text}`);
  return { stack: writes[1], review: writes[2].replace(/\/$/, ''), deploy: next[1], plan: next[2] };
})();

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const shown = (r: SpawnSyncReturns<string>) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}${r.error ? ` (${r.error.message})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/**
 * The environment of a user's shell: this one without what would steer npm, cdktf or Terraform
 * elsewhere (a parent `npm test`'s package variables, an outdir, a CLI configuration, a token).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|npm_command$|INIT_CWD$|CDKTF_|TF_|DIGITALOCEAN_)/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

/** The commands of `a && b && c`. */
const steps = (line: string) => line.split('&&').map((s) => s.trim());

/** The README's first line, split into its commands: the same in "Set up" and "Quickstart". */
const FIRST = steps(shBlock(QUICKSTART)[0]);

let work: string;
const times: { [step: string]: number } = {};
/** What each of the README's first commands did, by the command as the README writes it. */
const ran: { [command: string]: SpawnSyncReturns<string> } = {};
let printed: { stack: string; review: string; next: string } | undefined;

/** `npm ci` takes flags that change only what it prints and whether it asks the registry about a tarball already in the cache. */
const AS_RUN: { [command: string]: string } = { 'npm ci': 'npm ci --no-audit --no-fund --prefer-offline' };

/** How `command` ended, or that it never ran. */
const outcome = (command: string) => (ran[command] ? shown(ran[command]) : `${command} did not run: a command before it failed`);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'xmpp-quickstart-'));
  let t = process.hrtime.bigint();
  const files = copyCheckout(work);
  times[`copy the checkout (${files} files)`] = seconds(t);

  // The README's first line, command by command, as `&&` runs them.
  for (const command of FIRST) {
    t = process.hrtime.bigint();
    ran[command] = spawnSync('sh', ['-c', AS_RUN[command] ?? command], { cwd: work, env: userEnv(), encoding: 'utf8', timeout: 480_000, maxBuffer: 64 * 1024 * 1024 });
    times[command] = seconds(t);
    if (ran[command].status !== 0) break;
  }
  const stdout = ran['npm run synth']?.stdout ?? '';
  const wrote = /^Synthesized (\S+) and the review files in (\S+?)\/?\.$/m.exec(stdout);
  const next = /^Next: (.*)$/m.exec(stdout);
  if (wrote && next) printed = { stack: wrote[1], review: wrote[2], next: next[1] };
});

afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`quickstart timings: ${Object.entries(times).map(([step, s]) => `${step} ${s.toFixed(1)} s`).join(', ')}`);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('GIVEN the README THEN "Set up" and "Quickstart" both begin with `npm ci && npm run synth`, which the scripts define', () => {
  expect(FIRST).toEqual(['npm ci', 'npm run synth']);
  expect(steps(shBlock(SET_UP)[0])).toEqual(FIRST);
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { [name: string]: string } }).scripts;
  expect(scripts.synth).toEqual(expect.any(String));
});

test('GIVEN a copy of the checkout WHEN `npm ci` runs THEN it installs the locked dependencies', () => {
  expect(outcome('npm ci')).toMatch(/^exit 0\n/);
  expect(existsSync(join(work, 'node_modules', '.package-lock.json'))).toBe(true);
  expect(existsSync(join(work, 'node_modules', 'cdktf', 'package.json'))).toBe(true);
});

test('WHEN `npm run synth` runs, with no token and no CLI configuration THEN it writes the stack and the review files where the README says and prints both paths and the next command', () => {
  expect(outcome('npm run synth')).toMatch(/^exit 0\n/);
  const stdout = ran['npm run synth'].stdout;
  expect(stdout).toMatch(/^Synthesized \S+ and the review files in \S+\.$/m);
  expect(stdout).toMatch(/^Next: .+$/m);
  expect(printed).toBeDefined();
  const { stack, review, next } = printed!;

  // Both paths, as the README names them, exist as it says.
  expect(stack).toBe(CLAIMS.stack);
  expect(existsSync(join(work, stack))).toBe(true);
  expect(review).toBe(join(dirname(stack), 'review'));
  expect(existsSync(join(work, dirname(stack), CLAIMS.review))).toBe(true);
  for (const file of ['user-data.yaml', 'doctor-plan.json', 'dns/zones.txt', 'host/etc/prosody/prosody.cfg.lua', 'host/etc/turnserver.conf', 'host/etc/nginx/conf.d/xmpp-constructs.conf']) {
    expect(existsSync(join(work, dirname(stack), CLAIMS.review, file))).toBe(true);
  }

  // The next command: the README's deploy command, or the plan in the stack's directory.
  expect(next).toContain(CLAIMS.deploy);
  expect(next).toContain(`cd ${dirname(stack)} && ${CLAIMS.plan}`);
  // The Quickstart's OpenTofu path goes into the same directory.
  const alternative = /# or: cd (\S+) &&/.exec(QUICKSTART);
  expect(alternative?.[1]).toBe(dirname(stack));
});

test('GIVEN the stack THEN its state is local, at the project root, as "Use it in your own stack" says of XmppStack', () => {
  expect(printed).toBeDefined();
  const stackDir = join(work, dirname(printed!.stack));
  const json = JSON.parse(readFileSync(join(work, printed!.stack), 'utf8')) as { terraform: { backend: { [kind: string]: { path?: string } } } };
  expect(Object.keys(json.terraform.backend)).toEqual(['local']);
  const stackId = stackDir.split('/').pop();
  expect(resolve(stackDir, json.terraform.backend.local.path!)).toBe(join(work, `terraform.${stackId}.tfstate`));
});

test('GIVEN the Quickstart THEN the file it says to edit holds the declaration (domain, admin, addresses)', () => {
  const edit = /Edit `([^`]+)` first: your domain, your admin, your addresses/.exec(prose(QUICKSTART));
  expect(edit).not.toBeNull();
  const declaration = readFileSync(join(ROOT, edit![1]), 'utf8');
  expect(declaration).toMatch(/domains: \['example\.net'\]/);
  expect(declaration).toMatch(/admins: \[/);
  expect(declaration).toMatch(/adminSourceCidrs: \[/);
});

testUnless(engine ? undefined : NO_ENGINE)(
  'WHEN the printed `cd <stack dir> && tofu init && tofu plan` runs (terraform without tofu) with the stand-in provider and the token the README has the user export THEN it plans to create the whole service, and prints it as users see it',
  () => {
    expect(printed).toBeDefined();
    const command = /\(or: (cd \S+ && .+?)\)\s*$/.exec(printed!.next)?.[1];
    expect(command).toBe(`cd ${dirname(printed!.stack)} && ${CLAIMS.plan}`);
    const asRun = engine!.name === 'tofu' ? command! : command!.replace(/\btofu\b/g, engine!.command);

    const t = process.hrtime.bigint();
    const run = spawnSync('sh', ['-c', asRun], {
      cwd: work,
      // A user's shell after the Quickstart's `export DIGITALOCEAN_TOKEN=…`; the CLI configuration is
      // what installs the stand-in in place of the registry's provider.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TF_CLI_CONFIG_FILE: installStandIn().cliConfig, DIGITALOCEAN_TOKEN: 'dop_v1_0000000000000000000000000000000000000000000000000000000000000000' },
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    times[`${engine!.name} init && ${engine!.name} plan`] = seconds(t);
    expect(shown(run)).toMatch(/^exit 0\n/);
    const out = strip(run.stdout);

    // init found the provider (the stand-in, through the mirror) and locked it beside the stack.
    expect(out).toMatch(/- Installed digitalocean\/digitalocean v\d+\.\d+\.\d+/);
    expect(out).toMatch(/(Terraform|OpenTofu) has been successfully initialized!/);
    expect(existsSync(join(work, dirname(printed!.stack), '.terraform.lock.hcl'))).toBe(true);

    // What plan shows: every resource of the stack to be created, and the count.
    const stack = JSON.parse(readFileSync(join(work, printed!.stack), 'utf8')) as {
      resource: { [type: string]: { [name: string]: { for_each?: string } } };
      locals?: { [name: string]: { [key: string]: unknown } };
    };
    const expected: string[] = [];
    for (const [type, resources] of Object.entries(stack.resource)) {
      for (const [name, body] of Object.entries(resources)) {
        if (body.for_each === undefined) {
          expected.push(`${type}.${name}`);
          continue;
        }
        const local = /^\$\{local\.([\w-]+)\}$/.exec(body.for_each)?.[1];
        expect(local && stack.locals?.[local]).toBeTruthy();
        for (const key of Object.keys(stack.locals![local!])) expected.push(`${type}.${name}[${JSON.stringify(key)}]`);
      }
    }
    const created = [...out.matchAll(/^\s*# (\S+) will be created$/gm)].map((m) => m[1]);
    expect(created.sort()).toEqual(expected.sort());
    expect(out).toContain(`Plan: ${created.length} to add, 0 to change, 0 to destroy.`);

    // The service: droplet, data volume, firewall, zone, records, reserved IPv4 and IPv6 assigned.
    const types = new Set(created.map((address) => address.split('.')[0]));
    for (const type of ['digitalocean_droplet', 'digitalocean_volume', 'digitalocean_firewall', 'digitalocean_domain', 'digitalocean_record', 'digitalocean_reserved_ip', 'digitalocean_reserved_ip_assignment', 'digitalocean_reserved_ipv6', 'digitalocean_reserved_ipv6_assignment']) {
      expect(types).toContain(type);
    }
    const records = created.map((address) => /^digitalocean_record\.\w+\["([^"]+)"\]$/.exec(address)?.[1]).filter((k): k is string => k !== undefined);
    expect(records).toEqual(expect.arrayContaining(['example.net/@/A', 'example.net/@/AAAA', 'example.net/_xmpp-client._tcp/SRV', 'example.net/_xmpps-client._tcp/SRV', 'example.net/_xmpp-server._tcp/SRV', 'example.net/upload/CNAME', 'example.net/conference/CNAME']));
    expect(records.some((key) => key.startsWith('example.net/@/CAA'))).toBe(true);

    // The outputs the Quickstart's table says will tell the user what to do next.
    const outputs = out.slice(out.indexOf('Changes to Outputs:'));
    expect(out).toContain('Changes to Outputs:');
    const documented = [...QUICKSTART.matchAll(/^\| `(Xmpp_\w+)`(?:, `(Xmpp_\w+)`)? \|/gm)].flatMap((m) => m.slice(1).filter(Boolean));
    expect(documented.length).toBeGreaterThan(5);
    for (const name of documented) expect(outputs).toMatch(new RegExp(`^\\s*\\+ ${name}\\s+=`, 'm'));
  },
);

/** Runs in a network namespace of its own, where nothing reaches any network (the loopback is down). */
const NO_UNSHARE = spawnSync('unshare', ['--net', 'true']).status === 0 ? undefined : 'unshare --net cannot run here (it needs root or user namespaces)';

testUnless(NO_UNSHARE)(
  'GIVEN the synthesized stack and no network (nothing is deployed, and nothing may leave this machine) WHEN the README\'s `npm run doctor -- --plan cdktf.out` runs THEN it finds the plan under cdktf.out and checks what it plans, every check failing with its fix (the data volume\'s a warning), exit 1',
  () => {
    expect(printed).toBeDefined();
    const command = /`(npm run doctor -- --plan cdktf\.out)`/.exec(README)?.[1];
    expect(command).toBeDefined();
    const t = process.hrtime.bigint();
    const run = spawnSync('unshare', ['--net', 'sh', '-c', command!], { cwd: work, env: userEnv(), encoding: 'utf8', timeout: 180_000 });
    times['npm run doctor without network'] = seconds(t);
    // 1: checks failed (2 would be: it could not run, e.g. no plan found).
    expect(shown(run)).toMatch(/^exit 1\n/);
    const plan = JSON.parse(readFileSync(join(work, dirname(printed!.stack), CLAIMS.review, 'doctor-plan.json'), 'utf8')) as { records: { name: string; type: string }[] };
    expect(plan.records.length).toBeGreaterThan(5);
    for (const record of plan.records) expect(run.stdout).toContain(`✘ ${record.name} ${record.type}:`);
    for (const group of ['DNS records', 'TLS certificates', 'Ports']) expect(run.stdout).toMatch(new RegExp(`^${group}$`, 'm'));
    const failed = run.stdout.split('\n').filter((line) => /^\s+✘ /.test(line));
    expect(failed.length).toBeGreaterThan(plan.records.length);
    // The data volume's figure cannot be read either: a warning (the host's other checks fail).
    const warned = run.stdout.split('\n').filter((line) => /^\s+! /.test(line));
    expect(warned).toEqual([expect.stringMatching(/^\s+! the data volume is less than 80% full/)]);
    expect(run.stdout.split('\n').filter((line) => /^\s+fix: /.test(line))).toHaveLength(failed.length + warned.length);
    expect(run.stdout).toMatch(new RegExp(`^FAILED: 0 passed, ${failed.length} failed`, 'm'));
  },
);

testUnless(NO_UNSHARE)(
  'GIVEN no network at all (a fresh network namespace) WHEN `npm run synth` runs again THEN it writes the same stack: "no cloud credentials, no network"',
  () => {
    expect(printed).toBeDefined();
    expect(SET_UP).toMatch(/npm run synth\s+#[^\n]*no cloud credentials, no network/);
    const before = readFileSync(join(work, printed!.stack), 'utf8');
    const t = process.hrtime.bigint();
    const offline = spawnSync('unshare', ['--net', 'npm', 'run', 'synth'], { cwd: work, env: userEnv(), encoding: 'utf8', timeout: 120_000 });
    times['npm run synth without network'] = seconds(t);
    expect(shown(offline)).toMatch(/^exit 0\n/);
    expect(readFileSync(join(work, printed!.stack), 'utf8')).toBe(before);
  },
);
