import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { createHash } from 'crypto';
import { gunzipSync } from 'zlib';
import { join } from 'path';
import { parse } from 'yaml';
import {
  CLOUD_CONFIG_KEYS,
  DEPLOY_TIME_SECRET_PLACEHOLDER,
  deployTimeReserveBytes,
  hostPackages,
  isPackageCode,
  REDACTED,
  renderCloudInit,
  renderExpandedFiles,
  renderHostFiles,
  renderProsodyHost,
  renderTurnCloudInit,
  renderTurnHostFiles,
  substituteDeployTimeSecret,
  turnHostPackages,
  USER_DATA_LIMIT_BYTES,
  UserDataTooLargeError,
} from '../../lib/core/cloud-init';
import {
  CERTIFICATES_LIST,
  CERTS_SCRIPT,
  CERTS_SERVICE,
  CERTS_TIMER,
  COMMON_SCRIPT,
  EXPANDED_FILES,
  HOST_ENV,
  HOST_META_FILES,
  renderCertsScript,
  renderCertsTimer,
  renderCommonScript,
  renderHostEnv,
  renderProvisionScript,
  renderReservedIpv6Script,
  renderTurnProvisionScript,
  RESERVED_IPV6_SCRIPT,
  RESERVED_IPV6_SERVICE,
  RESERVED_IPV6_TIMER,
  SUPPLIED_TURN_SECRET,
  TURN_PROVISION_SCRIPT,
} from '../../lib/core/host-scripts';
import { BACKUP_DIR, BACKUP_SCRIPT, BACKUP_TIMER, BACKUPS_KEPT, renderBackupScript, substituteBackupSecrets } from '../../lib/core/backup';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from '../../lib/core/resolve/offsite-backups';
import { checkBackupPassword, checkSharedSecret, MAX_BACKUP_PASSWORD_BYTES, MAX_SHARED_SECRET_LENGTH } from '../../lib/core/rules';
import { DOMAIN_PLACEHOLDER, DOMAINS_LIST, EACH_DOMAIN_BEGIN, EACH_DOMAIN_END, EXPAND_SCRIPT, renderDomainsList, renderExpandScript, templatePath } from '../../lib/core/expansion';
import { nginxServerNames } from '../../lib/core/nginx';
import {
  ACME_WEBROOT,
  CERTS_DIR,
  HOST_META_ROOT,
  LETSENCRYPT_LIVE,
  NGINX_SITE,
  PROSODY_CERTS_DIR,
  PROSODY_CONFIG,
  PROSODY_SECRETS_INCLUDE,
  PROVISION_SCRIPT,
  SECRETS_DIR,
  SELF_SIGNED_DIR,
  SERVICE_POLICY,
  FETCH_SCRIPT,
  TURN_ADDRESSES_ENV,
  TURN_CERT_DIR,
  TURN_CONFIG,
  TURN_SECRET_FILE,
  TURN_SYSTEMD_DROPIN,
  TURN_USERDB,
  VOLUME_BINDS,
  VOLUME_MOUNT,
} from '../../lib/core/paths';
import { PROSODY_TURN_SECRET_OPTION, renderProsodyConfig } from '../../lib/core/prosody';
import { renderReviewFiles } from '../../lib/core/review';
import { bootGuardDropinPath, CONFIGURED_SERVICES, guardedUnits, renderBootGuardDropin, renderServicePolicy, SERVICE_POLICY_MARKER } from '../../lib/core/service-policy';
import { hasTurnOnProsodyHost, XmppServiceSpec } from '../../lib/core/spec';
import { renderTurnConfig, renderTurnFiles, renderTurnSystemdDropin } from '../../lib/core/turn';
import { resolveSpec } from '../../lib/core/validate';
import { DEFAULT_PLATFORM, Platform, PLATFORM_PATH, PLATFORMS, PlatformTools, platformToolsForFile, platformUnavailable } from '../support/platform';
import { PLATFORMS as LIBRARY_PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { closedSpec, dedicatedTurnSpec, MANY_DOMAINS_DROPLET, minimalSpec, onImage, representativeSpecs } from '../support/specs';
import { makeTempDir, removeDir, run, RunResult, testUnless, testWith } from '../support/tools';

// ------------------------------------------------------------------------------------------------
// What runs on the droplet is checked by the droplet platform's own programs — its cloud-init, its
// init-system-helpers, its sh and bash — inside a throwaway root of the platform's image
// (test/support/platform.ts), never whatever this machine has. The test's temp dirs are at the
// same paths inside. Checking tools that never reach a droplet (shellcheck) run here.
// ------------------------------------------------------------------------------------------------

/** Why the platform's image cannot be used here, if it cannot. */
const platformMissing = platformUnavailable();
/** For the tests that run the platform's programs: without its image they fail under CI, and are skipped with a warning elsewhere. */
const onPlatform = testUnless(platformMissing);
/** The image the pure checks render for (the library's default). */
const DEFAULT_IMAGE = DEFAULT_PLATFORM.image;
/** Every platform the droplets run: each checks what is rendered for it, with its own programs. */
const TEST_PLATFORMS: readonly Platform[] = Object.values(PLATFORMS);
/** Each platform's image, opened by the first test that needs it, closed after the file. */
const images: Readonly<Record<string, () => PlatformTools>> = Object.fromEntries(TEST_PLATFORMS.map((platform) => [platform.name, platformToolsForFile(platform)]));
/**
 * What `cloud-init schema -c` prints for a valid document: 22.4 says "Valid cloud-config: <file>",
 * 25.1 "Valid schema <file>" (and nothing when it could not validate). Deprecated keys are reported
 * on a line of their own either way.
 */
const SCHEMA_VALID: Readonly<Record<PlatformName, string>> = { 'debian-13': 'Valid schema ', 'debian-12': 'Valid cloud-config: ' };
/** The scripts as the package holds them. */
const HOST_SCRIPTS_DIR = join(__dirname, '..', '..', 'lib', 'host');


interface WriteFile {
  path: string;
  content: string;
  owner: string;
  permissions: string;
  defer?: boolean;
}

/**
 * user_data, each file with the owner and permissions cloud-init gives it: its write_files module
 * writes a file that names neither as root:root, 0644 (cloudinit/config/cc_write_files.py), which
 * user_data leaves unsaid. The rehearsals check the modes a real first boot leaves.
 */
function parseUserData(userData: string): { [key: string]: unknown; write_files: WriteFile[] } {
  const doc = parse(userData);
  return { ...doc, write_files: doc.write_files.map((f: Partial<WriteFile>) => ({ owner: 'root:root', permissions: '0644', ...f })) };
}

/** Like parseUserData, with compressed files' content as cloud-init writes it. */
function parseUserDataDecoded(userData: string): { [key: string]: unknown; write_files: WriteFile[] } {
  const doc = parseUserData(userData);
  return { ...doc, write_files: doc.write_files.map((f) => ((f as WriteFile & { encoding?: string }).encoding === 'gz+b64' ? { ...f, content: gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') } : f)) };
}

/** The checks every user_data document must pass, whichever droplet it is for. */
function itIsAWellFormedCloudConfig(userDataOn: (image: string) => string): void {
  const userData = (): string => userDataOn(DEFAULT_IMAGE);
  test('THEN it is a #cloud-config document with only known top-level keys', () => {
    expect(userData().startsWith('#cloud-config\n')).toBe(true);
    expect(Object.keys(parseUserData(userData())).every((k) => (CLOUD_CONFIG_KEYS as readonly string[]).includes(k))).toBe(true);
  });

  test('THEN it stays within DigitalOcean\'s 64 KiB', () => {
    expect(Buffer.byteLength(userData())).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  for (const platform of TEST_PLATFORMS) {
    const library = LIBRARY_PLATFORMS[platform.name as PlatformName];
    onPlatform(`THEN, written for ${library.label}, ${library.label}'s cloud-init schema accepts it, without a deprecation`, () => {
      const dir = makeTempDir('cloud-init');
      try {
        writeFileSync(join(dir, 'user-data'), userDataOn(platform.image));
        const r = images[platform.name]().run(['cloud-init', 'schema', '-c', join(dir, 'user-data')]);
        expect(r.stdout + r.stderr).toContain(`${SCHEMA_VALID[platform.name as PlatformName]}${join(dir, 'user-data')}`);
        expect(r.stdout + r.stderr).not.toMatch(/deprecat|invalid|error|skipping/i);
        expect(r.status).toBe(0);
      } finally {
        removeDir(dir);
      }
    });
  }
}

describe.each(representativeSpecs)('renderCloudInit for the %s spec', (_name, input) => {
  const spec = resolveSpec(input);
  const userData = renderCloudInit(spec);
  const doc = parseUserDataDecoded(userData);
  // What reaches the host: user_data's files, and with configDelivery "spaces" the bundle's.
  const bundle = renderProsodyHost(spec).bundle;
  const byPath = new Map<string, { content: string; permissions: string }>([...doc.write_files, ...(bundle?.files ?? [])].map((f) => [f.path, f]));

  itIsAWellFormedCloudConfig((image) => renderCloudInit(resolveSpec(onImage(input, image))));

  test('THEN every per-domain service file travels as its template, expanded on the host (expansion.test proves the expansion)', () => {
    for (const path of [PROSODY_CONFIG, NGINX_SITE, CERTIFICATES_LIST]) {
      expect(byPath.has(path)).toBe(false);
      expect(byPath.get(templatePath(path))?.content).toBeDefined();
    }
    expect(byPath.get(templatePath(PROSODY_CONFIG))?.content.startsWith(renderProsodyConfig(spec).split(EACH_DOMAIN_BEGIN)[0].split('\n-- Every further domain')[0])).toBe(true);
    expect(byPath.get(DOMAINS_LIST)?.content).toBe(renderDomainsList(spec));
  });

  test('THEN every other rendered service file is in write_files at its real path, byte for byte', () => {
    const expected: Record<string, string> = hasTurnOnProsodyHost(spec) ? renderTurnFiles(spec) : {};
    for (const [path, content] of Object.entries(expected)) {
      expect(byPath.get(path)?.content).toBe(content);
    }
    expect(byPath.has(TURN_CONFIG)).toBe(hasTurnOnProsodyHost(spec));
    expect(byPath.has(TURN_SYSTEMD_DROPIN)).toBe(hasTurnOnProsodyHost(spec));
  });

  test('THEN files of package users and package conffiles are deferred until the packages exist', () => {
    for (const f of doc.write_files) {
      if (/prosody|turnserver/.test(f.owner) || f.path.startsWith('/etc/nginx/') || f.path === TURN_CONFIG || f.path.startsWith('/var/www/')) {
        expect({ path: f.path, defer: f.defer }).toEqual({ path: f.path, defer: true });
      }
    }
  });

  test('THEN permissions are quoted octal strings, and scripts are executable', () => {
    for (const f of doc.write_files) expect(f.permissions).toMatch(/^0[0-7]{3}$/);
    expect(byPath.get(PROVISION_SCRIPT)?.permissions).toBe('0755');
    expect(byPath.get(CERTS_SCRIPT)?.permissions).toBe('0755');
  });

  test('THEN runcmd runs the one provisioning script (with configDelivery "spaces", the fetch that provisions from the bundle)', () => {
    expect(doc.runcmd).toEqual(bundle ? [[FETCH_SCRIPT, 'first-boot']] : [[PROVISION_SCRIPT]]);
    // Every file travels one way only.
    for (const f of bundle?.files ?? []) expect(doc.write_files.map((w) => w.path)).not.toContain(f.path);
  });

  test('THEN the first-boot guard holds back exactly the configured services it installs: coturn only when coturn runs here', () => {
    expect(byPath.get(SERVICE_POLICY)?.content).toBe(renderServicePolicy(guardedUnits(hostPackages(spec))));
    expect(guardedUnits(hostPackages(spec))).toEqual(hasTurnOnProsodyHost(spec) ? ['prosody', 'nginx', 'coturn'] : ['prosody', 'nginx']);
  });

  test('THEN the packages are the ones the services need', () => {
    expect(doc.packages).toEqual(hostPackages(spec));
    expect(doc.packages).toEqual(expect.arrayContaining(['prosody', 'prosody-modules', 'nginx', 'certbot']));
    expect((doc.packages as string[]).includes('coturn')).toBe(hasTurnOnProsodyHost(spec));
  });

  test('THEN it holds a TURN secret only when one was supplied', () => {
    expect(userData).not.toMatch(/static-auth-secret/);
    if (spec.calls.sharedSecret === undefined) expect(userData).not.toMatch(/external_service_secret\s*=\s*"[^%]/);
    else expect(userData).toContain(spec.calls.sharedSecret);
  });

  test('THEN the same spec renders byte-identical user_data', () => {
    expect(renderCloudInit(resolveSpec(input))).toBe(userData);
  });

});

describe('secrets', () => {
  const secret = 'S3cr3t-'.repeat(6);
  const spec = resolveSpec({ ...minimalSpec, calls: { sharedSecret: secret } });

  test('GIVEN a user-supplied TURN secret THEN the droplet receives it, flagged sensitive', () => {
    const file = renderHostFiles(spec).find((f) => f.content === secret);
    expect(file).toMatchObject({ sensitive: true, permissions: '0600', owner: 'root:root' });
    expect(renderCloudInit(spec)).toContain(secret);
  });

  test('GIVEN a user-supplied TURN secret WHEN rendering for review THEN it is redacted', () => {
    const review = renderCloudInit(spec, { redactSecrets: true });
    expect(review).not.toContain(secret);
    expect(review).toContain(REDACTED);
  });

  test('GIVEN the review copy is rendered first THEN the droplet still receives the secret (each variant rendered once per spec)', () => {
    const fresh = resolveSpec({ ...minimalSpec, calls: { sharedSecret: secret } });
    expect(renderCloudInit(fresh, { redactSecrets: true })).not.toContain(secret);
    expect(renderCloudInit(fresh)).toContain(secret);
    expect(renderCloudInit(fresh, { redactSecrets: true })).not.toContain(secret);
  });

  test('GIVEN nothing secret THEN the review copy is the user_data itself', () => {
    const open = resolveSpec(minimalSpec);
    expect(renderCloudInit(open, { redactSecrets: true })).toBe(renderCloudInit(open));
  });

  test('GIVEN a caller changes the returned file list THEN the next render is unaffected', () => {
    const fresh = resolveSpec(minimalSpec);
    const first = renderHostFiles(fresh);
    const count = first.length;
    first.length = 0;
    expect(renderHostFiles(fresh)).toHaveLength(count);
  });

  test('GIVEN calls are off THEN no secret file and no coturn package', () => {
    const closed = resolveSpec(closedSpec);
    expect(renderHostFiles(closed).some((f) => f.sensitive)).toBe(false);
    expect(hostPackages(closed)).not.toContain('coturn');
  });
});

describe('renderCloudInit — GIVEN coturn on a droplet of its own', () => {
  const spec = resolveSpec(dedicatedTurnSpec);
  const secret = spec.calls.sharedSecret!;
  const userData = renderCloudInit(spec);
  const doc = parseUserData(userData);
  const byPath = new Map(doc.write_files.map((f) => [f.path, f]));

  test('THEN the Prosody droplet installs no coturn and receives no coturn file', () => {
    expect(doc.packages).not.toContain('coturn');
    expect(hostPackages(spec)).not.toContain('coturn');
    for (const path of [TURN_CONFIG, TURN_SYSTEMD_DROPIN, SUPPLIED_TURN_SECRET]) expect(byPath.has(path)).toBe(false);
  });

  test('THEN it still carries the supplied secret, unredacted, as Prosody\'s secrets include (sensitive, root:prosody 0640, deferred)', () => {
    expect(userData).toContain(secret);
    expect(byPath.get(PROSODY_SECRETS_INCLUDE)).toMatchObject({ owner: 'root:prosody', permissions: '0640', defer: true });
    expect(byPath.get(PROSODY_SECRETS_INCLUDE)?.content).toMatch(new RegExp(`^external_service_secret = "${secret}"$`, 'm'));
    expect(renderHostFiles(spec).find((f) => f.path === PROSODY_SECRETS_INCLUDE)?.sensitive).toBe(true);
  });

  test('THEN Prosody\'s external services point at the TURN host and include the secret', () => {
    const config = renderExpandedFiles(spec)[PROSODY_CONFIG];
    expect(config).toContain('"external_services"');
    expect(config).toMatch(/^external_service_host = "turn\.example\.net"$/m);
    expect(config).toContain('{ type = "turn", transport = "udp", port = 3478, secret = true, algorithm = "turn", ttl = 86400 };');
    expect(config).toContain('{ type = "turns", transport = "tcp", port = 5349, secret = true, algorithm = "turn", ttl = 86400 };');
    expect(config).toContain(`Include "${PROSODY_SECRETS_INCLUDE}"`);
  });

  test('THEN the host scripts leave coturn alone: host.env says it does not run here', () => {
    expect(byPath.get(HOST_ENV)?.content).toMatch(/^TURN_ENABLED='0'$/m);
  });

  test('THEN neither the certificate nor nginx covers the TURN name, which the TURN droplet serves', () => {
    expect(renderExpandedFiles(spec)[CERTIFICATES_LIST]).toBe('example.net example.net upload.example.net conference.example.net\n');
    expect(nginxServerNames(spec)).not.toContain('turn.example.net');
  });

  test('WHEN rendered for review THEN the secret is redacted', () => {
    const review = renderCloudInit(spec, { redactSecrets: true });
    expect(review).not.toContain(secret);
    expect(review).toContain(REDACTED);
  });
});

describe('renderTurnCloudInit — the dedicated TURN droplet', () => {
  const spec = resolveSpec(dedicatedTurnSpec);
  const secret = spec.calls.sharedSecret!;
  const userData = renderTurnCloudInit(spec);
  const doc = parseUserData(userData);
  const byPath = new Map(doc.write_files.map((f) => [f.path, f]));

  itIsAWellFormedCloudConfig((image) => renderTurnCloudInit(resolveSpec(onImage(dedicatedTurnSpec, image))));

  test('THEN it installs coturn, certbot and their helpers, and nothing of Prosody or nginx', () => {
    expect(doc.packages).toEqual(['coturn', 'certbot', 'curl', 'openssl', 'unattended-upgrades']);
    expect(doc.packages).toEqual(turnHostPackages());
  });

  test('THEN turnserver.conf and the drop-in are byte-identical to what turn.ts renders, deferred until coturn exists', () => {
    expect(byPath.get(TURN_CONFIG)).toMatchObject({ content: renderTurnConfig(spec), owner: 'root:turnserver', permissions: '0640', defer: true });
    expect(byPath.get(TURN_SYSTEMD_DROPIN)).toMatchObject({ content: renderTurnSystemdDropin(), owner: 'root:root', defer: true });
  });

  test('THEN it carries the supplied secret for the script, root-only, and redacts it for review', () => {
    expect(byPath.get(SUPPLIED_TURN_SECRET)).toMatchObject({ content: secret, owner: 'root:root', permissions: '0600' });
    expect(renderTurnHostFiles(spec).find((f) => f.path === SUPPLIED_TURN_SECRET)?.sensitive).toBe(true);
    const review = renderTurnCloudInit(spec, { redactSecrets: true });
    expect(review).not.toContain(secret);
    expect(review).toContain(REDACTED);
    expect(renderTurnHostFiles(spec).filter((f) => f.content.includes(secret)).map((f) => f.path)).toEqual([SUPPLIED_TURN_SECRET]);
  });

  test('THEN runcmd runs the TURN provisioning script, which is executable, with its env file and issuance timer', () => {
    expect(doc.runcmd).toEqual([[TURN_PROVISION_SCRIPT, 'provision']]);
    expect(byPath.get(TURN_PROVISION_SCRIPT)).toMatchObject({ content: renderTurnProvisionScript(), permissions: '0755' });
    expect(byPath.get(HOST_ENV)?.content).toBe(
      "# Rendered by xmpp-constructs; read by the scripts in /usr/local/sbin.\nTURN_HOST='turn.example.net'\nTURN_REALM='turn.example.net'\n" +
        "IPV6_ENABLED='1'\nACME_EMAIL='hostmaster@example.net'\nACME_STAGING='0'\n" +
        `PACKAGES='${turnHostPackages().join(' ')}'\nAPT_LOCK_WAIT_SECONDS='1800'\n`,
    );
    expect(byPath.get(CERTS_TIMER)?.content).toBe(renderCertsTimer());
    expect(byPath.get(CERTS_SERVICE)?.content).toContain(`ExecStart=${TURN_PROVISION_SCRIPT} issue\n`);
  });

  test('THEN permissions are quoted octal strings', () => {
    for (const f of doc.write_files) expect(f.permissions).toMatch(/^0[0-7]{3}$/);
  });

  test('THEN the same spec renders byte-identical user_data', () => {
    expect(renderTurnCloudInit(resolveSpec(dedicatedTurnSpec))).toBe(userData);
  });


  test.each([
    ['coturn runs on the Prosody droplet', minimalSpec],
    ['calls are off', closedSpec],
  ] as const)('fails when %s', (_why, input) => {
    expect(() => renderTurnCloudInit(resolveSpec(input))).toThrow(/no TURN droplet of its own/);
    expect(() => renderTurnHostFiles(resolveSpec(input))).toThrow(/no TURN droplet of its own/);
  });
});

describe('size limit', () => {
  const domains = (n: number, length: number) => Array.from({ length: n }, (_, i) => `${String(i).padStart(length - '.example'.length, 'c')}.example`);
  const many = (n: number, length: number) => resolveSpec({ ...minimalSpec, domains: domains(n, length), admins: [`admin@${domains(1, length)[0]}`], droplet: MANY_DOMAINS_DROPLET });

  test('GIVEN 1,000 domains of 40 characters on one host THEN user_data fits, compressing only what it must, and cloud-init reads it back to the very files', () => {
    const spec = many(1000, 40);
    const userData = renderCloudInit(spec);
    expect(Buffer.byteLength(userData)).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    const files = parseUserData(userData).write_files as (WriteFile & { encoding?: string })[];
    const compressed = files.filter((f) => f.encoding === 'gz+b64');
    expect(compressed.map((f) => f.path)).toContain(DOMAINS_LIST);
    expect(compressed.length).toBeLessThan(files.length);
    for (const f of compressed) {
      expect(gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8')).toBe(renderHostFiles(spec).find((h) => h.path === f.path)!.content);
    }
  });

  test('GIVEN the same spec twice THEN the compressed user_data is byte-identical (no time or platform in it)', () => {
    expect(renderCloudInit(many(1000, 40))).toBe(renderCloudInit(many(1000, 40)));
  });

  test.each(representativeSpecs)('GIVEN the %s spec THEN a file names its owner and permissions only where they are not cloud-init\'s defaults (root:root, 0644)', (_name, raw) => {
    const written = (parse(renderCloudInit(resolveSpec(raw))) as { write_files: Partial<WriteFile>[] }).write_files;
    const rendered = new Map(renderProsodyHost(resolveSpec(raw)).files.map((f) => [f.path, f]));
    for (const f of written) {
      const host = rendered.get(f.path!)!;
      expect({ path: f.path, owner: f.owner, permissions: f.permissions }).toEqual({
        path: f.path,
        owner: host.owner === 'root:root' ? undefined : host.owner,
        permissions: host.permissions === '0644' ? undefined : host.permissions,
      });
    }
  });

  // The package's scripts fill most of user_data; what a plan reviewer reads is the configuration.
  test.each(representativeSpecs)('GIVEN the %s spec THEN no configuration is compressed: the plan shows every file rendered from the declaration; at most the package\'s own scripts are', (_name, raw) => {
    const files = parseUserData(renderCloudInit(resolveSpec(raw))).write_files as (WriteFile & { encoding?: string })[];
    const compressed = files.filter((f) => f.encoding === 'gz+b64').map((f) => f.path);
    expect(compressed.filter((path) => !isPackageCode({ path }))).toEqual([]);
  });

  test('GIVEN a secret supplied through IaC THEN its file is never compressed, so adapters can swap in the deploy-time secret', () => {
    const spec = resolveSpec({ ...minimalSpec, domains: domains(1000, 40), admins: [`admin@${domains(1, 40)[0]}`], droplet: MANY_DOMAINS_DROPLET, calls: { sharedSecret: 'a-long-enough-shared-secret-for-turn-1234' } });
    const secretFile = (parseUserData(renderCloudInit(spec)).write_files as (WriteFile & { encoding?: string })[]).find((f) => f.path === SUPPLIED_TURN_SECRET)!;
    expect(secretFile.encoding).toBeUndefined();
  });

  // With 160 or 350 domains, the user_data rendered with the placeholders fits with too little room
  // left for the longest values (it did before the room was counted); with 1 it has plenty.
  test.each([1, 160, 350])('GIVEN %i domains, a TURN secret and a backup password an engine supplies at deploy time THEN the user_data fits with the longest of each put in', (n) => {
    const names = ['example.net', ...Array.from({ length: n - 1 }, (_, i) => `d${i}.example.org`)];
    const spec = resolveSpec({
      ...minimalSpec, domains: names, droplet: MANY_DOMAINS_DROPLET,
      calls: { sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER },
      offsiteBackups: { password: DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER },
    });
    const rendered = renderCloudInit(spec);
    const longestSecret = 'S'.repeat(MAX_SHARED_SECRET_LENGTH);
    const longestPassword = 'é'.repeat(MAX_BACKUP_PASSWORD_BYTES / 2);
    expect([checkSharedSecret(longestSecret), checkBackupPassword(longestPassword)]).toEqual([undefined, undefined]);
    // DigitalOcean's Spaces keys are 20 and 43 characters.
    const received = substituteBackupSecrets(substituteDeployTimeSecret(rendered, longestSecret), { accessKey: 'A'.repeat(20), secretKey: 'K'.repeat(43) }, longestPassword);
    expect(Buffer.byteLength(received)).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    expect(received).toContain(longestSecret);
    expect(received).toContain(longestPassword);
  });

  test.each<[string, number, string]>([
    ['no placeholder', 0, 'secret=s3cr3t\n'],
    ['the TURN secret\'s placeholder', MAX_SHARED_SECRET_LENGTH - DEPLOY_TIME_SECRET_PLACEHOLDER.length, `${DEPLOY_TIME_SECRET_PLACEHOLDER}\n`],
    ['the backup password\'s placeholder twice', 2 * (MAX_BACKUP_PASSWORD_BYTES - DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER.length), `${DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER}\n${DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER}`],
  ])('GIVEN a file holding %s THEN the room kept for deploy-time values is %i bytes', (_what, bytes, content) => {
    expect(deployTimeReserveBytes([{ content }])).toBe(bytes);
  });

  test('GIVEN a password longer than the room kept for it THEN validation refuses it, naming its size and the limit', () => {
    expect(checkBackupPassword('x'.repeat(MAX_BACKUP_PASSWORD_BYTES))).toBeUndefined();
    expect(checkBackupPassword('x'.repeat(MAX_BACKUP_PASSWORD_BYTES + 1))).toMatchObject({ problem: `is ${MAX_BACKUP_PASSWORD_BYTES + 1} bytes long; it may have at most ${MAX_BACKUP_PASSWORD_BYTES}` });
    expect(checkBackupPassword('é'.repeat(MAX_BACKUP_PASSWORD_BYTES / 2 + 1))).toMatchObject({ problem: expect.stringMatching(/bytes long/) });
  });

  test('GIVEN far too many domains for one host THEN synthesis fails, naming the size and the fix', () => {
    // Names with little in common, so compression cannot rescue them.
    const names = Array.from({ length: 4000 }, (_, i) => `${createHash('sha256').update(String(i)).digest('hex').slice(0, 32)}.example`);
    const spec = resolveSpec({ ...minimalSpec, domains: names, admins: [`admin@${names[0]}`], droplet: { size: 'm-4vcpu-32gb' } });
    expect(() => renderCloudInit(spec)).toThrow(UserDataTooLargeError);
    expect(() => renderCloudInit(spec)).toThrow(/even with its files compressed, over DigitalOcean's limit of 65536.*Fix: serve fewer domains from this host/);
  });
});

describe('host scripts', () => {
  testWith('shellcheck')('GIVEN the scripts as lib/host holds them THEN shellcheck, following what they source, finds nothing', () => {
    const scripts = readdirSync(HOST_SCRIPTS_DIR).filter((f) => f.endsWith('.sh'));
    expect(scripts).toEqual(expect.arrayContaining(['common.sh', 'provision.sh', 'certs.sh', 'turn-provision.sh', 'reserved-ipv6.sh', 'backup.sh', 'expand.sh']));
    // Run from the repository's root: the directives find common.sh next to each script, not in the working directory.
    const r = run('shellcheck', ['-x', ...scripts.map((f) => join(HOST_SCRIPTS_DIR, f))]);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  testWith('shellcheck')('GIVEN the provisioning, certificate, backup and TURN droplet scripts as user_data writes them THEN shellcheck finds nothing', () => {
    const dir = makeTempDir('shellcheck');
    try {
      // Side by side with the functions they source, as the directives in them expect.
      writeFileSync(join(dir, 'common.sh'), renderCommonScript());
      writeFileSync(join(dir, 'provision'), renderProvisionScript());
      writeFileSync(join(dir, 'certs'), renderCertsScript());
      writeFileSync(join(dir, 'backup'), renderBackupScript());
      writeFileSync(join(dir, 'turn'), renderTurnProvisionScript());
      const r = run('shellcheck', ['-x', '-s', 'bash', join(dir, 'provision'), join(dir, 'certs'), join(dir, 'backup'), join(dir, 'turn')]);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
      // The first-boot guard is a POSIX sh script: invoke-rc.d and deb-systemd-invoke run it directly.
      writeFileSync(join(dir, 'policy-rc.d'), renderServicePolicy(CONFIGURED_SERVICES));
      const policy = run('shellcheck', ['-s', 'sh', join(dir, 'policy-rc.d')]);
      expect(policy.stdout).toBe('');
      expect(policy.status).toBe(0);
    } finally {
      removeDir(dir);
    }
  });

  test('GIVEN each droplet\'s user_data THEN it writes the functions its scripts source, at the path they source them from', () => {
    const source = `. ${COMMON_SCRIPT}`;
    for (const script of [renderProvisionScript(), renderCertsScript(), renderBackupScript(), renderTurnProvisionScript(), renderReservedIpv6Script()]) {
      expect(script.split('\n')).toContain(source);
    }
    for (const files of [renderHostFiles(resolveSpec(minimalSpec)), renderTurnHostFiles(resolveSpec(dedicatedTurnSpec))]) {
      expect(files.find((f) => f.path === COMMON_SCRIPT)).toMatchObject({ content: renderCommonScript(), owner: 'root:root', permissions: '0644', defer: false });
    }
    // Sourcing it only defines functions: each script keeps its own options and traps.
    expect(renderCommonScript()).not.toMatch(/^\s*(set|trap|umask|\.|source) /m);
  });

  test('GIVEN the scripts THEN they name the very paths the rest of the package writes and reads', () => {
    const expectNames = (script: string, paths: readonly string[]) => {
      for (const path of paths) expect({ path, named: script.includes(path) }).toEqual({ path, named: true });
    };
    const binds = VOLUME_BINDS.map((b) => `${b.volumeDir}:${b.systemDir}`).join(' ');
    const liftLine = `if grep -qxF '${SERVICE_POLICY_MARKER}' ${SERVICE_POLICY} 2>/dev/null; then rm -f ${SERVICE_POLICY}; fi`;
    expectNames(renderProvisionScript(), [
      PROVISION_SCRIPT, HOST_ENV, `for pair in ${binds}; do`, SECRETS_DIR, SELF_SIGNED_DIR, SUPPLIED_TURN_SECRET, TURN_SECRET_FILE, PROSODY_SECRETS_INCLUDE,
      `\\n${PROSODY_TURN_SECRET_OPTION} = "%s"`, TURN_USERDB, TURN_ADDRESSES_ENV, HOST_META_ROOT, ACME_WEBROOT, `${CERTS_SCRIPT} link --no-reload`, liftLine,
      RESERVED_IPV6_SCRIPT, RESERVED_IPV6_TIMER.split('/').pop()!, RESERVED_IPV6_SERVICE.split('/').pop()!, CERTS_TIMER.split('/').pop()!, BACKUP_TIMER.split('/').pop()!,
      ...EXPANDED_FILES.map((f) => `${EXPAND_SCRIPT} ${templatePath(f.path)} ${DOMAINS_LIST} | put_file ${f.path} ${f.permissions} ${f.owner}`),
      ...HOST_META_FILES.map((f) => `sed "s/${DOMAIN_PLACEHOLDER}/$d/g" ${templatePath(f)} | put_file "${f.split(DOMAIN_PLACEHOLDER).join('$d')}" 0644 root:root`),
    ]);
    expectNames(renderCertsScript(), [CERTS_SCRIPT, HOST_ENV, CERTIFICATES_LIST, CERTS_DIR, LETSENCRYPT_LIVE, SELF_SIGNED_DIR, PROSODY_CERTS_DIR, ACME_WEBROOT, `--deploy-hook "${CERTS_SCRIPT} link"`]);
    expectNames(renderTurnProvisionScript(), [TURN_PROVISION_SCRIPT, HOST_ENV, SUPPLIED_TURN_SECRET, TURN_USERDB, TURN_ADDRESSES_ENV, LETSENCRYPT_LIVE, TURN_CERT_DIR, liftLine, CERTS_TIMER.split('/').pop()!, `--deploy-hook "${TURN_PROVISION_SCRIPT} deploy"`]);
    expectNames(renderBackupScript(), [BACKUP_SCRIPT, HOST_ENV, `${BACKUP_DIR}/`, `keep the newest ${BACKUPS_KEPT}`, `head -n -${BACKUPS_KEPT}`, PROVISION_SCRIPT]);
    expectNames(renderReservedIpv6Script(), [RESERVED_IPV6_SCRIPT]);
    expectNames(renderExpandScript(), [EXPAND_SCRIPT, `$0 == "${EACH_DOMAIN_BEGIN}"`, `$0 == "${EACH_DOMAIN_END}"`, `gsub(/${DOMAIN_PLACEHOLDER}/`]);
    expectNames(renderCommonScript(), [COMMON_SCRIPT, TURN_CERT_DIR]);
    // The volume's paths reach the provisioning script through host.env, as the deployment's values do.
    expect(renderHostEnv(resolveSpec(minimalSpec))).toContain(`VOLUME_MOUNT='${VOLUME_MOUNT}'`);
  });

  test.each([
    ['invitations, service-wide and per-domain admins', { domains: ['example.net', { name: 'xn--bcher-kva.example', admins: ['owner@xn--bcher-kva.example'] }], admins: ['admin@example.net'] }, "RESERVED_ADMIN_ACCOUNTS='admin@example.net owner@bücher.example'"],
    ['closed registration (the admin creates the account with prosodyctl adduser)', { registration: 'closed' }, "RESERVED_ADMIN_ACCOUNTS=''"],
  ] as const)('GIVEN %s THEN host.env lists the admin accounts provisioning creates, by their XMPP names', (_name, change, line) => {
    expect(renderHostEnv(resolveSpec({ ...minimalSpec, ...change } as XmppServiceSpec)).split('\n')).toContain(line);
  });

  test('GIVEN the provisioning script THEN it stops on the first error and names the step', () => {
    const script = renderProvisionScript();
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toMatch(/trap 'fail "step/);
  });

  test('GIVEN a volume device THEN it is formatted only when blkid finds no filesystem at all', () => {
    const script = renderProvisionScript();
    const probe = script.indexOf('blkid -p');
    const mkfs = script.indexOf('mkfs.ext4');
    expect(probe).toBeGreaterThan(0);
    expect(script.slice(probe, mkfs)).toMatch(/if \[ "\$rc" -eq 2 \]; then/);
  });
});

describe('the TURN droplet\'s script', () => {
  const script = renderTurnProvisionScript();

  test('GIVEN it THEN it stops on the first error, also inside its functions, and names the step', () => {
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toMatch(/^set -o errtrace$/m);
    expect(script).toMatch(/trap 'fail "step/);
  });

  test('GIVEN it THEN it stores the secret in coturn\'s userdb with the very lines the Prosody host uses', () => {
    const userdbLines = (text: string): string[] => text.split('\n').filter((l) => /turnadmin|TURN_USERDB|turndb/.test(l)).map((l) => l.trim());
    expect(userdbLines(script)).toEqual(userdbLines(renderProvisionScript()));
    expect(script).toContain(`secret=$(cat ${SUPPLIED_TURN_SECRET})`);
    expect(script).toContain(`turnadmin --set-secret "$secret" --realm "$TURN_REALM" --db ${TURN_USERDB}`);
  });

  test('GIVEN it THEN it writes coturn\'s addresses from the metadata service like the Prosody host', () => {
    const addressLines = (text: string): string[] => text.split('\n').filter((l) => /metadata interfaces|TURN_ADDRESS_ARGS/.test(l)).map((l) => l.trim());
    expect(addressLines(script)).toEqual(addressLines(renderProvisionScript()));
    expect(script).toContain(`put_file ${TURN_ADDRESSES_ENV} 0644 root:root`);
  });

  test('GIVEN it THEN it requests the TURN name\'s certificate standalone, with the deploy hook, and backs off', () => {
    expect(script).toMatch(
      /certbot certonly --standalone --non-interactive --agree-tos --email "\$ACME_EMAIL" "\$\{staging\[@\]\}" \\\n\s+--cert-name "\$lineage" -d "\$lineage" --deploy-hook "\/usr\/local\/sbin\/xmpp-constructs-turn deploy"/,
    );
    expect(script).toContain('[ "$ACME_STAGING" = 1 ] && staging=(--staging)');
    expect(script).toContain('backoff_due "$state" "$lineage" || return 0');
    expect(script).toContain('backoff_failed "$state" "$lineage"');
    expect(renderCommonScript()).toContain('delay=$((300 * (1 << (tries < 7 ? tries - 1 : 6))))');
  });

  test('GIVEN the deploy hook THEN it copies the lineage for the turnserver group and makes coturn reload it', () => {
    expect(script).toContain('deploy) copy_turn_cert "/etc/letsencrypt/live/$TURN_HOST" ;;');
    expect(renderCommonScript()).toContain(`install -m 0640 -o root -g turnserver "$src" ${TURN_CERT_DIR}/$f`);
    expect(renderCommonScript()).toContain('systemctl kill -s SIGUSR2 coturn');
  });

  test('GIVEN no Let\'s Encrypt lineage yet THEN provisioning puts a self-signed certificate for the TURN name where coturn reads it', () => {
    expect(script).toMatch(/elif \[ ! -s \/etc\/coturn\/tls\/fullchain\.pem \]; then\n\s+target=\$\(mktemp -d\)\n\s+self_signed "\$TURN_HOST" "DNS:\$TURN_HOST" "\$target"\n/);
    expect(script).toContain('copy_turn_cert "$target"; rm -rf "$target"');
  });
});

/** Asks a policy-rc.d as invoke-rc.d and deb-systemd-invoke do: run by the platform's sh, the answer in its exit status. */
function askPolicy(image: () => PlatformTools, policy: string, args: readonly string[]): RunResult {
  return image().run(['sh', '-s', '--', ...args], { input: policy });
}

describe.each(TEST_PLATFORMS)('the first-boot guard, policy-rc.d, on $name', (platform) => {
  const image = images[platform.name];
  const policy = renderServicePolicy(CONFIGURED_SERVICES);
  const forms = (unit: string) => [unit, `${unit}.service`];
  const withAndWithoutOptions = (names: readonly string[], actions: readonly string[]) =>
    names.flatMap((name) => [[], ['--quiet']].flatMap((options) => actions.map((action) => [...options, name, action])));
  // "(start)" is how invoke-rc.d asks about a start outside the current runlevel.
  const forbidden = withAndWithoutOptions(CONFIGURED_SERVICES.flatMap(forms), ['start', 'restart', 'reload', 'stop', '(start)']);
  const allowed = withAndWithoutOptions(['ssh', 'ssh.service', 'cron', 'cron.service', 'unattended-upgrades.service', 'nginx-debug', 'prosody.timer'], ['start', 'restart']);

  onPlatform.each([...forbidden.map((args) => [args.join(' '), args, 101] as const), ...allowed.map((args) => [args.join(' '), args, 0] as const)])(
    'GIVEN a maintainer script asks "%s" THEN it answers %i',
    (_label, args, status) => {
      const r = askPolicy(image, policy, args);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status, stdout: '', stderr: '' });
    },
  );

  onPlatform.each([
    [['--list', 'coturn'], 'coturn: every action forbidden until xmpp-constructs has provisioned this droplet\n'],
    [['--quiet', '--list', 'nginx.service', '2', '3'], 'nginx.service: every action forbidden until xmpp-constructs has provisioned this droplet\n'],
    [['--list', 'ssh'], 'ssh: every action allowed\n'],
  ])('GIVEN policy-rc.d %j THEN it lists the policy and succeeds', (args, stdout) => {
    expect(askPolicy(image, policy, args)).toMatchObject({ status: 0, stdout });
  });

  onPlatform.each([
    [[], /^usage: /],
    [['--list'], /^usage: /],
    [['--quiet'], /^$/],
  ])('GIVEN policy-rc.d %j, without a service THEN it reports a syntax error (103), silent with --quiet', (args, stderr) => {
    const r = askPolicy(image, policy, args);
    expect(r.status).toBe(103);
    expect(r.stderr).toMatch(stderr);
  });

  test('GIVEN it THEN it is a POSIX sh script whose second line says it is ours and why', () => {
    expect(policy.split('\n').slice(0, 2)).toEqual(['#!/bin/sh', SERVICE_POLICY_MARKER]);
    expect(SERVICE_POLICY_MARKER).toMatch(/^# xmpp-constructs first-boot guard: .*provisioning/);
  });

  test.each([
    ['no unit', [], /no units to guard/],
    ['a name that is no Debian package', ['ngi nx'], /not a Debian package name: ngi nx/],
    ['a shell pattern', ['*'], /not a Debian package name/],
  ])('GIVEN %s THEN rendering fails', (_what, units, message) => {
    expect(() => renderServicePolicy(units)).toThrow(message);
  });

  test.each([
    ['the Prosody droplet, coturn on it', hostPackages(resolveSpec(minimalSpec)), ['prosody', 'nginx', 'coturn']],
    ['the Prosody droplet, calls off', hostPackages(resolveSpec(closedSpec)), ['prosody', 'nginx']],
    ['the Prosody droplet, coturn on a droplet of its own', hostPackages(resolveSpec(dedicatedTurnSpec)), ['prosody', 'nginx']],
    ['the TURN droplet', turnHostPackages(), ['coturn']],
  ])('GIVEN the packages of %s THEN the guarded units are the configured services among them', (_droplet, packages, units) => {
    expect(guardedUnits(packages)).toEqual(units);
  });

  onPlatform('GIVEN it in place WHEN maintainer scripts start services through the platform\'s deb-systemd-invoke THEN only the other services reach systemctl', () => {
    const dir = makeTempDir('deb-systemd-invoke');
    try {
      // The platform's init-system-helpers, run inside its image. DPKG_ROOT points
      // deb-systemd-invoke at this policy-rc.d; a stand-in systemctl, first on PATH, only records
      // its calls, so the test never starts a real service.
      const root = join(dir, 'root');
      mkdirSync(join(root, '/usr/sbin'), { recursive: true });
      writeFileSync(join(root, SERVICE_POLICY), policy);
      chmodSync(join(root, SERVICE_POLICY), 0o755);
      mkdirSync(join(dir, 'bin'));
      const calls = join(dir, 'calls');
      writeFileSync(join(dir, 'bin', 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
      chmodSync(join(dir, 'bin', 'systemctl'), 0o755);
      const env = { DPKG_ROOT: root, PATH: `${join(dir, 'bin')}:${PLATFORM_PATH}` };
      for (const unit of CONFIGURED_SERVICES.map((u) => `${u}.service`)) {
        const r = image().run(['deb-systemd-invoke', 'start', unit], { env });
        expect(r.status).toBe(0);
        expect(r.stderr).toContain(`returned 101, not running 'start ${unit}'`);
      }
      expect(existsSync(calls)).toBe(false);
      expect(image().run(['deb-systemd-invoke', 'restart', 'ssh.service'], { env }).status).toBe(0);
      expect(readFileSync(calls, 'utf8')).toContain('ssh.service');
    } finally {
      removeDir(dir);
    }
  });
});

describe.each([
  ['the Prosody droplet, coturn on it', () => renderCloudInit(resolveSpec(minimalSpec)), () => renderReviewFiles(resolveSpec(minimalSpec))['host' + SERVICE_POLICY], ['prosody', 'nginx', 'coturn']],
  ['the Prosody droplet, calls off', () => renderCloudInit(resolveSpec(closedSpec)), () => renderReviewFiles(resolveSpec(closedSpec))['host' + SERVICE_POLICY], ['prosody', 'nginx']],
  [
    'the Prosody droplet, coturn on a droplet of its own',
    () => renderCloudInit(resolveSpec(dedicatedTurnSpec)),
    () => renderReviewFiles(resolveSpec(dedicatedTurnSpec))['host' + SERVICE_POLICY],
    ['prosody', 'nginx'],
  ],
  ['the TURN droplet', () => renderTurnCloudInit(resolveSpec(dedicatedTurnSpec)), () => renderReviewFiles(resolveSpec(dedicatedTurnSpec))['turn-host' + SERVICE_POLICY], ['coturn']],
])('the first-boot guard in user_data — GIVEN %s', (_droplet, userData, reviewCopy, units) => {
  const file = parseUserDataDecoded(userData()).write_files.find((f) => f.path === SERVICE_POLICY);

  test('THEN it is written before the packages are installed: not deferred, executable, root\'s', () => {
    expect(file).toMatchObject({ content: renderServicePolicy(units), owner: 'root:root', permissions: '0755' });
    expect(file && 'defer' in file).toBe(false);
  });

  test('THEN the review files show it like every other file the droplet receives', () => {
    expect(reviewCopy()).toBe(file?.content);
  });

  for (const platform of TEST_PLATFORMS) {
    onPlatform.each(CONFIGURED_SERVICES)(`THEN it holds back %s exactly when this droplet installs it (${platform.name}'s sh)`, (unit) => {
      expect(askPolicy(images[platform.name], file!.content, [unit, 'start']).status).toBe(units.includes(unit) ? 101 : 0);
    });
  }

  test('THEN each unit it holds back gets a drop-in, written before the packages, that skips the unit at boot while the guard is in place', () => {
    const dropins = parseUserData(userData()).write_files.filter((f) => f.path.endsWith('/xmpp-constructs-first-boot.conf'));
    expect(dropins.map((f) => f.path)).toEqual(units.map(bootGuardDropinPath));
    for (const dropin of dropins) {
      expect(dropin).toMatchObject({ content: renderBootGuardDropin(), owner: 'root:root', permissions: '0644' });
      expect('defer' in dropin).toBe(false);
      expect(dropin.content).toMatch(new RegExp(`^\\[Unit\\]\\nConditionPathExists=!${SERVICE_POLICY}$`, 'm'));
    }
  });
});

describe.each([
  ['the Prosody droplet\'s provisioning script', renderProvisionScript(), 'starting services', 'nginx -t -q'],
  ['the TURN droplet\'s script', renderTurnProvisionScript(), 'starting coturn', 'systemctl daemon-reload'],
])('lifting the first-boot guard — GIVEN %s', (_script, script, startStep, lastCheck) => {
  const lines = script.split('\n').map((l) => l.trim());
  const lifts = lines.flatMap((l, i) => (l.includes(SERVICE_POLICY) && !l.startsWith('#') ? [i] : []));
  const lift = lifts[0];

  test(`THEN it lifts it once, in the step "${startStep}", after "${lastCheck}" and before any service starts`, () => {
    const step = lines.indexOf(`step "${startStep}"`);
    const nextStep = lines.findIndex((l, i) => i > step && l.startsWith('step "'));
    const firstStart = lines.findIndex((l) => /^systemctl (restart|reload-or-restart|start|enable --now) /.test(l));
    expect(lifts).toHaveLength(1);
    expect(step).toBeGreaterThan(0);
    expect(lift).toBeGreaterThan(lines.indexOf(lastCheck, step));
    expect(lines.indexOf(lastCheck, step)).toBeGreaterThan(step);
    expect(firstStart).toBeGreaterThan(lift);
    expect(nextStep).toBeGreaterThan(firstStart);
  });

  test('THEN both droplets lift it with the very same line', () => {
    const other = (startStep === 'starting services' ? renderTurnProvisionScript() : renderProvisionScript()).split('\n').map((l) => l.trim());
    expect(other).toContain(lines[lift]);
  });

  for (const platform of TEST_PLATFORMS) onPlatform.each([
    ['the Prosody droplet\'s guard', renderServicePolicy(['prosody', 'nginx', 'coturn']), false],
    ['the TURN droplet\'s guard', renderServicePolicy(['coturn']), false],
    ['a policy-rc.d of someone else', '#!/bin/sh\nexit 101\n', true],
    ['one quoting our marker inside a longer line', `#!/bin/sh\n# not ${SERVICE_POLICY_MARKER}\nexit 101\n`, true],
    ['none (a rerun, the guard long gone)', undefined, false],
  ])(`WHEN it finds %s THEN it removes only ours, and goes on (${platform.name}'s bash)`, (_found, content, kept) => {
    const dir = makeTempDir('policy-rc');
    try {
      const path = join(dir, 'policy-rc.d');
      if (content !== undefined) writeFileSync(path, content);
      // The line as the script runs it on the droplet: from a file, by the platform's bash, under
      // the script's set -euo pipefail. (Not with bash -c: run so, by env -i with a socket for
      // stdin, Debian's bash takes itself for an ssh session and reads /etc/bash.bashrc first.)
      writeFileSync(join(dir, 'lift'), `set -euo pipefail\n${lines[lift].split(SERVICE_POLICY).join(path)}\necho went on\n`);
      const r = images[platform.name]().run(['bash', join(dir, 'lift')]);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'went on\n', stderr: '' });
      expect(existsSync(path)).toBe(kept);
      if (kept) expect(readFileSync(path, 'utf8')).toBe(content);
    } finally {
      removeDir(dir);
    }
  });
});
