/**
 * The scripts and systemd units that run on the droplet.
 *
 * The scripts are the same for every declaration; everything that varies lives in small data
 * files (`host.env`, `domains.list`) and the templates (expansion.ts) that the scripts read. That
 * keeps the scripts reviewable once, keeps user_data small with many domains, and lets tests run
 * the very same scripts. The scripts themselves are files of this package, lib/host/*.sh
 * (script-files.ts); the paths they name are the ones below and in paths.ts, which tests hold them to.
 */
import { ETC_DIR, NGINX_SITE, PROSODY_CONFIG, VOLUME_MOUNT } from './paths';
import { certificateNames, hasTurnOnProsodyHost, ResolvedSpec } from './spec';
import { DOMAIN_PLACEHOLDER, DomainTemplate, ExpandedFile, xmppJid, xmppName } from './expansion';
import { hostMetaPaths } from './nginx';
import { turnRealm } from './turn';
import { scriptFile } from './script-files';
import { platformOf } from './platforms';
import { CERTIFICATE_MOUNTS } from './volume-units';
import { webClientHostEnv } from './web-client';
// A cycle (cloud-init.ts renders these files), harmless: both are functions, called after loading.
import { provisionedPackages, turnHostPackages } from './cloud-init';

export const HOST_ENV = `${ETC_DIR}/host.env`;
export const CERTIFICATES_LIST = `${ETC_DIR}/certificates.list`;
export const CERTS_SCRIPT = '/usr/local/sbin/xmpp-constructs-certs';
export const CERTS_SERVICE = '/etc/systemd/system/xmpp-constructs-certificates.service';
export const CERTS_TIMER = '/etc/systemd/system/xmpp-constructs-certificates.timer';
/**
 * Where a user-supplied TURN secret lands: on the Prosody host, before provisioning moves it onto
 * the volume; on a dedicated TURN droplet, where its script reads it.
 */
export const SUPPLIED_TURN_SECRET = `${ETC_DIR}/turn-shared-secret.supplied`;
/** The dedicated TURN droplet's one script: provisioning, certificate issuance, deploy hook. */
export const TURN_PROVISION_SCRIPT = '/usr/local/sbin/xmpp-constructs-turn';
/** Puts the reserved IPv6 address on the droplet once DigitalOcean has assigned it (and takes it off again). */
export const RESERVED_IPV6_SCRIPT = '/usr/local/sbin/xmpp-constructs-reserved-ipv6';
export const RESERVED_IPV6_SERVICE = '/etc/systemd/system/xmpp-constructs-reserved-ipv6.service';
export const RESERVED_IPV6_TIMER = '/etc/systemd/system/xmpp-constructs-reserved-ipv6.timer';
/** The functions the scripts share (lib/host/common.sh), which each of them sources. */
export const COMMON_SCRIPT = '/usr/local/lib/xmpp-constructs/common.sh';

/**
 * How long provisioning waits for the volume's device to appear. DigitalOcean attaches the volume
 * while the droplet boots; udev names it under /dev/disk/by-id within seconds, rarely a minute.
 */
export const VOLUME_WAIT_SECONDS = 300;

/**
 * How long provisioning waits for apt's lock when it has to install packages cloud-init did not.
 * cloud-init gives up on apt's lock after 30 s (22.4 and 25.1 alike); apt's daily jobs and
 * unattended-upgrades may hold it for minutes at first boot, the longer the older the image.
 */
export const APT_LOCK_WAIT_SECONDS = 1800;

/** A single-quoted shell word; safe for any string. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The header and `KEY=value` lines of a host.env. */
function envFile(vars: readonly [string, string][]): string {
  return ['# Rendered by xmpp-constructs; read by the scripts in /usr/local/sbin.', ...vars.map(([k, v]) => `${k}=${shQuote(v)}`), ''].join('\n');
}

/** `KEY=value` lines the Prosody host's scripts source. Only validated, non-secret values go here. */
export function renderHostEnv(spec: ResolvedSpec): string {
  const vars: [string, string][] = [
    ['VOLUME_DEVICE', `/dev/disk/by-id/scsi-0DO_Volume_${spec.droplet.volumeName}`],
    ['VOLUME_WAIT_SECONDS', String(VOLUME_WAIT_SECONDS)],
    ['VOLUME_MOUNT', VOLUME_MOUNT],
    ['PRIMARY_DOMAIN', spec.primaryDomain],
    // Its name as Prosody knows it (Unicode for an internationalised domain); domains.list gives
    // each further domain's.
    ['PRIMARY_XMPP_DOMAIN', xmppName(spec.primaryDomain)],
    // Means "coturn runs on this host". The name predates dedicated TURN droplets and stays, since
    // any change to user_data replaces the droplet. With a TURN droplet, Prosody's half of the
    // secret comes as a file of its own (see renderHostFiles).
    ['TURN_ENABLED', hasTurnOnProsodyHost(spec) ? '1' : '0'],
    ['TURN_REALM', turnRealm(spec)],
    ['IPV6_ENABLED', spec.droplet.ipv6 ? '1' : '0'],
    // The domains' AAAA records point at a reserved IPv6 address this droplet must put on itself.
    ['RESERVED_IPV6', spec.droplet.reservedIpv6 ? '1' : '0'],
    ['ACME_EMAIL', spec.acme.email],
    ['ACME_STAGING', spec.acme.staging ? '1' : '0'],
    // The platform the files were rendered for: a host refuses a configuration bundle for another
    // one (droplet.image changed), which is for the droplet replacing it.
    ['PLATFORM', spec.droplet.platform],
    // Read when the volume comes from another Prosody release (the upgrade's way back).
    ['PROSODY_WHOLE_SECOND_ARCHIVE_TIMES', platformOf(spec).prosody.wholeSecondArchiveTimes ? '1' : '0'],
    ['PROSODY_CARRIES_OVER_ROLES', platformOf(spec).prosody.carriesOverRolesFrom012 ? '1' : '0'],
    // user_data's `packages:` (which provisioning installs itself if cloud-init gave up on apt's
    // lock) and those that follow configuration changed in place.
    ['PACKAGES', provisionedPackages(spec).join(' ')],
    ['APT_LOCK_WAIT_SECONDS', String(APT_LOCK_WAIT_SECONDS)],
    ['RESERVED_ADMIN_ACCOUNTS', reservedAdminAccounts(spec).join(' ')],
    ...webClientHostEnv(spec),
  ];
  return envFile(vars);
}

/**
 * The accounts provisioning creates, each with a random password nobody knows, so that no one can
 * register them from an invitation for any name: every admin's, when accounts come from
 * invitations. Their admins set the password with `adminInviteCommand`. By their XMPP names.
 */
export function reservedAdminAccounts(spec: ResolvedSpec): string[] {
  if (spec.registration !== 'invite') return [];
  return [...new Set([...spec.admins, ...spec.domains.flatMap((d) => d.admins)].map(xmppJid))];
}

/** The dedicated TURN droplet's host.env, read by TURN_PROVISION_SCRIPT. */
export function renderTurnHostEnv(spec: ResolvedSpec): string {
  return envFile([
    ['TURN_HOST', spec.calls.host],
    ['TURN_REALM', turnRealm(spec)],
    ['IPV6_ENABLED', spec.droplet.ipv6 ? '1' : '0'],
    ['ACME_EMAIL', spec.acme.email],
    ['ACME_STAGING', spec.acme.staging ? '1' : '0'],
    ['PACKAGES', turnHostPackages().join(' ')],
    ['APT_LOCK_WAIT_SECONDS', String(APT_LOCK_WAIT_SECONDS)],
  ]);
}

/**
 * CERTIFICATES_LIST by domain (expansion.ts): one line per certificate lineage, the lineage name
 * (the domain) and then every name it covers.
 */
export function certificatesList(spec: ResolvedSpec): DomainTemplate {
  return {
    shared: { head: '', between: '', tail: '' },
    perDomain: (domain) => `${[domain.name, ...certificateNames(spec, domain)].join(' ')}\n`,
  };
}

/**
 * The files the provisioning script expands from their templates (expansion.ts); the templates
 * travel in user_data at `templatePath(path)`. Owners and modes are what the packages expect.
 * lib/host/provision.sh writes each of these, and the host-meta files below, with exactly these
 * paths, owners and modes; a test holds the two together.
 */
export const EXPANDED_FILES: readonly ExpandedFile[] = [
  { path: CERTIFICATES_LIST, owner: 'root:root', permissions: '0644' },
  { path: PROSODY_CONFIG, owner: 'root:prosody', permissions: '0640' },
  { path: NGINX_SITE, owner: 'root:root', permissions: '0644' },
];

/** Each domain's host-meta documents, with `@DOMAIN@` for the domain; templates at `templatePath(path)`. */
export const HOST_META_FILES: readonly string[] = [hostMetaPaths(DOMAIN_PLACEHOLDER).xml, hostMetaPaths(DOMAIN_PLACEHOLDER).json];

/** COMMON_SCRIPT (lib/host/common.sh): the functions every other script sources. */
export function renderCommonScript(): string {
  return scriptFile('common.sh');
}

/** The provisioning script (lib/host/provision.sh): idempotent, loud on failure, safe to run on every boot. */
export function renderProvisionScript(): string {
  return scriptFile('provision.sh');
}

/** Certificate handling (lib/host/certs.sh): self-signed bootstrap, linking, import into Prosody and coturn, issuance. */
export function renderCertsScript(): string {
  return scriptFile('certs.sh');
}

export function renderCertsService(): string {
  return `[Unit]
Description=xmpp-constructs: obtain missing Let's Encrypt certificates
After=network-online.target nginx.service
Wants=network-online.target
RequiresMountsFor=${CERTIFICATE_MOUNTS.join(' ')}

[Service]
Type=oneshot
ExecStart=${CERTS_SCRIPT} issue
`;
}

export function renderCertsTimer(): string {
  return `[Unit]
Description=xmpp-constructs: retry certificate issuance until DNS points here

[Timer]
OnBootSec=1min
OnUnitInactiveSec=5min

[Install]
WantedBy=timers.target
`;
}

/**
 * The dedicated TURN droplet's script (lib/host/turn-provision.sh). It keeps no state worth a
 * volume: the secret comes from IaC with user_data, and a replacement droplet is simply issued a
 * new certificate. Let's Encrypt allows 5 duplicate certificates per week, which a TURN host that
 * is rarely replaced stays well within.
 */
export function renderTurnProvisionScript(): string {
  return scriptFile('turn-provision.sh');
}

/**
 * RESERVED_IPV6_SCRIPT (lib/host/reserved-ipv6.sh). DigitalOcean routes a reserved IPv6 address to
 * the droplet it is assigned to but configures nothing inside it: the droplet must put the address
 * on its loopback interface itself, after the assignment, which DigitalOcean's metadata service reports
 * (https://docs.digitalocean.com/products/networking/reserved-ips/how-to/manually-enable/). Prosody
 * and nginx listen on every address, so they answer on it as soon as it is there; coturn does not
 * need it (the TURN name keeps the droplet's own addresses, which coturn relays from).
 */
export function renderReservedIpv6Script(): string {
  return scriptFile('reserved-ipv6.sh');
}

/** Runs RESERVED_IPV6_SCRIPT once at boot, once the network is up. */
export function renderReservedIpv6Service(): string {
  return `[Unit]
Description=xmpp-constructs: the reserved IPv6 address on this droplet
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${RESERVED_IPV6_SCRIPT}

[Install]
WantedBy=multi-user.target
`;
}

/** Runs RESERVED_IPV6_SCRIPT every minute: DigitalOcean assigns the address after the droplet boots. */
export function renderReservedIpv6Timer(): string {
  return `[Unit]
Description=xmpp-constructs: follow the reserved IPv6 address's assignment

[Timer]
OnBootSec=1min
OnUnitActiveSec=1min

[Install]
WantedBy=timers.target
`;
}

/** The TURN droplet's issuance service, run by the same timer as on the Prosody host (renderCertsTimer). */
export function renderTurnCertsService(): string {
  return `[Unit]
Description=xmpp-constructs: obtain the TURN name's Let's Encrypt certificate
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${TURN_PROVISION_SCRIPT} issue
`;
}
