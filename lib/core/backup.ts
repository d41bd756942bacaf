/**
 * Backups of the data volume: a script, a daily timer, and the restore path.
 *
 * The archive holds everything that must survive (Prosody's accounts, rosters, archives, rooms and
 * uploads; the certificates; the generated secrets), so restoring it onto any volume brings the
 * service back as it was. Archives are written to the volume itself, where they protect against
 * mistakes (a deleted account, a bad upgrade) and survive droplet replacement; against losing the
 * volume, copy them off the host or take DigitalOcean volume snapshots (see the README).
 */
import { PROVISION_SCRIPT, VOLUME_MOUNT } from './paths';
import { STEP_SH } from './host-scripts';

export const BACKUP_SCRIPT = '/usr/local/sbin/xmpp-constructs-backup';
export const BACKUP_SERVICE = '/etc/systemd/system/xmpp-constructs-backup.service';
export const BACKUP_TIMER = '/etc/systemd/system/xmpp-constructs-backup.timer';
/** Where archives are kept, on the volume (and excluded from the archives themselves). */
export const BACKUP_DIR = `${VOLUME_MOUNT}/backups`;
/** How many daily archives are kept. */
export const BACKUPS_KEPT = 7;

/** `xmpp-constructs-backup [create | restore ARCHIVE | list]`. */
export function renderBackupScript(): string {
  return `#!/bin/bash
# ${BACKUP_SCRIPT}: archives of the data volume, and restoring one. Rendered by xmpp-constructs.
#   create            write ${BACKUP_DIR}/xmpp-<UTC time>.tar.gz, keep the newest ${BACKUPS_KEPT}
#   restore ARCHIVE   put ARCHIVE's state on the volume (the current state is moved aside, never
#                     deleted) and provision again
#   list              the archives, oldest first
set -euo pipefail
umask 077
${STEP_SH}
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env

# Everything on the volume but the archives themselves and mkfs's lost+found.
STATE_EXCLUDES=(--exclude=./backups --exclude=./lost+found --exclude='./pre-restore-*')

create() {
  step "backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; nothing to back up"
  install -d -m 0700 ${BACKUP_DIR}
  local name; name=xmpp-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
  # Prosody writes each store by replacing whole files, so a live archive holds whole files.
  tar -C "$VOLUME_MOUNT" "\${STATE_EXCLUDES[@]}" -czf "${BACKUP_DIR}/.$name.part" .
  mv "${BACKUP_DIR}/.$name.part" "${BACKUP_DIR}/$name"
  echo "${BACKUP_DIR}/$name"
  # Keep the newest ${BACKUPS_KEPT}.
  find ${BACKUP_DIR} -maxdepth 1 -name 'xmpp-*.tar.gz' -printf '%f\\n' | sort | head -n -${BACKUPS_KEPT} \\
    | while read -r old; do rm -f "${BACKUP_DIR}/$old"; done
}

restore() {
  local archive=\${1:-}
  [ -n "$archive" ] && [ -f "$archive" ] || fail "usage: $0 restore ARCHIVE (an archive written by '$0 create')"
  step "checking the archive"
  # Read in full first: under pipefail, grep -q leaving early would fail the listing with SIGPIPE.
  local entries; entries=$(tar -tzf "$archive") || fail "cannot read $archive as a gzip'd tar archive"
  grep -qx './prosody/' <<<"$entries" || fail "$archive holds no ./prosody/: not an xmpp-constructs backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; provision first, then restore"

  step "stopping the services"
  for unit in prosody nginx coturn; do systemctl stop "$unit" >/dev/null 2>&1 || true; done
  # The state directories are bind-mounted over their system paths: release them before they move.
  for sys in /var/lib/prosody /etc/letsencrypt; do if mountpoint -q "$sys"; then umount "$sys"; fi; done

  step "moving the current state aside"
  local aside; aside="$VOLUME_MOUNT/pre-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -m 0700 "$aside"
  find "$VOLUME_MOUNT" -mindepth 1 -maxdepth 1 ! -name backups ! -name lost+found ! -name 'pre-restore-*' -exec mv -t "$aside" {} +
  echo "the state before the restore is kept in $aside"

  step "restoring"
  tar -C "$VOLUME_MOUNT" -xzpf "$archive"

  step "provisioning on the restored state"
  ${PROVISION_SCRIPT}
}

case "\${1:-}" in
  create) create ;;
  restore) shift; restore "$@" ;;
  list) find ${BACKUP_DIR} -maxdepth 1 -name 'xmpp-*.tar.gz' 2>/dev/null | sort ;;
  *) echo "usage: $0 create | restore ARCHIVE | list" >&2; exit 2 ;;
esac
`;
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
