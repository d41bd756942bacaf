/**
 * Scratch consumer projects for test/consumers.test.ts: the library packed as `npm pack` packs it,
 * installed from the tarball by npm, compiled by the project's own TypeScript. Everything runs as
 * child processes without blocking jest, so the installs overlap.
 */
import { spawn } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'fs';
import { join, relative, sep } from 'path';

export interface Ran {
  readonly command: string;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs `command` without blocking, in a process group of its own; past `timeoutMs` that group (and
 * nothing else) is killed and the result says so.
 */
export function exec(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  const started = Date.now();
  const line = [command, ...args].join(' ');
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, options.timeoutMs);
    const done = (status: number | null, error?: Error) => {
      clearTimeout(timer);
      const note = timedOut ? `\n[killed after ${options.timeoutMs} ms]` : error ? `\n[${error.message}]` : '';
      resolve({ command: line, status: timedOut ? null : status, stdout, stderr: stderr + note, ms: Date.now() - started });
    };
    child.on('error', (error) => done(null, error));
    child.on('close', (status) => done(status));
  });
}

/** `fn` with at most `n` of them running at once: tsc is CPU-bound, and installs need CPU too. */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** The environment for npm: the caller's (registry, cache), without an outer `npm run`'s project. */
export function npmEnv(): NodeJS.ProcessEnv {
  const { npm_config_local_prefix: _project, ...env } = process.env;
  return { ...env, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' };
}

/** npm pack's own files that go into every tarball, whatever `files` says. */
const ALWAYS_PACKED = ['package.json', 'README.md', 'LICENSE'];

export interface Packed {
  readonly tarball: string;
  /** Paths inside the tarball (without the leading `package/`), as npm pack reports them. */
  readonly files: string[];
  readonly ms: number;
}

/**
 * Packs the library as `npm run build && npm pack` in `root` would, without touching `root`: the
 * build (tsc, then the host scripts copied beside it) goes to `<scratch>/package/dist`
 * (tsconfig.build.json's rootDir is the repository, so the layout is dist/lib/…), package.json and
 * README.md are copied next to it, and npm packs that.
 */
export async function packLibrary(root: string, scratch: string): Promise<Packed> {
  const started = Date.now();
  const pkgDir = join(scratch, 'package');
  mkdirSync(pkgDir, { recursive: true });
  const build = await exec(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist')], { cwd: root, timeoutMs: 180000 });
  if (build.status !== 0) throw new Error(`${build.command} failed (${build.status}):\n${build.stdout}${build.stderr}`);
  const copy = await exec(process.execPath, [join(root, 'scripts', 'copy-host-scripts.js'), join(pkgDir, 'dist')], { cwd: root, timeoutMs: 30000 });
  if (copy.status !== 0) throw new Error(`${copy.command} failed (${copy.status}):\n${copy.stdout}${copy.stderr}`);
  for (const file of ALWAYS_PACKED) if (existsSync(join(root, file))) copyFileSync(join(root, file), join(pkgDir, file));
  const pack = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: pkgDir, env: npmEnv(), timeoutMs: 120000 });
  if (pack.status !== 0) throw new Error(`${pack.command} failed (${pack.status}):\n${pack.stdout}${pack.stderr}`);
  const [report] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(scratch, report.filename), files: report.files.map((f) => f.path).sort(), ms: Date.now() - started };
}

/**
 * What `npm pack` in `root` packs after `npm run build`: the built lib (each source's .js and .d.ts;
 * hand-written .d.ts files are not copied by tsc), the host scripts the build copies beside it, and
 * the files npm always packs.
 */
export function expectedTarballFiles(root: string): string[] {
  const sources: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) visit(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) sources.push(relative(root, path).split(sep).join('/'));
    }
  };
  visit(join(root, 'lib'));
  const built = sources.flatMap((s) => [`dist/${s.replace(/\.ts$/, '.js')}`, `dist/${s.replace(/\.ts$/, '.d.ts')}`]);
  const hostScripts = readdirSync(join(root, 'lib', 'host')).map((f) => `dist/lib/host/${f}`);
  return [...built, ...hostScripts, ...ALWAYS_PACKED.filter((f) => existsSync(join(root, f)))].sort();
}

/** Every installed copy of package `name` below `project` (node_modules at any depth). */
export function copiesOf(project: string, name: string): string[] {
  const found: string[] = [];
  const visit = (nodeModules: string) => {
    if (!existsSync(nodeModules)) return;
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('.')) continue;
      const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((scoped) => `${entry}/${scoped}`) : [entry];
      for (const pkg of names) {
        const dir = join(nodeModules, pkg);
        if (pkg === name) found.push(relative(project, dir));
        visit(join(dir, 'node_modules'));
      }
    }
  };
  visit(join(project, 'node_modules'));
  return found;
}

/** The version of `name` that `project` resolves (its top-level node_modules). */
export function installedVersion(project: string, name: string): string | undefined {
  const file = join(project, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

/** The floor of a caret range (`^13.14.0` → `13.14.0`); the peer ranges are all caret ranges. */
export function caretFloor(range: string): string {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!m) throw new Error(`${range}: not a caret range of a full version`);
  return m[1];
}

/** Whether `version` (a release, not a prerelease) satisfies the caret range `range`. */
export function caretAllows(range: string, version: string): boolean {
  const [fMajor, fMinor, fPatch] = caretFloor(range).split('.').map(Number);
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) return false;
  const [major, minor, patch] = m.slice(1).map(Number);
  const atLeast = major > fMajor || (major === fMajor && (minor > fMinor || (minor === fMinor && patch >= fPatch)));
  const sameLine = fMajor > 0 ? major === fMajor : fMinor > 0 ? major === 0 && minor === fMinor : major === 0 && minor === 0 && patch === fPatch;
  return atLeast && sameLine;
}

/**
 * Whether an `engines.node` range admits Node `version` (undefined: no range, anything goes). Reads
 * what packages write there: `||` alternatives of comparators (`>=20`, `>= 20.9.0`, `<23`, `^18`,
 * `18.x`); anything else admits nothing, so the caller sees the range it could not read.
 */
export function admitsNode(range: string | undefined, version: string): boolean {
  if (range === undefined || range.trim() === '' || range.trim() === '*') return true;
  const v = version.split('.').map(Number);
  const compare = (other: number[]) => {
    for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== (other[i] ?? 0)) return (v[i] ?? 0) - (other[i] ?? 0);
    return 0;
  };
  const admits = (comparator: string): boolean => {
    const m = /^(>=|<=|>|<|=|\^|~)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(comparator);
    if (!m) return false;
    const [, op = '', ...parts] = m;
    const given = parts.filter((p) => p !== undefined && p !== 'x' && p !== '*').map(Number);
    const floor = [given[0], given[1] ?? 0, given[2] ?? 0];
    switch (op) {
      case '>=': return compare(floor) >= 0;
      case '>': return compare(floor) > 0;
      case '<=': return compare(floor) <= 0;
      case '<': return compare(floor) < 0;
      case '^': return compare(floor) >= 0 && v[0] === floor[0];
      case '~': return compare(floor) >= 0 && v[0] === floor[0] && (given.length < 2 || v[1] === floor[1]);
      default: return given.every((n, i) => v[i] === n); // 20, 20.x, 20.9.0
    }
  };
  return range.split('||').some((alternative) => alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).every(admits));
}
