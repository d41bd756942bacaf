/**
 * Backups of the data volume: a script, a daily timer, and the restore path.
 *
 * The archive holds everything that must survive (Prosody's accounts, rosters, archives, rooms and
 * uploads; the certificates; the generated secrets), so restoring it onto any volume brings the
 * service back as it was. Archives are written to the volume itself, where they protect against
 * mistakes (a deleted account, a bad upgrade) and survive droplet replacement; against losing the
 * volume, copy them off the host or take DigitalOcean volume snapshots (see the README).
 */
import { shQuote } from './host-scripts';
import { ETC_DIR, VOLUME_MOUNT } from './paths';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from './resolve/offsite-backups';
import { scriptFile } from './script-files';
import { ResolvedOffsiteBackups, ResolvedSpec } from './spec';

export const BACKUP_SCRIPT = '/usr/local/sbin/xmpp-constructs-backup';
export const BACKUP_SERVICE = '/etc/systemd/system/xmpp-constructs-backup.service';
export const BACKUP_TIMER = '/etc/systemd/system/xmpp-constructs-backup.timer';
/** Where archives are kept, on the volume (and excluded from the archives themselves). */
export const BACKUP_DIR = `${VOLUME_MOUNT}/backups`;
/** How many daily archives are kept. */
export const BACKUPS_KEPT = 7;
/**
 * How full the data volume may get: from `warnPercent` the backup warns in its log and xmpp-doctor
 * warns; a backup that could leave less than `keepFreePercent` free is refused, so from
 * 100 - keepFreePercent xmpp-doctor fails. lib/host/backup.sh holds the same figures.
 */
export const VOLUME_FILL = { warnPercent: 80, keepFreePercent: 10 } as const;
/** Publishes the volume's fill (`xmpp-constructs-backup status`) every STATUS_INTERVAL_MINUTES. */
export const VOLUME_STATUS_SERVICE = '/etc/systemd/system/xmpp-constructs-volume-status.service';
export const VOLUME_STATUS_TIMER = '/etc/systemd/system/xmpp-constructs-volume-status.timer';
export const STATUS_INTERVAL_MINUTES = 10;

/** `xmpp-constructs-backup [create | restore ARCHIVE | list | status | offsite | restore --from spaces]` (lib/host/backup.sh). */
export function renderBackupScript(): string {
  return scriptFile('backup.sh');
}

export function renderBackupService(): string {
  return `[Unit]
Description=xmpp-constructs: archive the data volume
RequiresMountsFor=${VOLUME_MOUNT}

[Service]
Type=oneshot
Nice=10
IOSchedulingClass=idle
ExecStart=${BACKUP_SCRIPT} create
`;
}

export function renderVolumeStatusService(): string {
  return `[Unit]
Description=xmpp-constructs: publish how full the data volume is
RequiresMountsFor=${VOLUME_MOUNT}

[Service]
Type=oneshot
ExecStart=${BACKUP_SCRIPT} status
`;
}

export function renderVolumeStatusTimer(): string {
  return `[Unit]
Description=xmpp-constructs: publish how full the data volume is, every ${STATUS_INTERVAL_MINUTES} minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=${STATUS_INTERVAL_MINUTES}min

[Install]
WantedBy=timers.target
`;
}

export function renderBackupTimer(): string {
  return `[Unit]
Description=xmpp-constructs: daily archive of the data volume

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`;
}

// ---------------------------------------------------------------------------------------------
// Off-host backups (`offsiteBackups`): restic, into a Spaces bucket.
// ---------------------------------------------------------------------------------------------

/** Where the repository is and what is kept: not secret (in the bundle with configDelivery "spaces"). */
export const OFFSITE_ENV = `${ETC_DIR}/offsite-backup.env`;
/** The bucket's key. Mode 0600, in user_data only, never in review files. */
export const OFFSITE_SECRETS = `${ETC_DIR}/offsite-backup.secrets`;
/**
 * The repository password, alone in its file (restic's RESTIC_PASSWORD_FILE), so that a password
 * given at deploy time is written as it is, whatever characters it holds. Mode 0600, like the key's.
 */
export const OFFSITE_PASSWORD = `${ETC_DIR}/offsite-backup.password`;
export const OFFSITE_SERVICE = '/etc/systemd/system/xmpp-constructs-offsite-backup.service';
export const OFFSITE_TIMER = '/etc/systemd/system/xmpp-constructs-offsite-backup.timer';
/**
 * How old the newest off-host backup may be before it counts as missed: a day between runs, the
 * timer's random delay of up to an hour, and an hour for the run itself.
 */
export const OFFSITE_FRESH_HOURS = 26;

/**
 * Stand in for the backup key's ID and secret in user_data, which exist only once the engine has
 * created the key: the adapter swaps in its engine's reference, as for the configuration channel's.
 */
export const BACKUP_ACCESS_KEY_PLACEHOLDER = 'xmpp-constructs-backup-access-key-placeholder';
export const BACKUP_SECRET_KEY_PLACEHOLDER = 'xmpp-constructs-backup-secret-key-placeholder';

/**
 * `userData` with the backup key (a literal, token or resolved Output value) in place of its
 * placeholders, and the deploy-time backup password in place of its own when one is given.
 */
export function substituteBackupSecrets(userData: string, key: { readonly accessKey: string; readonly secretKey: string }, deployTimePassword?: string): string {
  const withKey = userData.split(BACKUP_ACCESS_KEY_PLACEHOLDER).join(key.accessKey).split(BACKUP_SECRET_KEY_PLACEHOLDER).join(key.secretKey);
  return deployTimePassword === undefined ? withKey : withKey.split(DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER).join(deployTimePassword);
}

/** The Spaces endpoint of `region`, as restic and xmpp-doctor reach it. */
export function spacesEndpoint(region: string): string {
  return `https://${region}.digitaloceanspaces.com`;
}

/** Where the service's restic repository is: restic's `s3:` form. */
export function resticRepository(backups: ResolvedOffsiteBackups): string {
  return `s3:${spacesEndpoint(backups.region)}/${backups.bucket}/${backups.repositoryPrefix}`;
}

/** The repository's location and retention, which `xmpp-constructs-backup offsite` reads. */
export function renderOffsiteEnv(spec: ResolvedSpec & { readonly offsiteBackups: ResolvedOffsiteBackups }): string {
  const backups = spec.offsiteBackups;
  const vars: [string, string][] = [
    ['RESTIC_REPOSITORY', resticRepository(backups)],
    // The region requests are signed for (restic would otherwise ask the bucket for it first).
    ['AWS_DEFAULT_REGION', backups.region],
    // Snapshots are made under this name whatever the droplet's hostname: forget groups by it.
    ['BACKUP_HOST', spec.droplet.name],
    ['KEEP_DAILY', String(backups.keep.daily)],
    ['KEEP_WEEKLY', String(backups.keep.weekly)],
    ['KEEP_MONTHLY', String(backups.keep.monthly)],
    ['FRESH_HOURS', String(OFFSITE_FRESH_HOURS)],
  ];
  return ['# Rendered by xmpp-constructs: where the off-host backups go, and what is kept.', ...vars.map(([k, v]) => `${k}=${shQuote(v)}`), ''].join('\n');
}

/** The bucket key, as placeholders the adapter fills in with its engine's references. */
export function renderOffsiteSecrets(): string {
  return [
    '# Rendered by xmpp-constructs: the key that may read and write only the backup bucket.',
    `AWS_ACCESS_KEY_ID=${shQuote(BACKUP_ACCESS_KEY_PLACEHOLDER)}`,
    `AWS_SECRET_ACCESS_KEY=${shQuote(BACKUP_SECRET_KEY_PLACEHOLDER)}`,
    '',
  ].join('\n');
}

export function renderOffsiteService(): string {
  return `[Unit]
Description=xmpp-constructs: back the data volume up to Spaces (restic)
RequiresMountsFor=${VOLUME_MOUNT}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
Nice=10
IOSchedulingClass=idle
ExecStart=${BACKUP_SCRIPT} offsite
`;
}

export function renderOffsiteTimer(): string {
  return `[Unit]
Description=xmpp-constructs: daily backup of the data volume to Spaces

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`;
}
