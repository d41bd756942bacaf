/**
 * Where things live on the droplet. Every renderer takes its paths from here so that the
 * Prosody, nginx, coturn and cloud-init outputs always agree with each other.
 */

/** Mount point of the persistent data volume. Everything that must survive a replacement is under it. */
export const VOLUME_MOUNT = '/srv/xmpp-data';

/** Directories on the volume, bind-mounted over their usual Debian locations at boot. */
export const VOLUME_BINDS: readonly { readonly volumeDir: string; readonly systemDir: string }[] = [
  { volumeDir: `${VOLUME_MOUNT}/prosody`, systemDir: '/var/lib/prosody' },
  { volumeDir: `${VOLUME_MOUNT}/letsencrypt`, systemDir: '/etc/letsencrypt' },
];

/** Secrets generated on the host (never in IaC state), kept on the volume. */
export const SECRETS_DIR = `${VOLUME_MOUNT}/secrets`;
export const TURN_SECRET_FILE = `${SECRETS_DIR}/turn-shared-secret`;

/** Our own files on the host. */
export const ETC_DIR = '/etc/xmpp-constructs';
export const PROVISION_SCRIPT = '/usr/local/sbin/xmpp-constructs-provision';
/**
 * Debian's policy layer for service starts (invoke-rc.d(8)): the first-boot guard that keeps the
 * packages from starting their services before provisioning has configured them (service-policy.ts).
 */
export const SERVICE_POLICY = '/usr/sbin/policy-rc.d';

/**
 * Per-domain certificate indirection: `<CERTS_DIR>/<domain>/{fullchain,privkey}.pem` are links to
 * the Let's Encrypt lineage once it exists, and to a self-signed bootstrap certificate before,
 * so nginx, Prosody and coturn can start before DNS has propagated.
 */
export const CERTS_DIR = `${ETC_DIR}/certs`;
export const SELF_SIGNED_DIR = `${VOLUME_MOUNT}/self-signed`;
export const LETSENCRYPT_LIVE = '/etc/letsencrypt/live';

/** Prosody. */
export const PROSODY_CONFIG = '/etc/prosody/prosody.cfg.lua';
/** Generated at boot from the volume's secret; holds `external_service_secret`. Mode 0640 root:prosody. */
export const PROSODY_SECRETS_INCLUDE = '/etc/prosody/secrets.cfg.lua';
export const PROSODY_CERTS_DIR = '/etc/prosody/certs';
/** Prosody modules of this package (plugin_paths), outside Debian's module directory. */
export const PROSODY_PLUGIN_DIR = '/usr/local/lib/xmpp-constructs/prosody-modules';
/** Throttles failed logins by address (lib/host/mod_login_throttle.lua). */
export const LOGIN_THROTTLE_MODULE = `${PROSODY_PLUGIN_DIR}/mod_login_throttle.lua`;
/** Lists the web client among the apps on the invitation pages (lib/host/mod_web_client_app.lua). */
export const WEB_CLIENT_APP_MODULE = `${PROSODY_PLUGIN_DIR}/mod_web_client_app.lua`;

/** nginx. */
export const NGINX_SITE = '/etc/nginx/conf.d/xmpp-constructs.conf';
export const ACME_WEBROOT = '/var/www/acme';
export const HOST_META_ROOT = '/var/www/host-meta';

/** coturn. */
export const TURN_CONFIG = '/etc/turnserver.conf';
/** Readable copy of the primary domain's certificate for the `turnserver` user. */
export const TURN_CERT_DIR = '/etc/coturn/tls';
/**
 * coturn has no include directive, and the addresses it must bind to are only known on the
 * droplet. A systemd drop-in passes them as flags from this environment file.
 */
export const TURN_ADDRESSES_ENV = `${ETC_DIR}/turn-addresses.env`;
export const TURN_SYSTEMD_DROPIN = '/etc/systemd/system/coturn.service.d/xmpp-constructs.conf';
/** coturn's SQLite database; the shared secret is stored there, not in turnserver.conf. */
export const TURN_USERDB = '/var/lib/turn/turndb';

/**
 * In-place configuration (`configDelivery.channel: "spaces"`): the bootstrap's fetch script, which
 * pulls the bundle, and the bundle's apply script, which checks and applies it.
 */
export const FETCH_SCRIPT = '/usr/local/sbin/xmpp-constructs-fetch';
export const APPLY_SCRIPT = '/usr/local/sbin/xmpp-constructs-apply';
/** Where the bundle is, and the read-only key that may fetch it. Mode 0600: it holds the key's secret. */
export const CONFIG_SOURCE = `${ETC_DIR}/config-source.env`;
export const FETCH_SERVICE = '/etc/systemd/system/xmpp-constructs-config.service';
export const FETCH_TIMER = '/etc/systemd/system/xmpp-constructs-config.timer';
/** The applied and refused bundle hashes, on the host and over HTTPS (not secret; xmpp-doctor reads it). */
export const BUNDLE_STATUS_FILE = '/var/www/xmpp-constructs/bundle';
export const BUNDLE_STATUS_PATH = '/.well-known/xmpp-constructs/bundle';
/** How full the data volume is, on the host and over HTTPS (not secret; xmpp-doctor reads it). */
export const VOLUME_STATUS_FILE = '/var/www/xmpp-constructs/volume';
export const VOLUME_STATUS_PATH = '/.well-known/xmpp-constructs/volume';
/**
 * The off-host backups' last outcome (`offsiteBackups`), on the host and over HTTPS (not secret:
 * a state, times and a snapshot ID; xmpp-doctor reads it).
 */
export const BACKUP_STATUS_FILE = '/var/www/xmpp-constructs/backup';
export const BACKUP_STATUS_PATH = '/.well-known/xmpp-constructs/backup';
/**
 * Answers 200 only while the newest off-host backup is fresh, and 503 otherwise: what the backup
 * uptime check watches. The host keeps a copy of the status in BACKUP_FRESH_DIR while it is fresh.
 */
export const BACKUP_FRESH_DIR = '/var/www/xmpp-constructs/fresh';
export const BACKUP_FRESH_PATH = '/.well-known/xmpp-constructs/backup-fresh';
