#!/bin/bash
# /usr/local/sbin/xmpp-constructs-reserved-ipv6: puts the reserved IPv6 address DigitalOcean has assigned to this droplet
# on its loopback interface, or takes it off once unassigned. Rendered by xmpp-constructs.
# Run by provisioning, at boot (the address does not survive a reboot) and every minute by its
# timer (the assignment is made after the droplet exists, and moves with a replacement).
# Idempotent: when everything is in place it changes nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. /usr/local/lib/xmpp-constructs/common.sh

# What this script put there: the only global-scope addresses on lo (::1 is host scope).
on_lo() { ip -6 -o addr show dev lo scope global | awk '{print $4}'; }

active=$(metadata reserved_ip/ipv6/active) || { echo "xmpp-constructs: the metadata service did not answer; nothing changed" >&2; exit 1; }
case "$active" in
  true)
    address=$(metadata reserved_ip/ipv6/ip_address)
    [[ "$address" =~ ^[0-9a-fA-F:]+$ ]] || { echo "xmpp-constructs: the metadata service gave $address as the reserved IPv6 address" >&2; exit 1; }
    # A /128 on lo, as DigitalOcean documents it: the address is routed to this droplet, not on its link.
    present=0
    for a in $(on_lo); do
      if [ "$a" = "$address/128" ]; then present=1; else ip -6 addr del "$a" dev lo; fi
    done
    if [ "$present" = 0 ]; then
      ip -6 addr add "$address/128" dev lo scope global
      echo "xmpp-constructs: reserved IPv6 address $address is on this droplet"
    fi
    # Answers from the address leave by the default route. A droplet with IPv6 has one (via its
    # gateway); DigitalOcean's own script adds an on-link one for droplets that do not.
    [ -n "$(ip -6 route show default)" ] || ip -6 route replace default dev eth0
    ;;
  false)
    for a in $(on_lo); do
      ip -6 addr del "$a" dev lo
      echo "xmpp-constructs: reserved IPv6 address $a is no longer assigned here; removed it"
    done
    ;;
  *)
    echo "xmpp-constructs: the metadata service answered $active for reserved_ip/ipv6/active; nothing changed" >&2
    exit 1
    ;;
esac
