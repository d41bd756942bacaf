/**
 * The rehearsal: boots the synthesized droplet's user_data inside fresh mount, network, PID and UTS
 * namespaces on this machine, as a DigitalOcean droplet boots it.
 *
 * The droplet's disk is an overlay of its platform's base image (test/support/platform.ts: built
 * from Debian's archive with mmdebstrap; cloud-init and the base system, none of the service
 * packages). cloud-init's own stages run in a droplet's order — init (bootcmd, write_files, …),
 * config (apt configuration, …), final (package update, upgrade and install, write_files deferred,
 * runcmd) — so packages install at first boot and their maintainer scripts run for real.
 *
 * Every difference from a real droplet lives here, never in the rendered files. Only what a cloud
 * provides is simulated:
 * - the datasource: cloud-init's NoCloud seed carries the user_data (DigitalOcean's datasource reads
 *   the same document from the metadata service);
 * - the Debian mirror: a local repository of exactly the packages the user_data installs, served
 *   over HTTP from "the outside", where the image's apt sources point (as DigitalOcean points
 *   droplets at its mirror);
 * - a veth inside the namespace carries the public addresses (documentation ranges);
 * - a second network namespace behind eth0 is "the outside": the metadata service on
 *   169.254.169.254 answers there the few paths the scripts read;
 * - BIND serves exactly the records found in cdk.tf.json;
 * - Pebble, Let's Encrypt's test server, stands in for Let's Encrypt; certbot itself is real;
 * - a systemctl stand-in (bin/systemctl) runs the packages' own units, as their Debian users; what
 *   is started with `--no-block` waits in a queue until the test runs it (`runQueuedJobs`), except
 *   the certificates service's job, which `issueCertificates` runs itself with certbot trusting Pebble;
 * - DigitalOcean Spaces (a stack with `configDelivery.channel: "spaces"`): the harness plays the
 *   provider, inventing the `digitalocean_spaces_key`'s access key and secret and putting them where
 *   the droplet's user_data references them; the Spaces stand-in (test/support/spaces-standin.ts)
 *   answers in the outside namespace as `<region>.digitaloceanspaces.com`, holding the stack's
 *   bucket object and granting the key what the stack grants it. Its TLS certificate is signed by a
 *   CA of the harness that the droplet's disk trusts (added to the image's trust store before
 *   cloud-init runs): the real Spaces' certificate chains to a public CA already in Debian's
 *   ca-certificates, which nothing here can present. Writing a new bundle (`putBundle`) is a signed
 *   S3 PUT with a full-access key, as the provider's apply does it.
 * - the off-host backups' bucket (a stack with `offsiteBackups`): a real S3 server, s3rver (npm),
 *   answering as `<region>.digitaloceanspaces.com` like the stand-in, behind a front that verifies the
 *   signature and the key's grants as Spaces does (test/support/object-store.ts); its directory may
 *   outlive the rehearsal (`objectStore`), as a bucket outlives a lost droplet.
 * The harness's own servers (BIND, Pebble, the mirror, the metadata service, Spaces) and the clients are the
 * host's programs, run in the droplet's network namespace: nothing in the droplet comes from the host.
 * Nothing leaves the namespaces: they have no route out.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'fs';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { parse } from 'yaml';
import { DOCTOR_PLAN_FILE } from '../../lib/core/doctor-plan';
import { AddressRef, DnsRecordPlan, DnsRecordType } from '../../lib/core/dns';
import { PROVISION_SCRIPT, VOLUME_MOUNT } from '../../lib/core/paths';
import { CERTS_SCRIPT, CERTIFICATES_LIST, HOST_ENV } from '../../lib/core/host-scripts';
import { renderZoneFile, ZoneAddresses } from '../../lib/core/zone';
import { evaluateTemplate } from '../support/terraform-template';
import { synthRecords } from '../support/synth-records';
import { WEB_CLIENT_PACKAGE } from '../../lib/core/web-client';
import { pinnedTarball, tarballPath } from '../support/npm-registry';
import { PLATFORM_PATH, platformImage, platformOfImage, platformUnavailable, RunOptions, RunResult, runArgv } from '../support/platform';

/** The droplet's addresses inside the namespace (documentation ranges; they exist nowhere else). */
export const DROPLET = {
  public4: '203.0.113.10',
  reserved4: '203.0.113.20',
  public6: '2001:db8::10',
  /** Assigned by the metadata service; the droplet's own script puts it on lo, as on DigitalOcean. */
  reserved6: '2001:db8::20',
} as const;

/** Where the droplet's Debian mirror answers, in the outside namespace. */
const MIRROR4 = '192.0.2.80';
/** Where "<region>.digitaloceanspaces.com" answers, in the outside namespace (the Spaces stand-in). */
const SPACES4 = '192.0.2.44';
/** Where "registry.npmjs.org" answers, in the outside namespace (test/support/npm-registry.ts). */
const REGISTRY4 = '192.0.2.81';
const REGISTRY_HOST = 'registry.npmjs.org';

const BIN = join(__dirname, 'bin');
const PROJECT_ROOT = join(__dirname, '..', '..');
/** Pebble's ACME API and its management API (roots), on the droplet's loopback. */
const PEBBLE_PORT = 14000;
const PEBBLE_MANAGEMENT_PORT = 15000;
/** Loopback sockets of the rehearsal's own servers, which a droplet does not have: named (53, rndc 953) and Pebble. */
export const REHEARSAL_LOOPBACK_SOCKETS: readonly string[] = ['tcp/53', 'udp/53', 'tcp/953', `tcp/${PEBBLE_PORT}`, `tcp/${PEBBLE_MANAGEMENT_PORT}`];

export type { RunResult } from '../support/platform';
/** How to run a command in the droplet, or one of this machine's on its network (no working directory). */
export type DropletRunOptions = Omit<RunOptions, 'cwd'>;

/** The host programs the harness itself runs (the cloud's side), by Debian package. */
const HARNESS_TOOLS: readonly (readonly [string, string])[] = [
  ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['ip', 'iproute2'], ['named', 'bind9'], ['pebble', 'pebble'],
  ['python3', 'python3'], ['openssl', 'openssl'], ['ss', 'iproute2'], ['losetup', 'mount'],
];

/**
 * Why rehearsals cannot run here, or undefined when they can. The droplet's own programs (Prosody,
 * nginx, coturn, certbot, cloud-init) come from its platform image, never from this machine.
 */
export function rehearsalUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const [tool, pkg] of HARNESS_TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (Debian package ${pkg}; npm test installs it)`;
  }
  const platform = platformUnavailable();
  if (platform !== undefined) return platform;
  const probe = spawnSync('unshare', ['--mount', '--net', '--pid', '--uts', '--fork', 'true']);
  if (probe.status !== 0) return `unshare --mount --net --pid --uts is not permitted: ${probe.stderr}`;
  return undefined;
}

/** The synthesized stack (cdk.tf.json), parsed. */
export interface SynthesizedStack {
  resource: { [type: string]: { [name: string]: { [attr: string]: any } } };
  output?: { [name: string]: { value: unknown } };
}

/**
 * The zones a synthesized stack leaves to DNS outside DigitalOcean: its `zone_files` outputs, as
 * Terraform would evaluate them with the rehearsal droplet's addresses, by zone.
 */
export function externalZonesFromSynth(stack: SynthesizedStack): Record<string, string> {
  const zones: Record<string, string> = {};
  for (const [name, output] of Object.entries(stack.output ?? {})) {
    if (!name.endsWith('_zone_files')) continue;
    for (const [zone, text] of Object.entries(output.value as Record<string, string>)) {
      zones[zone] = evaluateTemplate(
        text
          .replace(/\$\{digitalocean_reserved_ip\.[^.}]+\.ip_address\}/g, DROPLET.reserved4)
          .replace(/\$\{digitalocean_reserved_ipv6\.[^.}]+\.ip\}/g, DROPLET.reserved6)
          .replace(/\$\{digitalocean_droplet\.[^.}]+\.ipv4_address\}/g, DROPLET.public4)
          .replace(/\$\{digitalocean_droplet\.[^.}]+\.ipv6_address\}/g, DROPLET.public6),
      );
    }
  }
  return zones;
}

/** The dedicated TURN droplet's user_data in a synthesized stack, as Terraform evaluates the JSON string. */
export function turnDropletUserData(stack: SynthesizedStack): string {
  const droplets = Object.entries(stack.resource.digitalocean_droplet ?? {}).filter(([name]) => /Turn/.test(name));
  if (droplets.length !== 1) throw new Error(`expected one TURN droplet in cdk.tf.json, found ${droplets.length}`);
  return evaluateTemplate(droplets[0][1].user_data);
}

/** The `image` of the stack's Prosody droplet, or of its dedicated TURN droplet. */
export function dropletImage(stack: SynthesizedStack, which: 'prosody' | 'turn'): string {
  const droplets = Object.entries(stack.resource.digitalocean_droplet ?? {}).filter(([name]) => /Turn/.test(name) === (which === 'turn'));
  if (droplets.length !== 1) throw new Error(`expected one ${which} droplet in cdk.tf.json, found ${droplets.length}`);
  return droplets[0][1].image;
}

/** The Prosody droplet's `user_data` attribute in a synthesized stack: the Terraform template, references and all. */
export function dropletUserDataTemplate(stack: SynthesizedStack): string {
  const droplets = Object.entries(stack.resource.digitalocean_droplet ?? {}).filter(([name]) => !/Turn/.test(name));
  if (droplets.length !== 1) throw new Error(`expected one Prosody droplet in cdk.tf.json, found ${droplets.length}`);
  return droplets[0][1].user_data;
}

/**
 * The Prosody droplet's user_data in a synthesized stack, as Terraform evaluates the JSON string:
 * with `spacesKey`, the `digitalocean_spaces_key` attributes it references are the key the
 * provider created (the harness invents it, see `spacesFromSynth`).
 */
export function dropletUserData(stack: SynthesizedStack, spacesKey?: SpacesCredentials, backupKey?: SpacesCredentials): string {
  let template = dropletUserDataTemplate(stack);
  // Each digitalocean_spaces_key reference by the key it names: the backups' or the channel's.
  template = template.replace(/\$\{digitalocean_spaces_key\.([^.}]+)\.(access_key|secret_key)\}/g, (ref, name: string, attribute: string) => {
    const key = isBackupKey(name) ? backupKey : spacesKey;
    if (key === undefined) return ref;
    return attribute === 'access_key' ? key.accessKey : key.secretKey;
  });
  return evaluateTemplate(template);
}

/** Whether a `digitalocean_spaces_key` of the stack is the off-host backups' (its logical ID says so). */
const isBackupKey = (logicalId: string): boolean => /BackupKey/.test(logicalId);

/** What a stack's off-host backups ask of Spaces: the bucket, its region, and the key's grants. */
export interface BackupStoreFromSynth {
  readonly region: string;
  readonly bucket: string;
  readonly grants: readonly { bucket: string; permission: 'read' | 'readwrite' | 'fullaccess' }[];
}

/** The stack's off-host backup bucket and key (offsiteBackups), or undefined when it has none. */
export function backupStoreFromSynth(stack: SynthesizedStack): BackupStoreFromSynth | undefined {
  const keys = Object.entries(stack.resource.digitalocean_spaces_key ?? {}).filter(([name]) => isBackupKey(name));
  if (keys.length === 0) return undefined;
  const buckets = Object.entries(stack.resource.digitalocean_spaces_bucket ?? {}).filter(([name]) => /BackupBucket/.test(name));
  if (keys.length !== 1 || buckets.length !== 1) throw new Error(`the harness rehearses off-host backups to a bucket the stack creates: expected one backup key and one backup bucket, found ${keys.length} and ${buckets.length}`);
  const [bucketId, bucket] = buckets[0];
  const name = (value: string): string => (value === `\${digitalocean_spaces_bucket.${bucketId}.name}` ? bucket.name : value);
  return {
    region: bucket.region,
    bucket: bucket.name,
    grants: (keys[0][1].grant ?? []).map((g: { bucket: string; permission: 'read' | 'readwrite' | 'fullaccess' }) => ({ bucket: name(g.bucket), permission: g.permission })),
  };
}

/** An access key and its secret, as `digitalocean_spaces_key` exports them. */
export interface SpacesCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** What a stack asks of Spaces: its bucket, the bucket object it writes, the key it grants. */
export interface SpacesFromSynth {
  readonly region: string;
  readonly bucket: string;
  readonly objectKey: string;
  /** The object's bytes, as the stack's `content_base64` holds them. */
  readonly contentBase64: string;
  /** The read key's grants, bucket references resolved to names. */
  readonly grants: readonly { bucket: string; permission: 'read' | 'readwrite' | 'fullaccess' }[];
}

/** The stack's Spaces resources (configDelivery "spaces"), or undefined when it has none. */
export function spacesFromSynth(stack: SynthesizedStack): SpacesFromSynth | undefined {
  const keys = Object.entries(stack.resource.digitalocean_spaces_key ?? {}).filter(([name]) => !isBackupKey(name)).map(([, key]) => key);
  const buckets = stack.resource.digitalocean_spaces_bucket ?? {};
  const objects = Object.values(stack.resource.digitalocean_spaces_bucket_object ?? {});
  if (keys.length === 0 && objects.length === 0) return undefined;
  if (keys.length !== 1 || objects.length !== 1) throw new Error(`expected one digitalocean_spaces_key and one digitalocean_spaces_bucket_object, found ${keys.length} and ${objects.length}`);
  const bucketName = (value: string): string => {
    const ref = /^\$\{digitalocean_spaces_bucket\.([^.}]+)\.name\}$/.exec(value);
    if (!ref) return value;
    if (buckets[ref[1]] === undefined) throw new Error(`${value} names no digitalocean_spaces_bucket of the stack`);
    return buckets[ref[1]].name;
  };
  const object = objects[0];
  return {
    region: object.region,
    bucket: bucketName(object.bucket),
    objectKey: object.key,
    contentBase64: object.content_base64,
    grants: (keys[0].grant ?? []).map((g: { bucket: string; permission: 'read' | 'readwrite' | 'fullaccess' }) => ({ bucket: bucketName(g.bucket), permission: g.permission })),
  };
}

/**
 * The DNS records of a synthesized stack, as plan records: read back from its
 * `digitalocean_record` resources, with their address tokens mapped to address sources.
 */
export function recordsFromSynth(stack: SynthesizedStack): DnsRecordPlan[] {
  const addressOf = (value: string): AddressRef | string => {
    if (/^\$\{digitalocean_reserved_ip\.[^.]+\.ip_address\}$/.test(value)) return { kind: 'address', of: 'reservedIpv4' };
    if (/^\$\{digitalocean_reserved_ipv6\.[^.]+\.ip\}$/.test(value)) return { kind: 'address', of: 'reservedIpv6' };
    const m = /^\$\{digitalocean_droplet\.([^.]+)\.(ipv4_address|ipv6_address)\}$/.exec(value);
    if (!m) return value;
    const turn = /Turn/.test(m[1]);
    const v6 = m[2] === 'ipv6_address';
    return { kind: 'address', of: turn ? (v6 ? 'turnIpv6' : 'turnIpv4') : v6 ? 'dropletIpv6' : 'dropletIpv4' };
  };
  return synthRecords(stack).map((r) => ({
    key: r.key,
    zone: r.domain,
    type: r.type as DnsRecordType,
    name: r.name,
    value: addressOf(r.value),
    ttlSeconds: r.ttl,
    priority: r.priority,
    weight: r.weight,
    port: r.port,
    flags: r.flags,
    tag: r.tag,
  }));
}

const ZONE_ADDRESSES: ZoneAddresses = {
  reservedIpv4: DROPLET.reserved4,
  reservedIpv6: DROPLET.reserved6,
  dropletIpv4: DROPLET.public4,
  dropletIpv6: DROPLET.public6,
};

export interface BootOptions {
  /** Host directory standing in for the data volume, kept after `stop()`. @default a fresh one, removed with the rehearsal */
  readonly volume?: string;
  /** A real block device as the data volume instead of a directory (VOLUME_DEVICE points at it). */
  readonly blockDevice?: string;
  /**
   * Runs after cloud-init's init stage (bootcmd, write_files) and before the config and final stages
   * (packages, deferred files, runcmd and so the provisioning script), as a droplet's own boot would differ.
   */
  readonly beforeProvision?: (rehearsal: Rehearsal) => void;
  /** Which droplet of the stack boots: the Prosody host, or the dedicated TURN droplet. @default 'prosody' */
  readonly droplet?: 'prosody' | 'turn';
  /**
   * Host directory holding the off-host backups' object store (a stack with `offsiteBackups`), kept
   * after `stop()`: a droplet deployed again finds its bucket as the first one left it.
   * @default a fresh one, removed with the rehearsal
   */
  readonly objectStore?: string;
  /** Changes the user_data before it boots, for tests that show what a defect would do. */
  readonly transformUserData?: (userData: string) => string;
  /**
   * Watch first boot from the internet's side while cloud-init installs the packages and provisions:
   * unauthenticated TURN allocations and every listening socket, sampled until the final stage ends.
   */
  readonly watchFirstBoot?: boolean;
  /**
   * Whether the npm registry answers at first boot (the web client's release comes from it).
   * false: its name resolves but there is no route to it, until `startNpmRegistry()`.
   * @default true
   */
  readonly npmRegistry?: boolean;
}

/** What the first-boot watcher saw (clients/first-boot-watch.ts). */
export interface FirstBootWatch {
  /** Each unauthenticated TURN Allocate attempt: when, to which address, and its outcome. */
  readonly allocations: readonly { t: number; address: string; outcome: 'open-relay' | 'refused' | 'unreachable'; detail: string }[];
  /** Each snapshot of the droplet's listening sockets, with their processes. */
  readonly listeners: readonly { t: number; sockets: readonly { protocol: string; address: string; port: number; process: string }[] }[];
}

/** The final stage's output lines (the provisioning script's among them), with when each arrived. */
export interface TimedLine {
  readonly t: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface BootResult {
  readonly rehearsal: Rehearsal;
  /**
   * cloud-init's final stage, which runs the provisioning script from runcmd: its exit status
   * (non-zero when any module failed, runcmd's script included), its stdout and its stderr.
   */
  readonly provision: RunResult;
  /** The final stage's output, line by line, with arrival times (ms since the epoch). */
  readonly timeline: readonly TimedLine[];
  /** When cloud-init's final stage (package installation onwards) started and ended. */
  readonly finalStage: { readonly start: number; readonly end: number };
  /** Present with `watchFirstBoot`. */
  readonly firstBoot?: FirstBootWatch;
}

/** Rehearsals of this test file not yet stopped; `closed` once the file's last afterAll ran. */
const LIVE = new Set<Rehearsal>();
let closed = false;
// After every describe's own afterAll (jest runs the file's top-level hooks last).
if (typeof afterAll === 'function') afterAll(() => Rehearsal.stopAll(), 120000);

/** A running rehearsal droplet. */
export class Rehearsal {
  private constructor(
    /** Host directory holding this rehearsal's harness files and volume. */
    public readonly base: string,
    /** Host directory standing in for the data volume; survives `stop()` when given by the caller. */
    public readonly volume: string,
    private readonly holder: ChildProcess,
    private readonly nsPid: number,
    private readonly ownsVolume: boolean,
  ) {
    LIVE.add(this);
  }

  /**
   * Stops every rehearsal of this test file that is still live. A test's beforeAll that times out
   * does not cancel its boot, which goes on and would leave its namespaces and servers running after
   * the file, with no test holding the rehearsal to stop: this catches those, after the test's own
   * afterAll, and a boot that constructs its rehearsal afterwards stops it at once.
   */
  static async stopAll(): Promise<void> {
    closed = true;
    await Promise.all([...LIVE].map((r) => r.stop()));
  }

  /**
   * Boot a droplet from a synthesized stack as DigitalOcean would: its platform's image, the
   * harness's cloud around it (DNS, metadata, mirror), then cloud-init's stages in order.
   */
  static async boot(stack: SynthesizedStack, options: BootOptions = {}): Promise<BootResult> {
    // The droplet boots the image the stack names, as DigitalOcean would.
    const image = platformImage(platformOfImage(dropletImage(stack, options.droplet ?? 'prosody')));
    const base = mkdtempSync('/var/tmp/xc-rehearsal-');
    chmodSync(base, 0o755);
    const volume = options.volume ?? join(base, 'volume');
    for (const d of ['rw', 'root', 'files', 'files/named', 'files/ca', 'files/acme', 'files/seed']) mkdirSync(join(base, d), { recursive: true });
    if (options.blockDevice === undefined) mkdirSync(volume, { recursive: true });

    // Everything the namespace reads from the host is written before the overlay is mounted.
    // Spaces, when the stack uses it: the provider creates the read key, whose ID and secret
    // Terraform then puts into the droplet's user_data.
    const spaces = spacesFromSynth(stack);
    const spacesKey = spaces === undefined ? undefined : inventSpacesKey();
    // The off-host backups' bucket, in a real S3 server (object-store.ts) answering as Spaces.
    const backupStore = options.droplet === 'turn' ? undefined : backupStoreFromSynth(stack);
    if (spaces !== undefined && backupStore !== undefined) throw new Error('the harness answers as Spaces with either the configuration channel or the off-host backups, not both in one rehearsal');
    const backupKey = backupStore === undefined ? undefined : inventSpacesKey();
    const userData = (options.transformUserData ?? ((u: string) => u))(options.droplet === 'turn' ? turnDropletUserData(stack) : dropletUserData(stack, spacesKey, backupKey));
    writeFileSync(join(base, 'files', 'seed', 'user-data'), userData);
    writeFileSync(join(base, 'files', 'seed', 'meta-data'), `instance-id: rehearsal-${process.pid}-${Date.now()}\nlocal-hostname: droplet\n`);
    writeMetadata(join(base, 'files', 'metadata'));
    const cloudRegion = spaces?.region ?? backupStore?.region;
    // The web client's release, from the registry (a TURN droplet installs none).
    const npmRegistry = options.droplet !== 'turn';
    if (npmRegistry) writeRegistryFiles(join(base, 'files', 'npm'));
    writeNamedConfig(join(base, 'files', 'named'), recordsFromSynth(stack), externalZonesFromSynth(stack), {
      ...(cloudRegion === undefined ? {} : spacesZone(cloudRegion)),
      ...(npmRegistry ? REGISTRY_ZONE : {}),
    });
    if (spaces !== undefined) writeSpacesFiles(join(base, 'files', 'spaces'), spaces, spacesKey!);
    if (backupStore !== undefined) {
      const directory = options.objectStore ?? join(base, 'objects');
      mkdirSync(directory, { recursive: true });
      writeObjectStoreFiles(join(base, 'files', 'spaces'), backupStore, backupKey!, directory);
    }
    writeFileSync(join(base, 'files', 'resolv.conf'), 'nameserver 127.0.0.1\n');
    writeFileSync(join(base, 'files', 'hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');

    const holder = spawn('unshare', ['--mount', '--net', '--pid', '--uts', '--fork', '--kill-child', '--mount-proc', 'bash', join(BIN, 'boot-namespace.sh'),
      join(base, 'root'), image.base, options.blockDevice === undefined ? volume : '-', VOLUME_MOUNT, DROPLET.public4, DROPLET.reserved4, DROPLET.public6,
      join(base, 'files'), image.repo, MIRROR4, join(BIN, 'systemctl'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bootLog = '';
    holder.stdout!.on('data', (d) => (bootLog += d));
    holder.stderr!.on('data', (d) => (bootLog += d));
    const deadline = Date.now() + 20000;
    while (!bootLog.includes('ready')) {
      if (holder.exitCode !== null || Date.now() > deadline) {
        if (holder.exitCode === null) holder.kill('SIGKILL');
        throw new Error(`namespace did not come up: ${bootLog}`);
      }
      await sleep(50);
    }
    const nsPid = Number(spawnSync('cat', [`/proc/${holder.pid}/task/${holder.pid}/children`], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]);
    const rehearsal = new Rehearsal(base, volume, holder, nsPid, options.volume === undefined && options.blockDevice === undefined);
    try {
      if (closed) throw new Error('the test file ended (its beforeAll timed out) before the namespace came up');
      // What the cloud provides around the droplet, written into its disk as a cloud would (only the
      // harness knows that the mirror is local and the datasource a seed).
      rehearsal.mustRun('the cloud: datasource and mirror', ['sh', '-c', [
        `install -d /var/lib/cloud/seed/nocloud && cp ${join(base, 'files', 'seed')}/* /var/lib/cloud/seed/nocloud/`,
        `printf '%s\\n' 'datasource_list: [ NoCloud ]' 'network: {config: disabled}' > /etc/cloud/cloud.cfg.d/90_rehearsal.cfg`,
        // Separate streams for the final stage, so a test reads the provisioning script's errors apart.
        `printf '%s\\n' 'output: {final: {output: "| tee -a /var/log/cloud-init-output.log", error: "| tee -a /var/log/cloud-init-output.log >&2"}}' >> /etc/cloud/cloud.cfg.d/90_rehearsal.cfg`,
        `rm -f /etc/apt/sources.list.d/* && echo 'deb [trusted=yes] http://${MIRROR4}/ ./' > /etc/apt/sources.list`,
      ].join(' && ')]);
      rehearsal.hostMustRun('start DNS server', ['named', '-c', join(base, 'files', 'named', 'named.conf')]);
      if (spaces !== undefined) rehearsal.startSpaces('test/support/spaces-standin.ts');
      if (backupStore !== undefined) rehearsal.startSpaces('test/support/object-store.ts');
      if (npmRegistry && (options.npmRegistry ?? true)) rehearsal.startNpmRegistry();

      rehearsal.mustRun('cloud-init init --local', ['cloud-init', 'init', '--local'], { timeoutMs: 120000 });
      rehearsal.mustRun('cloud-init init', ['cloud-init', 'init'], { timeoutMs: 120000 });
      if (options.blockDevice !== undefined) {
        // The script waits for DigitalOcean's /dev/disk/by-id name, which udev makes on a droplet;
        // here the real block device stands behind the same variable.
        rehearsal.mustRun('point the script at the block device', ['sed', '-i', `s|^VOLUME_DEVICE=.*|VOLUME_DEVICE='${options.blockDevice}'|`, HOST_ENV]);
      }
      options.beforeProvision?.(rehearsal);
      rehearsal.mustRun('cloud-init modules --mode config', ['cloud-init', 'modules', '--mode', 'config'], { timeoutMs: 120000 });

      const watcher = options.watchFirstBoot ? rehearsal.startFirstBootWatch() : undefined;
      const start = Date.now();
      const final = await rehearsal.runTimed(['cloud-init', 'modules', '--mode', 'final'], 600000);
      const end = Date.now();
      const firstBoot = watcher ? await watcher() : undefined;
      return { rehearsal, provision: final.result, timeline: final.timeline, finalStage: { start, end }, firstBoot };
    } catch (error) {
      // A boot that failed midway still has its namespaces and servers: end them, or they outlive the test.
      await rehearsal.stop();
      throw error;
    }
  }

  /** The argv that runs `args` as root inside the droplet: its namespaces, chrooted into its disk. */
  private inDroplet(args: readonly string[], env: Record<string, string> = {}): string[] {
    const vars = Object.entries({ PATH: PLATFORM_PATH, HOME: '/root', LANG: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${v}`);
    return ['nsenter', '--target', String(this.nsPid), '--mount', '--net', '--pid', '--uts', '--', 'chroot', join(this.base, 'root'), 'env', '-i', ...vars, ...args];
  }

  /** Run `args` in the droplet, streaming its output line by line with arrival times. */
  private runTimed(args: readonly string[], timeoutMs: number): Promise<{ result: RunResult; timeline: TimedLine[] }> {
    const [command, ...rest] = this.inDroplet(args);
    const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timeline: TimedLine[] = [];
    const out = { stdout: '', stderr: '' };
    const pending = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        out[stream] += chunk;
        const lines = (pending[stream] + chunk).split('\n');
        pending[stream] = lines.pop()!;
        for (const line of lines) timeline.push({ t: Date.now(), stream, line });
      });
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve) => {
      child.on('close', (status) => {
        clearTimeout(timer);
        for (const stream of ['stdout', 'stderr'] as const) if (pending[stream]) timeline.push({ t: Date.now(), stream, line: pending[stream] });
        resolve({ result: { status, stdout: out.stdout, stderr: out.stderr }, timeline });
      });
    });
  }

  /**
   * Start the first-boot watcher: a client on the droplet's network, as anyone on the internet could
   * be, trying unauthenticated TURN allocations and listing listening sockets until told to stop.
   */
  private startFirstBootWatch(): () => Promise<FirstBootWatch> {
    const out = join(this.base, 'files', 'first-boot-watch.jsonl');
    const stopFile = join(this.base, 'files', 'first-boot-watch.stop');
    const [command, ...rest] = this.onHost(['node', '-r', 'ts-node/register', join(__dirname, 'clients', 'first-boot-watch.ts'),
      JSON.stringify({ addresses: [DROPLET.public4, DROPLET.public6], port: 3478, out, stopFile })], TS_NODE_ENV);
    const child = spawn(command, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return async () => {
      writeFileSync(stopFile, '');
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      if (child.exitCode !== 0) throw new Error(`the first-boot watcher failed (exit ${child.exitCode}):\n${stderr}`);
      const allocations: FirstBootWatch['allocations'][number][] = [];
      const listeners: FirstBootWatch['listeners'][number][] = [];
      for (const line of readFileSync(out, 'utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line);
        if (entry.kind === 'allocation') allocations.push(entry);
        else listeners.push(entry);
      }
      return { allocations, listeners };
    };
  }

  /** Run a command as root inside the droplet (its namespaces, chrooted into its disk). */
  run(args: readonly string[], options: DropletRunOptions = {}): RunResult {
    return runArgv(this.inDroplet(args, options.env), options);
  }

  /**
   * The argv that runs one of this machine's programs (the harness's servers, the clients) in the
   * droplet's network and PID namespaces, resolving names through the rehearsal's DNS as the
   * droplet does, but on this machine's files: it is the cloud, or a device on the internet.
   */
  private onHost(args: readonly string[], env: Record<string, string> = {}): string[] {
    const vars = Object.entries({ PATH: PLATFORM_PATH, HOME: '/root', LANG: 'C.UTF-8', ...env }).map(([k, v]) => `${k}=${v}`);
    return ['nsenter', '--target', String(this.nsPid), '--net', '--pid', '--', 'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"', 'on-host',
      join(this.base, 'files', 'resolv.conf'), join(this.base, 'files', 'hosts'), 'env', '-i', ...vars, ...args];
  }

  /** Run one of this machine's programs in the droplet's network (see `onHost`). */
  hostRun(args: readonly string[], options: DropletRunOptions = {}): RunResult {
    return runArgv(this.onHost(args, options.env), options);
  }

  /** Like `hostRun`, but throws with the command's output and the daemons' log tails on failure. */
  hostMustRun(step: string, args: readonly string[], options: DropletRunOptions = {}): RunResult {
    const r = this.hostRun(args, options);
    if (r.status !== 0) throw new Error(`rehearsal step "${step}" failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}\n${this.logTails()}`);
    return r;
  }

  /**
   * Run several commands in the droplet at once (as root, each with `timeoutMs`), for tools the
   * platform ships that act as clients (coturn's turnutils_uclient), and return their outcomes.
   */
  runMany(runs: readonly { name: string; args: readonly string[] }[], timeoutMs: number): Promise<{ name: string; code: number | null; signal: string | null; output: string }[]> {
    return Promise.all(runs.map((run) => new Promise<{ name: string; code: number | null; signal: string | null; output: string }>((resolve) => {
      const [command, ...rest] = this.inDroplet(run.args);
      const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        // Verbose runs that retry can be long; the head and the tail say what happened.
        resolve({ name: run.name, code, signal, output: output.length > 40000 ? `${output.slice(0, 20000)}\n…\n${output.slice(-20000)}` : output });
      });
    })));
  }

  /** What a service wrote to its standard output and error (systemd's journal on a droplet). */
  journal(service: string): string {
    return this.run(['cat', `/var/log/rehearsal/${service}.log`]).stdout;
  }

  /** Like `run`, but throws with the command's output and the daemons' log tails on failure. */
  mustRun(step: string, args: readonly string[], options: DropletRunOptions = {}): RunResult {
    const r = this.run(args, options);
    if (r.status !== 0) throw new Error(`rehearsal step "${step}" failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}\n${this.logTails()}`);
    return r;
  }

  /** Wait until every `proto/port` (e.g. `tcp/5222`) has a listener in the droplet. */
  async waitForListeners(ports: readonly string[], timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let missing: string[] = [...ports];
    while (Date.now() < deadline) {
      const listening = this.listeners();
      missing = ports.filter((p) => !listening.some((l) => `${l.protocol}/${l.port}` === p));
      if (missing.length === 0) return;
      await sleep(250);
    }
    throw new Error(`nothing listens on ${missing.join(', ')} after ${timeoutMs} ms\n${this.logTails()}`);
  }

  /** Every listening TCP socket and bound UDP socket in the droplet. */
  listeners(): { protocol: 'tcp' | 'udp'; address: string; port: number }[] {
    const out = this.mustRun('list sockets', ['ss', '-H', '-lntu']).stdout;
    return out.split('\n').filter(Boolean).map((line) => {
      const cols = line.trim().split(/\s+/);
      const local = cols[4];
      const i = local.lastIndexOf(':');
      return { protocol: cols[0] as 'tcp' | 'udp', address: local.slice(0, i).replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(local.slice(i + 1)) };
    });
  }

  /**
   * Spaces, as the cloud provides it: the droplet's disk trusts the harness's CA (the real Spaces'
   * chain is in Debian's ca-certificates already), "<region>.digitaloceanspaces.com" answers on
   * SPACES4 in the outside namespace, and the stand-in holds the stack's object.
   */
  private startSpaces(server: 'test/support/spaces-standin.ts' | 'test/support/object-store.ts'): void {
    this.startOutsideServer('Spaces', server, join(this.base, 'files', 'spaces'), SPACES4, 'rehearsal-cloud-ca');
  }

  /**
   * The npm registry, as the internet provides it: "registry.npmjs.org" on REGISTRY4 in the outside
   * namespace, serving the pinned web client's tarball; the droplet's disk trusts the CA of its
   * certificate (the real registry's chains to a public CA in Debian's ca-certificates).
   */
  startNpmRegistry(): void {
    this.startOutsideServer('the npm registry', 'test/support/npm-registry.ts', join(this.base, 'files', 'npm'), REGISTRY4, 'rehearsal-npm-ca');
  }

  /** Every request the npm registry answered, oldest first. */
  npmRegistryRequests(): { method: string; path: string; status: number }[] {
    const log = join(this.base, 'files', 'npm', 'requests.jsonl');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  }

  /** Serve `bytes` as the pinned release's tarball from now on: what a compromised mirror or registry would do. */
  replaceNpmTarball(bytes: Buffer): void {
    writeFileSync(registryTarball(join(this.base, 'files', 'npm')), bytes);
  }

  /** A server of the outside world (`server`, run with `dir`/config.json) at `address`, its CA trusted by the droplet's disk as `caName`. */
  private startOutsideServer(what: string, server: string, dir: string, address: string, caName: string): void {
    this.mustRun(`the cloud: trust the CA of ${what}'s certificate`, ['sh', '-c',
      `install -m 0644 ${dir}/ca.pem /usr/local/share/ca-certificates/${caName}.crt && update-ca-certificates >/dev/null`]);
    const node = process.execPath;
    const script = `set -eu
outside=$(cat ${join(this.base, 'files', 'outside.pid')})
nsenter -t "$outside" -n ip addr add ${address}/32 dev outside0
ip route add ${address}/32 dev eth0 src ${DROPLET.public4}
cd ${PROJECT_ROOT}
TS_NODE_TRANSPILE_ONLY=true TS_NODE_PROJECT=${join(PROJECT_ROOT, 'tsconfig.json')} nsenter -t "$outside" -n setsid ${node} -r ts-node/register/transpile-only \
  ${server} --config ${dir}/config.json > ${dir}/standin.log 2>&1 < /dev/null &
for _ in $(seq 1 200); do grep -q '^listening ' ${dir}/standin.log && exit 0; sleep 0.1; done
cat ${dir}/standin.log >&2; exit 1
`;
    // The droplet's mount namespace (its /proc names the outside namespace's PID), on this machine's files.
    const r = runArgv(['nsenter', '--target', String(this.nsPid), '--mount', '--net', '--pid', '--', 'bash', '-c', script], { timeoutMs: 60000 });
    if (r.status !== 0) throw new Error(`rehearsal step "start ${what}" failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }

  /**
   * Write `stack`'s bundle object into Spaces, as \`terraform apply\` does: an S3 PUT signed with
   * the deploying side's full-access key. Returns the object's SHA-256 (hex).
   */
  putBundle(stack: SynthesizedStack): string {
    const spaces = spacesFromSynth(stack);
    if (spaces === undefined) throw new Error('the stack has no Spaces bucket object');
    return this.putObject(spaces, Buffer.from(spaces.contentBase64, 'base64'));
  }

  /** Write `body` as the stack's bundle object (a bundle the stack would not write, for tests of refusals). */
  putObject(spaces: SpacesFromSynth, body: Buffer): string {
    const dir = join(this.base, 'files', 'spaces');
    const file = join(dir, `put-${Date.now()}.bin`);
    writeFileSync(file, body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const provider = JSON.parse(readFileSync(join(dir, 'provider-key.json'), 'utf8')) as SpacesCredentials;
    this.hostMustRun('put the bundle into Spaces', ['curl', '-fsS', '--cacert', join(dir, 'ca.pem'), '--aws-sigv4', `aws:amz:${spaces.region}:s3`,
      '--user', `${provider.accessKey}:${provider.secretKey}`, '-H', `x-amz-content-sha256: ${sha256}`, '-H', 'Content-Type: application/gzip',
      '--upload-file', file, `https://${spaces.region}.digitaloceanspaces.com/${spaces.bucket}/${spaces.objectKey}`], { timeoutMs: 30000 });
    return sha256;
  }

  /** Every request Spaces answered, oldest first (the stand-in's log). */
  spacesRequests(): { method: string; bucket?: string; key?: string; accessKey?: string; status: number; code?: string }[] {
    const log = join(this.base, 'files', 'spaces', 'requests.jsonl');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  }

  /** The CA of Spaces' certificate here (the real one chains to a public CA; see the header). */
  get spacesCaFile(): string {
    return join(this.base, 'files', 'spaces', 'ca.pem');
  }

  /** The off-host backups' key the provider "created" for the droplet (its secret is in the droplet's user_data). */
  get backupKey(): SpacesCredentials {
    return JSON.parse(readFileSync(join(this.base, 'files', 'spaces', 'backup-key.json'), 'utf8'));
  }

  /** The read key the provider "created" for the droplet (its secret is in the droplet's user_data). */
  get spacesReadKey(): SpacesCredentials {
    return JSON.parse(readFileSync(join(this.base, 'files', 'spaces', 'read-key.json'), 'utf8'));
  }

  /**
   * Serve `stack`'s DNS records from now on, as Terraform applying its `digitalocean_record`s (and
   * the operator loading its zone_files) would: new zones are added, changed zones replaced.
   */
  updateDns(stack: SynthesizedStack): void {
    const dir = join(this.base, 'files', 'named');
    const spaces = spacesFromSynth(stack);
    const zones = writeNamedConfig(dir, recordsFromSynth(stack), externalZonesFromSynth(stack), spaces && spacesZone(spaces.region));
    // named reloads named.conf on SIGHUP, and each primary zone whose file has a later mtime.
    const later = new Date(Date.now() + 2000);
    for (const zone of zones) utimesSync(join(dir, `${zone}.zone`), later, later);
    this.hostMustRun('reload named', ['sh', '-c', `kill -HUP $(cat ${join(dir, 'named.pid')})`]);
    for (const zone of zones) {
      this.hostMustRun(`wait for named to serve ${zone}`, [process.execPath, '-e',
        `(async () => { for (let i = 0; i < 50; i++) { try { await require('dns').promises.resolveSoa(${JSON.stringify(zone)}); return; } catch { await new Promise((r) => setTimeout(r, 100)); } } process.exit(1); })()`]);
    }
  }

  /**
   * Look for a new configuration bundle as xmpp-constructs-config.timer does every minute: start
   * its service (a oneshot running xmpp-constructs-fetch). Returns the start's exit status and what
   * the service wrote during this run (its journal), and how long it took.
   */
  fetchConfig(): RunResult & { ms: number } {
    const log = '/var/log/rehearsal/xmpp-constructs-config.log';
    const before = Number(this.run(['sh', '-c', `wc -c < ${log} 2>/dev/null || echo 0`]).stdout.trim() || 0);
    const start = Date.now();
    const r = this.run(['systemctl', 'start', 'xmpp-constructs-config.service'], { timeoutMs: 300000 });
    const ms = Date.now() - start;
    const journal = this.run(['sh', '-c', `tail -c +${before + 1} ${log} 2>/dev/null`]).stdout;
    return { status: r.status, stdout: journal + r.stdout, stderr: r.stderr, ms };
  }

  /**
   * The start jobs queued with `systemctl start --no-block` (bin/systemctl), which systemd would run
   * right after their caller returned: run them now, in order, and empty the queue. Returns each
   * unit with its start's exit status.
   */
  runQueuedJobs(): { unit: string; status: number | null }[] {
    const queued = this.run(['sh', '-c', 'cat /run/rehearsal/queued-jobs 2>/dev/null; rm -f /run/rehearsal/queued-jobs']).stdout.split('\n').filter(Boolean);
    return queued.map((unit) => ({ unit, status: this.run(['systemctl', 'start', unit], { timeoutMs: 300000 }).status }));
  }

  /** The units queued with `systemctl start --no-block` and not run yet. */
  queuedJobs(): string[] {
    return this.run(['cat', '/run/rehearsal/queued-jobs']).stdout.split('\n').filter(Boolean);
  }

  /** The provisioning script run again by hand, as an operator would (cloud-init ran it once at boot). */
  provision(): RunResult {
    return this.run([PROVISION_SCRIPT], { timeoutMs: 120000 });
  }

  /** The PID (this machine's) of a process in the droplet's namespaces: a browser enters its network namespace. */
  get netnsPid(): number {
    return this.nsPid;
  }

  /** The PID, in the droplet's PID namespace, of a process in "the outside" network namespace. */
  get outsidePid(): number {
    return Number(readFileSync(join(this.base, 'files', 'outside.pid'), 'utf8'));
  }

  /** The CA file clients trust once `issueCertificates()` has run. */
  get caFile(): string {
    return join(this.base, 'files', 'ca', 'ca.pem');
  }

  /**
   * Run a client scenario (clients/scenarios.ts) on the droplet's network, the way a device on the
   * internet would talk to it, and return its JSON result.
   */
  client<T = any>(scenario: string, args: unknown = {}, timeoutMs = 60000): T {
    const r = this.hostRun(['node', '-r', 'ts-node/register', join(__dirname, 'clients', 'run.ts'), scenario, JSON.stringify(args)], {
      timeoutMs,
      env: { NODE_EXTRA_CA_CERTS: this.caFile, ...TS_NODE_ENV },
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (r.status !== 0 || line === undefined) {
      throw new Error(`client scenario "${scenario}" failed (exit ${r.status}):\n${r.stderr || r.stdout}\n${this.logTails()}`);
    }
    return JSON.parse(line.slice('RESULT '.length));
  }

  /** Like `client`, without blocking this process: for scenarios that run while something else does. */
  clientAsync<T = any>(scenario: string, args: unknown = {}, timeoutMs = 60000): Promise<T> {
    const [command, ...rest] = this.onHost(['node', '-r', 'ts-node/register', join(__dirname, 'clients', 'run.ts'), scenario, JSON.stringify(args)],
      { NODE_EXTRA_CA_CERTS: this.caFile, ...TS_NODE_ENV });
    return new Promise<T>((resolve, reject) => {
      const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (code !== 0 || line === undefined) reject(new Error(`client scenario "${scenario}" failed (exit ${code}):\n${stderr || stdout}`));
        else resolve(JSON.parse(line.slice('RESULT '.length)));
      });
    });
  }

  /**
   * Open a session that stays connected (clients/session.ts), as a phone's: log in as `account`
   * through the domain's SRV record, trusting `caFile`, and keep the connection until `stop()`.
   */
  async openSession(account: { jid: string; password: string; resource?: string }): Promise<ClientSession> {
    const [command, ...rest] = this.onHost(['node', '-r', 'ts-node/register', join(__dirname, 'clients', 'session.ts'), JSON.stringify(account)],
      { NODE_EXTRA_CA_CERTS: this.caFile, ...TS_NODE_ENV });
    const child = spawn(command, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new ClientSession(child);
    await session.online(30000);
    return session;
  }

  /**
   * Run xmpp-doctor on the droplet's network, as from a machine on the internet (names
   * resolve through the rehearsal's DNS), trusting Pebble's root. Returns its exit status and its
   * --json report.
   */
  doctor(args: readonly string[], env: Record<string, string> = {}): { status: number | null; report: any; stderr: string } {
    const r = this.hostRun(['node', '-r', 'ts-node/register', join(PROJECT_ROOT, 'lib', 'doctor', 'cli.ts'), ...args, '--ca-file', this.caFile, '--json'], {
      timeoutMs: 120000,
      env: { ...TS_NODE_ENV, ...env },
    });
    let report: unknown;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new Error(`xmpp-doctor printed no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    return { status: r.status, report, stderr: r.stderr };
  }

  /** The zone file BIND serves for `zone`. */
  zoneFile(zone: string): string {
    return readFileSync(join(this.base, 'files', 'named', `${zone}.zone`), 'utf8');
  }

  /** Serve `content` as `zone` from now on, as an operator editing their DNS would. */
  replaceZoneFile(zone: string, content: string): void {
    const path = join(this.base, 'files', 'named', `${zone}.zone`);
    writeFileSync(path, content);
    // named reloads a primary zone whose file changed; a later mtime is what it compares.
    const later = new Date(Date.now() + 2000);
    utimesSync(path, later, later);
    this.hostMustRun('reload named', ['sh', '-c', `kill -HUP $(cat ${join(this.base, 'files', 'named', 'named.pid')})`]);
  }

  /**
   * Create an account the way the README's closed-registration path does: `prosodyctl adduser <jid>`
   * as root, which asks for the password twice (read from standard input when it is not a terminal).
   */
  addUser(jid: string, password: string): void {
    this.mustRun(`prosodyctl adduser ${jid}`, ['prosodyctl', 'adduser', jid], { input: `${password}\n${password}\n` });
  }

  /** Set an existing account's password as an operator does on the host: `prosodyctl passwd <jid>`. */
  setPassword(jid: string, password: string): void {
    this.mustRun(`prosodyctl passwd ${jid}`, ['prosodyctl', 'passwd', jid], { input: `${password}\n${password}\n` });
  }

  /** Remove an account as the README says: `prosodyctl deluser <jid>`. */
  deleteUser(jid: string): void {
    this.mustRun(`prosodyctl deluser ${jid}`, ['prosodyctl', 'deluser', jid]);
  }

  readFile(path: string): string {
    return this.mustRun(`read ${path}`, ['cat', path]).stdout;
  }

  /**
   * Let's Encrypt, rehearsed: Pebble (Let's Encrypt's ACME test server, this machine's) runs on the
   * droplet's network (on its loopback), validates http-01 challenges by resolving each name through the rehearsal's DNS and fetching
   * from port 80, exactly as Let's Encrypt would. The droplet's own `xmpp-constructs-certs issue`
   * then runs real certbot (webroot through nginx, one lineage per certificates.list line) and its
   * deploy hook. The only differences from a droplet: certbot is pointed at Pebble by the root
   * user's cli.ini, and trusts Pebble's API certificate through REQUESTS_CA_BUNDLE.
   * Returns Pebble's root certificate (PEM), which clients then trust.
   */
  issueCertificates(): string {
    this.startAcmeServer();
    // On a droplet issuance comes minutes after boot; here it comes at once. Let Prosody finish
    // starting before the deploy hook restarts it.
    this.waitForProsodyShell();
    // This is the certificates service's own job, run now with certbot trusting Pebble: a start of it
    // still queued (`systemctl start --no-block`, as an in-place apply leaves one) is this very run.
    this.run(['sed', '-i', '/^xmpp-constructs-certificates\\.service$/d', '/run/rehearsal/queued-jobs']);
    const issued = this.run([CERTS_SCRIPT, 'issue'], { timeoutMs: 120000, env: this.certbotEnv });
    const lineages = this.readFile(CERTIFICATES_LIST).split('\n').filter(Boolean).map((line) => line.split(' ')[0]);
    const missing = lineages.filter((l) => this.run(['test', '-s', `/etc/letsencrypt/live/${l}/fullchain.pem`]).status !== 0);
    if (issued.status !== 0 || missing.length > 0) {
      throw new Error(`certificate issuance through Pebble failed (exit ${issued.status}; missing ${missing.join(', ') || 'none'}):\n${issued.stdout}\n${issued.stderr}\n` +
        `--- certbot\n${this.run(['tail', '-n', '40', '/var/log/letsencrypt/letsencrypt.log']).stdout}\n--- pebble\n${this.run(['tail', '-n', '40', this.acmeFile('pebble.log')]).stdout}\n${this.logTails()}`);
    }
    // The deploy hook restarted Prosody. Prosody 13's prosodyctl creates and removes accounts through
    // the running server's admin socket, which is back only once Prosody has started again.
    this.waitForProsodyShell();
    const root = this.hostMustRun('fetch Pebble\'s root', ['curl', '-fsS', '--cacert', this.acmeFile('api.pem'), `https://127.0.0.1:${PEBBLE_MANAGEMENT_PORT}/roots/0`]).stdout;
    writeFileSync(this.caFile, root);
    return root;
  }

  /**
   * Wait until Prosody has finished starting: its admin socket (mod_admin_socket, which
   * `prosodyctl shell` and, on Prosody 13, `prosodyctl adduser`/`deluser` talk to) exists.
   */
  waitForProsodyShell(): void {
    this.mustRun('wait for Prosody to finish starting', ['sh', '-c', 'for i in $(seq 1 150); do [ -S /var/lib/prosody/prosody.sock ] && exit 0; sleep 0.2; done; exit 1']);
  }

  /** The environment certbot needs in the rehearsal (to trust Pebble's API); pass it to renewals too. */
  get certbotEnv(): Record<string, string> {
    return { REQUESTS_CA_BUNDLE: this.acmeFile('api.pem') };
  }

  /** How many certificate orders Pebble has received since it started (each is a request to "Let's Encrypt"). */
  acmeOrders(): number {
    return this.run(['cat', this.acmeFile('pebble.log')]).stdout.split('\n').filter((l) => /POST \/order-plz/.test(l)).length;
  }

  /**
   * Let's Encrypt (Pebble) on the droplet's network with certbot pointed at it, issuing nothing:
   * for a droplet that must find its certificates on the volume, where `acmeOrders()` then counts
   * any request it makes all the same.
   */
  startLetsEncrypt(): void {
    this.startAcmeServer();
  }

  private acmeFile(name: string): string {
    return join(this.base, 'files', 'acme', name);
  }

  /** Start Pebble once, on the droplet's loopback, resolving through the rehearsal's DNS server. */
  private startAcmeServer(): void {
    if (existsSync(this.acmeFile('pebble.pid'))) return;
    const api = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=pebble',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', this.acmeFile('api.key'), '-out', this.acmeFile('api.pem')], { encoding: 'utf8' });
    if (api.status !== 0) throw new Error(`could not make Pebble's API certificate: ${api.stderr}`);
    writeFileSync(this.acmeFile('pebble.json'), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${PEBBLE_PORT}`,
        managementListenAddress: `127.0.0.1:${PEBBLE_MANAGEMENT_PORT}`,
        certificate: this.acmeFile('api.pem'),
        privateKey: this.acmeFile('api.key'),
        // Where Let's Encrypt validates: port 80 of whatever each name resolves to.
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }));
    // No artificial validation delay, and no deliberately rejected nonces: the run stays quick and deterministic.
    this.hostMustRun('start Pebble', ['sh', '-c', `PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 setsid pebble -config ${this.acmeFile('pebble.json')} -dnsserver 127.0.0.1:53 > ${this.acmeFile('pebble.log')} 2>&1 < /dev/null & echo $! > ${this.acmeFile('pebble.pid')}`]);
    this.hostMustRun('wait for Pebble', ['sh', '-c', `for i in $(seq 1 100); do curl -fsS -o /dev/null --cacert ${this.acmeFile('api.pem')} https://127.0.0.1:${PEBBLE_PORT}/dir && exit 0; sleep 0.1; done; cat ${this.acmeFile('pebble.log')}; exit 1`]);
    this.mustRun('point certbot at Pebble', ['sh', '-c', `install -d /root/.config/letsencrypt && echo "server = https://127.0.0.1:${PEBBLE_PORT}/dir" > /root/.config/letsencrypt/cli.ini`]);
  }

  /**
   * Make clients trust `pem`, the CA of an earlier rehearsal whose certificates this droplet found
   * on its volume (as a replacement droplet finds Let's Encrypt's).
   */
  trustCa(pem: string): void {
    writeFileSync(this.caFile, pem);
  }

  /** Put a file from the test into the droplet's exchange directory; returns its path there. */
  exchangeFile(name: string, content: Buffer | string): string {
    const path = join(this.base, 'files', name);
    writeFileSync(path, content);
    return path;
  }

  /** The last lines of every daemon's log, for failure messages. */
  logTails(lines = 25): string {
    const logs = ['/run/rehearsal/calls.log', '/var/log/prosody/prosody.log', '/var/log/prosody/prosody.err', '/var/log/rehearsal/prosody.log',
      '/var/log/nginx/error.log', '/var/log/rehearsal/nginx.log', '/var/log/rehearsal/coturn.log'];
    return logs
      .map((log) => `--- ${log}\n${this.run(['tail', '-n', String(lines), log]).stdout}`)
      .join('\n');
  }

  /**
   * End everything in the namespaces and remove the files. unshare --fork blocks SIGTERM while it
   * waits for its child, so it gets SIGKILL; --kill-child then takes PID 1 of the namespace, and
   * with it every process inside, down.
   */
  async stop(): Promise<void> {
    LIVE.delete(this);
    if (this.holder.exitCode === null && this.holder.signalCode === null && this.holder.pid !== undefined) {
      const exited = new Promise<void>((resolve) => this.holder.once('exit', () => resolve()));
      process.kill(this.holder.pid, 'SIGKILL');
      await exited;
    }
    this.holder.stdout?.destroy();
    this.holder.stderr?.destroy();
    rmSync(join(this.base, 'root'), { recursive: true, force: true });
    rmSync(this.base, { recursive: true, force: true });
    if (!this.ownsVolume) return;
    rmSync(this.volume, { recursive: true, force: true });
  }
}

/** A client session kept open by clients/session.ts: commands go in, one JSON answer each comes out. */
export class ClientSession {
  private buffer = '';
  private stderr = '';
  private next = 1;
  private readonly pending = new Map<number, (answer: any) => void>();
  private onlineLine?: (info: any) => void;
  /** What the session reported when it came online: its JID and connection (local TCP port). */
  info: { jid: string; connection: number; drops: number } | undefined;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (line.startsWith('ONLINE ')) {
          this.info = JSON.parse(line.slice('ONLINE '.length));
          this.onlineLine?.(this.info);
        } else if (line.startsWith('{')) {
          const answer = JSON.parse(line);
          this.pending.get(answer.id)?.(answer);
          this.pending.delete(answer.id);
        }
      }
    });
    child.stderr!.on('data', (d) => (this.stderr += d));
    child.on('exit', (code) => {
      for (const resolve of this.pending.values()) resolve({ ok: false, error: `the session client exited (${code}): ${this.stderr}` });
      this.pending.clear();
    });
  }

  online(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the session did not come online within ${timeoutMs} ms: ${this.stderr}`)), timeoutMs);
      this.child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the session client exited (${code}) before it was online:\n${this.stderr}`)); });
      this.onlineLine = () => { clearTimeout(timer); resolve(); };
    });
  }

  /** Send a command and wait for its answer (`ok`, `connection`, `drops` and the command's own fields). */
  request(command: Record<string, unknown>, timeoutMs = 30000): Promise<any> {
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.pending.delete(id); resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }); }, timeoutMs);
      this.pending.set(id, (answer) => { clearTimeout(timer); resolve(answer); });
      this.child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }

  ping(): Promise<any> {
    return this.request({ op: 'ping' });
  }

  send(to: string, body: string): Promise<any> {
    return this.request({ op: 'send', to, body });
  }

  waitFor(body: string, timeoutMs = 15000): Promise<any> {
    return this.request({ op: 'wait', body, timeoutMs }, timeoutMs + 5000);
  }

  /** The first message whose body matches `pattern` (received since the session started). */
  waitForMatch(pattern: RegExp, timeoutMs = 15000): Promise<any> {
    return this.request({ op: 'wait', pattern: pattern.source, timeoutMs }, timeoutMs + 5000);
  }

  /** Enter group chat `room` as `nick`. */
  join(room: string, nick: string): Promise<any> {
    return this.request({ op: 'join', room, nick });
  }

  sendRoom(room: string, body: string): Promise<any> {
    return this.request({ op: 'sendRoom', room, body });
  }

  /** GET `url` as this device would (its status, content type, size and SHA-256). */
  download(url: string): Promise<any> {
    return this.request({ op: 'download', url }, 60000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.write(`${JSON.stringify({ id: this.next++, op: 'stop' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** How the harness runs the project's TypeScript clients with this machine's Node. */
const TS_NODE_ENV: Record<string, string> = {
  TS_NODE_TRANSPILE_ONLY: 'true',
  TS_NODE_PROJECT: join(PROJECT_ROOT, 'tsconfig.json'),
  NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The DigitalOcean metadata paths the provisioning scripts read. */
function writeMetadata(dir: string): void {
  const files: Record<string, string> = {
    'metadata/v1/interfaces/public/0/ipv4/address': DROPLET.public4,
    'metadata/v1/interfaces/public/0/ipv6/address': DROPLET.public6,
    'metadata/v1/reserved_ip/ipv4/ip_address': DROPLET.reserved4,
    // Assigned from the start here; on DigitalOcean the assignment follows the droplet's creation.
    'metadata/v1/reserved_ip/ipv6/active': 'true',
    'metadata/v1/reserved_ip/ipv6/ip_address': DROPLET.reserved6,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * BIND, authoritative for every synthesized zone, on the namespace's loopback only: the DigitalOcean
 * zones from their records, the external ones as their operator would load the `zone_files` output
 * (under that DNS host's own SOA and NS).
 */
function writeNamedConfig(dir: string, records: readonly DnsRecordPlan[], external: Record<string, string> = {}, cloud: Record<string, string> = {}): string[] {
  const zones = [...new Set([...records.map((r) => r.zone), ...Object.keys(external), ...Object.keys(cloud)])];
  const conf = [
    `options { directory "${dir}"; pid-file "${dir}/named.pid"; listen-on { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; };`,
    ...zones.map((z) => `zone "${z}" { type primary; file "${dir}/${z}.zone"; };`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'named.conf'), conf);
  for (const zone of zones) {
    const authority = `$ORIGIN ${zone}.\n@ 3600 IN SOA ns1.other-dns.example. hostmaster.${zone}. 1 10800 3600 604800 1800\n@ 3600 IN NS ns1.other-dns.example.\n`;
    const content = cloud[zone] !== undefined ? authority + cloud[zone]
      : external[zone] !== undefined ? authority + external[zone] : renderZoneFile(records.filter((r) => r.zone === zone), zone, ZONE_ADDRESSES);
    writeFileSync(join(dir, `${zone}.zone`), content);
  }
  return zones;
}

/** The cloud's own name for Spaces in `region`, as the world's DNS answers it. */
function spacesZone(region: string): Record<string, string> {
  return { 'digitaloceanspaces.com': `${region} 300 IN A ${SPACES4}\n` };
}

/** The registry's name, as the world's DNS answers it. */
const REGISTRY_ZONE: Record<string, string> = { 'npmjs.org': `registry 300 IN A ${REGISTRY4}\n` };

/** Where the registry stand-in keeps the tarball it serves: a copy, which a test may replace. */
function registryTarball(dir: string): string {
  return join(dir, 'web-client.tgz');
}

/** The registry stand-in's files: a CA of the harness, the registry's certificate, and the pinned tarball. */
function writeRegistryFiles(dir: string): void {
  writeTls(dir, [REGISTRY_HOST]);
  copyFileSync(pinnedTarball(WEB_CLIENT_PACKAGE), registryTarball(dir));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    host: REGISTRY4,
    port: 443,
    tlsKeyFile: join(dir, 'server.key'),
    tlsCertFile: join(dir, 'server.pem'),
    files: { [tarballPath(WEB_CLIENT_PACKAGE)]: registryTarball(dir) },
    requestLog: join(dir, 'requests.jsonl'),
  }));
}

/** The key the provider creates for `digitalocean_spaces_key`: 20 characters of ID, a 43-character base64 secret. */
function inventSpacesKey(): SpacesCredentials {
  return { accessKey: `DO00${randomBytes(8).toString('hex').toUpperCase()}`, secretKey: randomBytes(32).toString('base64').slice(0, 43) };
}

/**
 * The Spaces stand-in's files: a CA of the harness and the endpoint's certificate signed by it, the
 * read key with the stack's grants, a full-access key for the deploying side (`putBundle`), and the
 * stack's object preloaded, as the provider's apply leaves it.
 */
function writeSpacesFiles(dir: string, spaces: SpacesFromSynth, readKey: SpacesCredentials): void {
  writeSpacesTls(dir, spaces.region);
  const provider = inventSpacesKey();
  writeFileSync(join(dir, 'read-key.json'), JSON.stringify(readKey));
  writeFileSync(join(dir, 'provider-key.json'), JSON.stringify(provider));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    host: SPACES4,
    port: 443,
    tlsKeyFile: join(dir, 'server.key'),
    tlsCertFile: join(dir, 'server.pem'),
    region: spaces.region,
    keys: [
      { ...readKey, grants: spaces.grants },
      { ...provider, grants: [{ bucket: spaces.bucket, permission: 'fullaccess' }] },
    ],
    buckets: [spaces.bucket],
    objects: [{ bucket: spaces.bucket, key: spaces.objectKey, bodyBase64: spaces.contentBase64, contentType: 'application/gzip' }],
    requestLog: join(dir, 'requests.jsonl'),
  }));
}

/**
 * The object store's files: the same CA and certificate as the stand-in's, the backup key with the
 * stack's grants, and the bucket the provider's apply creates (kept in `directory`).
 */
function writeObjectStoreFiles(dir: string, store: BackupStoreFromSynth, backupKey: SpacesCredentials, directory: string): void {
  writeSpacesTls(dir, store.region);
  writeFileSync(join(dir, 'backup-key.json'), JSON.stringify(backupKey));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    host: SPACES4,
    port: 443,
    tlsKeyFile: join(dir, 'server.key'),
    tlsCertFile: join(dir, 'server.pem'),
    region: store.region,
    keys: [{ ...backupKey, grants: store.grants }],
    directory,
    buckets: [store.bucket],
    requestLog: join(dir, 'requests.jsonl'),
  }));
}

/** A CA of the harness, and the certificate of "<region>.digitaloceanspaces.com" it signs. */
function writeSpacesTls(dir: string, region: string): void {
  const host = `${region}.digitaloceanspaces.com`;
  writeTls(dir, [host, `*.${host}`]);
}

/** A CA of the harness in `dir` (ca.pem), and a server certificate for `names` it signs (server.pem, server.key). */
function writeTls(dir: string, names: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=rehearsal cloud CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem')]);
  openssl(['req', ...ec, '-subj', `/CN=${names[0]}`, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr')]);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', join(dir, 'server.ext'), '-out', join(dir, 'server.pem')]);
}

/**
 * The user_data document, parsed (for tests that look inside it), each write_files entry's content
 * as cloud-init writes it: a `gz+b64` entry (the package's scripts, compressed once user_data grows
 * past DigitalOcean's limit) decoded, its `encoding` kept.
 */
export function parseUserData(userData: string): { write_files: { path: string; content: string; encoding?: string }[]; runcmd: string[][] } {
  const doc = parse(userData) as { write_files: { path: string; content: string; encoding?: string }[]; runcmd: string[][] };
  return {
    ...doc,
    write_files: doc.write_files.map((f) => (f.encoding === 'gz+b64' ? { ...f, content: gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') } : f)),
  };
}

/**
 * Synthesize the example stack (examples/cdktf-basic, the root cdktf.json app) exactly as
 * `npm run synth` does, into a temp dir, and return its cdk.tf.json.
 */
export function synthesizeExample(): SynthesizedStack {
  return synthesizeExampleWithPlan().stack;
}

/** The example, synthesized as `npm run synth` does, with its review directory's doctor plan. */
export function synthesizeExampleWithPlan(): { stack: SynthesizedStack; plan: string } {
  const out = mkdtempSync('/var/tmp/xc-synth-');
  try {
    const r = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', join(PROJECT_ROOT, 'examples', 'cdktf-basic', 'main.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDKTF_OUTDIR: out },
      encoding: 'utf8',
      timeout: 60000,
    });
    if (r.status !== 0) throw new Error(`synthesizing the example failed: ${r.stderr}`);
    const stackDir = join(out, 'stacks', 'xmpp-example-net');
    return { stack: JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')), plan: readFileSync(join(stackDir, 'review', 'Xmpp', DOCTOR_PLAN_FILE), 'utf8') };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
