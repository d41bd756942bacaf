/**
 * Backups of the data volume: a script, a daily timer, and the restore path.
 *
 * The archive holds everything that must survive (Prosody's accounts, rosters, archives, rooms and
 * uploads; the certificates; the generated secrets), so restoring it onto any volume brings the
 * service back as it was. Archives are written to the volume itself, where they protect against
 * mistakes (a deleted account, a bad upgrade) and survive droplet replacement; against losing the
 * volume, copy them off the host or take DigitalOcean volume snapshots (see the README).
 */
import { VOLUME_MOUNT } from './paths';
import { scriptFile } from './script-files';

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

/** `xmpp-constructs-backup [create | restore ARCHIVE | list]` (lib/host/backup.sh). */
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
