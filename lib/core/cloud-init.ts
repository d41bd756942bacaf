/**
 * The droplets' user_data: a #cloud-config document holding every file at its real Debian 12
 * path, the packages, and one provisioning script. `renderCloudInit` is the Prosody droplet's,
 * `renderTurnCloudInit` a dedicated TURN droplet's. With `configDelivery` "spaces", the Prosody
 * droplet's user_data is a small bootstrap and its other files travel in a configuration bundle
 * (`renderProsodyHost`, config-bundle.ts).
 */
import { journaldRetentionFile, prosodyLogrotateFile } from './logs';
import {
  BACKUP_SCRIPT,
  BACKUP_SERVICE,
  BACKUP_TIMER,
  OFFSITE_ENV,
  OFFSITE_PASSWORD,
  OFFSITE_SECRETS,
  OFFSITE_SERVICE,
  OFFSITE_TIMER,
  renderOffsiteEnv,
  renderOffsiteSecrets,
  renderOffsiteService,
  renderOffsiteTimer,
  renderBackupScript,
  renderBackupService,
  renderBackupTimer,
  renderVolumeStatusService,
  renderVolumeStatusTimer,
  VOLUME_STATUS_SERVICE,
  VOLUME_STATUS_TIMER,
} from './backup';
import type * as Pako from 'pako';
import { MAX_BACKUP_PASSWORD_BYTES, MAX_SHARED_SECRET_LENGTH } from './rules';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from './resolve/offsite-backups';
import { stringify } from 'yaml';
import {
  DOMAINS_LIST,
  EXPAND_SCRIPT,
  expandDomainFiles,
  expandTemplate,
  furtherDomains,
  renderDomainFilesTemplates,
  renderDomainsList,
  renderDomainTemplate,
  renderExpandScript,
  templatePath,
} from './expansion';
import { hostMetaFiles, INVITATION_PAGE_LIBRARIES, nginxSite, servesInvitationPages } from './nginx';
import {
  APPLY_SCRIPT,
  CONFIG_SOURCE,
  FETCH_SCRIPT,
  FETCH_SERVICE,
  FETCH_TIMER,
  LOGIN_THROTTLE_MODULE,
  NGINX_SITE,
  PROSODY_CONFIG,
  PROSODY_SECRETS_INCLUDE,
  PROVISION_SCRIPT,
  SERVICE_POLICY,
  TURN_CONFIG,
  WEB_CLIENT_APP_MODULE,
} from './paths';
import {
  CERTIFICATES_LIST,
  CERTS_SCRIPT,
  CERTS_SERVICE,
  CERTS_TIMER,
  certificatesList,
  COMMON_SCRIPT,
  EXPANDED_FILES,
  HOST_ENV,
  renderCertsScript,
  renderCertsService,
  renderCertsTimer,
  renderCommonScript,
  renderHostEnv,
  renderProvisionScript,
  renderReservedIpv6Script,
  renderReservedIpv6Service,
  renderReservedIpv6Timer,
  renderTurnCertsService,
  renderTurnHostEnv,
  renderTurnProvisionScript,
  RESERVED_IPV6_SCRIPT,
  shQuote,
  RESERVED_IPV6_SERVICE,
  RESERVED_IPV6_TIMER,
  SUPPLIED_TURN_SECRET,
  TURN_PROVISION_SCRIPT,
} from './host-scripts';
import { invitationPagesOfferWebClient, prosodyConfig, renderProsodySecretsInclude } from './prosody';
import { bootGuardDropinPath, guardedUnits, renderBootGuardDropin, renderServicePolicy } from './service-policy';
import { deliversInPlace, hasDedicatedTurnDroplet, hasTurnOnProsodyHost, ResolvedSpec } from './spec';
import { BUNDLE_OBJECT_KEY, ConfigBundle, renderConfigBundle } from './config-bundle';
import { scriptFile } from './script-files';
import { renderTurnFiles } from './turn';
import { renderVolumeDropin, volumeDropinPath, VOLUME_UNITS } from './volume-units';
import {
  renderWebClientIndex,
  renderWebClientModule,
  renderWebClientService,
  renderWebClientTimer,
  servesWebClient,
  WEB_CLIENT_INDEX,
  WEB_CLIENT_MODULE,
  WEB_CLIENT_SCRIPT,
  WEB_CLIENT_SERVICE,
  WEB_CLIENT_TIMER,
} from './web-client';

/** DigitalOcean rejects user data larger than this. */
export const USER_DATA_LIMIT_BYTES = 64 * 1024;

/** The Debian packages the Prosody droplet installs at first boot, through cloud-init (user_data). */
export function hostPackages(spec: ResolvedSpec): string[] {
  const packages = ['prosody', 'prosody-modules', 'lua-unbound', 'nginx', 'certbot', 'curl', 'openssl', 'unattended-upgrades'];
  if (hasTurnOnProsodyHost(spec)) packages.push('coturn');
  if (spec.offsiteBackups) packages.push('restic');
  return packages;
}

/**
 * Every Debian package the Prosody droplet needs, which provisioning installs where missing (host.env):
 * hostPackages, and those that follow configuration that may change in place (the invitation pages'
 * libraries, with `registration`). Kept out of user_data, so that with `configDelivery` "spaces" such a
 * change stays a change of the bundle, not a new droplet. Tests install exactly these.
 */
export function provisionedPackages(spec: ResolvedSpec): string[] {
  return [...hostPackages(spec), ...(servesInvitationPages(spec) ? INVITATION_PAGE_LIBRARIES.packages : [])];
}

/** The Debian packages a dedicated TURN droplet installs. */
export function turnHostPackages(): string[] {
  return ['coturn', 'certbot', 'curl', 'openssl', 'unattended-upgrades'];
}

/** Where the package's own scripts and Prosody modules go: the same content for every stack. */
export const PACKAGE_CODE_DIRS = ['/usr/local/sbin/', '/usr/local/lib/xmpp-constructs/'] as const;
/** The package's own scripts elsewhere: the first-boot guard (the same script, naming the units it guards). */
export const PACKAGE_CODE_FILES: readonly string[] = [SERVICE_POLICY];

/** Whether `file` is the package's own code rather than configuration rendered from the declaration. */
export function isPackageCode(file: Pick<HostFile, 'path'>): boolean {
  return PACKAGE_CODE_DIRS.some((dir) => file.path.startsWith(dir)) || PACKAGE_CODE_FILES.includes(file.path);
}

/** A file written onto the droplet. */
export interface HostFile {
  readonly path: string;
  readonly content: string;
  readonly owner: string;
  /** Octal mode as a quoted string, which is what cloud-init's schema wants. */
  readonly permissions: string;
  /**
   * Written after the packages are installed: needed for files owned by package users and for
   * package conffiles (written earlier, dpkg would keep them and services would start on them).
   */
  readonly defer: boolean;
  /** Holds a secret: never written to review files. */
  readonly sensitive?: boolean;
}

/** coturn's configuration files, as both kinds of droplet receive them. */
function turnConfigFiles(spec: ResolvedSpec): HostFile[] {
  return Object.entries(renderTurnFiles(spec)).map(([path, content]) => {
    const owner = path === TURN_CONFIG ? 'root:turnserver' : 'root:root';
    return { path, content, owner, permissions: path === TURN_CONFIG ? '0640' : '0644', defer: true };
  });
}

/**
 * The first-boot guard (service-policy.ts) for a droplet installing `packages`, and its boot-time
 * drop-ins. Not deferred: plain write_files run in cloud-init's init stage, long before its final
 * stage installs the packages, whose maintainer scripts would otherwise start the services on
 * Debian's defaults.
 */
function servicePolicyFiles(packages: readonly string[]): HostFile[] {
  const units = guardedUnits(packages);
  return [
    { path: SERVICE_POLICY, content: renderServicePolicy(units), owner: 'root:root', permissions: '0755', defer: false },
    ...units.map((unit) => ({ path: bootGuardDropinPath(unit), content: renderBootGuardDropin(), owner: 'root:root', permissions: '0644', defer: false })),
  ];
}

/** The functions the scripts share, which they source: read, never run, hence not executable. */
function commonScriptFile(): HostFile {
  return { path: COMMON_SCRIPT, content: renderCommonScript(), owner: 'root:root', permissions: '0644', defer: false };
}

/** The user-supplied secret where a provisioning script picks it up. */
function suppliedSecretFile(secret: string): HostFile {
  return { path: SUPPLIED_TURN_SECRET, content: secret, owner: 'root:root', permissions: '0600', defer: false, sensitive: true };
}

/**
 * Every file user_data writes onto the Prosody droplet, in a stable order. The per-domain files
 * (prosody.cfg.lua, the nginx site, certificates.list, host-meta) travel as templates and are
 * expanded by the provisioning script; `renderExpandedFiles` gives their expansion.
 */
export function renderHostFiles(spec: ResolvedSpec): HostFile[] {
  const template = (path: string, content: string): HostFile => ({ path: templatePath(path), content, owner: 'root:root', permissions: '0644', defer: false });
  const files: HostFile[] = [
    ...servicePolicyFiles(hostPackages(spec)),
    { path: HOST_ENV, content: renderHostEnv(spec), owner: 'root:root', permissions: '0644', defer: false },
    { path: DOMAINS_LIST, content: renderDomainsList(spec), owner: 'root:root', permissions: '0644', defer: false },
    template(CERTIFICATES_LIST, renderDomainTemplate(certificatesList(spec), spec)),
    template(PROSODY_CONFIG, renderDomainTemplate(prosodyConfig(spec), spec)),
    template(NGINX_SITE, renderDomainTemplate(nginxSite(spec), spec)),
    ...Object.entries(renderDomainFilesTemplates(hostMetaFiles(spec), spec)).map(([path, content]) => template(path, content)),
    commonScriptFile(),
    { path: LOGIN_THROTTLE_MODULE, content: scriptFile('mod_login_throttle.lua'), owner: 'root:root', permissions: '0644', defer: false },
    { path: EXPAND_SCRIPT, content: renderExpandScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: PROVISION_SCRIPT, content: renderProvisionScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SCRIPT, content: renderCertsScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SERVICE, content: renderCertsService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: CERTS_TIMER, content: renderCertsTimer(), owner: 'root:root', permissions: '0644', defer: false },
    { path: BACKUP_SCRIPT, content: renderBackupScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: BACKUP_SERVICE, content: renderBackupService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: BACKUP_TIMER, content: renderBackupTimer(), owner: 'root:root', permissions: '0644', defer: false },
    { path: VOLUME_STATUS_SERVICE, content: renderVolumeStatusService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: VOLUME_STATUS_TIMER, content: renderVolumeStatusTimer(), owner: 'root:root', permissions: '0644', defer: false },
    ...VOLUME_UNITS.map((unit) => ({ path: volumeDropinPath(unit.unit), content: renderVolumeDropin(unit), owner: 'root:root', permissions: '0644', defer: false })),
    journaldRetentionFile(),
    prosodyLogrotateFile(),
  ];
  if (spec.offsiteBackups) {
    const withBackups = { ...spec, offsiteBackups: spec.offsiteBackups };
    files.push(
      { path: OFFSITE_ENV, content: renderOffsiteEnv(withBackups), owner: 'root:root', permissions: '0644', defer: false },
      { path: OFFSITE_SECRETS, content: renderOffsiteSecrets(), owner: 'root:root', permissions: '0600', defer: false, sensitive: true },
      // With its line's end, so that YAML writes it as a literal block, where a password given at deploy
      // time stays what it is whatever it holds (`: `, ` #`, quotes); restic trims the line's end.
      { path: OFFSITE_PASSWORD, content: `${spec.offsiteBackups.password}\n`, owner: 'root:root', permissions: '0600', defer: false, sensitive: true },
      { path: OFFSITE_SERVICE, content: renderOffsiteService(), owner: 'root:root', permissions: '0644', defer: false },
      { path: OFFSITE_TIMER, content: renderOffsiteTimer(), owner: 'root:root', permissions: '0644', defer: false },
    );
  }
  if (servesWebClient(spec)) {
    files.push(
      { path: WEB_CLIENT_INDEX, content: renderWebClientIndex(), owner: 'root:root', permissions: '0644', defer: false },
      { path: WEB_CLIENT_MODULE, content: renderWebClientModule(), owner: 'root:root', permissions: '0644', defer: false },
      { path: WEB_CLIENT_SCRIPT, content: scriptFile('web-client.sh'), owner: 'root:root', permissions: '0755', defer: false },
      { path: WEB_CLIENT_SERVICE, content: renderWebClientService(), owner: 'root:root', permissions: '0644', defer: false },
      { path: WEB_CLIENT_TIMER, content: renderWebClientTimer(), owner: 'root:root', permissions: '0644', defer: false },
    );
    if (invitationPagesOfferWebClient(spec)) files.push({ path: WEB_CLIENT_APP_MODULE, content: scriptFile('mod_web_client_app.lua'), owner: 'root:root', permissions: '0644', defer: false });
  }
  if (spec.droplet.reservedIpv6) {
    files.push(
      { path: RESERVED_IPV6_SCRIPT, content: renderReservedIpv6Script(), owner: 'root:root', permissions: '0755', defer: false },
      { path: RESERVED_IPV6_SERVICE, content: renderReservedIpv6Service(), owner: 'root:root', permissions: '0644', defer: false },
      { path: RESERVED_IPV6_TIMER, content: renderReservedIpv6Timer(), owner: 'root:root', permissions: '0644', defer: false },
    );
  }
  if (hasTurnOnProsodyHost(spec)) {
    files.push(...turnConfigFiles(spec));
    if (spec.calls.sharedSecret !== undefined) files.push(suppliedSecretFile(spec.calls.sharedSecret));
  } else if (hasDedicatedTurnDroplet(spec) && spec.calls.sharedSecret !== undefined) {
    // Without coturn here the provisioning script leaves the secret alone (host.env says
    // TURN_ENABLED=0), so Prosody's half of it arrives ready to read. Deferred: the prosody group
    // exists only once the package is installed.
    files.push({
      path: PROSODY_SECRETS_INCLUDE,
      content: renderProsodySecretsInclude(spec.calls.sharedSecret, 'Supplied through IaC (calls.sharedSecret); the TURN droplet holds the same secret.'),
      owner: 'root:prosody',
      permissions: '0640',
      defer: true,
      sensitive: true,
    });
  }
  return files;
}

/**
 * The files the provisioning script expands from the templates, as `{ path: content }`, exactly as
 * the host writes them: for the review files and the tests that compare them with the host's.
 * The files of EXPANDED_FILES are expanded from the very templates user_data carries, as the host
 * does: pass the host's files as rendered for user_data (`files`), and they are not rendered again.
 */
export function renderExpandedFiles(spec: ResolvedSpec, options: { readonly hostMeta?: boolean; readonly files?: readonly HostFile[] } = {}): Record<string, string> {
  const carried = new Map((options.files ?? renderHostFiles(spec)).map((f) => [f.path, f.content]));
  const domains = furtherDomains(spec);
  const files: Record<string, string> = {};
  for (const { path } of EXPANDED_FILES) {
    const template = carried.get(templatePath(path));
    if (template === undefined) throw new Error(`renderExpandedFiles: user_data carries no template for ${path}`);
    files[path] = expandTemplate(template, domains);
  }
  return { ...files, ...(options.hostMeta ?? true ? expandDomainFiles(hostMetaFiles(spec), spec) : {}) };
}

/**
 * Every file a dedicated TURN droplet needs. Nothing here lives on a volume: the secret comes with
 * user_data, and a replacement droplet obtains a new certificate (see renderTurnProvisionScript).
 */
export function renderTurnHostFiles(spec: ResolvedSpec): HostFile[] {
  if (!hasDedicatedTurnDroplet(spec)) {
    throw new Error('renderTurnHostFiles: this spec has no TURN droplet of its own (calls.placement is not "dedicated", or calls are off)');
  }
  const secret = spec.calls.sharedSecret;
  if (secret === undefined) throw new Error('renderTurnHostFiles: a TURN droplet needs calls.sharedSecret (resolveSpec requires it)');
  return [
    ...servicePolicyFiles(turnHostPackages()),
    { path: HOST_ENV, content: renderTurnHostEnv(spec), owner: 'root:root', permissions: '0644', defer: false },
    commonScriptFile(),
    { path: TURN_PROVISION_SCRIPT, content: renderTurnProvisionScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SERVICE, content: renderTurnCertsService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: CERTS_TIMER, content: renderCertsTimer(), owner: 'root:root', permissions: '0644', defer: false },
    ...turnConfigFiles(spec),
    suppliedSecretFile(secret),
    journaldRetentionFile(),
  ];
}

/** Thrown when the rendered user_data would not fit DigitalOcean's limit. */
export class UserDataTooLargeError extends Error {
  constructor(public readonly sizeBytes: number, reservedBytes = 0) {
    super(
      `The droplet's user_data is ${sizeBytes} bytes even with its files compressed` +
        (reservedBytes > 0 ? ` (counting ${reservedBytes} bytes for deploy-time secrets at their longest)` : '') +
        `, over DigitalOcean's limit of ${USER_DATA_LIMIT_BYTES}. ` +
        'Fix: serve fewer domains from this host (spread them over several hosts), or shorten contact lists and component names.',
    );
    this.name = 'UserDataTooLargeError';
  }
}

/** Top-level keys the document uses; a test keeps it to cloud-init modules that exist in 22.4. */
export const CLOUD_CONFIG_KEYS = ['package_update', 'package_upgrade', 'packages', 'ssh_pwauth', 'write_files', 'runcmd'] as const;

export interface CloudInitOptions {
  /** Replace secrets with a placeholder: for review files, which must never hold one. */
  readonly redactSecrets?: boolean;
}

export const REDACTED = '(redacted: supplied through IaC state, sensitive)';

/**
 * gzip, then base64: cloud-init's `gz+b64` write_files encoding. pako (pure JavaScript, pinned to
 * one version) rather than node:zlib, whose bytes differ by platform (the header's OS byte) and by
 * the zlib Node bundles; user_data that changed with the machine synthesizing it would replace the
 * droplet.
 */
export function gzipBase64(content: string): string {
  // Loaded on first use: most deployments never compress, and every synthesis pays for a load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gzip } = require('pako') as typeof Pako;
  return Buffer.from(gzip(Buffer.from(content, 'utf8'), { level: 9 })).toString('base64');
}

/** What cloud-init's write_files gives a file that names no owner or permissions. */
const CLOUD_INIT_DEFAULT_OWNER = 'root:root';
const CLOUD_INIT_DEFAULT_PERMISSIONS = '0644';

/**
 * The placeholders an engine replaces by text at deploy time, each with the most bytes its value may
 * have (a function: the TURN secret's placeholder is declared further down). The Spaces keys are
 * not here: their placeholders are longer than DigitalOcean's keys (20 and 43 characters).
 */
function deployTimeValues(): readonly (readonly [placeholder: string, maxBytes: number])[] {
  return [
    [DEPLOY_TIME_SECRET_PLACEHOLDER, MAX_SHARED_SECRET_LENGTH],
    [DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER, MAX_BACKUP_PASSWORD_BYTES],
  ];
}

/** How many bytes more than their placeholders the deploy-time values in `files` may take. */
export function deployTimeReserveBytes(files: readonly Pick<HostFile, 'content'>[]): number {
  let reserve = 0;
  for (const file of files) {
    for (const [placeholder, maxBytes] of deployTimeValues()) {
      const occurrences = file.content.split(placeholder).length - 1;
      reserve += occurrences * Math.max(0, maxBytes - Buffer.byteLength(placeholder, 'utf8'));
    }
  }
  return reserve;
}

/** A `#cloud-config` document installing `packages`, writing `files` and running `command`. */
function cloudConfig(files: readonly HostFile[], packages: readonly string[], command: readonly string[], options: CloudInitOptions): string {
  const render = (compressed: ReadonlySet<HostFile>): string => {
    const writeFiles = files.map((f) => {
      const content = f.sensitive && options.redactSecrets ? REDACTED : f.content;
      return {
        path: f.path,
        ...(compressed.has(f) ? { encoding: 'gz+b64', content: gzipBase64(content) } : { content }),
        // cloud-init's defaults (root:root, 0644) go unsaid: 40 bytes a file, against the 64 KiB limit.
        ...(f.owner === CLOUD_INIT_DEFAULT_OWNER ? {} : { owner: f.owner }),
        ...(f.permissions === CLOUD_INIT_DEFAULT_PERMISSIONS ? {} : { permissions: f.permissions }),
        ...(f.defer ? { defer: true } : {}),
      };
    });
    const document = {
      package_update: true,
      package_upgrade: true,
      packages: [...packages],
      ssh_pwauth: false,
      write_files: writeFiles,
      // One script, run by runcmd: cloud-init's own runcmd is a /bin/sh script without set -e,
      // so failures would pass silently; the script stops on the first error and names the step.
      runcmd: [[...command]],
    };
    // Sequences not indented under their key: two bytes less on every line of every file, which
    // DigitalOcean's 64 KiB limit makes worth having (the same YAML to cloud-init).
    return '#cloud-config\n' + stringify(document, { lineWidth: 0, blockQuote: 'literal', indentSeq: false });
  };
  // The limit holds for what the droplet receives: a value an engine puts in at deploy time counts
  // at the longest it may be, not at its placeholder's length.
  const reserved = deployTimeReserveBytes(files);
  const sizeOf = (text: string) => Buffer.byteLength(text, 'utf8') + reserved;
  // Files stay readable in the plan while everything fits. Past the limit, files are compressed one
  // by one until it fits: first the package's own scripts and modules, the same for every stack (a
  // reviewer reads them in the package, not in a plan), then the configuration, largest first.
  // Never a secret: an adapter swaps in the deploy-time secret by text, and review files redact it.
  const compressed = new Set<HostFile>();
  let userData = render(compressed);
  const candidates = files
    .filter((f) => !f.sensitive)
    .sort((a, b) => Number(isPackageCode(b)) - Number(isPackageCode(a)) || sizeOf(b.content) - sizeOf(a.content) || (a.path < b.path ? -1 : 1));
  for (const file of candidates) {
    if (sizeOf(userData) <= USER_DATA_LIMIT_BYTES) break;
    compressed.add(file);
    userData = render(compressed);
  }
  if (sizeOf(userData) > USER_DATA_LIMIT_BYTES) throw new UserDataTooLargeError(sizeOf(userData), reserved);
  return userData;
}

/**
 * The Prosody droplet's complete `#cloud-config` user_data (the bootstrap, with `configDelivery`
 * "spaces"). Fails if it would exceed DigitalOcean's limit.
 */
export function renderCloudInit(spec: ResolvedSpec, options: CloudInitOptions = {}): string {
  const host = renderProsodyHost(spec);
  return options.redactSecrets ? host.reviewUserData : host.userData;
}

/** A dedicated TURN droplet's complete `#cloud-config` user_data. */
export function renderTurnCloudInit(spec: ResolvedSpec, options: CloudInitOptions = {}): string {
  return cloudConfig(renderTurnHostFiles(spec), turnHostPackages(), [TURN_PROVISION_SCRIPT, 'provision'], options);
}

/** The paths every deployment writes onto the host (in user_data, or in the bundle with `configDelivery` "spaces"). */
export const ALWAYS_WRITTEN = [SERVICE_POLICY, HOST_ENV, DOMAINS_LIST, COMMON_SCRIPT, EXPAND_SCRIPT, PROVISION_SCRIPT, CERTS_SCRIPT, templatePath(CERTIFICATES_LIST), templatePath(PROSODY_CONFIG), templatePath(NGINX_SITE)] as const;

/**
 * Stands in for a TURN secret known only at deploy time (a sensitive Terraform variable, a Pulumi
 * secret): the spec is validated and rendered with it, then the adapter swaps in its engine's
 * reference. It satisfies `checkSharedSecret` and cannot occur in any rendered file by accident.
 */
export const DEPLOY_TIME_SECRET_PLACEHOLDER = 'xmpp-constructs-deploy-time-turn-secret-placeholder';

/** `userData` with the placeholder replaced by `secret` (a literal, token or resolved Output value). */
export function substituteDeployTimeSecret(userData: string, secret: string): string {
  return userData.split(DEPLOY_TIME_SECRET_PLACEHOLDER).join(secret);
}

/** A host's files and its user_data: as the droplet receives it, and as reviewers read it. */
export interface RenderedHost {
  /** Every file the host receives, from user_data and from the bundle. */
  readonly files: readonly HostFile[];
  /**
   * With `configDelivery.channel: "spaces"`: the files that travel in the bundle instead of
   * user_data, which then holds only the bootstrap (see `renderProsodyHost`).
   */
  readonly bundle?: ConfigBundle;
  /** The user_data (with the deploy-time secret's placeholder, if any). */
  readonly userData: string;
  /** The user_data with every secret redacted: the same text when it holds none. */
  readonly reviewUserData: string;
}

function renderedHost(files: readonly HostFile[], packages: readonly string[], command: readonly string[]): RenderedHost {
  const userData = cloudConfig(files, packages, command, {});
  const reviewUserData = files.some((f) => f.sensitive) ? cloudConfig(files, packages, command, { redactSecrets: true }) : userData;
  return { files, userData, reviewUserData };
}

/**
 * The Prosody droplet's files and user_data, rendered once. Fails if it would exceed DigitalOcean's limit.
 *
 * With `configDelivery.channel: "spaces"`, user_data is a stable bootstrap: the packages, the
 * first-boot guard, the fetch script with its timer, where the bundle is and the key that reads it,
 * and the secrets (which never go into the bundle). It changes only with the packages, the bucket,
 * the key, a supplied TURN secret or the bootstrap's own scripts, so a new domain, limit, contact or
 * TTL leaves the droplet alone: everything else travels in the bundle.
 */
export function renderProsodyHost(spec: ResolvedSpec): RenderedHost {
  const files = renderHostFiles(spec);
  const packages = hostPackages(spec);
  if (!deliversInPlace(spec)) return renderedHost(files, packages, [PROVISION_SCRIPT]);
  const guard = new Set(servicePolicyFiles(packages).map((f) => f.path));
  const inBootstrap = (f: HostFile) => guard.has(f.path) || f.sensitive === true;
  const bundle = renderConfigBundle([...files.filter((f) => !inBootstrap(f)), applyScriptFile()]);
  const bootstrap = [...files.filter(inBootstrap), ...fetchBootstrapFiles(spec)];
  const userData = cloudConfig(bootstrap, packages, [FETCH_SCRIPT, 'first-boot'], {});
  const reviewUserData = cloudConfig(bootstrap, packages, [FETCH_SCRIPT, 'first-boot'], { redactSecrets: true });
  return { files: [...bootstrap, ...bundle.files], bundle, userData, reviewUserData };
}

/**
 * Stand in for the read key's ID and secret in the bootstrap, which exist only once the engine has
 * created the key: the adapter swaps in its engine's reference, as for the deploy-time TURN secret.
 */
export const SPACES_ACCESS_KEY_PLACEHOLDER = 'xmpp-constructs-spaces-access-key-placeholder';
export const SPACES_SECRET_KEY_PLACEHOLDER = 'xmpp-constructs-spaces-secret-key-placeholder';

/** `userData` with the configuration channel's read key (a literal, token or resolved Output value) in place of its placeholders. */
export function substituteSpacesKey(userData: string, accessKey: string, secretKey: string): string {
  return userData.split(SPACES_ACCESS_KEY_PLACEHOLDER).join(accessKey).split(SPACES_SECRET_KEY_PLACEHOLDER).join(secretKey);
}

/** The bundle's apply script: in the bundle, so that a new version of this library applies itself. */
function applyScriptFile(): HostFile {
  return { path: APPLY_SCRIPT, content: scriptFile('apply.sh'), owner: 'root:root', permissions: '0755', defer: false };
}

/** The bootstrap's own files: the fetch script, its timer, and where the bundle is. */
function fetchBootstrapFiles(spec: ResolvedSpec & { readonly configDelivery: { readonly channel: 'spaces'; readonly region: string; readonly bucket: string } }): HostFile[] {
  const { region, bucket } = spec.configDelivery;
  const source = [
    '# Rendered by xmpp-constructs: where this droplet fetches its configuration bundle, and the key',
    '# that may only read that bucket. Read by /usr/local/sbin/xmpp-constructs-fetch.',
    `SPACES_ENDPOINT=${shQuote(`https://${region}.digitaloceanspaces.com`)}`,
    `SPACES_REGION=${shQuote(region)}`,
    `SPACES_BUCKET=${shQuote(bucket)}`,
    `BUNDLE_OBJECT=${shQuote(BUNDLE_OBJECT_KEY)}`,
    `SPACES_ACCESS_KEY=${shQuote(SPACES_ACCESS_KEY_PLACEHOLDER)}`,
    `SPACES_SECRET_KEY=${shQuote(SPACES_SECRET_KEY_PLACEHOLDER)}`,
    '',
  ].join('\n');
  return [
    { path: FETCH_SCRIPT, content: scriptFile('fetch.sh'), owner: 'root:root', permissions: '0755', defer: false },
    { path: CONFIG_SOURCE, content: source, owner: 'root:root', permissions: '0600', defer: false, sensitive: true },
    { path: FETCH_SERVICE, content: renderFetchService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: FETCH_TIMER, content: renderFetchTimer(), owner: 'root:root', permissions: '0644', defer: false },
  ];
}

/** How often the droplet looks for a new bundle. */
export const FETCH_INTERVAL_SECONDS = 60;

function renderFetchService(): string {
  return [
    '[Unit]',
    'Description=xmpp-constructs: fetch and apply a new configuration bundle',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${FETCH_SCRIPT}`,
    '',
  ].join('\n');
}

function renderFetchTimer(): string {
  return [
    '[Unit]',
    'Description=xmpp-constructs: look for a new configuration bundle every minute',
    '',
    '[Timer]',
    'OnBootSec=2min',
    `OnUnitActiveSec=${FETCH_INTERVAL_SECONDS}s`,
    'AccuracySec=5s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** A dedicated TURN droplet's files and user_data, rendered once. */
export function renderTurnHost(spec: ResolvedSpec): RenderedHost {
  return renderedHost(renderTurnHostFiles(spec), turnHostPackages(), [TURN_PROVISION_SCRIPT, 'provision']);
}
