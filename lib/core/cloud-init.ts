/**
 * The droplets' user_data: a #cloud-config document holding every file at its real Debian 12
 * path, the packages, and one provisioning script. `renderCloudInit` is the Prosody droplet's,
 * `renderTurnCloudInit` a dedicated TURN droplet's.
 */
import { BACKUP_SCRIPT, BACKUP_SERVICE, BACKUP_TIMER, renderBackupScript, renderBackupService, renderBackupTimer } from './backup';
import { stringify } from 'yaml';
import { renderNginxFiles } from './nginx';
import {
  NGINX_SITE,
  PROSODY_CONFIG,
  PROSODY_SECRETS_INCLUDE,
  PROVISION_SCRIPT,
  TURN_CONFIG,
} from './paths';
import {
  CERTIFICATES_LIST,
  CERTS_SCRIPT,
  CERTS_SERVICE,
  CERTS_TIMER,
  HOST_ENV,
  renderCertificatesList,
  renderCertsScript,
  renderCertsService,
  renderCertsTimer,
  renderHostEnv,
  renderProvisionScript,
  renderTurnCertsService,
  renderTurnHostEnv,
  renderTurnProvisionScript,
  SUPPLIED_TURN_SECRET,
  TURN_PROVISION_SCRIPT,
} from './host-scripts';
import { renderProsodyConfig, renderProsodySecretsInclude } from './prosody';
import { hasDedicatedTurnDroplet, hasTurnOnProsodyHost, ResolvedSpec } from './spec';
import { renderTurnFiles } from './turn';

/** DigitalOcean rejects user data larger than this. */
export const USER_DATA_LIMIT_BYTES = 64 * 1024;

/** The Debian packages the Prosody droplet installs. Tests install exactly these too. */
export function hostPackages(spec: ResolvedSpec): string[] {
  const packages = ['prosody', 'prosody-modules', 'lua-unbound', 'nginx', 'certbot', 'curl', 'openssl', 'unattended-upgrades'];
  if (hasTurnOnProsodyHost(spec)) packages.push('coturn');
  return packages;
}

/** The Debian packages a dedicated TURN droplet installs. */
export function turnHostPackages(): string[] {
  return ['coturn', 'certbot', 'curl', 'openssl', 'unattended-upgrades'];
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

/** The user-supplied secret where a provisioning script picks it up. */
function suppliedSecretFile(secret: string): HostFile {
  return { path: SUPPLIED_TURN_SECRET, content: secret, owner: 'root:root', permissions: '0600', defer: false, sensitive: true };
}

/** Every file the Prosody droplet needs, at its real path, in a stable order. */
export function renderHostFiles(spec: ResolvedSpec): HostFile[] {
  const files: HostFile[] = [
    { path: HOST_ENV, content: renderHostEnv(spec), owner: 'root:root', permissions: '0644', defer: false },
    { path: CERTIFICATES_LIST, content: renderCertificatesList(spec), owner: 'root:root', permissions: '0644', defer: false },
    { path: PROVISION_SCRIPT, content: renderProvisionScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SCRIPT, content: renderCertsScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SERVICE, content: renderCertsService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: CERTS_TIMER, content: renderCertsTimer(), owner: 'root:root', permissions: '0644', defer: false },
    { path: BACKUP_SCRIPT, content: renderBackupScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: BACKUP_SERVICE, content: renderBackupService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: BACKUP_TIMER, content: renderBackupTimer(), owner: 'root:root', permissions: '0644', defer: false },
    { path: PROSODY_CONFIG, content: renderProsodyConfig(spec), owner: 'root:prosody', permissions: '0640', defer: true },
  ];
  for (const [path, content] of Object.entries(renderNginxFiles(spec))) {
    files.push({ path, content, owner: 'root:root', permissions: '0644', defer: true });
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
    { path: HOST_ENV, content: renderTurnHostEnv(spec), owner: 'root:root', permissions: '0644', defer: false },
    { path: TURN_PROVISION_SCRIPT, content: renderTurnProvisionScript(), owner: 'root:root', permissions: '0755', defer: false },
    { path: CERTS_SERVICE, content: renderTurnCertsService(), owner: 'root:root', permissions: '0644', defer: false },
    { path: CERTS_TIMER, content: renderCertsTimer(), owner: 'root:root', permissions: '0644', defer: false },
    ...turnConfigFiles(spec),
    suppliedSecretFile(secret),
  ];
}

/** Thrown when the rendered user_data would not fit DigitalOcean's limit. */
export class UserDataTooLargeError extends Error {
  constructor(public readonly sizeBytes: number) {
    super(
      `The droplet's user_data is ${sizeBytes} bytes, over DigitalOcean's limit of ${USER_DATA_LIMIT_BYTES}. ` +
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

/** A `#cloud-config` document installing `packages`, writing `files` and running `command`. */
function cloudConfig(files: readonly HostFile[], packages: readonly string[], command: readonly string[], options: CloudInitOptions): string {
  const writeFiles = files.map((f) => ({
    path: f.path,
    content: f.sensitive && options.redactSecrets ? REDACTED : f.content,
    owner: f.owner,
    permissions: f.permissions,
    ...(f.defer ? { defer: true } : {}),
  }));
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
  const userData = '#cloud-config\n' + stringify(document, { lineWidth: 0, blockQuote: 'literal' });
  const size = Buffer.byteLength(userData, 'utf8');
  if (size > USER_DATA_LIMIT_BYTES) throw new UserDataTooLargeError(size);
  return userData;
}

/** The Prosody droplet's complete `#cloud-config` user_data. Fails if it would exceed DigitalOcean's limit. */
export function renderCloudInit(spec: ResolvedSpec, options: CloudInitOptions = {}): string {
  return cloudConfig(renderHostFiles(spec), hostPackages(spec), [PROVISION_SCRIPT], options);
}

/** A dedicated TURN droplet's complete `#cloud-config` user_data. */
export function renderTurnCloudInit(spec: ResolvedSpec, options: CloudInitOptions = {}): string {
  return cloudConfig(renderTurnHostFiles(spec), turnHostPackages(), [TURN_PROVISION_SCRIPT, 'provision'], options);
}

/** The paths every deployment's user_data carries, for tests and documentation. */
export const ALWAYS_WRITTEN = [HOST_ENV, CERTIFICATES_LIST, PROVISION_SCRIPT, CERTS_SCRIPT, PROSODY_CONFIG, NGINX_SITE] as const;

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
