/**
 * The droplet platforms the tests run on, built from Debian's own archive.
 *
 * For each platform (a DigitalOcean image slug and the Debian suite behind it):
 * - a base image: what the droplet's image holds — the base system, cloud-init, openssh-server,
 *   ca-certificates, curl — and none of the service packages, built with mmdebstrap;
 * - a package repository: exactly what the droplets' user_data installs, with every dependency the
 *   base image lacks, downloaded by the image's own apt; the rehearsal serves it as the droplet's
 *   Debian mirror;
 * - a tools layer: the base image with those packages installed, for the unit tests that check
 *   rendered files with the platform's own programs (`nginx -t`, `prosodyctl check config`, coturn,
 *   `cloud-init schema`, `systemd-analyze verify`).
 *
 * All three are cached on disk, keyed by the platform's definition, the package list and the week:
 * only the first run of a week on a machine builds them (under a minute, and the only time the
 * archive is reached), so the tests follow the archive as droplets do.
 * A second platform is one more entry in PLATFORMS.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { provisionedPackages, turnHostPackages } from '../../lib/core/cloud-init';
import { resolveSpec } from '../../lib/core/validate';
import { representativeSpecs } from './specs';
import { DEFAULTS } from '../../lib/core/defaults';
import type { PlatformName } from '../../lib/core/platforms';

export interface Platform {
  /** A short name, used in cache paths and test titles. */
  readonly name: string;
  /** DigitalOcean's image slug for it (the droplet's `image`). */
  readonly image: string;
  /** The Debian suite. */
  readonly suite: string;
  /** The archive's sources, as `deb` lines: what the droplet's apt reads from its mirror. */
  readonly sources: readonly string[];
  /**
   * What the droplet image holds beyond mmdebstrap's `important` variant. DigitalOcean's Debian
   * images are Debian's cloud images: cloud-init, an SSH server, CA certificates, curl, sudo.
   */
  readonly imagePackages: readonly string[];
}

const ARCHIVE = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';

export const PLATFORMS: Readonly<Record<PlatformName, Platform>> = {
  'debian-12': {
    name: 'debian-12',
    image: 'debian-12-x64',
    suite: 'bookworm',
    sources: [`deb ${ARCHIVE} bookworm main`, `deb ${ARCHIVE} bookworm-updates main`, `deb ${SECURITY} bookworm-security main`],
    imagePackages: ['cloud-init', 'openssh-server', 'ca-certificates', 'curl', 'sudo', 'systemd-sysv', 'iproute2', 'e2fsprogs', 'netbase', 'ifupdown'],
  },
  'debian-13': {
    name: 'debian-13',
    image: 'debian-13-x64',
    suite: 'trixie',
    sources: [`deb ${ARCHIVE} trixie main`, `deb ${ARCHIVE} trixie-updates main`, `deb ${SECURITY} trixie-security main`],
    imagePackages: ['cloud-init', 'openssh-server', 'ca-certificates', 'curl', 'sudo', 'systemd-sysv', 'iproute2', 'e2fsprogs', 'netbase', 'ifupdown'],
  },
};

/** The platform the library deploys by default (the default `droplet.image`). */
export const DEFAULT_PLATFORM: Platform = platformOfImage(DEFAULTS.droplet.image!);

/** The test platform of a library platform name (`ResolvedSpec.droplet.platform`). */
export function testPlatform(name: PlatformName): Platform {
  return PLATFORMS[name];
}

/** The test platform a synthesized droplet runs: the one its `image` names. */
export function platformOfImage(image: string): Platform {
  const found = Object.values(PLATFORMS).find((p) => p.image === image);
  if (found === undefined) throw new Error(`no test platform for image ${image} (one of ${Object.values(PLATFORMS).map((p) => p.image).join(', ')})`);
  return found;
}

/** Every package any droplet's user_data installs, over the representative declarations on `platform`. */
export function dropletPackages(platform: Platform = DEFAULT_PLATFORM): string[] {
  const packages = new Set<string>(turnHostPackages());
  for (const [, spec] of representativeSpecs) {
    const droplet = { ...(spec.droplet ?? {}), image: platform.image };
    for (const p of provisionedPackages(resolveSpec({ ...spec, droplet }))) packages.add(p);
  }
  return [...packages].sort();
}

/** Where the images live between runs (CI reuses them on the same machine). */
export const CACHE_ROOT = process.env.XC_PLATFORM_CACHE ?? '/var/cache/xmpp-constructs/platforms';

/** Bump when the way images are built changes, so old caches are not reused. */
const BUILDER_VERSION = 2;

export interface PlatformImage {
  readonly platform: Platform;
  /** The base image's root directory: the droplet's disk before first boot. */
  readonly base: string;
  /** A flat apt repository (Packages, Release, the .debs): the droplet's Debian mirror. */
  readonly repo: string;
  /** An overlay layer over `base` holding the installed service packages (for tool checks). */
  readonly toolsLayer: string;
  /** The packages the repository holds (with their dependencies). */
  readonly packages: readonly string[];
}

interface Step {
  readonly what: string;
  readonly status: number | null;
  readonly output: string;
}

/** Runs `script` with bash in a private mount namespace: its mounts vanish when it ends. */
function sh(what: string, script: string, args: readonly string[] = [], timeoutMs = 900000): Step {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-euo', 'pipefail', '-c', script, 'build', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  const step = { what, status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
  if (step.status !== 0) throw new Error(`building the platform image failed at "${what}" (exit ${step.status}):\n${step.output.slice(-6000)}`);
  return step;
}

/** Why platform images cannot be built or used here, or undefined when they can. */
export function platformUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (images are built with mmdebstrap and mounted as overlays)';
  for (const [tool, pkg] of [['mmdebstrap', 'mmdebstrap'], ['apt-ftparchive', 'apt-utils'], ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['python3', 'python3']]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian package ${pkg}; npm test installs it)`;
  }
  return undefined;
}

/** The cache key: everything that decides an image's content but the archive's. */
function cacheKey(platform: Platform, packages: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify({ BUILDER_VERSION, platform, packages })).digest('hex').slice(0, 16);
}

/**
 * The ISO 8601 week of `date` (UTC), e.g. 2026-W49. Images follow Debian's archive: a new one each
 * week, as a droplet installs the packages of its day, not of the day this machine first ran the tests.
 */
export function archiveWeek(date: Date = new Date()): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  // The Thursday of this week decides its year (ISO 8601).
  day.setUTCDate(day.getUTCDate() + 3 - ((day.getUTCDay() + 6) % 7));
  const firstThursday = new Date(Date.UTC(day.getUTCFullYear(), 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() + 3 - ((firstThursday.getUTCDay() + 6) % 7));
  const week = 1 + Math.round((day.getTime() - firstThursday.getTime()) / (7 * 86400000));
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** How long an image no longer current stays on disk: a run that started on it may still be using it. */
const KEEP_SUPERSEDED_DAYS = 14;

function imageAt(dir: string, platform: Platform, packages: readonly string[]): PlatformImage {
  return { platform, base: join(dir, 'base'), repo: join(dir, 'repo'), toolsLayer: join(dir, 'tools'), packages };
}

/**
 * The platform's images, built on first use each week and cached. Building reaches Debian's archive;
 * using a cached image needs no network. When this week's cannot be built (the archive out of
 * reach), the newest earlier one serves, with a warning.
 */
export function platformImage(platform: Platform = DEFAULT_PLATFORM, packages: readonly string[] = dropletPackages(platform)): PlatformImage {
  const key = cacheKey(platform, packages);
  const dir = join(CACHE_ROOT, `${platform.name}-${archiveWeek()}-${key}`);
  const image = imageAt(dir, platform, packages);
  if (existsSync(join(dir, 'complete'))) return image;
  const why = platformUnavailable();
  if (why !== undefined) throw new Error(`cannot build the ${platform.name} image: ${why}`);
  try {
    mkdirSync(dir, { recursive: true });
    // Another process may be building the same key: each builds into its own temp dir and renames;
    // the first rename wins and the loser's work is discarded.
    if (!existsSync(image.base)) buildBase(platform, image.base);
    if (!existsSync(image.repo)) buildRepo(image.base, packages, image.repo);
    if (!existsSync(image.toolsLayer)) buildToolsLayer(image.base, image.repo, packages, image.toolsLayer);
    writeFileSync(join(dir, 'complete'), `${new Date().toISOString()}\n`);
  } catch (error) {
    const earlier = completeImages(platform.name).filter((d) => d.endsWith(`-${key}`) && d !== dir)[0];
    if (earlier === undefined) throw error;
    process.stderr.write(`\n!!! the ${platform.name} image could not be refreshed from Debian's archive; the tests use the one built ${readFileSync(join(earlier, 'complete'), 'utf8').trim()}:\n${String(error).slice(0, 2000)}\n`);
    return imageAt(earlier, platform, packages);
  }
  const cutoff = Date.now() - KEEP_SUPERSEDED_DAYS * 86400000;
  for (const entry of readdirSync(CACHE_ROOT)) {
    const other = join(CACHE_ROOT, entry);
    if (entry.startsWith(`${platform.name}-`) && other !== dir && statSync(other).mtimeMs < cutoff) rmSync(other, { recursive: true, force: true });
  }
  return image;
}

/** The platform's complete images on disk, newest first. */
function completeImages(platformName: string): string[] {
  if (!existsSync(CACHE_ROOT)) return [];
  return readdirSync(CACHE_ROOT)
    .filter((entry) => entry.startsWith(`${platformName}-`) && existsSync(join(CACHE_ROOT, entry, 'complete')))
    .map((entry) => join(CACHE_ROOT, entry))
    .sort((a, b) => statSync(join(b, 'complete')).mtimeMs - statSync(join(a, 'complete')).mtimeMs);
}

function claim(target: string): string {
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  return tmp;
}

function commit(tmp: string, target: string): void {
  try {
    renameSync(tmp, target);
  } catch (e) {
    if (!existsSync(target)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

function buildBase(platform: Platform, target: string): void {
  const tmp = claim(target);
  // Debian's cloud images come with en_US.UTF-8 generated and set; cloud-init's locale module
  // expects it (Debian's locale-gen generates only what /etc/locale.gen enables).
  const locale = 'sed -i "s/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/" "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null && echo LANG=en_US.UTF-8 > "$1/etc/default/locale"';
  sh(`mmdebstrap ${platform.suite}`, 'mmdebstrap --quiet --variant=important --include="$2" --aptopt=\'Acquire::Retries "3"\' --customize-hook="$4" "$3" "$1" "${@:5}"',
    [tmp, platform.imagePackages.join(','), platform.suite, locale, ...platform.sources]);
  // The archive's sources, as the image ships them; the rehearsal points them at its own mirror.
  writeFileSync(join(tmp, 'etc/apt/sources.list'), platform.sources.join('\n') + '\n');
  commit(tmp, target);
}

/** Mounts an overlay of `lower` (colon-separated) with `upper` at `root`, with /proc and /dev, for a chroot. */
const IN_OVERLAY = `
root=$1 lower=$2 upper=$3 work=$4; shift 4
mkdir -p "$root" "$upper" "$work"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
`;

function buildRepo(base: string, packages: readonly string[], target: string): void {
  const tmp = claim(target);
  const scratch = mkdtempSync(join('/var/tmp', 'xc-repo-'));
  try {
    // The image's own apt resolves what the droplet would install on top of it.
    sh('download the droplet packages', `${IN_OVERLAY}
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get -qq update
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y --download-only install "$@"
`, [join(scratch, 'root'), base, join(scratch, 'upper'), join(scratch, 'work'), ...packages], 900000);
    mkdirSync(tmp, { recursive: true });
    sh('index the repository', `
cp "$1"/var/cache/apt/archives/*.deb "$2"/
cd "$2" && apt-ftparchive packages . > Packages && apt-ftparchive release . > Release
`, [join(scratch, 'upper'), tmp]);
    commit(tmp, target);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function buildToolsLayer(base: string, repo: string, packages: readonly string[], target: string): void {
  const tmp = claim(target);
  // overlayfs wants its work directory on the upper directory's file system.
  const scratch = mkdtempSync(`${target}.scratch-`);
  try {
    sh('install the droplet packages into the tools layer', `${IN_OVERLAY}
repo=$1; shift
mkdir -p "$root/srv/rehearsal-mirror" && mount --bind "$repo" "$root/srv/rehearsal-mirror"
echo 'deb [trusted=yes] file:/srv/rehearsal-mirror ./' > "$root/etc/apt/sources.list"
# As when building any image: nothing starts while packages install.
printf '#!/bin/sh\\nexit 101\\n' > "$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get -qq update
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Options::=--force-confold install "$@" >/dev/null
rm -f "$root/usr/sbin/policy-rc.d"
umount "$root/srv/rehearsal-mirror"
rmdir "$root/srv/rehearsal-mirror"
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin
`, [join(scratch, 'root'), base, tmp, join(scratch, 'work'), repo, ...packages], 900000);
    commit(tmp, target);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly env?: Record<string, string>;
  /** Working directory inside the image. @default / */
  readonly cwd?: string;
}

/** The PATH systemd gives services on Debian, and so what commands run inside an image get. */
export const PLATFORM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Run a full argv (from an `argv()` of a root or namespace) to completion; a spawn error lands in stderr. */
export function runArgv(argv: readonly string[], options: Pick<RunOptions, 'timeoutMs' | 'input'> = {}): RunResult {
  const [command, ...rest] = argv;
  const r = spawnSync(command, rest, { encoding: 'utf8', timeout: options.timeoutMs ?? 60000, input: options.input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/**
 * A throwaway root of the platform with its service packages installed, for checking rendered files
 * with the platform's own programs. Host directories (by default the system temp dir, where the
 * tests write their files) appear at the same paths inside. Commands run as root, chrooted, in a
 * private mount namespace that holds the overlay; `close()` ends it and removes every change.
 */
export class PlatformTools {
  private constructor(
    readonly image: PlatformImage,
    private readonly dir: string,
    private readonly holder: ChildProcess,
    private readonly holderPid: number,
  ) {}

  static open(platform: Platform = DEFAULT_PLATFORM, shares: readonly string[] = [tmpdir()]): PlatformTools {
    const image = platformImage(platform);
    const dir = mkdtempSync(join('/var/tmp', `xc-${platform.name}-tools-`));
    const root = join(dir, 'root');
    const ready = join(dir, 'ready');
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', '--kill-child', 'bash', '-euo', 'pipefail', '-c', `${IN_OVERLAY}
mount -t sysfs sysfs "$root/sys" || true
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
for share in "$@"; do mkdir -p "$root$share"; mount --rbind "$share" "$root$share"; done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
touch "${ready}"
exec sleep infinity
`, 'tools', root, `${image.toolsLayer}:${image.base}`, join(dir, 'upper'), join(dir, 'work'), ...shares], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    holder.stderr!.on('data', (d) => (stderr += d));
    const deadline = Date.now() + 20000;
    while (!existsSync(ready)) {
      if (holder.exitCode !== null || Date.now() > deadline) throw new Error(`the ${platform.name} tools root did not come up: ${stderr}`);
      spawnSync('sleep', ['0.05']);
    }
    const pid = Number(spawnSync('cat', [`/proc/${holder.pid}/task/${holder.pid}/children`], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]);
    return new PlatformTools(image, dir, holder, pid);
  }

  /** The argv that runs `args` inside this root (for spawn). */
  argv(args: readonly string[], options: RunOptions = {}): string[] {
    // SHLVL: Debian's bash, its stdin a socket (as Node's pipes are), would think it runs under ssh
    // and read /etc/bash.bashrc, which fails under `set -u`.
    const env = Object.entries({ PATH: PLATFORM_PATH, HOME: '/root', LANG: 'C.UTF-8', SHLVL: '1', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const inner = options.cwd ? ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'cwd', options.cwd, ...args] : [...args];
    return ['nsenter', '--target', String(this.holderPid), '--mount', '--', 'chroot', join(this.dir, 'root'), 'env', '-i', ...env, ...inner];
  }

  /** Run a command inside, as root. */
  run(args: readonly string[], options: RunOptions = {}): RunResult {
    return runArgv(this.argv(args, options), options);
  }

  /**
   * `systemd-analyze verify` of `units` by this platform's systemd: `files` (path, content, mode) are
   * written into a scratch root beside a copy of the image's own units (/usr/lib/systemd/system, the
   * only place systemd 255 and later read them from), which is removed afterwards. Its output is
   * empty when systemd accepts the units.
   */
  verifyUnits(files: readonly (readonly [path: string, content: string, mode: number])[], units: readonly string[]): RunResult {
    const root = mkdtempSync(join(tmpdir(), 'xc-units-'));
    try {
      chmodSync(root, 0o755);
      for (const [path, content, mode] of files) {
        mkdirSync(join(root, dirname(path)), { recursive: true });
        writeFileSync(join(root, path), content);
        chmodSync(join(root, path), mode);
      }
      return this.run(['sh', '-c', 'r=$1; shift; mkdir -p "$r/usr/lib/systemd" && cp -a /usr/lib/systemd/system "$r/usr/lib/systemd/" && systemd-analyze verify --man=no --root="$r" "$@"',
        'sh', root, ...units], { timeoutMs: 20000 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  /** Start a long-running command inside (a daemon in the foreground); stop it by its pid. */
  start(args: readonly string[], options: RunOptions = {}): ChildProcess {
    const [command, ...rest] = this.argv(args, options);
    return spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** End the namespace (and with it every mount) and remove the throwaway layer. */
  close(): void {
    if (this.holder.exitCode === null && this.holder.pid !== undefined) {
      try {
        process.kill(this.holder.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.holder.stderr?.destroy();
    // The mounts live only in the holder's namespace, which ends with its last process.
    for (let i = 0; i < 100 && existsSync(`/proc/${this.holderPid}`); i++) spawnSync('sleep', ['0.05']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * For a test file: the platform's tools root, opened by the first test that needs it (so a machine
 * that cannot open it never tries) and closed after the file.
 */
export function platformToolsForFile(platform: Platform = DEFAULT_PLATFORM): () => PlatformTools {
  let tools: PlatformTools | undefined;
  afterAll(() => tools?.close());
  return () => (tools ??= PlatformTools.open(platform));
}

/** `ts-node test/support/platform.ts build`: build (or find cached) every platform's images, for the test command. */
if (require.main === module) {
  const started = Date.now();
  for (const platform of Object.values(PLATFORMS)) {
    const image = platformImage(platform);
    process.stdout.write(`${platform.name} (${platform.image}, ${platform.suite}): ${image.base}, ${image.packages.length} droplet packages in ${image.repo}\n`);
  }
  process.stdout.write(`platform images ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
