/**
 * Helpers for tests that run the real Debian tools against rendered output.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/** True when `name` is an executable on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * `test` when every command exists; otherwise `test.skip` with a loud warning, so a machine
 * without the Debian packages says what it did not check instead of passing silently.
 */
export function testWith(...commands: string[]): jest.It {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length === 0) return test;
  // eslint-disable-next-line no-console
  console.warn(`SKIPPING real-tool tests: ${missing.join(', ')} not installed (run npm test, which installs them)`);
  return test.skip;
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
