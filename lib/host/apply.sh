#!/bin/bash
# /usr/local/sbin/xmpp-constructs-apply STAGE HASH [--first-boot]: applies the configuration bundle
# unpacked in STAGE (MANIFEST, and the files under STAGE/root), whose SHA-256 is HASH. Rendered by
# xmpp-constructs; it travels in the bundle, and xmpp-constructs-fetch runs the copy in STAGE, so a
# new version of the library brings its own way of applying itself.
#
# On a running host it checks the bundle before it touches anything: Prosody's own
# `prosodyctl check config` and `nginx -t` against the staged files. coturn has no check mode; its
# file is checked when it is rendered. A bundle that fails is refused: the running configuration
# stays, and the refusal is logged and published next to the applied hash
# (https://<primary domain>/.well-known/xmpp-constructs/bundle, which xmpp-doctor reads).
# A bundle that passes is installed, and the daemons reload rather than restart wherever they can:
# - nginx reloads;
# - Prosody rereads its configuration; new domains and components are activated, removed ones
#   deactivated, changed components reactivated, all without touching other sessions. Only a change
#   to the global or to a domain's own section restarts Prosody (clients reconnect);
# - coturn restarts only when its configuration changed (it has no reload of its configuration).
# At first boot it installs the files and provisions the host.
set -euo pipefail
umask 022
[ $# -ge 2 ] || { echo "usage: $0 STAGE HASH [--first-boot]" >&2; exit 2; }
STAGE=$1 HASH=$2 FIRST_BOOT=0
[ "${3:-}" = --first-boot ] && FIRST_BOOT=1
ROOT=$STAGE/root
STATE=/var/lib/xmpp-constructs/bundle
STATUS=/var/www/xmpp-constructs/bundle
# The bundle's own functions: the installed copy may be an older version's.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$ROOT/usr/local/lib/xmpp-constructs/common.sh"

# The applied hash, and the last refused one with its reason: on the host and over HTTPS.
write_status() {
  install -d -m 0755 "$(dirname "$STATUS")"
  { echo "applied $(cat "$STATE/applied" 2>/dev/null || echo none)"
    if [ -s "$STATE/refused" ]; then echo "refused $(cat "$STATE/refused")"; fi
  } | put_file "$STATUS" 0644 root:root
}
record_refusal() { # reason: recorded with the hash, so the timer does not try this bundle again
  echo "$HASH $*" | tr '\n' ' ' > "$STATE/refused"; echo >> "$STATE/refused"
  write_status
}
refuse() {
  record_refusal "$*"
  fail "refused configuration bundle $HASH: $*; the running configuration stays"
}
# Once files are installed, a failure is no refusal: the host may run parts of the bundle. It is
# recorded and published all the same, so that it is seen, and the bundle is not reinstalled every
# minute. Fix the cause and apply a new bundle, or on the host: xmpp-constructs-fetch retry.
failed_after_install() {
  record_refusal "failed after installing, at $*; the host may run parts of it: see journalctl -t xmpp-constructs, then apply a corrected bundle or run xmpp-constructs-fetch retry"
  fail "configuration bundle $HASH failed after installing, at $*"
}
trap 'fail "checking configuration bundle $HASH: step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR

# Provisioning, whose own failure names its step: that is what the record says.
provision() {
  local err rc=0; err=$(mktemp)
  "$@" /usr/local/sbin/xmpp-constructs-provision 2>"$err" || rc=$?
  cat "$err" >&2
  if [ "$rc" -ne 0 ]; then
    local why; why=$(sed -n 's/^xmpp-constructs: FAILED: //p' "$err" | tail -n 1)
    rm -f "$err"
    failed_after_install "provisioning, ${why:-exit $rc}"
  fi
  rm -f "$err"
}

# The bundle's files: `<mode> <owner> <path>` per line of MANIFEST after the format line.
manifest() { tail -n +2 "$STAGE/MANIFEST"; }
install_files() {
  local mode owner path
  while read -r mode owner path; do
    [ -n "$path" ] || continue
    install -d -m 0755 "$(dirname "$path")"
    put_file "$path" "$mode" "$owner" < "$ROOT$path"
  done < <(manifest)
  # Files an earlier bundle installed and this one no longer carries (a feature turned off).
  if [ -f "$STATE/manifest" ]; then
    comm -23 <(cut -d' ' -f3 "$STATE/manifest" | sort) <(manifest | cut -d' ' -f3 | sort) | while read -r gone; do rm -f "$gone"; done
  fi
  manifest > "$STATE/manifest"
}
record_applied() {
  echo "$HASH" > "$STATE/applied"
  # A refusal is history once a later bundle applied.
  rm -f "$STATE/refused"
  write_status
  logger -t xmpp-constructs "applied configuration bundle $HASH" || true
  echo "xmpp-constructs: applied configuration bundle $HASH"
}

if [ "$FIRST_BOOT" = 1 ]; then
  step "installing configuration bundle $HASH"
  trap 'failed_after_install "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR
  install_files
  provision env
  record_applied
  exit 0
fi

# --- checks, against the staged files; nothing live is touched but new names' stand-in certificates
step "checking configuration bundle $HASH"
# A bundle rendered for another platform (droplet.image changed) is for the droplet that replaces
# this one: the apply that wrote it deletes this droplet, perhaps a minute later. A host.env from
# before platforms were named says nothing, and the checks below decide.
platform_of() { sed -n "s/^PLATFORM='\(.*\)'$/\1/p" "$1" 2>/dev/null || true; }
bundle_platform=$(platform_of "$ROOT/etc/xmpp-constructs/host.env")
host_platform=$(platform_of /etc/xmpp-constructs/host.env)
if [ -n "$host_platform" ] && [ "$bundle_platform" != "$host_platform" ]; then
  refuse "the bundle is for ${bundle_platform:-an unnamed platform} and this droplet runs $host_platform; it is for the droplet that replaces this one"
fi
check=$(mktemp -d /run/xmpp-constructs-check.XXXXXX)
cleanup() { rm -rf "$check"; }
trap cleanup EXIT
# Prosody checks as its own user, which must read the staged file.
chgrp prosody "$check"; chmod 0750 "$check"
expand() { bash "$ROOT/usr/local/sbin/xmpp-constructs-expand" "$ROOT/etc/xmpp-constructs/templates$1" "$ROOT/etc/xmpp-constructs/domains.list"; }
expand /etc/prosody/prosody.cfg.lua > "$check/prosody.cfg.lua"
chgrp prosody "$check/prosody.cfg.lua"; chmod 0640 "$check/prosody.cfg.lua"
if ! prosodyctl --config "$check/prosody.cfg.lua" check config > "$check/prosody.out" 2>&1; then
  refuse "prosodyctl check config failed: $(grep -v '^ *$' "$check/prosody.out" | tail -n 5 | tr '\n' ' ')"
fi
# nginx needs every certificate the new site names: new names get their self-signed stand-in now,
# as provisioning gives them, which serves nothing until the site that names them is live.
expand /etc/xmpp-constructs/certificates.list > "$check/certificates.list"
XMPP_CONSTRUCTS_CERTIFICATES_LIST="$check/certificates.list" bash "$ROOT/usr/local/sbin/xmpp-constructs-certs" link --no-reload >/dev/null
expand /etc/nginx/conf.d/xmpp-constructs.conf > "$check/site.conf"
sed "s#include /etc/nginx/conf.d/\*\.conf;#include $check/site.conf;#" /etc/nginx/nginx.conf > "$check/nginx.conf"
grep -qF "include $check/site.conf;" "$check/nginx.conf" || refuse "cannot check the nginx site: /etc/nginx/nginx.conf does not include /etc/nginx/conf.d/*.conf"
if ! nginx -t -q -c "$check/nginx.conf" > "$check/nginx.out" 2>&1; then
  refuse "nginx -t failed: $(tail -n 5 "$check/nginx.out" | tr '\n' ' ')"
fi

# --- install, then bring the daemons over with as little disruption as each allows
step "installing configuration bundle $HASH"
trap 'failed_after_install "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR
cp /etc/prosody/prosody.cfg.lua "$check/prosody.cfg.lua.before"
turn_before=$(sha256sum /etc/turnserver.conf 2>/dev/null || true)
install_files
# Provisioning brings the host to the declared state: domain files, certificates, timers. In place,
# it reloads nginx and leaves Prosody and coturn to the steps below.
provision env XMPP_CONSTRUCTS_IN_PLACE=1

# One line per section of a Prosody configuration: `<kind> <name>` and its lines (comments and
# blank lines left out), so that sections compare as wholes.
sections() {
  awk '
    /^[ \t]*(--.*)?$/ { next }
    /^(VirtualHost|Component) "/ { split($0, q, "\""); emit(); section = ($1 == "VirtualHost" ? "host " : "component ") q[2]; body = ""; }
    { body = body "\x1f" $0 }
    END { emit() }
    function emit() { if (section == "" && body == "") return; print (section == "" ? "global -" : section) "\t" body }
  ' "$1"
}
step "Prosody"
declare -A before after
while IFS=$'\t' read -r name body; do before[$name]=$body; done < <(sections "$check/prosody.cfg.lua.before")
while IFS=$'\t' read -r name body; do after[$name]=$body; done < <(sections /etc/prosody/prosody.cfg.lua)
restart=(); deactivate=(); activate=()
for name in "${!before[@]}"; do
  if [ -z "${after[$name]+set}" ]; then deactivate+=("${name#* }")
  elif [ "${before[$name]}" != "${after[$name]}" ]; then
    case $name in
      component\ *) deactivate+=("${name#* }"); activate+=("${name#* }") ;;
      *) restart+=("$name") ;;
    esac
  fi
done
# In the file's order: a domain before its components.
while IFS=$'\t' read -r name _; do
  if [ -z "${before[$name]+set}" ]; then activate+=("${name#* }"); fi
done < <(sections /etc/prosody/prosody.cfg.lua)
if ! systemctl is-active --quiet prosody; then
  systemctl restart prosody
elif [ ${#restart[@]} -gt 0 ]; then
  echo "xmpp-constructs: restarting Prosody: changed ${restart[*]} (clients reconnect)"
  systemctl restart prosody
else
  prosodyctl shell config reload >/dev/null
  for host in "${deactivate[@]}"; do prosodyctl shell host deactivate "$host" >/dev/null; echo "xmpp-constructs: Prosody: deactivated $host"; done
  for host in "${activate[@]}"; do prosodyctl shell host activate "$host" >/dev/null; echo "xmpp-constructs: Prosody: activated $host"; done
fi

if [ -f /etc/turnserver.conf ] && [ "$(sha256sum /etc/turnserver.conf)" != "$turn_before" ]; then
  step "coturn"
  echo "xmpp-constructs: restarting coturn: its configuration changed (calls in progress reconnect)"
  systemctl restart coturn
fi

# New names get Let's Encrypt certificates as soon as DNS points here; certbot's deploy hook
# swaps them in.
systemctl start --no-block xmpp-constructs-certificates.service
record_applied
