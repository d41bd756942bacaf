#!/bin/bash
# /usr/local/sbin/xmpp-constructs-backup: archives of the data volume, and restoring one. Rendered by xmpp-constructs.
#   create            write /srv/xmpp-data/backups/xmpp-<UTC time>.tar.gz, keep the newest 7
#   restore ARCHIVE   put ARCHIVE's state on the volume (the current state is moved aside, never
#                     deleted) and provision again
#   list              the archives, oldest first
#   status            publish how full the data volume is (for xmpp-doctor, every 10 minutes)
set -euo pipefail
set -o errtrace # functions inherit the ERR trap only with it
umask 077
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh
trap 'fail "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env

BACKUP_DIR=/srv/xmpp-data/backups
# Not archived: the archives, lost+found, what a restore moved aside, sockets, uploads and their records.
ARCHIVE_EXCLUDES=(./backups ./lost+found './pre-restore-*' './prosody/*.sock' './prosody/*/http_file_share' './prosody/*/upload[s_]*.[dl]*')
KEEP_FREE_PERCENT=10 WARN_FULL_PERCENT=80 VOLUME_STATUS=/var/www/xmpp-constructs/volume

# "size available" in bytes as Prosody sees them (%.0f: mawk prints 1e+11)
volume_space() { df -B1 --output=used,avail "$VOLUME_MOUNT" | awk 'NR == 2 { printf "%.0f %.0f\n", $1 + $2, $2 }'; }

used_percent() { local total avail; read -r total avail < <(volume_space); echo $(( ((total - avail) * 100 + total - 1) / total )); }

# https://<primary domain>/.well-known/xmpp-constructs/volume, which xmpp-doctor reads: not secret.
publish_status() {
  mountpoint -q "$VOLUME_MOUNT" || return 0
  install -d -m 0755 "${VOLUME_STATUS%/*}"
  printf 'used-percent %s\nupdated %s\n' "$(used_percent)" "$(date -u +%s)" > "$VOLUME_STATUS.new"
  chmod 0644 "$VOLUME_STATUS.new" && mv "$VOLUME_STATUS.new" "$VOLUME_STATUS"
}

warn_if_full() {
  local total avail pct msg
  publish_status
  read -r total avail < <(volume_space)
  pct=$(( ((total - avail) * 100 + total - 1) / total ))
  [ "$pct" -ge "$WARN_FULL_PERCENT" ] || return 0
  msg="WARNING: the data volume $VOLUME_MOUNT is $pct% full ($(((total - avail) >> 20)) MiB of $((total >> 20)) MiB); grow droplet.volumeSizeGib, lower components.fileShare.globalQuotaBytes or move archives off $BACKUP_DIR"
  echo "xmpp-constructs: $msg" >&2; logger -t xmpp-constructs -p user.warning "$msg" || true
}

create() {
  step "backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; nothing to back up"
  install -d -m 0700 "$BACKUP_DIR"
  find "$BACKUP_DIR" -maxdepth 1 -name '.xmpp-*.tar.gz.part' -delete

  step "checking free space"
  # The archive is at most what it holds
  local prune=() excludes=() p needed total avail reserve rc=0
  for p in "${ARCHIVE_EXCLUDES[@]}"; do prune+=(-o -path "$p"); excludes+=("--exclude=$p"); done
  needed=$(cd "$VOLUME_MOUNT" && { find . \( "${prune[@]:1}" \) -prune -o -type f -printf '%s\n' 2>/dev/null || true; } | awk '{ s += $1 } END { printf "%.0f\n", s }')
  read -r total avail < <(volume_space)
  reserve=$((total * KEEP_FREE_PERCENT / 100))
  if [ $((avail - needed)) -lt "$reserve" ]; then
    warn_if_full
    fail "backup refused: the archive may take up to $((needed >> 20)) MiB, and $((avail >> 20)) MiB of the data volume are free; writing it could leave less than $KEEP_FREE_PERCENT% ($((reserve >> 20)) MiB) for Prosody; grow droplet.volumeSizeGib"
  fi

  step "backup"
  local name; name=xmpp-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
  PART=$BACKUP_DIR/.$name.part
  trap 'rm -f -- "${PART:-}"' EXIT
  # Prosody appends to archives and removes files meanwhile: tar warns "file changed as we read it"
  # or "File removed before we read it" and exits 1, its archive complete. Exit 2 is an error.
  tar -C "$VOLUME_MOUNT" --no-wildcards-match-slash "${excludes[@]}" -czf "$PART" . || rc=$?
  [ "$rc" -le 1 ] || fail "step \"backup\": tar exited $rc (see above); no archive was written"
  [ "$rc" -eq 0 ] || echo "xmpp-constructs: files changed while they were archived (see above); each is archived as tar read it"
  mv "$PART" "$BACKUP_DIR/$name"
  PART=
  echo "$BACKUP_DIR/$name"
  find "$BACKUP_DIR" -maxdepth 1 -name 'xmpp-*.tar.gz' -printf '%f\n' | sort | head -n -7 \
    | while read -r old; do rm -f "$BACKUP_DIR/$old"; done
  warn_if_full
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
  status) publish_status ;;
  *) echo "usage: $0 create | restore ARCHIVE | list | status" >&2; exit 2 ;;
esac
