#!/bin/bash
# /usr/local/sbin/xmpp-constructs-expand TEMPLATE DOMAINS_FILE: prints TEMPLATE with each block between the lines
# "@@@ each domain" and "@@@ end" repeated once per line of DOMAINS_FILE ("name [xmpp-name]"), with
# @DOMAIN@ replaced by the name and @XMPP_DOMAIN@ by the XMPP name (the name itself unless the line
# gives one). Rendered by xmpp-constructs, which expands the same templates the same way for the
# review files.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 TEMPLATE DOMAINS_FILE" >&2; exit 2; }
[ -r "$1" ] || { echo "$0: cannot read template $1" >&2; exit 1; }
[ -r "$2" ] || { echo "$0: cannot read domain list $2" >&2; exit 1; }
# Domain names are validated: letters (in their UTF-8 bytes, for an XMPP name), digits, hyphens and
# dots, so gsub needs no escaping.
LC_ALL=C awk -v list="$2" '
  BEGIN {
    n = 0
    while ((getline line < list) > 0) {
      if (split(line, f, " ") == 0) continue
      domains[++n] = f[1]; xmpp[n] = (f[2] != "" ? f[2] : f[1])
    }
    close(list)
  }
  $0 == "@@@ each domain" { inside = 1; block = ""; next }
  inside && $0 == "@@@ end" {
    for (i = 1; i <= n; i++) { b = block; gsub(/@DOMAIN@/, domains[i], b); gsub(/@XMPP_DOMAIN@/, xmpp[i], b); printf "%s", b }
    inside = 0; next
  }
  inside { block = block $0 "\n"; next }
  { print }
  END { if (inside) { print "'"$0"': unterminated @@@ each domain in " FILENAME > "/dev/stderr"; exit 1 } }
' "$1"
