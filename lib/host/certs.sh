#!/bin/bash
# /usr/local/sbin/xmpp-constructs-certs: certificates for every lineage in /etc/xmpp-constructs/certificates.list. Rendered by xmpp-constructs.
#   link [--no-reload]  point /etc/xmpp-constructs/certs/<lineage> at the Let's Encrypt lineage if it exists,
#                       else at a self-signed certificate; import into Prosody; copy for coturn.
#                       Also certbot's deploy hook.
#   issue               request missing certificates once DNS points here, with back-off.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh
reload=1; [ "${2:-}" = --no-reload ] && reload=0
# The lineages and their names; a configuration bundle being checked passes its own list.
CERTIFICATES_LIST=${XMPP_CONSTRUCTS_CERTIFICATES_LIST:-/etc/xmpp-constructs/certificates.list}
active() { [ "$reload" = 1 ] && systemctl is-active --quiet "$1"; }

covers_names() { # certificate file, names...: every name is in the certificate's SAN list
  local cert=$1; shift
  local sans; sans=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | tr ',' '\n' | sed -n 's/^ *DNS://p')
  for n in "$@"; do grep -qxF "$n" <<<"$sans" || return 1; done
}

link() {
  install -d -m 0755 /etc/xmpp-constructs/certs
  local changed=()
  while read -r lineage names; do
    [ -n "$lineage" ] || continue
    live=/etc/letsencrypt/live/$lineage
    if [ -s "$live/fullchain.pem" ]; then
      target=$live
    else
      target=/srv/xmpp-data/self-signed/$lineage
      # shellcheck disable=SC2086
      if [ ! -s "$target/fullchain.pem" ] || ! covers_names "$target/fullchain.pem" $names; then
        install -d -m 0700 "$target"
        san=$(printf 'DNS:%s,' $names); san=${san%,}
        self_signed "$lineage" "$san" "$target"
      fi
    fi
    [ "$(readlink "/etc/xmpp-constructs/certs/$lineage" 2>/dev/null)" = "$target" ] || ln -sfn "$target" "/etc/xmpp-constructs/certs/$lineage"
    # Prosody cannot read root's keys: a copy of each changed certificate goes to /etc/prosody/certs
    # for the prosody user, named by the lineage (the DNS name). Prosody finds a host's certificate
    # by the names inside it, and the one asked for on the direct TLS ports (SNI) by that file name.
    # (`prosodyctl cert import` would take only names Prosody serves, and an internationalised
    # domain's is Unicode.)
    if ! cmp -s "$target/fullchain.pem" "/etc/prosody/certs/$lineage.crt"; then
      install -m 0400 -o prosody -g prosody "$target/privkey.pem" "/etc/prosody/certs/$lineage.key"
      install -m 0644 -o prosody -g prosody "$target/fullchain.pem" "/etc/prosody/certs/$lineage.crt"
      changed+=("$lineage")
    fi
  done < "$CERTIFICATES_LIST"
  if [ "$TURN_ENABLED" = 1 ]; then copy_turn_cert "/etc/xmpp-constructs/certs/$PRIMARY_DOMAIN"; fi
  # Only when a certificate changed (issuance, renewal). The primary domain's needs a restart:
  # Prosody 0.12.3 keeps serving the old certificate on the direct TLS port to clients without SNI
  # after a reload, and that default certificate is the primary domain's. Any other domain's is
  # picked up by a reload, which keeps every session (a new domain added in place gets its own).
  if [ ${#changed[@]} -gt 0 ] && active prosody; then
    if printf '%s\n' "${changed[@]}" | grep -qxF "$PRIMARY_DOMAIN"; then systemctl restart prosody; else systemctl reload prosody; fi
  fi
  if active nginx; then systemctl reload nginx; fi
}

issue() {
  state=/var/lib/xmpp-constructs; install -d -m 0700 $state
  while read -r lineage names; do
    [ -n "$lineage" ] || continue
    live=/etc/letsencrypt/live/$lineage/fullchain.pem
    # shellcheck disable=SC2086
    if [ -s "$live" ] && covers_names "$live" $names; then continue; fi  # renewals are certbot.timer's job
    backoff_due "$state" "$lineage" || continue
    # shellcheck disable=SC2086
    if dns_points_here $names; then
      domains=(); for n in $names; do domains+=(-d "$n"); done
      staging=(); [ "$ACME_STAGING" = 1 ] && staging=(--staging)
      if certbot certonly --non-interactive --agree-tos --email "$ACME_EMAIL" "${staging[@]}" \
           --webroot -w /var/www/acme --cert-name "$lineage" "${domains[@]}" \
           --deploy-hook "/usr/local/sbin/xmpp-constructs-certs link"; then
        backoff_reset "$state" "$lineage"
        continue
      fi
    fi
    backoff_failed "$state" "$lineage"
  done < /etc/xmpp-constructs/certificates.list
}

case "${1:-}" in
  link) link ;;
  issue) issue ;;
  *) echo "usage: $0 link [--no-reload] | issue" >&2; exit 2 ;;
esac
