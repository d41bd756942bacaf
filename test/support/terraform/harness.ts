/**
 * Runs the real `terraform` (or `tofu`) on synthesized stacks, with the stand-in DigitalOcean
 * provider installed the way an air-gapped user installs a provider: a filesystem mirror named in
 * the CLI configuration. `terraform init` finds it there and locks it, and every later command
 * starts it as it starts any provider (go-plugin handshake, gRPC, mutual TLS).
 *
 * The stand-in is installed once per machine and source version under the system's temp directory:
 * its TypeScript is transpiled to JavaScript (Terraform starts it for every command, so no compiler
 * at start-up), its schema generated from the bindings once, and a TLS key made once.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import * as ts from 'typescript';
import { bindingsProviderVersion, ProviderSemantics, providerSchemaFromBindings } from './provider-schema';

/**
 * Where the stand-in's sources and data live: beside this file when it runs from the repository,
 * under the repository root when it runs compiled (the plan benchmark runs from dist-bench/).
 */
function repositoryRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'support', 'terraform', 'tfplugin5.proto'))) return dir;
  }
  throw new Error(`The stand-in provider's sources (test/support/terraform) are not above ${__dirname}`);
}
const ROOT = repositoryRoot();
const SOURCE_DIR = join(ROOT, 'test', 'support', 'terraform');
const SOURCE_FILES = ['cty.ts', 'provider-schema.ts', 'protocol-schema.ts', 'standin.ts', 'provider-server.ts'];
const DATA_FILES = ['tfplugin5.proto', 'go-plugin.proto', 'health.proto', 'provider-semantics.json'];
export const PROVIDER_SOURCE = 'registry.terraform.io/digitalocean/digitalocean';

/** The engine on PATH: OpenTofu when present (what the GitOps example uses), else Terraform. */
export function terraformEngine(): { readonly command: string; readonly name: 'tofu' | 'terraform' } | undefined {
  for (const name of ['tofu', 'terraform'] as const) {
    if (spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0) return { command: name, name };
  }
  return undefined;
}

export interface StandInInstall {
  /** The CLI configuration naming the mirror (TF_CLI_CONFIG_FILE). */
  readonly cliConfig: string;
  readonly mirror: string;
  readonly providerVersion: string;
}

let installed: StandInInstall | undefined;

/** Installs the stand-in provider (once per source version; concurrent callers share it). */
export function installStandIn(): StandInInstall {
  if (installed) return installed;
  const version = bindingsProviderVersion();
  const digest = createHash('sha256');
  for (const file of [...SOURCE_FILES, ...DATA_FILES]) digest.update(file).update(readFileSync(join(SOURCE_DIR, file)));
  digest.update(version).update(readFileSync(require.resolve('@cdktf/provider-digitalocean/package.json')));
  // The launcher names this checkout's node_modules and this node: another checkout (or a removed
  // one) must not start the stand-in through an install that points elsewhere.
  digest.update(ROOT).update(process.execPath);
  const home = join(tmpdir(), `xmpp-constructs-standin-${digest.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(home, 'complete'))) {
    const building = mkdtempSync(`${home}.building-`);
    build(building, home, version);
    try {
      renameSync(building, home);
    } catch {
      // Another test process finished first: theirs is the same build.
      rmSync(building, { recursive: true, force: true });
    }
  }
  removeStaleInstalls(home);
  const mirror = join(home, 'mirror');
  installed = { cliConfig: join(home, 'terraformrc'), mirror, providerVersion: version };
  return installed;
}

/**
 * Installs of other source versions, untouched for a day: a test run still using one started with
 * it less than a day ago (runs take minutes).
 */
function removeStaleInstalls(current: string): void {
  const prefix = 'xmpp-constructs-standin-';
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of readdirSync(tmpdir())) {
    const dir = join(tmpdir(), name);
    if (!name.startsWith(prefix) || dir === current) continue;
    try {
      if (statSync(dir).mtimeMs < dayAgo) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another test process.
    }
  }
}

/** Builds into `dir`, which is then renamed to `home`: the files written name their final paths. */
function build(dir: string, home: string, version: string): void {
  const program = join(dir, 'program');
  mkdirSync(program);
  for (const file of SOURCE_FILES) {
    const source = readFileSync(join(SOURCE_DIR, file), 'utf8');
    const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
    writeFileSync(join(program, file.replace(/\.ts$/, '.js')), output.outputText);
  }
  for (const file of DATA_FILES) writeFileSync(join(program, file), readFileSync(join(SOURCE_DIR, file)));
  const semantics = JSON.parse(readFileSync(join(SOURCE_DIR, 'provider-semantics.json'), 'utf8')) as ProviderSemantics;
  writeFileSync(join(dir, 'schema.json'), JSON.stringify(providerSchemaFromBindings(semantics)));

  // go-plugin's mutual TLS: the provider presents this certificate for "localhost".
  const tls = join(dir, 'tls');
  mkdirSync(tls);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
    '-keyout', join(tls, 'server.key'), '-out', join(tls, 'server.pem'),
  ], { stdio: 'ignore' });

  const packageDir = join(dir, 'mirror', PROVIDER_SOURCE, version, 'linux_amd64');
  mkdirSync(packageDir, { recursive: true });
  const executable = join(packageDir, `terraform-provider-digitalocean_v${version}`);
  writeFileSync(
    executable,
    [
      '#!/bin/sh',
      '# The stand-in DigitalOcean provider (xmpp-constructs tests): Node, speaking tfplugin5.',
      `export XMPP_STANDIN_SCHEMA='${join(home, 'schema.json')}' XMPP_STANDIN_TLS='${join(home, 'tls')}' NODE_PATH='${join(ROOT, 'node_modules')}'`,
      `exec '${process.execPath}' '${join(home, 'program', 'provider-server.js')}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(executable, 0o755);
  writeFileSync(
    join(dir, 'terraformrc'),
    [
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = "${join(home, 'mirror')}"`,
      `    include = ["${PROVIDER_SOURCE}"]`,
      '  }',
      '}',
      'disable_checkpoint = true',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'complete'), '');
}

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** A directory holding one stack's cdk.tf.json and its local state, worked on by the real engine. */
/**
 * Spaces credentials for the stand-in, as the environment the real provider reads them from when
 * the provider block sets no spaces_access_id / spaces_secret_key (SDKv2 EnvDefaultFuncs). Every
 * operation on a digitalocean_spaces_bucket or digitalocean_spaces_bucket_object needs them; pass
 * them as `new TerraformWorkspace({ env: SPACES_CREDENTIALS })`, per command as `{ env }`, or set
 * them in the stack's provider block. Made-up values: no cloud is called.
 */
export const SPACES_CREDENTIALS: NodeJS.ProcessEnv = Object.freeze({
  SPACES_ACCESS_KEY_ID: 'DO00STANDINACCESSKEY',
  SPACES_SECRET_ACCESS_KEY: 'stand-in-spaces-secret-key-for-tests',
});

export class TerraformWorkspace {
  readonly dir: string;
  private readonly engine: { readonly command: string; readonly name: string };
  private readonly install: StandInInstall;
  /** Environment for every command here (and so for the provider it starts), e.g. SPACES_CREDENTIALS. */
  env: NodeJS.ProcessEnv;

  constructor(options: { readonly dir?: string; readonly env?: NodeJS.ProcessEnv } = {}) {
    const engine = terraformEngine();
    if (!engine) throw new Error('Neither tofu nor terraform is on PATH');
    this.engine = engine;
    this.install = installStandIn();
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'xmpp-plan-'));
    this.env = { ...options.env };
  }

  get engineName(): string {
    return this.engine.name;
  }

  /**
   * Puts a synthesized stack here. Its backend becomes local state in this directory: the stacks
   * are synthesized with the project's own backend, whose path points outside.
   */
  writeStack(stack: unknown): void {
    const json = JSON.parse(JSON.stringify(stack)) as { terraform?: { backend?: unknown } };
    json.terraform = { ...(json.terraform ?? {}), backend: { local: { path: 'terraform.tfstate' } } };
    writeFileSync(join(this.dir, 'cdk.tf.json'), JSON.stringify(json, null, 2));
  }

  /** Runs the engine here; resolves with what it printed, whatever its exit status. */
  run(args: readonly string[], options: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const child = spawn(this.engine.command, [...args], {
        cwd: this.dir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          TMPDIR: process.env.TMPDIR,
          TF_CLI_CONFIG_FILE: this.install.cliConfig,
          TF_IN_AUTOMATION: '1',
          TF_INPUT: '0',
          CHECKPOINT_DISABLE: '1',
          ...this.env,
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({
          status: code ?? 1,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        }),
      );
    });
  }

  /** Runs the engine and fails with its output unless it exits 0. */
  async ok(args: readonly string[], options: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    const result = await this.run(args, options);
    if (result.status !== 0) {
      throw new Error(`${this.engine.name} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
    }
    return result;
  }

  init(): Promise<CommandResult> {
    return this.ok(['init', '-no-color', '-input=false']);
  }

  /** `plan -out`, then the plan as `show -json` prints it. */
  async plan(extra: readonly string[] = [], options: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<{ result: CommandResult; json: PlanJson }> {
    const result = await this.ok(['plan', '-no-color', '-input=false', '-out=plan.bin', ...extra], options);
    const shown = await this.ok(['show', '-json', 'plan.bin'], options);
    return { result, json: JSON.parse(shown.stdout) as PlanJson };
  }

  apply(options: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
    return this.ok(['apply', '-no-color', '-input=false', '-auto-approve', 'plan.bin'], options);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

}

export interface ResourceChange {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly index?: string | number;
  readonly action_reason?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before: { readonly [key: string]: unknown } | null;
    readonly after: { readonly [key: string]: unknown } | null;
    readonly after_unknown?: { readonly [key: string]: unknown };
    readonly after_sensitive?: { readonly [key: string]: unknown } | boolean;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
}

export interface PlanJson {
  readonly format_version: string;
  readonly errored?: boolean;
  readonly resource_changes?: readonly ResourceChange[];
  readonly [key: string]: unknown;
}

/** The changes of a plan that do something, by address. */
export function effectiveChanges(plan: PlanJson): ResourceChange[] {
  return (plan.resource_changes ?? []).filter((c) => !(c.change.actions.length === 1 && (c.change.actions[0] === 'no-op' || c.change.actions[0] === 'read')));
}
