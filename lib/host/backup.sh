#!/bin/bash
# /usr/local/sbin/xmpp-constructs-backup: backups of the data volume, and restoring one. Rendered by xmpp-constructs.
#   create                 write /srv/xmpp-data/backups/xmpp-<UTC time>.tar.gz, keep the newest 7
#   restore ARCHIVE        put its state on the volume (the current state moved aside) and provision
#   list                   the archives, oldest first
#   status                 publish the volume's fill and the off-host backup's outcome (every 10 min)
# With offsiteBackups (restic, into a Spaces bucket; xmpp-constructs-offsite-backup.timer):
#   offsite [--new-history]           back up to Spaces, then forget and prune past the retention
#   restore --from spaces [SNAPSHOT]  like restore ARCHIVE, from a snapshot (the newest by default)
#   snapshots                         the snapshots in Spaces, oldest first
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
OFFSITE_ENV=/etc/xmpp-constructs/offsite-backup.env OFFSITE_SECRETS=/etc/xmpp-constructs/offsite-backup.secrets
export RESTIC_PASSWORD_FILE=/etc/xmpp-constructs/offsite-backup.password
# Published (not secret): the last off-host backup's outcome, and a copy of it only while it is fresh.
BACKUP_STATUS=/var/www/xmpp-constructs/backup BACKUP_FRESH=/var/www/xmpp-constructs/fresh/backup
# On the volume, so that they outlive the droplet: the outcome of the last off-host backup, and
# which volume this is (its snapshots are tagged with it; a restore brings the old one back).
OFFSITE_RECORD=$VOLUME_MOUNT/.offsite-backup VOLUME_ID=$VOLUME_MOUNT/.volume-id
# Not in the off-host backups: local archives, lost+found, what a restore moved aside, sockets.
OFFSITE_EXCLUDES=("$VOLUME_MOUNT/backups" "$VOLUME_MOUNT/lost+found" "$VOLUME_MOUNT/pre-restore-*" "$VOLUME_MOUNT/prosody/*.sock")

# "size available" in bytes as Prosody sees them (%.0f: mawk prints 1e+11)
volume_space() { df -B1 --output=used,avail "$VOLUME_MOUNT" | awk 'NR == 2 { printf "%.0f %.0f\n", $1 + $2, $2 }'; }

used_percent() { local total avail; read -r total avail < <(volume_space); echo $(( ((total - avail) * 100 + total - 1) / total )); }

# https://<primary domain>/.well-known/xmpp-constructs/volume, which xmpp-doctor reads: not secret.
publish_status() {
  mountpoint -q "$VOLUME_MOUNT" || return 0
  install -d -m 0755 "${VOLUME_STATUS%/*}"
  printf 'used-percent %s\nupdated %s\n' "$(used_percent)" "$(date -u +%s)" > "$VOLUME_STATUS.new"
  chmod 0644 "$VOLUME_STATUS.new" && mv "$VOLUME_STATUS.new" "$VOLUME_STATUS"
  publish_backup_status
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

# Stop the services, move the current state aside (never deleted), let $1 put the restored state
# on the volume, make whole what a live backup cut short, and provision again.
replace_state() {
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
  "$1"
  repair_lists

  step "provisioning on the restored state"
  /usr/local/sbin/xmpp-constructs-provision
}

# Prosody appends to its lists (message archives): one read while it wrote may end in an item cut
# short, and Prosody refuses a list that does not parse, whole. Cut each back to its last whole
# item; drop the indexes (.lidx, Prosody 13), which may be off by it and which Prosody rebuilds.
repair_lists() {
  [ -d "$VOLUME_MOUNT/prosody" ] || return 0
  local lua list
  lua=$(command -v lua5.4 || command -v lua) || { echo "xmpp-constructs: WARNING: no Lua interpreter: Prosody's lists were not checked"; return 0; }
  list=$(mktemp)
  find "$VOLUME_MOUNT/prosody" -type f -name '*.list' > "$list"
  "$lua" - "$list" <<'LUA'
for path in io.lines(arg[1]) do
  local f = assert(io.open(path, "rb")); local data = f:read("a"); f:close()
  if not load(data, "=list", "t", {}) then
    -- The longest prefix that ends an item and parses.
    local ends, keep = {}, 0
    for e in data:gmatch("%);\n()") do ends[#ends + 1] = e - 1 end
    for i = #ends, 1, -1 do
      if load(data:sub(1, ends[i]), "=list", "t", {}) then keep = ends[i]; break end
    end
    local out = assert(io.open(path .. ".repair", "wb")); out:write(data:sub(1, keep)); out:close()
    assert(os.rename(path .. ".repair", path))
    print(("xmpp-constructs: %s: an item cut short by the backup was dropped (%d bytes); the items before it are kept"):format(path, #data - keep))
  end
end
LUA
  rm -f "$list"
  find "$VOLUME_MOUNT/prosody" -type f -name '*.lidx' -delete
}

restore() {
  if [ "${1:-}" = --from ]; then
    [ "${2:-}" = spaces ] || fail "usage: $0 restore --from spaces [SNAPSHOT]"
    shift 2; restore_offsite "$@"; return
  fi
  ARCHIVE=${1:-}
  # shellcheck disable=SC2015 # both are tests: fail runs exactly when either is false
  [ -n "$ARCHIVE" ] && [ -f "$ARCHIVE" ] || fail "usage: $0 restore ARCHIVE (an archive written by '$0 create') or $0 restore --from spaces [SNAPSHOT]"
  step "checking the archive"
  # Read in full first: under pipefail, grep -q leaving early would fail the listing with SIGPIPE.
  local entries; entries=$(tar -tzf "$ARCHIVE") || fail "cannot read $ARCHIVE as a gzip'd tar archive"
  grep -qx './prosody/' <<<"$entries" || fail "$ARCHIVE holds no ./prosody/: not an xmpp-constructs backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; provision first, then restore"
  replace_state unpack_archive
}

unpack_archive() { tar -C "$VOLUME_MOUNT" -xzpf "$ARCHIVE"; }

# ---------------------------------------------------------------------------------------------
# Off-host backups (offsiteBackups): restic, into a Spaces bucket.
# ---------------------------------------------------------------------------------------------

load_offsite() {
  # shellcheck disable=SC2015 # both are tests: fail runs exactly when either is false
  [ -f "$OFFSITE_ENV" ] && [ -f "$OFFSITE_SECRETS" ] && [ -f "$RESTIC_PASSWORD_FILE" ] || fail "off-host backups are not set up on this host: declare offsiteBackups and deploy"
  command -v restic >/dev/null || fail "restic is not installed: apt-get install restic"
  # shellcheck source=/dev/null
  . "$OFFSITE_ENV"
  # shellcheck source=/dev/null
  . "$OFFSITE_SECRETS"
  export RESTIC_REPOSITORY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
  export RESTIC_CACHE_DIR=/var/cache/xmpp-constructs/restic
  RESTIC_ERRORS=$(mktemp)
}

# restic, its errors kept for the status.
r() { restic "$@" 2> >(tee -a "$RESTIC_ERRORS" >&2); }

# restic's last error, in one line (restic prints no secret).
restic_error() { grep -E 'Fatal|rror' "$RESTIC_ERRORS" 2>/dev/null | tail -n 1 | cut -c1-300 || true; }

# Does the repository exist? Fails on any answer but "none", so a wrong password or an unreachable
# bucket is never taken for an empty repository.
repository_exists() {
  local out
  if out=$(restic cat config 2>&1 >/dev/null); then return 0; fi
  case $out in
    *'specified key does not exist'* | *'repository does not exist'*) return 1 ;;
    *'wrong password'*)
      OFFSITE_DETAIL="the backup repository $RESTIC_REPOSITORY does not open with offsiteBackups.password: it was made with another one; deploy with the password it was made with"
      fail "$OFFSITE_DETAIL" ;;
    *)
      OFFSITE_DETAIL="cannot reach the backup repository $RESTIC_REPOSITORY: $(grep -m 1 -E 'Fatal|rror' <<<"$out" | cut -c1-300 || true)"
      fail "$OFFSITE_DETAIL" ;;
  esac
}

# How many snapshots `restic snapshots --json ARGS` lists (one short_id each).
count_snapshots() { r snapshots --json "$@" | { grep -o '"short_id"' || true; } | wc -l; }

# The outcome, kept on the volume: state, last success and attempt, snapshot, what went wrong.
record_offsite() { # state detail [snapshot]
  local state=$1 detail=$2 snapshot=${3:-} now success=0 previous=-
  now=$(date -u +%s)
  if [ -f "$OFFSITE_RECORD" ]; then
    success=$(awk '$1 == "last-success" { print $2 }' "$OFFSITE_RECORD")
    previous=$(awk '$1 == "snapshot" { print $2 }' "$OFFSITE_RECORD")
  fi
  if [ "$state" = ok ]; then success=$now; else snapshot=${previous:--}; fi
  printf 'state %s\nlast-success %s\nlast-attempt %s\nsnapshot %s\ndetail %s\n' "$state" "${success:-0}" "$now" "${snapshot:--}" "${detail//$'\n'/ }" > "$OFFSITE_RECORD.new"
  mv "$OFFSITE_RECORD.new" "$OFFSITE_RECORD"
  publish_backup_status
}

# …/.well-known/xmpp-constructs/backup, and …/backup-fresh (200 only while the last backup
# succeeded within FRESH_HOURS), which the backup uptime check watches.
publish_backup_status() {
  if [ ! -f "$OFFSITE_ENV" ]; then rm -f "$BACKUP_STATUS" "$BACKUP_FRESH"; return 0; fi
  mountpoint -q "$VOLUME_MOUNT" || return 0
  local fresh_hours state success
  # shellcheck source=/dev/null disable=SC2153 # FRESH_HOURS is set by the file sourced
  fresh_hours=$(. "$OFFSITE_ENV" && echo "$FRESH_HOURS")
  install -d -m 0755 "${BACKUP_STATUS%/*}" "${BACKUP_FRESH%/*}"
  if [ -f "$OFFSITE_RECORD" ]; then
    cp "$OFFSITE_RECORD" "$BACKUP_STATUS.new"
  else
    printf 'state never\nlast-success 0\nlast-attempt 0\nsnapshot -\ndetail no off-host backup yet\n' > "$BACKUP_STATUS.new"
  fi
  chmod 0644 "$BACKUP_STATUS.new" && mv "$BACKUP_STATUS.new" "$BACKUP_STATUS"
  state=$(awk '$1 == "state" { print $2 }' "$BACKUP_STATUS")
  success=$(awk '$1 == "last-success" { print $2 }' "$BACKUP_STATUS")
  if [ "$state" = ok ] && [ $(( $(date -u +%s) - ${success:-0} )) -le $((fresh_hours * 3600)) ]; then
    cp "$BACKUP_STATUS" "$BACKUP_FRESH.new" && chmod 0644 "$BACKUP_FRESH.new" && mv "$BACKUP_FRESH.new" "$BACKUP_FRESH"
  else
    rm -f "$BACKUP_FRESH"
  fi
}

# A failed or refused run is recorded and published, whatever stopped it.
offsite_exit() {
  local rc=$1 detail
  if [ "$rc" -ne 0 ] && [ -n "${OFFSITE_STATE:-}" ]; then
    detail=${OFFSITE_DETAIL:-"step \"${CURRENT_STEP:-start}\" failed: $(restic_error)"}
    record_offsite "$OFFSITE_STATE" "$detail" || true
  fi
  rm -f "${RESTIC_ERRORS:-}"
}

offsite() {
  local new_history=0
  case "${1:-}" in '') ;; --new-history) new_history=1 ;; *) fail "usage: $0 offsite [--new-history]" ;; esac
  step "off-host backup"
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; nothing to back up"
  load_offsite
  OFFSITE_STATE=failed
  trap 'offsite_exit $?' EXIT
  step "opening the backup repository"
  if ! repository_exists; then
    step "creating the backup repository"
    r init >/dev/null
  fi
  [ -s "$VOLUME_ID" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$VOLUME_ID"
  local volume_id all ours
  volume_id=$(cat "$VOLUME_ID")

  step "checking that the repository holds this volume's backups"
  # A new, empty volume (deployed again after a loss) must not become the newest snapshot, which a
  # restore takes by default.
  all=$(count_snapshots --host "$BACKUP_HOST")
  ours=$(count_snapshots --host "$BACKUP_HOST" --tag "volume-$volume_id")
  if [ "$all" -gt 0 ] && [ "$ours" -eq 0 ] && [ "$new_history" -eq 0 ]; then
    OFFSITE_STATE=refused
    OFFSITE_DETAIL="the repository holds $all snapshots of another data volume and none of this one: restore them with xmpp-constructs-backup restore --from spaces, or keep them and start this volume's own with xmpp-constructs-backup offsite --new-history"
    fail "backup refused: $OFFSITE_DETAIL"
  fi

  step "backing up"
  local excludes=() p rc=0 summary snapshot
  for p in "${OFFSITE_EXCLUDES[@]}"; do excludes+=(--exclude "$p"); done
  # Exit 3: a file could not be read (Prosody removed it meanwhile); the snapshot holds the rest.
  summary=$(cd "$VOLUME_MOUNT" && r backup . --json --host "$BACKUP_HOST" --tag "volume-$volume_id" --one-file-system "${excludes[@]}" | tail -n 1) || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "step \"backing up\": restic exited $rc (see above); no snapshot was written"
  [ "$rc" -eq 0 ] || echo "xmpp-constructs: some files could not be read (see above); the snapshot holds everything else"
  snapshot=$(grep -o '"snapshot_id":"[0-9a-f]*"' <<<"$summary" | cut -d'"' -f4 | cut -c1-8)
  [ -n "$snapshot" ] || fail "step \"backing up\": restic reported no snapshot"
  echo "xmpp-constructs: snapshot $snapshot written to $RESTIC_REPOSITORY"

  step "forgetting and pruning what the retention no longer keeps"
  # Grouped by volume too: an earlier history kept with --new-history keeps its own.
  r forget --host "$BACKUP_HOST" --group-by host,paths,tags --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" --prune

  OFFSITE_STATE=
  record_offsite ok "" "$snapshot"
  echo "xmpp-constructs: off-host backup done: snapshot $snapshot"
}

snapshots() {
  load_offsite
  r snapshots --host "$BACKUP_HOST"
}

restore_offsite() {
  local wanted=${1:-latest} found id time
  mountpoint -q "$VOLUME_MOUNT" || fail "$VOLUME_MOUNT is not mounted; provision first, then restore"
  load_offsite
  step "finding the snapshot"
  repository_exists || fail "there is no backup repository at $RESTIC_REPOSITORY yet"
  found=$(r snapshots --json --host "$BACKUP_HOST" "$wanted") || fail "no snapshot \"$wanted\" in $RESTIC_REPOSITORY; list them with $0 snapshots"
  id=$(grep -o '"short_id":"[0-9a-f]*"' <<<"$found" | tail -n 1 | cut -d'"' -f4)
  time=$(grep -o '"time":"[^"]*"' <<<"$found" | tail -n 1 | cut -d'"' -f4)
  [ -n "$id" ] || fail "no snapshot \"$wanted\" of host $BACKUP_HOST in $RESTIC_REPOSITORY; list them with $0 snapshots"
  SNAPSHOT=$id
  echo "xmpp-constructs: restoring snapshot $id, taken $time, onto $VOLUME_MOUNT. It replaces accounts and their passwords, rosters,"
  echo "message archives, rooms and their history, uploads, certificates and the TURN secret; the current state is moved aside."
  replace_state restore_snapshot
}

restore_snapshot() { r restore "$SNAPSHOT" --target "$VOLUME_MOUNT"; }

case "${1:-}" in
  create) create ;;
  restore) shift; restore "$@" ;;
  list) find /srv/xmpp-data/backups -maxdepth 1 -name 'xmpp-*.tar.gz' 2>/dev/null | sort ;;
  status) publish_status ;;
  offsite) shift; offsite "$@" ;;
  snapshots) snapshots ;;
  *) sed -n '3,10s/^#  //p' "$0" >&2; exit 2 ;;
esac
