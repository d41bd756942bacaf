#!/bin/bash
# /usr/local/sbin/xmpp-constructs-fetch [first-boot | retry]: fetches this droplet's configuration
# bundle from its private Spaces bucket and, when it is new, hands it to the apply script it carries.
# Rendered by xmpp-constructs into user_data; run at first boot by cloud-init, then every minute by
# xmpp-constructs-config.timer.
#   first-boot  cloud-init's run: waits up to 10 minutes for the bundle to appear
#   retry       apply the bucket's bundle even if it was refused or failed before (after fixing
#               whatever made it fail on the host)
# Until a bundle has been applied once, every run provisions the host as first boot does: a first
# boot that failed (the bucket unreachable, provisioning stopped) is retried by the timer.
#
# It is the bootstrap's only script and stays small and self-contained (it sources nothing the
# bundle brings): whatever a new version of xmpp-constructs changes in the apply logic arrives
# with the bundle and applies itself, while this script, and so user_data, stays the same.
set -euo pipefail
umask 077
# shellcheck source=/dev/null
. /etc/xmpp-constructs/config-source.env

STATE=/var/lib/xmpp-constructs/bundle
FORMAT='xmpp-constructs-bundle 1'
mode=${1:-timer}
log() { echo "xmpp-constructs-fetch: $*"; }
fail() { echo "xmpp-constructs-fetch: FAILED: $*" >&2; logger -t xmpp-constructs "FAILED: fetch: $*" || true; exit 1; }

install -d -m 0700 "$STATE"
# One fetch at a time: the timer must not start one while first boot's is still applying.
exec 9>"$STATE/lock"
flock 9
# From first boot on, the timer looks every minute, whatever this run's outcome; its runs wait for
# the lock this one holds.
if [ "$mode" = first-boot ]; then systemctl enable --now xmpp-constructs-config.timer; fi
if [ "$mode" = retry ]; then rm -f "$STATE/refused"; fi
first_boot=0; [ -s "$STATE/applied" ] || first_boot=1

# The key's secret goes to curl on its standard input, never on a command line others can read.
# S3 requires x-amz-content-sha256 on every Signature V4 request, and curl 7.88 does not send it:
# given here (the SHA-256 of the empty body of a GET), curl signs it too.
download() { # file: the bundle's object, signed with AWS Signature V4 as Spaces requires
  printf 'user = "%s:%s"\n' "$SPACES_ACCESS_KEY" "$SPACES_SECRET_KEY" |
    curl -K - -fsS --max-time 120 --retry 3 --retry-connrefused \
      --aws-sigv4 "aws:amz:$SPACES_REGION:s3" \
      -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
      -o "$1" "$SPACES_ENDPOINT/$SPACES_BUCKET/$BUNDLE_OBJECT"
}

incoming=$STATE/incoming.tar.gz
if [ "$mode" = first-boot ]; then
  # The stack writes the bundle before it creates this droplet; a slow or failed upload is waited
  # for, a while.
  for attempt in $(seq 1 60); do
    download "$incoming" 2>"$STATE/download.err" && break
    [ "$attempt" -lt 60 ] || fail "could not fetch $SPACES_BUCKET/$BUNDLE_OBJECT from $SPACES_ENDPOINT within 10 minutes: $(cat "$STATE/download.err")"
    sleep 10
  done
else
  download "$incoming" || fail "could not fetch $SPACES_BUCKET/$BUNDLE_OBJECT from $SPACES_ENDPOINT; the running configuration stays"
fi

hash=$(sha256sum "$incoming" | cut -d' ' -f1)
applied=$(cat "$STATE/applied" 2>/dev/null || true)
# The running bundle again: nothing to do, unless a refusal is still published. Then the refused
# change was reverted in the bucket, and the status would go on naming a refusal nobody can fix
# any more: apply the running bundle once more (its checks pass and it changes nothing), which
# records it as applied and clears the refusal.
if [ "$hash" = "$applied" ] && [ "$first_boot" = 0 ] && [ ! -s "$STATE/refused" ]; then exit 0; fi
# A bundle refused once is refused again: wait for the next one rather than retry every minute.
if [ "$hash" = "$(cut -d' ' -f1 "$STATE/refused" 2>/dev/null || true)" ]; then exit 0; fi

stage=$STATE/stage
rm -rf "$stage"; mkdir -m 0700 "$stage"
tar -xzf "$incoming" -C "$stage" --no-same-owner --no-same-permissions || fail "bundle $hash is not a readable archive"
[ "$(head -n1 "$stage/MANIFEST" 2>/dev/null)" = "$FORMAT" ] || fail "bundle $hash is not in the format '$FORMAT'; is this droplet older than the library that wrote it?"
apply=$stage/root/usr/local/sbin/xmpp-constructs-apply
[ -f "$apply" ] || fail "bundle $hash carries no apply script"
args=("$stage" "$hash"); [ "$first_boot" = 1 ] && args+=(--first-boot)
bash "$apply" "${args[@]}"
