#!/bin/bash
# /usr/local/sbin/xmpp-constructs-turn: brings this TURN droplet to the declared state. Rendered by xmpp-constructs.
#   provision  (runcmd) the secret into coturn's userdb, the listening addresses, a certificate,
#              coturn, and the timer that obtains the Let's Encrypt certificate
#   issue      (that timer) request the TURN name's certificate once DNS points here, with back-off
#   deploy     (certbot's deploy hook) copy the certificate to where coturn reads it, reload coturn
# Idempotent: a second run changes nothing. Any failure stops it and names the step.
set -euo pipefail
# The work happens in functions, which inherit the ERR trap only with errtrace.
set -o errtrace
umask 022
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh
trap 'fail "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR

active() { systemctl is-active --quiet "$1"; }

provision() {
  step "packages"
  # shellcheck disable=SC2086 # a list of package names
  ensure_packages "$APT_LOCK_WAIT_SECONDS" $PACKAGES || fail "could not install $PACKAGES"

  step "TURN shared secret"
  [ -s /etc/xmpp-constructs/turn-shared-secret.supplied ] || fail "/etc/xmpp-constructs/turn-shared-secret.supplied is missing or empty; it comes with user_data"
  secret=$(cat /etc/xmpp-constructs/turn-shared-secret.supplied)
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

  step "certificate (self-signed until Let's Encrypt has issued)"
  if [ -s "/etc/letsencrypt/live/$TURN_HOST/fullchain.pem" ]; then
    copy_turn_cert "/etc/letsencrypt/live/$TURN_HOST"
  elif [ ! -s /etc/coturn/tls/fullchain.pem ]; then
    target=$(mktemp -d)
    self_signed "$TURN_HOST" "DNS:$TURN_HOST" "$target"
    copy_turn_cert "$target"; rm -rf "$target"
  fi

  step "starting coturn"
  systemctl daemon-reload
  # journald reads its retention (/etc/systemd/journald.conf.d/xmpp-constructs.conf) when it starts.
  systemctl try-restart systemd-journald
  systemctl enable coturn
  # Every configuration is in place: lift the first-boot guard that kept the packages from starting
  # the services on Debian's defaults. Only our own: a policy-rc.d without our marker is not ours.
  if grep -qxF '# xmpp-constructs first-boot guard: no service it configures may start before provisioning has configured it.' /usr/sbin/policy-rc.d 2>/dev/null; then rm -f /usr/sbin/policy-rc.d; fi
  systemctl restart coturn
  systemctl enable --now xmpp-constructs-certificates.timer

  step "done"
}

issue() {
  state=/var/lib/xmpp-constructs; install -d -m 0700 $state
  lineage=$TURN_HOST
  # Renewals are certbot.timer's job: the lineage's renewal configuration keeps --standalone and the hook.
  [ ! -s "/etc/letsencrypt/live/$lineage/fullchain.pem" ] || return 0
  backoff_due "$state" "$lineage" || return 0
  if dns_points_here "$lineage"; then
    staging=(); [ "$ACME_STAGING" = 1 ] && staging=(--staging)
    # Nothing else listens on port 80 here, so certbot answers the http-01 challenge itself.
    if certbot certonly --standalone --non-interactive --agree-tos --email "$ACME_EMAIL" "${staging[@]}" \
         --cert-name "$lineage" -d "$lineage" --deploy-hook "/usr/local/sbin/xmpp-constructs-turn deploy"; then
      backoff_reset "$state" "$lineage"
      return 0
    fi
  fi
  backoff_failed "$state" "$lineage"
}

case "${1:-}" in
  provision) provision ;;
  issue) issue ;;
  deploy) copy_turn_cert "/etc/letsencrypt/live/$TURN_HOST" ;;
  *) echo "usage: $0 provision | issue | deploy" >&2; exit 2 ;;
esac
