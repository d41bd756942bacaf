/**
 * How long the hosts keep their logs. Logs name accounts, client and peer addresses: they are kept
 * LOG_RETENTION_DAYS days, as Debian keeps nginx's, and then deleted.
 *
 * - Prosody writes /var/log/prosody/prosody.{log,err}; the package rotates them weekly and keeps a
 *   year. Our logrotate file replaces its own (written after the package is installed).
 * - coturn, and every other service, log to the systemd journal, which Debian bounds only by size
 *   (10% of the disk, at most 4 GiB): a journald drop-in bounds it by age too.
 * - nginx keeps Debian's logrotate (14 days); requests for uploaded files are logged without their
 *   URLs (nginx.ts).
 */
import type { HostFile } from './cloud-init';

/** Days every log is kept. */
export const LOG_RETENTION_DAYS = 14;

/** The prosody package's logrotate file, which ours replaces. */
export const PROSODY_LOGROTATE = '/etc/logrotate.d/prosody';
/** Prosody's logs, as prosody.cfg.lua names them (prosody.ts). */
export const PROSODY_LOGS = ['/var/log/prosody/prosody.log', '/var/log/prosody/prosody.err'] as const;
/** A journald drop-in: the journal keeps entries LOG_RETENTION_DAYS days at most. */
export const JOURNALD_RETENTION = '/etc/systemd/journald.conf.d/xmpp-constructs.conf';

/** logrotate(8) for Prosody's logs: daily, LOG_RETENTION_DAYS kept, with the package's reload. */
export function renderProsodyLogrotate(): string {
  return [
    `# ${PROSODY_LOGROTATE}: rendered by xmpp-constructs; replaces the prosody package's (weekly, a year kept).`,
    `# Prosody's logs name accounts and client addresses: kept ${LOG_RETENTION_DAYS} days, then deleted.`,
    `${PROSODY_LOGS.join(' ')} {`,
    '\tdaily',
    `\trotate ${LOG_RETENTION_DAYS}`,
    `\tmaxage ${LOG_RETENTION_DAYS}`,
    '\tcompress',
    '\tdelaycompress',
    '\tmissingok',
    '\tnotifempty',
    '\tcreate 640 prosody adm',
    '\tsharedscripts',
    '\tpostrotate',
    '\t\t[ ! -e /run/prosody/prosody.pid ] || service prosody reload > /dev/null',
    '\tendscript',
    '}',
    '',
  ].join('\n');
}

/** journald.conf(5) drop-in: no journal entry (coturn's included) older than LOG_RETENTION_DAYS. */
export function renderJournaldRetention(): string {
  return [
    `# ${JOURNALD_RETENTION}: rendered by xmpp-constructs. The journal holds coturn's log (peer addresses)`,
    `# and every other service's: entries older than ${LOG_RETENTION_DAYS} days are deleted. Provisioning restarts journald.`,
    '[Journal]',
    `MaxRetentionSec=${LOG_RETENTION_DAYS}day`,
    '',
  ].join('\n');
}

/** The journald drop-in, for every droplet. */
export function journaldRetentionFile(): HostFile {
  return { path: JOURNALD_RETENTION, content: renderJournaldRetention(), owner: 'root:root', permissions: '0644', defer: false };
}

/** Prosody's logrotate file; after the package is installed, so that it replaces the package's. */
export function prosodyLogrotateFile(): HostFile {
  return { path: PROSODY_LOGROTATE, content: renderProsodyLogrotate(), owner: 'root:root', permissions: '0644', defer: true };
}
