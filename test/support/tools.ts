/**
 * Helpers for tests that run the real Debian tools against rendered output.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

// ------------------------------------------------------------------------------------------------
// Tests that cannot run here. Under CI they fail, naming what is missing and how to get it: a CI
// run that skipped them would report green for checks it never made. Elsewhere they are skipped
// with a loud warning, so a laptop without the Debian packages still runs the rest of the suite.
// Every real-tool test goes through testWith, testUnless or describeUnless; none returns early.
// ------------------------------------------------------------------------------------------------

/** True when `CI` is set, non-empty and not "false": the variable GitHub Actions, GitLab CI and most other runners set. */
export function isUnderCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value.toLowerCase() !== 'false';
}

/** The Debian package of each command a test runs, so a missing one is reported with what to install. */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = {
  certutil: 'libnss3-tools',
  chromium: 'chromium',
  'cloud-init': 'cloud-init',
  curl: 'curl',
  ip: 'iproute2',
  jq: 'jq',
  losetup: 'mount',
  lua: 'lua5.4',
  'lua5.4': 'lua5.4',
  'named-checkzone': 'bind9-utils',
  nginx: 'nginx',
  nsenter: 'util-linux',
  openssl: 'openssl',
  prosody: 'prosody',
  prosodyctl: 'prosody',
  runuser: 'util-linux',
  shellcheck: 'shellcheck',
  'systemd-analyze': 'systemd',
  turnadmin: 'coturn',
  turnserver: 'coturn',
  turnutils_peer: 'coturn',
  turnutils_stunclient: 'coturn',
  turnutils_uclient: 'coturn',
  unshare: 'util-linux',
  xmllint: 'libxml2-utils',
  yamllint: 'yamllint',
};

/** True when `name` is an executable on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v '${name.replace(/'/g, `'\\''`)}'`], { stdio: 'ignore' }).status === 0;
}

const ROOT = join(__dirname, '..', '..');
let npmTestPackages: ReadonlySet<string> | null | undefined;

/**
 * Whether npm test installs the Debian package `pkg` (undefined: the list could not be read):
 * scripts/test-packages.ts prints what scripts/test.sh installs. Read once, and only when a command
 * is missing, so the message below stays true as that list changes.
 */
export function npmTestInstalls(pkg: string): boolean | undefined {
  if (npmTestPackages === undefined) {
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'scripts', 'test-packages.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    npmTestPackages = r.status === 0 ? new Set(r.stdout.trim().split(/\s+/)) : null;
  }
  return npmTestPackages === null ? undefined : npmTestPackages.has(pkg);
}

/** Why a test cannot run without `command`, and how to get it: the sentence a CI failure shows. */
export function notInstalled(command: string, installs: (pkg: string) => boolean | undefined = npmTestInstalls): string {
  const pkg = DEBIAN_PACKAGE_OF[command];
  if (pkg === undefined) return `${command} is not installed (not found on PATH)`;
  switch (installs(pkg)) {
    case true:
      return `${command} is not installed (Debian package ${pkg}); npm test installs it`;
    case false:
      return `${command} is not installed (Debian package ${pkg}), and npm test does not install it (scripts/test-packages.ts): apt-get install ${pkg}`;
    case undefined:
      return `${command} is not installed (Debian package ${pkg}; scripts/test-packages.ts lists what npm test installs)`;
  }
}

/** The reason the commands that are not on PATH give, or undefined when every one is there. */
export function missingCommands(
  commands: readonly string[],
  machine: { readonly has?: (command: string) => boolean; readonly installs?: (pkg: string) => boolean | undefined } = {},
): string | undefined {
  const missing = commands.filter((c) => !(machine.has ?? hasCommand)(c));
  return missing.length === 0 ? undefined : missing.map((c) => notInstalled(c, machine.installs)).join('; ');
}

/** What becomes of a test that cannot run for `reason` (undefined: it can run). */
export function fateOf(reason: string | undefined, env: NodeJS.ProcessEnv = process.env): 'run' | 'fail' | 'skip' {
  if (reason === undefined) return 'run';
  return isUnderCi(env) ? 'fail' : 'skip';
}

/** The failure a test that cannot run reports under CI. */
export class CannotRunUnderCiError extends Error {
  constructor(readonly reason: string) {
    super(`cannot run, and under CI a test that cannot run fails rather than skips: ${reason}`);
    this.name = 'CannotRunUnderCiError';
    // Where it was thrown says nothing (this file, every time): the message is the whole report.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Warned once per block or reason, and test file (jest loads this module afresh for each file). */
const warned = new Set<string>();
function warnSkipped(reason: string, what: string): void {
  const key = `${what}: ${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  // eslint-disable-next-line no-console
  console.warn(`\n!!! SKIPPED (${what}): ${reason}. These checks did NOT run; under CI they would fail. !!!\n`);
}

/**
 * `test` whose every registration (plain, .each, .only, .concurrent, .failing) registers a test that
 * throws CannotRunUnderCiError, under the same name, so the report names the test that did not run.
 */
function failingTest(reason: string): jest.It {
  const fail = (): never => {
    throw new CannotRunUnderCiError(reason);
  };
  const register = (name: string, _fn?: unknown, timeout?: number): void => test(name, fail, timeout);
  const each = (...table: unknown[]) => (name: string, _fn?: unknown, timeout?: number): void =>
    (test.each as (...t: unknown[]) => (n: string, f: () => void, t?: number) => void)(...table)(name, fail, timeout);
  const only = Object.assign((name: string, _fn?: unknown, timeout?: number): void => test.only(name, fail, timeout), {
    each: (...table: unknown[]) => (name: string, _fn?: unknown, timeout?: number): void =>
      (test.only.each as (...t: unknown[]) => (n: string, f: () => void, t?: number) => void)(...table)(name, fail, timeout),
  });
  const it = Object.assign(register, { each, only, skip: test.skip, todo: test.todo });
  // A test expected to fail would pass by failing here, so .failing registers the plain failing
  // test; .concurrent needs nothing different.
  return Object.assign(it, { failing: it, concurrent: it }) as unknown as jest.It;
}

/**
 * `test` when `reason` is undefined. Otherwise, under CI, a test that fails with `reason`;
 * elsewhere `test.skip`, with a warning naming what did not run.
 */
export function testUnless(reason: string | undefined): jest.It {
  switch (fateOf(reason)) {
    case 'run':
      return test;
    case 'fail':
      return failingTest(reason!);
    case 'skip':
      warnSkipped(reason!, 'tests');
      return test.skip;
  }
}

/** `testUnless` for tests that run `commands`: the reason names each missing one and its Debian package. */
export function testWith(...commands: string[]): jest.It {
  return testUnless(missingCommands(commands));
}

/**
 * `describe(title, fn)` when `reason` is undefined. Otherwise, under CI, a block holding one test
 * that fails with `reason` (fn is not called: its hooks would start what is missing); elsewhere
 * `describe.skip`, with a warning naming the block that did not run.
 */
export function describeUnless(reason: string | undefined, title: string, fn: () => void): void {
  switch (fateOf(reason)) {
    case 'run':
      describe(title, fn);
      return;
    case 'fail':
      describe(title, () => {
        test('can run here', () => {
          throw new CannotRunUnderCiError(reason!);
        });
      });
      return;
    case 'skip':
      warnSkipped(reason!, title);
      describe.skip(title, fn);
      return;
  }
}

/** A temp dir that the service users (prosody, turnserver) can read. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `xc-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): RunResult {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: options.timeoutMs ?? 30000, input: options.input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A self-signed EC certificate for `names` (first is the CN). */
export function makeSelfSignedCert(dir: string, names: readonly string[]): { cert: string; key: string } {
  const cert = join(dir, 'fullchain.pem');
  const key = join(dir, 'privkey.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** Wait until `predicate` holds, polling; throws with `describe()` on timeout. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

/** Read a file, or '' if it does not exist yet. */
export function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Start a daemon in the foreground; the caller stops it with `stopProcess`. */
export function startProcess(command: string, args: readonly string[]): ChildProcess {
  return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** End a process we started, by its pid, and wait for it to exit. */
export async function stopProcess(child: ChildProcess | undefined, timeoutMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
