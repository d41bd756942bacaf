#!/bin/bash
# /usr/local/sbin/xmpp-constructs-backup: archives of the data volume, and restoring one. Rendered by xmpp-constructs.
#   create            write /srv/xmpp-data/backups/xmpp-<UTC time>.tar.gz, keep the newest 7
#   restore ARCHIVE   put ARCHIVE's state on the volume (the current state is moved aside, never
#                     deleted) and provision again
#   list              the archives, oldest first
set -euo pipefail
umask 077
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh
trap 'fail "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env

# Everything on the volume but the archives themselves and mkfs's lost+found.
STATE_EXCLUDES=(--exclude=./backups --exclude=./lost+found --exclude='./pre-restore-*')

create() {
  step "backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; nothing to back up"
  install -d -m 0700 /srv/xmpp-data/backups
  local name; name=xmpp-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
  # Prosody writes each store by replacing whole files, so a live archive holds whole files.
  tar -C "$VOLUME_MOUNT" "${STATE_EXCLUDES[@]}" -czf "/srv/xmpp-data/backups/.$name.part" .
  mv "/srv/xmpp-data/backups/.$name.part" "/srv/xmpp-data/backups/$name"
  echo "/srv/xmpp-data/backups/$name"
  # Keep the newest 7.
  find /srv/xmpp-data/backups -maxdepth 1 -name 'xmpp-*.tar.gz' -printf '%f\n' | sort | head -n -7 \
    | while read -r old; do rm -f "/srv/xmpp-data/backups/$old"; done
}

restore() {
  local archive=${1:-}
  # shellcheck disable=SC2015 # both are tests: fail runs exactly when either is false
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
  /usr/local/sbin/xmpp-constructs-provision
}

case "${1:-}" in
  create) create ;;
  restore) shift; restore "$@" ;;
  list) find /srv/xmpp-data/backups -maxdepth 1 -name 'xmpp-*.tar.gz' 2>/dev/null | sort ;;
  *) echo "usage: $0 create | restore ARCHIVE | list" >&2; exit 2 ;;
esac
