#!/bin/bash
# /usr/local/sbin/xmpp-constructs-provision: brings this droplet to the declared state. Rendered by xmpp-constructs.
# Idempotent: a second run changes nothing. Any failure stops it and names the step.
set -euo pipefail
set -o errtrace # functions (and subshells) inherit the ERR trap only with it
umask 022
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh
trap 'fail "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR

# Append a line to /etc/fstab unless it is already there.
fstab_line() { grep -qxF "$1" /etc/fstab || echo "$1" >> /etc/fstab; }

step "packages"
# shellcheck disable=SC2086 # a list of package names
ensure_packages "$APT_LOCK_WAIT_SECONDS" $PACKAGES || fail "step \"packages\": could not install $PACKAGES"

step "mounting the data volume"
if ! mountpoint -q "$VOLUME_MOUNT"; then
  for _ in $(seq 1 "$VOLUME_WAIT_SECONDS"); do [ -e "$VOLUME_DEVICE" ] && break; sleep 1; done
  [ -e "$VOLUME_DEVICE" ] || fail "data volume $VOLUME_DEVICE did not appear within $VOLUME_WAIT_SECONDS s; is it attached to this droplet?"
  # Format only a volume with no filesystem at all: blkid -p exits 2 when it finds nothing.
  # Any other answer (a filesystem, an error) leaves the disk alone.
  rc=0; blkid -p -o value -s TYPE "$VOLUME_DEVICE" >/dev/null || rc=$?
  if [ "$rc" -eq 2 ]; then
    step "formatting the new, empty data volume"
    mkfs.ext4 -q -L xmpp-data "$VOLUME_DEVICE"
  elif [ "$rc" -ne 0 ]; then
    fail "cannot probe $VOLUME_DEVICE (blkid exit $rc); refusing to touch it"
  fi
  mkdir -p "$VOLUME_MOUNT"
  fstab_line "$VOLUME_DEVICE $VOLUME_MOUNT auto defaults,nofail,x-systemd.device-timeout=$VOLUME_WAIT_SECONDS 0 2"
  mount "$VOLUME_MOUNT"
fi

step "placing state on the volume"
# Prosody must not write under /var/lib/prosody while the volume is bound over it. On a fresh host
# the first-boot guard kept it from starting; a rerun finds it running, and stops it only if a bind
# mount is missing, so a configuration applied in place keeps Prosody's sessions.
for sys in /var/lib/prosody /etc/letsencrypt; do
  mountpoint -q "$sys" || { systemctl stop prosody >/dev/null 2>&1 || true; break; }
done
for pair in /srv/xmpp-data/prosody:/var/lib/prosody /srv/xmpp-data/letsencrypt:/etc/letsencrypt; do
  vol=${pair%%:*}; sys=${pair#*:}
  if [ ! -d "$vol" ]; then
    # First boot with this volume: seed it with what the packages installed.
    mkdir -p "$vol.seed"; [ -d "$sys" ] && cp -a "$sys/." "$vol.seed/"; mv "$vol.seed" "$vol"
  fi
  mkdir -p "$sys"
  fstab_line "$vol $sys none bind,nofail,x-systemd.requires-mounts-for=$VOLUME_MOUNT 0 0"
  mountpoint -q "$sys" || mount --bind "$vol" "$sys"
done

moves=$({ printf '%s %s\n' "$PRIMARY_DOMAIN" "$PRIMARY_XMPP_DOMAIN"; cat /etc/xmpp-constructs/domains.list; } | idn_host_data_moves /var/lib/prosody)
if [ -n "$moves" ]; then
  step "Prosody's data of internationalised domains, to their Unicode names"
  # Once, with Prosody stopped (in place too: apply starts it again), so that no session writes
  # under the old name meanwhile.
  systemctl stop prosody >/dev/null 2>&1 || true
  move_host_data <<<"$moves"
fi

step "Prosody's data from another Prosody release"
# The volume outlives the droplet, and another image brings another Prosody (Debian 12's 0.12,
# Debian 13's 13). Both read the same files but for two things, put right here once, when the
# Prosody that last ran on this volume was another release (or is not recorded), before this one
# starts (on a new droplet it has not started yet):
# - Prosody 13 keeps an index (*.lidx) beside each list store (*.list: message archives, uploads),
#   which 0.12 neither reads nor updates. An index 13 left before 0.12 wrote to the volume would
#   hide from 13 what 0.12 added, or point into the middle of a rewritten list. The indexes are a
#   cache Prosody 13 rebuilds when one is missing, so they go.
# - Prosody 13 stores archive times to the microsecond; 0.12's archive queries fail on such an
#   item. Where this Prosody reads whole seconds only, the times are rounded down. Each item's
#   time is its own line, `<tab>["when"] = <number>;` (a quote inside a string is escaped).
# The marker records which release last ran, and which one it took over from.
release=$(dpkg-query -W -f='${Version}' prosody)
last_release=$(sed -n 's/^release=//p' /srv/xmpp-data/prosody-release 2>/dev/null || true)
if [ "$last_release" != "$release" ]; then
  dropped=$(find /var/lib/prosody -name '*.lidx' -type f -print -delete | wc -l)
  rounded=0
  if [ "${PROSODY_WHOLE_SECOND_ARCHIVE_TIMES:-0}" = 1 ]; then
    while IFS= read -r -d '' list; do
      sed -i -E 's/^(\t\["when"\] = [0-9]+)\.[0-9]+;$/\1;/' "$list"; rounded=$((rounded + 1))
    done < <(find /var/lib/prosody -name '*.list' -type f -exec grep -lZP '^\t\["when"\] = [0-9]+\.[0-9]+;$' {} + || true)
  fi
  echo "xmpp-constructs: Prosody $release on this volume, last used by Prosody ${last_release:-(not recorded)}: $dropped archive indexes dropped, to be rebuilt; archive times rounded to whole seconds in $rounded lists"
  printf 'release=%s\nprevious=%s\n' "$release" "${last_release:-unrecorded}" | put_file /srv/xmpp-data/prosody-release 0644 root:root
fi

# A replacement droplet may give the prosody user another uid.
chown -R prosody:prosody /var/lib/prosody
install -d -m 0700 -o root -g root /srv/xmpp-data/secrets /srv/xmpp-data/self-signed

if [ "$TURN_ENABLED" = 1 ]; then
  step "TURN shared secret"
  if [ -f /etc/xmpp-constructs/turn-shared-secret.supplied ]; then
    put_file /srv/xmpp-data/secrets/turn-shared-secret 0600 root:root < /etc/xmpp-constructs/turn-shared-secret.supplied
  elif [ ! -s /srv/xmpp-data/secrets/turn-shared-secret ]; then
    (umask 077; openssl rand -hex 32 > /srv/xmpp-data/secrets/turn-shared-secret.new && mv /srv/xmpp-data/secrets/turn-shared-secret.new /srv/xmpp-data/secrets/turn-shared-secret)
  fi
  secret=$(cat /srv/xmpp-data/secrets/turn-shared-secret)
  printf -- '-- Generated on the host from the data volume. Not managed by IaC.\nexternal_service_secret = "%s"\n' "$secret" \
    | put_file /etc/prosody/secrets.cfg.lua 0640 root:prosody
  # coturn reads the secret from its database, so turnserver.conf stays free of it.
  install -d -o turnserver -g turnserver -m 0750 "$(dirname /var/lib/turn/turndb)"
  # The realm must be coturn's realm (the TURN host name): coturn looks secrets up by it.
  if ! turnadmin --show-secret --realm "$TURN_REALM" --db /var/lib/turn/turndb 2>/dev/null | grep -qxF "${secret}[${TURN_REALM}]"; then
    # An empty secret deletes every secret of the realm: a changed secret replaces the old one.
    turnadmin --delete-secret "" --realm "$TURN_REALM" --db /var/lib/turn/turndb >/dev/null
    turnadmin --set-secret "$secret" --realm "$TURN_REALM" --db /var/lib/turn/turndb >/dev/null
  fi
  chown turnserver:turnserver /var/lib/turn/turndb; chmod 0600 /var/lib/turn/turndb

  step "TURN listening addresses"
  args="--listening-ip=$(metadata interfaces/public/0/ipv4/address) --relay-ip=$(metadata interfaces/public/0/ipv4/address)"
  if [ "$IPV6_ENABLED" = 1 ]; then
    v6=$(metadata interfaces/public/0/ipv6/address)
    args="$args --listening-ip=$v6 --relay-ip=$v6"
  fi
  echo "TURN_ADDRESS_ARGS=\"$args\"" | put_file /etc/xmpp-constructs/turn-addresses.env 0644 root:root
fi

step "configuration for every domain"
/usr/local/sbin/xmpp-constructs-expand /etc/xmpp-constructs/templates/etc/xmpp-constructs/certificates.list /etc/xmpp-constructs/domains.list | put_file /etc/xmpp-constructs/certificates.list 0644 root:root
/usr/local/sbin/xmpp-constructs-expand /etc/xmpp-constructs/templates/etc/prosody/prosody.cfg.lua /etc/xmpp-constructs/domains.list | put_file /etc/prosody/prosody.cfg.lua 0640 root:prosody
/usr/local/sbin/xmpp-constructs-expand /etc/xmpp-constructs/templates/etc/nginx/conf.d/xmpp-constructs.conf /etc/xmpp-constructs/domains.list | put_file /etc/nginx/conf.d/xmpp-constructs.conf 0644 root:root
# host-meta for each domain; the documents of domains no longer served go.
served=$(printf '%s\n' "$PRIMARY_DOMAIN"; cut -d' ' -f1 /etc/xmpp-constructs/domains.list)
for d in $served; do
  install -d -m 0755 "/var/www/host-meta/$d/.well-known"
  sed "s/@DOMAIN@/$d/g" /etc/xmpp-constructs/templates/var/www/host-meta/@DOMAIN@/.well-known/host-meta | put_file "/var/www/host-meta/$d/.well-known/host-meta" 0644 root:root
  sed "s/@DOMAIN@/$d/g" /etc/xmpp-constructs/templates/var/www/host-meta/@DOMAIN@/.well-known/host-meta.json | put_file "/var/www/host-meta/$d/.well-known/host-meta.json" 0644 root:root
done
for dir in /var/www/host-meta/*/; do
  grep -qxF "$(basename "$dir")" <<<"$served" || rm -rf "$dir"
done

if [ "${PROSODY_CARRIES_OVER_ROLES:-0}" = 1 ]; then
  # Prosody 0.12 kept the roles an admin set by hand (its shell's user:setroles) in a store named
  # "roles"; Prosody 13 reads "account_roles", and carries the old store over when asked. Admins
  # declared in the configuration need nothing. Once per domain: the new store is there after.
  for store in /var/lib/prosody/*/roles; do
    if [ ! -d "$store" ] || [ -d "$(dirname "$store")/account_roles" ]; then continue; fi
    host=$(prosody_host_of_dir "$(dirname "$store")")
    step "account roles Prosody 0.12 kept for $host"
    # A user with several roles cannot be carried over (13 gives each one primary role): say so, go on.
    prosodyctl mod_authz_internal migrate "$host" \
      || echo "xmpp-constructs: some account roles on $host were not carried over (see above); set each with: prosodyctl shell user set_role <jid> <domain> <role>"
  done
fi

# No invitation may take an admin's name: create it first, with a password nobody knows, which the
# admin's one-use link (the first_admin output) replaces. An existing account stays as it is.
read -ra reserved <<<"${RESERVED_ADMIN_ACCOUNTS:-}"
for jid in "${reserved[@]}"; do
  prosody_account_exists "$jid" && continue
  step "the account of admin $jid, kept for them"
  password=$(head -c 24 /dev/urandom | base64)
  if ! said=$(printf '%s\n%s\n' "$password" "$password" | prosodyctl register "${jid%@*}" "${jid#*@}" 2>&1); then
    fail "step \"$CURRENT_STEP\": prosodyctl register said: $said"
  fi
  prosody_account_exists "$jid" || fail "step \"$CURRENT_STEP\": prosodyctl register made no account"
done
unset password

step "certificates (self-signed until Let's Encrypt has issued)"
install -d -m 0755 /var/www/acme
/usr/local/sbin/xmpp-constructs-certs link --no-reload

step "starting services"
rm -f /etc/nginx/sites-enabled/default
nginx -t -q
systemctl daemon-reload
# journald reads its retention (/etc/systemd/journald.conf.d/xmpp-constructs.conf) when it starts.
systemctl try-restart systemd-journald
# Every configuration is in place: lift the first-boot guard that kept the packages from starting
# the services on Debian's defaults. Only our own: a policy-rc.d without our marker is not ours.
if grep -qxF '# xmpp-constructs first-boot guard: no service it configures may start before provisioning has configured it.' /usr/sbin/policy-rc.d 2>/dev/null; then rm -f /usr/sbin/policy-rc.d; fi
systemctl enable nginx prosody
systemctl reload-or-restart nginx
# A configuration bundle applied in place (xmpp-constructs-apply) reloads Prosody and coturn itself,
# as gently as the change allows. Otherwise Prosody was stopped above; start it exactly once. A
# SIGTERM in its first moments is lost, so "start, then restart" would leave systemd waiting out
# TimeoutStopSec.
if [ "${XMPP_CONSTRUCTS_IN_PLACE:-0}" != 1 ]; then
  systemctl restart prosody
  if [ "$TURN_ENABLED" = 1 ]; then systemctl enable coturn && systemctl restart coturn; fi
elif [ "$TURN_ENABLED" = 1 ]; then
  systemctl enable coturn
  systemctl is-active --quiet coturn || systemctl restart coturn
fi
systemctl enable --now xmpp-constructs-certificates.timer xmpp-constructs-backup.timer xmpp-constructs-volume-status.timer
if [ -f /etc/xmpp-constructs/offsite-backup.env ]; then
  systemctl enable --now xmpp-constructs-offsite-backup.timer
  # A first backup, or one a day overdue, need not wait for the timer (on an empty volume whose bucket
  # holds another volume's backups, it refuses and says to restore them).
  last=$(awk '$1 == "last-success" { print $2 }' "$VOLUME_MOUNT/.offsite-backup" 2>/dev/null || echo 0)
  if [ $(( $(date -u +%s) - ${last:-0} )) -gt 86400 ]; then systemctl start --no-block xmpp-constructs-offsite-backup.service; fi
elif [ -f /etc/systemd/system/xmpp-constructs-offsite-backup.timer ]; then
  systemctl disable --now xmpp-constructs-offsite-backup.timer
fi
/usr/local/sbin/xmpp-constructs-backup status

if [ "$RESERVED_IPV6" = 1 ]; then
  # Prosody and nginx listen on every address: they answer on it as soon as it is there.
  step "reserved IPv6 address"
  # DigitalOcean assigns it only once this droplet exists, often after this first run: the timer
  # keeps asking every minute, and the service puts it back at every boot.
  /usr/local/sbin/xmpp-constructs-reserved-ipv6 || echo "xmpp-constructs: the reserved IPv6 address is not in place yet; xmpp-constructs-reserved-ipv6.timer retries every minute"
  systemctl enable xmpp-constructs-reserved-ipv6.service
  systemctl enable --now xmpp-constructs-reserved-ipv6.timer
fi

if [ "$WEB_CLIENT" = 1 ]; then
  # Last: the service runs meanwhile, and without a route to the npm registry it runs without its
  # web client (https://<domain>/ answers 404) until the timer's next try succeeds.
  step "web client"
  /usr/local/sbin/xmpp-constructs-web-client || echo "xmpp-constructs: the web client is not installed yet; xmpp-constructs-web-client.timer retries every 15 minutes"
  systemctl enable --now xmpp-constructs-web-client.timer
elif [ -f /etc/systemd/system/xmpp-constructs-web-client.timer ]; then
  systemctl disable --now xmpp-constructs-web-client.timer
  rm -rf /var/www/xmpp-constructs-web
fi

step "done"
