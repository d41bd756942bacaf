# shellcheck shell=bash
# /usr/local/lib/xmpp-constructs/common.sh: the functions the xmpp-constructs scripts in
# /usr/local/sbin share, so that each piece of logic is written once. Written by user_data with
# them; sourced, never run.
#
# Sourcing it only defines functions: no options, no traps, no variables. Each script sets its own
# (set -euo pipefail, and the ERR trap that names the failed step where it has steps; with errtrace,
# so a failure inside a function names it too, and a command substitution's command that may fail
# says `|| true`).

# Named steps, and a loud failure that names the step it happened in. A script with steps adds
#   trap 'fail "step \"${CURRENT_STEP:-start}\" (line $LINENO)"' ERR
# shellcheck disable=SC2034 # CURRENT_STEP is read by that trap, in the sourcing script
step() { CURRENT_STEP="$1"; echo "xmpp-constructs: $1"; }
fail() { echo "xmpp-constructs: FAILED: $*" >&2; logger -t xmpp-constructs "FAILED: $*" || true; exit 1; }

# Replace a file only when its content changes, so a rerun touches nothing.
put_file() { # path mode owner < content
  local tmp; tmp=$(mktemp "$1.XXXXXX"); cat > "$tmp"; chmod "$2" "$tmp"; chown "$3" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

metadata() { curl -fsS --max-time 5 "http://169.254.169.254/metadata/v1/$1"; }

# A host's name as Prosody names its data directory: every byte but an ASCII letter or digit as %xx.
prosody_dir_name() ( # host name
  LC_ALL=C; name=$1; out=''
  for ((i = 0; i < ${#name}; i++)); do
    c=${name:i:1}
    case $c in [A-Za-z0-9]) out+=$c ;; *) printf -v c '%%%02x' "'$c"; out+=$c ;; esac
  done
  printf '%s\n' "$out"
)

# The reverse: the host name a data directory of Prosody's belongs to.
prosody_host_of_dir() { local base=${1##*/}; printf '%b\n' "${base//%/\\x}"; }

# Whether Prosody's storage (internal, as configured) holds the account `user@host`, by its XMPP name.
prosody_account_exists() { # jid
  [ -f "/var/lib/prosody/$(prosody_dir_name "${1#*@}")/accounts/$(prosody_dir_name "${1%@*}").dat" ]
}

# Prosody names a host by its XMPP name, which for an internationalised domain is Unicode
# ("bücher.example"); it used to be given the DNS name ("xn--bcher-kva.example"), and kept the
# data of that host, and of its components, under that name. Prints "from<TAB>to" for each such
# directory in the data directory, for the "name xmpp-name" lines on stdin (domains.list's form).
idn_host_data_moves() { # Prosody's data directory
  local data=$1 name xmpp old new dir base
  while read -r name xmpp; do
    if [ -z "$xmpp" ] || [ "$xmpp" = "$name" ]; then continue; fi
    old=$(prosody_dir_name "$name"); new=$(prosody_dir_name "$xmpp")
    for dir in "$data/$old" "$data"/*"%2e$old"; do
      [ -d "$dir" ] || continue
      base=${dir##*/}
      printf '%s\t%s\n' "$dir" "$data/${base%"$old"}$new"
    done
  done
}

# Moves each "from<TAB>to" data directory on stdin (idn_host_data_moves), saying so. One whose new
# name is taken already stays where it is, reported: merging two hosts' data is not for a script.
move_host_data() {
  local from to
  while IFS=$'\t' read -r from to; do
    if [ -e "$to" ]; then
      echo "xmpp-constructs: WARNING: $from stays: $to exists already. Prosody uses $to; the data of $(prosody_host_of_dir "$from") before it was renamed is in $from"
    else
      mv "$from" "$to"
      echo "xmpp-constructs: Prosody's data of $(prosody_host_of_dir "$from") is now that of $(prosody_host_of_dir "$to")"
    fi
  done
}

# Does every name resolve to one of this droplet's addresses? Asking Let's Encrypt before that
# only burns its failed-validation limit (5 per hour per name).
dns_points_here() {
  local mine
  mine=$(curl -fsS --max-time 5 http://169.254.169.254/metadata/v1/interfaces/public/0/ipv4/address; echo
         curl -fsS --max-time 5 http://169.254.169.254/metadata/v1/reserved_ip/ipv4/ip_address 2>/dev/null; echo)
  for n in "$@"; do
    getent ahostsv4 "$n" | awk '{print $1}' | sort -u | grep -qxF -f <(grep . <<<"$mine") || { echo "$n does not resolve here yet"; return 1; }
  done
}

# A self-signed stand-in certificate, until Let's Encrypt has issued the real one.
self_signed() { # lineage, subjectAltName value, directory to write fullchain.pem and privkey.pem to
  local lineage=$1 san=$2 target=$3
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
    -subj "/CN=$lineage" -addext "subjectAltName=$san" \
    -keyout "$target/privkey.pem" -out "$target/fullchain.pem" 2>/dev/null
}

# Copies a certificate to where the turnserver user reads it. Calls the script's own `active`.
copy_turn_cert() { # directory holding fullchain.pem and privkey.pem
  local source=$1 f src
  install -d -m 0750 -o root -g turnserver /etc/coturn/tls
  for f in fullchain.pem privkey.pem; do
    src=$source/$f
    cmp -s "$src" /etc/coturn/tls/$f || install -m 0640 -o root -g turnserver "$src" /etc/coturn/tls/$f
  done
  # SIGUSR2 makes coturn reload its TLS certificates without dropping calls.
  if active coturn; then systemctl kill -s SIGUSR2 coturn; fi
}

# Exponential back-off per lineage: 5, 10, 20 … minutes, at most 6 hours between attempts. The
# state is kept in <state directory>/<lineage>.{tries,next}.
backoff_due() { # state directory, lineage: succeeds once the next attempt is due
  local next
  next=$(cat "$1/$2.next" 2>/dev/null || echo 0)
  [ "$(date +%s)" -ge "$next" ]
}
backoff_failed() { # state directory, lineage: records a failed attempt
  local tries delay
  tries=$(cat "$1/$2.tries" 2>/dev/null || echo 0)
  tries=$((tries + 1)); delay=$((300 * (1 << (tries < 7 ? tries - 1 : 6))))
  [ $delay -le 21600 ] || delay=21600
  echo "$tries" > "$1/$2.tries"; echo $(( $(date +%s) + delay )) > "$1/$2.next"
  echo "certificate for $2 not issued yet; next attempt in $((delay / 60)) min"
}
backoff_reset() { # state directory, lineage: the certificate is issued
  rm -f "$1/$2.tries" "$1/$2.next"
}

# cloud-init gives up on apt's lock after 30 s: install what it did not, then its deferred files.
ensure_packages() { # seconds to wait for apt's lock, packages...
  local wait=$1 p missing=(); shift
  for p in "$@"; do [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "xmpp-constructs: installing ${missing[*]}, waiting up to $wait s for apt's lock"
  local apt=(apt-get -qy -o "DPkg::Lock::Timeout=$wait" -o Dpkg::Options::=--force-confold) end=$((SECONDS + wait))
  until DEBIAN_FRONTEND=noninteractive "${apt[@]}" update; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 5; done
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" && cloud-init single --name write_files_deferred --frequency always
}
