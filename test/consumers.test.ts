/**
 * Consumer projects: the library as its users get it. It is packed as `npm pack` packs it, npm
 * installs the tarball into scratch projects of the shapes `cdktf init` and `pulumi new typescript`
 * write, with the peer dependencies at the lowest and the highest versions of their declared ranges
 * that the registry has (and that run on this Node), each project's own tsc type-checks it (not
 * transpile-only: a negative control proves a wrong type is caught through the package's
 * declarations), and then it synthesizes (cdktf) or previews against mocks (Pulumi).
 *
 * Needs only node, npm and the npm registry; it never skips. Installs run concurrently, started in
 * beforeAll; each test waits for its project. On 2 cores: about 80 s with a warm npm cache, 100 s cold.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  admitsNode, caretAllows, caretFloor, copiesOf, exec, expectedTarballFiles, installedVersion, limiter, npmEnv, packLibrary, Packed, Ran,
} from './support/consumers/projects';
import {
  CDKTF_INIT_TSCONFIG, CDKTF_MAIN_TS, CDKTF_MAIN_TS_WITH_TYPE_ERROR, CDKTF_NODE16_TSCONFIG, CDKTF_STACKS, PULUMI_INDEX_TS,
  PULUMI_INDEX_TS_WITH_TYPE_ERROR, PULUMI_NEW_TSCONFIG, PULUMI_NEW_TSCONFIG_BEFORE_2026, TsConfig,
} from './support/consumers/templates';

const ROOT = join(__dirname, '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };

// ------------------------------------------------------------------------------------------------
// The versions under test. Lowest: the floor of each declared range, or the lowest release in it
// that the registry has. Highest: the highest release in the range whose `engines` admit Node 20
// (@pulumi/pulumi 3.249 and later need Node 22). Pinned, so a new release cannot change a run;
// update them with `npm view <package> versions --json` / `npm view <package>@<version> engines`.
// ------------------------------------------------------------------------------------------------

/** Declared floors that are not published in the registry: the lowest release in the range stands in. */
const FLOORS_NOT_IN_REGISTRY: Readonly<Record<string, string>> = {
  '@cdktf/provider-digitalocean': '13.14.0 is not in the registry; 13.14.1 is the only release of the range there',
};

const CDKTF_LOWEST = { cdktf: '0.21.0', constructs: '10.4.2', '@cdktf/provider-digitalocean': '13.14.1' };
const CDKTF_HIGHEST = { cdktf: '0.21.0', constructs: '10.8.1', '@cdktf/provider-digitalocean': '13.14.1' };
/**
 * @pulumi/digitalocean 4.55.0 is the lowest release in the registry with SpacesKey and
 * SpacesBucketObject, which the in-place configuration channel creates (4.37.1, the one before it
 * here, has neither: tsc fails with TS2307 on the package's declarations); ReservedIpv6 came with
 * 4.37.1. It depends on @pulumi/pulumi ^3.142.0, so with a lower @pulumi/pulumi npm installs a second
 * copy for it, and before 3.141 Pulumi's mocks never reach that copy (the program never finishes).
 */
const PULUMI_LOWEST = { '@pulumi/pulumi': '3.142.0', '@pulumi/digitalocean': '4.55.0' };
const PULUMI_HIGHEST = { '@pulumi/pulumi': '3.248.0', '@pulumi/digitalocean': '4.80.1' };

/** The consumer's own tools: what the templates install, at versions that run on Node 20. */
const TOOLS = { typescript: '5.9.3', '@types/node': '20.19.43' };

interface Install {
  /** Directory under the scratch directory; the primary project of this install lives there. */
  readonly id: string;
  /** The peers the consumer asks for, exactly. */
  readonly peers: Readonly<Record<string, string>>;
}

const INSTALLS = {
  cdktfLowest: { id: 'cdktf-lowest', peers: CDKTF_LOWEST },
  cdktfHighest: { id: 'cdktf-highest', peers: CDKTF_HIGHEST },
  pulumiLowest: { id: 'pulumi-lowest', peers: PULUMI_LOWEST },
  pulumiHighest: { id: 'pulumi-highest', peers: PULUMI_HIGHEST },
} satisfies Record<string, Install>;
type InstallId = keyof typeof INSTALLS;

interface Project {
  readonly title: string;
  readonly install: InstallId;
  /** Set: a directory of its own, its node_modules a link to the install's (same packages, no second install). */
  readonly dir?: string;
  readonly engine: 'cdktf' | 'pulumi';
  readonly tsconfig: TsConfig;
  readonly source: string;
  /** The negative control: tsc must fail on the line of `source` holding this text. */
  readonly typeErrorOn?: string;
}

const PROJECTS: Project[] = [
  { title: 'a cdktf init project (node10 resolution) with the lowest peers', install: 'cdktfLowest', engine: 'cdktf', tsconfig: CDKTF_INIT_TSCONFIG, source: CDKTF_MAIN_TS },
  { title: 'a cdktf init project (node10 resolution) with the highest peers', install: 'cdktfHighest', engine: 'cdktf', tsconfig: CDKTF_INIT_TSCONFIG, source: CDKTF_MAIN_TS },
  { title: 'a cdktf project with node16 resolution and the highest peers', install: 'cdktfHighest', dir: 'cdktf-node16', engine: 'cdktf', tsconfig: CDKTF_NODE16_TSCONFIG, source: CDKTF_MAIN_TS },
  { title: 'a pulumi new typescript project (nodenext) with the lowest peers', install: 'pulumiLowest', engine: 'pulumi', tsconfig: PULUMI_NEW_TSCONFIG, source: PULUMI_INDEX_TS },
  { title: 'a pulumi new typescript project (nodenext) with the highest peers', install: 'pulumiHighest', engine: 'pulumi', tsconfig: PULUMI_NEW_TSCONFIG, source: PULUMI_INDEX_TS },
  { title: 'a pulumi new typescript project of 2024-2026 (node10 resolution) with the highest peers', install: 'pulumiHighest', dir: 'pulumi-node10', engine: 'pulumi', tsconfig: PULUMI_NEW_TSCONFIG_BEFORE_2026, source: PULUMI_INDEX_TS },
  { title: 'a cdktf init project (node10 resolution) with a type error', install: 'cdktfHighest', dir: 'cdktf-type-error', engine: 'cdktf', tsconfig: CDKTF_INIT_TSCONFIG, source: CDKTF_MAIN_TS_WITH_TYPE_ERROR, typeErrorOn: "admins: 'admin@example.net'" },
  { title: 'a pulumi new typescript project (nodenext) with a type error', install: 'pulumiHighest', dir: 'pulumi-type-error', engine: 'pulumi', tsconfig: PULUMI_NEW_TSCONFIG, source: PULUMI_INDEX_TS_WITH_TYPE_ERROR, typeErrorOn: "admins: 'admin@example.net'" },
];

// ------------------------------------------------------------------------------------------------
// The runs, started in beforeAll and awaited by the tests.
// ------------------------------------------------------------------------------------------------

interface Installed {
  readonly dir: string;
  readonly npm: Ran;
}

interface Outcome {
  readonly dir: string;
  readonly install: Ran;
  readonly tsc?: Ran;
  /** `node main.js` (cdktf) or `node preview.js` (Pulumi), once tsc passed. */
  readonly run?: Ran;
}

const PREVIEW_JS = join(__dirname, 'support', 'consumers', 'pulumi-preview.js');
const cpu = limiter(2);
let scratch: string;
let packed: Packed;
const installs = new Map<InstallId, Promise<Installed>>();
const outcomes = new Map<Project, Promise<Outcome>>();
const timings: string[] = [];

async function runInstall(install: Install): Promise<Installed> {
  const dir = join(scratch, install.id);
  mkdirSync(dir);
  const packageJson = {
    name: `consumer-${install.id}`,
    version: '1.0.0',
    private: true,
    dependencies: { [PKG.name]: `file:../${packed.tarball.slice(scratch.length + 1)}`, ...install.peers },
    devDependencies: TOOLS,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  const npm = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: npmEnv(), timeoutMs: 420000 });
  timings.push(`${install.id} npm install ${npm.ms} ms`);
  return { dir, npm };
}

async function runProject(project: Project): Promise<Outcome> {
  const installed = await installs.get(project.install)!;
  let dir = installed.dir;
  if (project.dir !== undefined) {
    dir = join(scratch, project.dir);
    mkdirSync(dir);
    copyFileSync(join(installed.dir, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(installed.dir, 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  if (installed.npm.status !== 0) return { dir, install: installed.npm };
  const main = project.engine === 'cdktf' ? 'main.ts' : 'index.ts';
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(project.tsconfig, null, 2)}\n`);
  writeFileSync(join(dir, main), project.source);
  if (project.engine === 'pulumi') copyFileSync(PREVIEW_JS, join(dir, 'preview.js'));
  const tsc = await cpu(() => exec(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--pretty', 'false'], { cwd: dir, timeoutMs: 180000 }));
  timings.push(`${project.dir ?? INSTALLS[project.install].id} tsc ${tsc.ms} ms`);
  if (tsc.status !== 0 || project.typeErrorOn !== undefined) return { dir, install: installed.npm, tsc };
  const run = await cpu(() => exec(process.execPath, [project.engine === 'cdktf' ? 'main.js' : 'preview.js'], { cwd: dir, timeoutMs: 120000 }));
  timings.push(`${project.dir ?? INSTALLS[project.install].id} ${project.engine === 'cdktf' ? 'synth' : 'preview'} ${run.ms} ms`);
  return { dir, install: installed.npm, tsc, run };
}

/** A run as the failure message shows it: status and everything it printed. */
function shown(ran: Ran | undefined): { status: number | null | undefined; output: string } {
  return { status: ran?.status, output: ran === undefined ? '(did not run)' : `${ran.stdout}${ran.stderr}`.trim() };
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'xc-consumers-'));
  packed = await packLibrary(ROOT, scratch);
  timings.push(`build and pack ${packed.ms} ms`);
  for (const [key, install] of Object.entries(INSTALLS) as [InstallId, Install][]) installs.set(key, runInstall(install));
  for (const project of PROJECTS) outcomes.set(project, runProject(project));
  // Awaited by the tests; a rejection is reported there, not as an unhandled one.
  for (const promise of [...installs.values(), ...outcomes.values()]) promise.catch(() => undefined);
}, 240000);

afterAll(async () => {
  // Nothing may still be writing into the scratch directory when it goes.
  await Promise.allSettled([...installs.values(), ...outcomes.values()]);
  if (timings.length > 0) console.log(`consumer projects, wall time of each step: ${timings.join('; ')}`);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 600000);

// ------------------------------------------------------------------------------------------------

describe('GIVEN the peer dependency ranges package.json declares', () => {
  const peers = Object.entries(PKG.peerDependencies);

  test.each(peers)('THEN %s (%s) is tested at its floor, or the lowest release of the range the registry has, and at a highest release in the range', async (name, range) => {
    const lowest = [CDKTF_LOWEST, PULUMI_LOWEST].map((set) => (set as Record<string, string>)[name]).find((v) => v !== undefined);
    const highest = [CDKTF_HIGHEST, PULUMI_HIGHEST].map((set) => (set as Record<string, string>)[name]).find((v) => v !== undefined);
    expect({ lowest: lowest !== undefined && caretAllows(range, lowest), highest: highest !== undefined && caretAllows(range, highest) }).toEqual({ lowest: true, highest: true });
    if (FLOORS_NOT_IN_REGISTRY[name] === undefined) {
      expect(lowest).toBe(caretFloor(range));
    } else {
      expect(FLOORS_NOT_IN_REGISTRY[name]).toContain(`${caretFloor(range)} is not in the registry`);
      // Once the registry has it, it is the version to test.
      const view = await exec('npm', ['view', `${name}@${caretFloor(range)}`, 'version', '--json'], { cwd: tmpdir(), env: npmEnv(), timeoutMs: 60000 });
      expect({ status: view.status, output: `${view.stdout}${view.stderr}` }).toEqual({ status: 1, output: expect.stringContaining('E404') });
    }
  }, 120000);
});

describe('GIVEN the library packed as npm pack packs it', () => {
  test('THEN the tarball holds the built lib, package.json and README.md, and nothing else', () => {
    expect(packed.files).toEqual(expectedTarballFiles(ROOT));
    expect(packed.files).toEqual(expect.arrayContaining(['dist/lib/cdktf/index.d.ts', 'dist/lib/pulumi/index.js', 'dist/lib/doctor/cli.js']));
  });
});

describe.each(Object.entries(INSTALLS) as [InstallId, Install][])('GIVEN a consumer installing the tarball with %s peers', (key, install) => {
  test('THEN npm installs it with each peer at exactly the version asked for, and one copy of each', async () => {
    const { dir, npm } = await installs.get(key)!;
    expect(shown(npm)).toEqual({ status: 0, output: expect.any(String) });
    expect(installedVersion(dir, PKG.name)).toBe(PKG.version);
    for (const [name, version] of Object.entries(install.peers)) expect({ name, version: installedVersion(dir, name) }).toEqual({ name, version });
    // Two copies of a runtime (constructs, @pulumi/pulumi) mean two registries of what the program
    // declares. Every peer is optional, so a Pulumi project gets no cdktf and a cdktf one no Pulumi.
    for (const name of Object.keys(PKG.peerDependencies)) {
      expect({ name, copies: copiesOf(dir, name) }).toEqual({ name, copies: name in install.peers ? [join('node_modules', name)] : [] });
    }
    // The highest versions are the highest that run on this Node (`engines`, where a peer states it).
    for (const name of Object.keys(install.peers)) {
      const engines = (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
      expect({ name, engines, admitsThisNode: admitsNode(engines, process.versions.node) }).toEqual({ name, engines, admitsThisNode: true });
    }
  }, 600000);
});

describe.each(PROJECTS.filter((p) => p.typeErrorOn === undefined).map((p) => [p.title, p] as const))('GIVEN %s', (_title, project) => {
  test('THEN its tsc type-checks it without an error', async () => {
    const { install, tsc } = await outcomes.get(project)!;
    expect(shown(install).status).toBe(0);
    expect(shown(tsc)).toEqual({ status: 0, output: '' });
  }, 600000);

  if (project.engine === 'cdktf') {
    test('THEN node main.js synthesizes both stacks, and the doctor reads the plan the synth wrote', async () => {
      const { dir, run } = await outcomes.get(project)!;
      expect(shown(run)).toEqual({ status: 0, output: expect.stringContaining('"doctorPlanDomains":["example.net"]') });
      const stack = (id: string) => JSON.parse(readFileSync(join(dir, 'cdktf.out', 'stacks', id, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, unknown>; provider: Record<string, unknown>; terraform: { backend?: Record<string, unknown> } };
      for (const id of [CDKTF_STACKS.own, CDKTF_STACKS.oneLiner]) {
        const { resource, provider } = stack(id);
        expect(Object.keys(provider)).toEqual(['digitalocean']);
        expect(Object.keys(resource)).toEqual(expect.arrayContaining(['digitalocean_droplet', 'digitalocean_volume', 'digitalocean_reserved_ip', 'digitalocean_firewall', 'digitalocean_record']));
      }
      expect(Object.keys(stack(CDKTF_STACKS.own).resource)).not.toContain('digitalocean_domain'); // zone: 'existing'
      expect(Object.keys(stack(CDKTF_STACKS.oneLiner).resource)).toContain('digitalocean_domain');
      expect(Object.keys(stack(CDKTF_STACKS.oneLiner).terraform.backend ?? {})).toEqual(['local']);
    }, 600000);
  } else {
    test('THEN its program previews against mocks: the components and the DigitalOcean resources are registered, the outputs resolve, the review files are written', async () => {
      const { dir, run } = await outcomes.get(project)!;
      expect(shown(run)).toEqual({ status: 0, output: expect.stringMatching(/^\{/) });
      const { registered, exported } = JSON.parse(run!.stdout) as { registered: { type: string; name: string }[]; exported: Record<string, unknown> };
      const types = new Set(registered.map((r) => r.type));
      for (const type of [
        'xmpp-constructs:index:XmppService', 'xmpp-constructs:index:ProsodyHost', 'xmpp-constructs:index:FirewallRules', 'xmpp-constructs:index:XmppDomainRecords',
        'digitalocean:index/droplet:Droplet', 'digitalocean:index/volume:Volume', 'digitalocean:index/reservedIp:ReservedIp',
        'digitalocean:index/reservedIpAssignment:ReservedIpAssignment', 'digitalocean:index/firewall:Firewall', 'digitalocean:index/dnsRecord:DnsRecord',
      ]) expect({ type, registered: types.has(type) }).toEqual({ type, registered: true });
      expect(types.has('digitalocean:index/domain:Domain')).toBe(false); // zone: 'existing'
      expect(exported).toMatchObject({ domains: ['example.org'], reserved_ipv4: '192.0.2.1', ssh: expect.stringContaining('192.0.2') });
      expect(existsSync(join(dir, 'review', 'chat', 'host', 'etc', 'prosody', 'prosody.cfg.lua'))).toBe(true);
    }, 600000);
  }
});

describe.each(PROJECTS.filter((p) => p.typeErrorOn !== undefined).map((p) => [p.title, p] as const))('GIVEN %s (the negative control)', (_title, project) => {
  test('THEN its tsc fails on that line, with the spec type from the package\'s declarations', async () => {
    const { install, tsc } = await outcomes.get(project)!;
    expect(shown(install).status).toBe(0);
    const { status, output } = shown(tsc);
    expect(status).not.toBe(0);
    const main = project.engine === 'cdktf' ? 'main.ts' : 'index.ts';
    const line = project.source.split('\n').findIndex((l) => l.includes(project.typeErrorOn!)) + 1;
    expect(line).toBeGreaterThan(0);
    expect(output).toMatch(new RegExp(`^${main}\\(${line},\\d+\\): error TS2322: Type 'string' is not assignable to type 'readonly string\\[\\]'\\.$`, 'm'));
    // One error, that one: the imports themselves resolved, to declarations, not to `any`.
    expect(output.match(/error TS\d+/g)).toHaveLength(1);
  }, 600000);
});
