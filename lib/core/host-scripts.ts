/**
 * The scripts and systemd units that run on the droplet.
 *
 * The scripts are the same for every declaration; everything that varies lives in small data
 * files (`host.env`, `domains.list`) and the templates (expansion.ts) that the scripts read. That
 * keeps the scripts reviewable once, keeps user_data small with many domains, and lets tests run
 * the very same scripts.
 */
import {
  ACME_WEBROOT,
  CERTS_DIR,
  ETC_DIR,
  HOST_META_ROOT,
  LETSENCRYPT_LIVE,
  NGINX_SITE,
  PROSODY_CONFIG,
  PROSODY_CERTS_DIR,
  PROSODY_SECRETS_INCLUDE,
  PROVISION_SCRIPT,
  SECRETS_DIR,
  SELF_SIGNED_DIR,
  SERVICE_POLICY,
  TURN_ADDRESSES_ENV,
  TURN_CERT_DIR,
  TURN_SECRET_FILE,
  TURN_USERDB,
  VOLUME_BINDS,
  VOLUME_MOUNT,
} from './paths';
import { certificateNames, hasTurnOnProsodyHost, ResolvedSpec } from './spec';
import { DOMAIN_PLACEHOLDER, DOMAINS_LIST, DomainTemplate, EXPAND_SCRIPT, ExpandedFile, templatePath } from './expansion';
import { hostMetaPaths } from './nginx';
import { turnRealm } from './turn';
import { PROSODY_TURN_SECRET_OPTION } from './prosody';
import { SERVICE_POLICY_MARKER } from './service-policy';

export const HOST_ENV = `${ETC_DIR}/host.env`;
export const CERTIFICATES_LIST = `${ETC_DIR}/certificates.list`;
export const CERTS_SCRIPT = '/usr/local/sbin/xmpp-constructs-certs';
export const CERTS_SERVICE = '/etc/systemd/system/xmpp-constructs-certificates.service';
export const CERTS_TIMER = '/etc/systemd/system/xmpp-constructs-certificates.timer';
/**
 * Where a user-supplied TURN secret lands: on the Prosody host, before provisioning moves it onto
 * the volume; on a dedicated TURN droplet, where its script reads it.
 */
export const SUPPLIED_TURN_SECRET = `${ETC_DIR}/turn-shared-secret.supplied`;
/** The dedicated TURN droplet's one script: provisioning, certificate issuance, deploy hook. */
export const TURN_PROVISION_SCRIPT = '/usr/local/sbin/xmpp-constructs-turn';
/** Puts the reserved IPv6 address on the droplet once DigitalOcean has assigned it (and takes it off again). */
export const RESERVED_IPV6_SCRIPT = '/usr/local/sbin/xmpp-constructs-reserved-ipv6';
export const RESERVED_IPV6_SERVICE = '/etc/systemd/system/xmpp-constructs-reserved-ipv6.service';
export const RESERVED_IPV6_TIMER = '/etc/systemd/system/xmpp-constructs-reserved-ipv6.timer';

/**
 * How long provisioning waits for the volume's device to appear. DigitalOcean attaches the volume
 * while the droplet boots; udev names it under /dev/disk/by-id within seconds, rarely a minute.
 */
export const VOLUME_WAIT_SECONDS = 300;

/** A single-quoted shell word; safe for any string. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The header and `KEY=value` lines of a host.env. */
function envFile(vars: readonly [string, string][]): string {
  return ['# Rendered by xmpp-constructs; read by the scripts in /usr/local/sbin.', ...vars.map(([k, v]) => `${k}=${shQuote(v)}`), ''].join('\n');
}

/** `KEY=value` lines the Prosody host's scripts source. Only validated, non-secret values go here. */
export function renderHostEnv(spec: ResolvedSpec): string {
  const vars: [string, string][] = [
    ['VOLUME_DEVICE', `/dev/disk/by-id/scsi-0DO_Volume_${spec.droplet.volumeName}`],
    ['VOLUME_WAIT_SECONDS', String(VOLUME_WAIT_SECONDS)],
    ['VOLUME_MOUNT', VOLUME_MOUNT],
    ['PRIMARY_DOMAIN', spec.primaryDomain],
    // Means "coturn runs on this host". The name predates dedicated TURN droplets and stays, since
    // any change to user_data replaces the droplet. With a TURN droplet, Prosody's half of the
    // secret comes as a file of its own (see renderHostFiles).
    ['TURN_ENABLED', hasTurnOnProsodyHost(spec) ? '1' : '0'],
    ['TURN_REALM', turnRealm(spec)],
    ['IPV6_ENABLED', spec.droplet.ipv6 ? '1' : '0'],
    // The domains' AAAA records point at a reserved IPv6 address this droplet must put on itself.
    ['RESERVED_IPV6', spec.droplet.reservedIpv6 ? '1' : '0'],
    ['ACME_EMAIL', spec.acme.email],
    ['ACME_STAGING', spec.acme.staging ? '1' : '0'],
  ];
  return envFile(vars);
}

/** The dedicated TURN droplet's host.env, read by TURN_PROVISION_SCRIPT. */
export function renderTurnHostEnv(spec: ResolvedSpec): string {
  return envFile([
    ['TURN_HOST', spec.calls.host],
    ['TURN_REALM', turnRealm(spec)],
    ['IPV6_ENABLED', spec.droplet.ipv6 ? '1' : '0'],
    ['ACME_EMAIL', spec.acme.email],
    ['ACME_STAGING', spec.acme.staging ? '1' : '0'],
  ]);
}

/**
 * CERTIFICATES_LIST by domain (expansion.ts): one line per certificate lineage, the lineage name
 * (the domain) and then every name it covers.
 */
export function certificatesList(spec: ResolvedSpec): DomainTemplate {
  return {
    shared: { head: '', between: '', tail: '' },
    perDomain: (domain) => `${[domain.name, ...certificateNames(spec, domain)].join(' ')}\n`,
  };
}

const BINDS_SH = VOLUME_BINDS.map((b) => `${b.volumeDir}:${b.systemDir}`).join(' ');

// ---------------------------------------------------------------------------------------------
// Shell snippets shared by the Prosody host's scripts and the TURN droplet's script, so that the
// same logic is written once. Each is unindented; `indent()` places it inside a block.
// ---------------------------------------------------------------------------------------------

/** `text` with every non-empty line prefixed by `prefix`. */
function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${prefix}${line}`))
    .join('\n');
}

/** Named steps, and a loud failure that names the step it happened in. Shared with the backup script. */
export const STEP_SH = `step() { CURRENT_STEP="$1"; echo "xmpp-constructs: $1"; }
fail() { echo "xmpp-constructs: FAILED: $*" >&2; logger -t xmpp-constructs "FAILED: $*" || true; exit 1; }
trap 'fail "step \\"\${CURRENT_STEP:-start}\\" (line $LINENO)"' ERR`;

const PUT_FILE_SH = `# Replace a file only when its content changes, so a rerun touches nothing.
put_file() { # path mode owner < content
  local tmp; tmp=$(mktemp "$1.XXXXXX"); cat > "$tmp"; chmod "$2" "$tmp"; chown "$3" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}`;

/**
 * Lifts the first-boot guard (service-policy.ts). Only once every configuration is in place, right
 * before the services start: until then it keeps the packages from starting them on Debian's
 * defaults, and after a failed run it keeps them stopped.
 */
const LIFT_SERVICE_POLICY_SH = `# Every configuration is in place: lift the first-boot guard that kept the packages from starting
# the services on Debian's defaults. Only our own: a policy-rc.d without our marker is not ours.
if grep -qxF ${shQuote(SERVICE_POLICY_MARKER)} ${SERVICE_POLICY} 2>/dev/null; then rm -f ${SERVICE_POLICY}; fi`;

const METADATA_SH = 'metadata() { curl -fsS --max-time 5 "http://169.254.169.254/metadata/v1/$1"; }';

/** Stores `$secret` in coturn's userdb as the only secret of `$TURN_REALM`. */
const TURN_USERDB_SH = `# coturn reads the secret from its database, so turnserver.conf stays free of it.
install -d -o turnserver -g turnserver -m 0750 "$(dirname ${TURN_USERDB})"
# The realm must be coturn's realm (the TURN host name): coturn looks secrets up by it.
if ! turnadmin --show-secret --realm "$TURN_REALM" --db ${TURN_USERDB} 2>/dev/null | grep -qxF "\${secret}[\${TURN_REALM}]"; then
  # An empty secret deletes every secret of the realm: a changed secret replaces the old one.
  turnadmin --delete-secret "" --realm "$TURN_REALM" --db ${TURN_USERDB} >/dev/null
  turnadmin --set-secret "$secret" --realm "$TURN_REALM" --db ${TURN_USERDB} >/dev/null
fi
chown turnserver:turnserver ${TURN_USERDB}; chmod 0600 ${TURN_USERDB}`;

/** This droplet's own public addresses, from the metadata service, for coturn's systemd drop-in. */
const TURN_ADDRESSES_SH = `step "TURN listening addresses"
args="--listening-ip=$(metadata interfaces/public/0/ipv4/address) --relay-ip=$(metadata interfaces/public/0/ipv4/address)"
if [ "$IPV6_ENABLED" = 1 ]; then
  v6=$(metadata interfaces/public/0/ipv6/address)
  args="$args --listening-ip=$v6 --relay-ip=$v6"
fi
echo "TURN_ADDRESS_ARGS=\\"$args\\"" | put_file ${TURN_ADDRESSES_ENV} 0644 root:root`;

/** Copies the certificate in directory `source` to where the turnserver user reads it. Needs `active`. */
function turnCertCopySh(source: string): string {
  return `install -d -m 0750 -o root -g turnserver ${TURN_CERT_DIR}
for f in fullchain.pem privkey.pem; do
  src=${source}/$f
  cmp -s "$src" ${TURN_CERT_DIR}/$f || install -m 0640 -o root -g turnserver "$src" ${TURN_CERT_DIR}/$f
done
# SIGUSR2 makes coturn reload its TLS certificates without dropping calls.
if active coturn; then systemctl kill -s SIGUSR2 coturn; fi`;
}

/** A self-signed stand-in certificate for `$lineage`, valid for `$san`, into directory `$target`. */
const SELF_SIGNED_SH = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \\
  -subj "/CN=$lineage" -addext "subjectAltName=$san" \\
  -keyout "$target/privkey.pem" -out "$target/fullchain.pem" 2>/dev/null`;

const DNS_POINTS_HERE_SH = `# Does every name resolve to one of this droplet's addresses? Asking Let's Encrypt before that
# only burns its failed-validation limit (5 per hour per name).
dns_points_here() {
  local mine
  mine=$(curl -fsS --max-time 5 http://169.254.169.254/metadata/v1/interfaces/public/0/ipv4/address; echo
         curl -fsS --max-time 5 http://169.254.169.254/metadata/v1/reserved_ip/ipv4/ip_address 2>/dev/null; echo)
  for n in "$@"; do
    getent ahostsv4 "$n" | awk '{print $1}' | sort -u | grep -qxF -f <(grep . <<<"$mine") || { echo "$n does not resolve here yet"; return 1; }
  done
}`;

/**
 * Exponential back-off per lineage, kept in `$state/$lineage.{tries,next}`. The first half leaves
 * with `skip` while the next attempt is not due yet; the second records a failed attempt.
 */
function backoffDueSh(skip: string): string {
  return `# Exponential back-off per lineage: 5, 10, 20 … minutes, at most 6 hours between attempts.
tries=$(cat "$state/$lineage.tries" 2>/dev/null || echo 0)
next=$(cat "$state/$lineage.next" 2>/dev/null || echo 0)
[ "$(date +%s)" -ge "$next" ] || ${skip}`;
}

const BACKOFF_FAILED_SH = `tries=$((tries + 1)); delay=$((300 * (1 << (tries < 7 ? tries - 1 : 6))))
[ $delay -le 21600 ] || delay=21600
echo "$tries" > "$state/$lineage.tries"; echo $(( $(date +%s) + delay )) > "$state/$lineage.next"
echo "certificate for $lineage not issued yet; next attempt in $((delay / 60)) min"`;

/**
 * The files the provisioning script expands from their templates (expansion.ts); the templates
 * travel in user_data at `templatePath(path)`. Owners and modes are what the packages expect.
 */
export const EXPANDED_FILES: readonly ExpandedFile[] = [
  { path: CERTIFICATES_LIST, owner: 'root:root', permissions: '0644' },
  { path: PROSODY_CONFIG, owner: 'root:prosody', permissions: '0640' },
  { path: NGINX_SITE, owner: 'root:root', permissions: '0644' },
];

/** Each domain's host-meta documents, with `@DOMAIN@` for the domain; templates at `templatePath(path)`. */
export const HOST_META_FILES: readonly string[] = [hostMetaPaths(DOMAIN_PLACEHOLDER).xml, hostMetaPaths(DOMAIN_PLACEHOLDER).json];

/** The provisioning script: idempotent, loud on failure, safe to run on every boot. */
export function renderProvisionScript(): string {
  return `#!/bin/bash
# ${PROVISION_SCRIPT}: brings this droplet to the declared state. Rendered by xmpp-constructs.
# Idempotent: a second run changes nothing. Any failure stops it and names the step.
set -euo pipefail
umask 022
# shellcheck source=/dev/null
. ${HOST_ENV}

${STEP_SH}

# Append a line to /etc/fstab unless it is already there.
fstab_line() { grep -qxF "$1" /etc/fstab || echo "$1" >> /etc/fstab; }
${PUT_FILE_SH}
${METADATA_SH}

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
# the first-boot guard kept it from starting; a rerun (by hand) finds it running.
systemctl stop prosody >/dev/null 2>&1 || true
for pair in ${BINDS_SH}; do
  vol=\${pair%%:*}; sys=\${pair#*:}
  if [ ! -d "$vol" ]; then
    # First boot with this volume: seed it with what the packages installed.
    mkdir -p "$vol.seed"; [ -d "$sys" ] && cp -a "$sys/." "$vol.seed/"; mv "$vol.seed" "$vol"
  fi
  mkdir -p "$sys"
  fstab_line "$vol $sys none bind,nofail,x-systemd.requires-mounts-for=$VOLUME_MOUNT 0 0"
  mountpoint -q "$sys" || mount --bind "$vol" "$sys"
done
# A replacement droplet may give the prosody user another uid.
chown -R prosody:prosody /var/lib/prosody
install -d -m 0700 -o root -g root ${SECRETS_DIR} ${SELF_SIGNED_DIR}

if [ "$TURN_ENABLED" = 1 ]; then
  step "TURN shared secret"
  if [ -f ${SUPPLIED_TURN_SECRET} ]; then
    put_file ${TURN_SECRET_FILE} 0600 root:root < ${SUPPLIED_TURN_SECRET}
  elif [ ! -s ${TURN_SECRET_FILE} ]; then
    (umask 077; openssl rand -hex 32 > ${TURN_SECRET_FILE}.new && mv ${TURN_SECRET_FILE}.new ${TURN_SECRET_FILE})
  fi
  secret=$(cat ${TURN_SECRET_FILE})
  printf -- '-- Generated on the host from the data volume. Not managed by IaC.\\n${PROSODY_TURN_SECRET_OPTION} = "%s"\\n' "$secret" \\
    | put_file ${PROSODY_SECRETS_INCLUDE} 0640 root:prosody
${indent(TURN_USERDB_SH, '  ')}

${indent(TURN_ADDRESSES_SH, '  ')}
fi

step "configuration for every domain"
${EXPANDED_FILES.map((f) => `${EXPAND_SCRIPT} ${templatePath(f.path)} ${DOMAINS_LIST} | put_file ${f.path} ${f.permissions} ${f.owner}`).join('\n')}
# host-meta for each domain; the documents of domains no longer served go.
served=$(printf '%s\n' "$PRIMARY_DOMAIN"; cat ${DOMAINS_LIST})
for d in $served; do
  install -d -m 0755 "${HOST_META_ROOT}/$d/.well-known"
${HOST_META_FILES.map((f) => `  sed "s/${DOMAIN_PLACEHOLDER}/$d/g" ${templatePath(f)} | put_file "${f.split(DOMAIN_PLACEHOLDER).join('$d')}" 0644 root:root`).join('\n')}
done
for dir in ${HOST_META_ROOT}/*/; do
  grep -qxF "$(basename "$dir")" <<<"$served" || rm -rf "$dir"
done

step "certificates (self-signed until Let's Encrypt has issued)"
install -d -m 0755 ${ACME_WEBROOT}
${CERTS_SCRIPT} link --no-reload

step "starting services"
rm -f /etc/nginx/sites-enabled/default
nginx -t -q
systemctl daemon-reload
${LIFT_SERVICE_POLICY_SH}
systemctl enable nginx prosody
systemctl reload-or-restart nginx
# Prosody was stopped above; start it exactly once. A SIGTERM in its first moments is lost, so
# "start, then restart" would leave systemd waiting out TimeoutStopSec.
systemctl restart prosody
if [ "$TURN_ENABLED" = 1 ]; then systemctl enable coturn && systemctl restart coturn; fi
systemctl enable --now xmpp-constructs-certificates.timer xmpp-constructs-backup.timer

if [ "$RESERVED_IPV6" = 1 ]; then
  # Prosody and nginx listen on every address: they answer on it as soon as it is there.
  step "reserved IPv6 address"
  # DigitalOcean assigns it only once this droplet exists, often after this first run: the timer
  # keeps asking every minute, and the service puts it back at every boot.
  ${RESERVED_IPV6_SCRIPT} || echo "xmpp-constructs: the reserved IPv6 address is not in place yet; ${unitName(RESERVED_IPV6_TIMER)} retries every minute"
  systemctl enable ${unitName(RESERVED_IPV6_SERVICE)}
  systemctl enable --now ${unitName(RESERVED_IPV6_TIMER)}
fi

step "done"
`;
}

/** Certificate handling: self-signed bootstrap, linking, import into Prosody and coturn, issuance. */
export function renderCertsScript(): string {
  return `#!/bin/bash
# ${CERTS_SCRIPT}: certificates for every lineage in ${CERTIFICATES_LIST}. Rendered by xmpp-constructs.
#   link [--no-reload]  point ${CERTS_DIR}/<lineage> at the Let's Encrypt lineage if it exists,
#                       else at a self-signed certificate; import into Prosody; copy for coturn.
#                       Also certbot's deploy hook.
#   issue               request missing certificates once DNS points here, with back-off.
set -euo pipefail
# shellcheck source=/dev/null
. ${HOST_ENV}
reload=1; [ "\${2:-}" = --no-reload ] && reload=0
active() { [ "$reload" = 1 ] && systemctl is-active --quiet "$1"; }

covers_names() { # certificate file, names...: every name is in the certificate's SAN list
  local cert=$1; shift
  local sans; sans=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | tr ',' '\\n' | sed -n 's/^ *DNS://p')
  for n in "$@"; do grep -qxF "$n" <<<"$sans" || return 1; done
}

link() {
  install -d -m 0755 ${CERTS_DIR}
  local changed=()
  while read -r lineage names; do
    [ -n "$lineage" ] || continue
    live=${LETSENCRYPT_LIVE}/$lineage
    if [ -s "$live/fullchain.pem" ]; then
      target=$live
    else
      target=${SELF_SIGNED_DIR}/$lineage
      # shellcheck disable=SC2086
      if [ ! -s "$target/fullchain.pem" ] || ! covers_names "$target/fullchain.pem" $names; then
        install -d -m 0700 "$target"
        san=$(printf 'DNS:%s,' $names); san=\${san%,}
${indent(SELF_SIGNED_SH, '        ')}
      fi
    fi
    [ "$(readlink "${CERTS_DIR}/$lineage" 2>/dev/null)" = "$target" ] || ln -sfn "$target" "${CERTS_DIR}/$lineage"
    # Only changed certificates: every import also leaves .bkp~ copies of the previous files.
    cmp -s "$target/fullchain.pem" "${PROSODY_CERTS_DIR}/$lineage.crt" || changed+=("$lineage")
  done < ${CERTIFICATES_LIST}

  # Prosody cannot read root's keys; import copies them to ${PROSODY_CERTS_DIR} for the prosody user.
  if [ \${#changed[@]} -gt 0 ]; then prosodyctl --root cert import "\${changed[@]}" ${CERTS_DIR} >/dev/null; fi
  if [ "$TURN_ENABLED" = 1 ]; then
${indent(turnCertCopySh(`${CERTS_DIR}/$PRIMARY_DOMAIN`), '    ')}
  fi
  # Restart, not reload: Prosody 0.12.3 keeps serving the old certificate on the direct TLS port
  # to clients without SNI after a reload. Only when a certificate changed (issuance, renewal).
  if [ \${#changed[@]} -gt 0 ] && active prosody; then systemctl restart prosody; fi
  if active nginx; then systemctl reload nginx; fi
}

${DNS_POINTS_HERE_SH}

issue() {
  state=/var/lib/xmpp-constructs; install -d -m 0700 $state
  while read -r lineage names; do
    [ -n "$lineage" ] || continue
    live=${LETSENCRYPT_LIVE}/$lineage/fullchain.pem
    # shellcheck disable=SC2086
    if [ -s "$live" ] && covers_names "$live" $names; then continue; fi  # renewals are certbot.timer's job
${indent(backoffDueSh('continue'), '    ')}
    # shellcheck disable=SC2086
    if dns_points_here $names; then
      domains=(); for n in $names; do domains+=(-d "$n"); done
      staging=(); [ "$ACME_STAGING" = 1 ] && staging=(--staging)
      if certbot certonly --non-interactive --agree-tos --email "$ACME_EMAIL" "\${staging[@]}" \\
           --webroot -w ${ACME_WEBROOT} --cert-name "$lineage" "\${domains[@]}" \\
           --deploy-hook "${CERTS_SCRIPT} link"; then
        rm -f "$state/$lineage.tries" "$state/$lineage.next"
        continue
      fi
    fi
${indent(BACKOFF_FAILED_SH, '    ')}
  done < ${CERTIFICATES_LIST}
}

case "\${1:-}" in
  link) link ;;
  issue) issue ;;
  *) echo "usage: $0 link [--no-reload] | issue" >&2; exit 2 ;;
esac
`;
}

export function renderCertsService(): string {
  return `[Unit]
Description=xmpp-constructs: obtain missing Let's Encrypt certificates
After=network-online.target nginx.service
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${CERTS_SCRIPT} issue
`;
}

export function renderCertsTimer(): string {
  return `[Unit]
Description=xmpp-constructs: retry certificate issuance until DNS points here

[Timer]
OnBootSec=1min
OnUnitInactiveSec=5min

[Install]
WantedBy=timers.target
`;
}

/**
 * The dedicated TURN droplet's script. It keeps no state worth a volume: the secret comes from IaC
 * with user_data, and a replacement droplet is simply issued a new certificate. Let's Encrypt allows
 * 5 duplicate certificates per week, which a TURN host that is rarely replaced stays well within.
 */
export function renderTurnProvisionScript(): string {
  return `#!/bin/bash
# ${TURN_PROVISION_SCRIPT}: brings this TURN droplet to the declared state. Rendered by xmpp-constructs.
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
. ${HOST_ENV}

${STEP_SH}

${PUT_FILE_SH}
${METADATA_SH}
active() { systemctl is-active --quiet "$1"; }

${DNS_POINTS_HERE_SH}

copy_cert() { # directory holding fullchain.pem and privkey.pem
  local source=$1
${indent(turnCertCopySh('$source'), '  ')}
}

provision() {
  step "TURN shared secret"
  [ -s ${SUPPLIED_TURN_SECRET} ] || fail "${SUPPLIED_TURN_SECRET} is missing or empty; it comes with user_data"
  secret=$(cat ${SUPPLIED_TURN_SECRET})
${indent(TURN_USERDB_SH, '  ')}

${indent(TURN_ADDRESSES_SH, '  ')}

  step "certificate (self-signed until Let's Encrypt has issued)"
  if [ -s "${LETSENCRYPT_LIVE}/$TURN_HOST/fullchain.pem" ]; then
    copy_cert "${LETSENCRYPT_LIVE}/$TURN_HOST"
  elif [ ! -s ${TURN_CERT_DIR}/fullchain.pem ]; then
    lineage=$TURN_HOST; san="DNS:$TURN_HOST"; target=$(mktemp -d)
${indent(SELF_SIGNED_SH, '    ')}
    copy_cert "$target"; rm -rf "$target"
  fi

  step "starting coturn"
  systemctl daemon-reload
  systemctl enable coturn
${indent(LIFT_SERVICE_POLICY_SH, '  ')}
  systemctl restart coturn
  systemctl enable --now ${unitName(CERTS_TIMER)}

  step "done"
}

issue() {
  state=/var/lib/xmpp-constructs; install -d -m 0700 $state
  lineage=$TURN_HOST
  # Renewals are certbot.timer's job: the lineage's renewal configuration keeps --standalone and the hook.
  [ ! -s "${LETSENCRYPT_LIVE}/$lineage/fullchain.pem" ] || return 0
${indent(backoffDueSh('return 0'), '  ')}
  if dns_points_here "$lineage"; then
    staging=(); [ "$ACME_STAGING" = 1 ] && staging=(--staging)
    # Nothing else listens on port 80 here, so certbot answers the http-01 challenge itself.
    if certbot certonly --standalone --non-interactive --agree-tos --email "$ACME_EMAIL" "\${staging[@]}" \\
         --cert-name "$lineage" -d "$lineage" --deploy-hook "${TURN_PROVISION_SCRIPT} deploy"; then
      rm -f "$state/$lineage.tries" "$state/$lineage.next"
      return 0
    fi
  fi
${indent(BACKOFF_FAILED_SH, '  ')}
}

case "\${1:-}" in
  provision) provision ;;
  issue) issue ;;
  deploy) copy_cert "${LETSENCRYPT_LIVE}/$TURN_HOST" ;;
  *) echo "usage: $0 provision | issue | deploy" >&2; exit 2 ;;
esac
`;
}

/**
 * RESERVED_IPV6_SCRIPT. DigitalOcean routes a reserved IPv6 address to the droplet it is assigned to
 * but configures nothing inside it: the droplet must put the address on its loopback interface
 * itself, after the assignment, which DigitalOcean's metadata service reports
 * (https://docs.digitalocean.com/products/networking/reserved-ips/how-to/manually-enable/). Prosody
 * and nginx listen on every address, so they answer on it as soon as it is there; coturn does not
 * need it (the TURN name keeps the droplet's own addresses, which coturn relays from).
 */
export function renderReservedIpv6Script(): string {
  return `#!/bin/bash
# ${RESERVED_IPV6_SCRIPT}: puts the reserved IPv6 address DigitalOcean has assigned to this droplet
# on its loopback interface, or takes it off once unassigned. Rendered by xmpp-constructs.
# Run by provisioning, at boot (the address does not survive a reboot) and every minute by its
# timer (the assignment is made after the droplet exists, and moves with a replacement).
# Idempotent: when everything is in place it changes nothing.
set -euo pipefail
${METADATA_SH}

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
`;
}

/** Runs RESERVED_IPV6_SCRIPT once at boot, once the network is up. */
export function renderReservedIpv6Service(): string {
  return `[Unit]
Description=xmpp-constructs: the reserved IPv6 address on this droplet
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${RESERVED_IPV6_SCRIPT}

[Install]
WantedBy=multi-user.target
`;
}

/** Runs RESERVED_IPV6_SCRIPT every minute: DigitalOcean assigns the address after the droplet boots. */
export function renderReservedIpv6Timer(): string {
  return `[Unit]
Description=xmpp-constructs: follow the reserved IPv6 address's assignment

[Timer]
OnBootSec=1min
OnUnitActiveSec=1min

[Install]
WantedBy=timers.target
`;
}

/** The TURN droplet's issuance service, run by the same timer as on the Prosody host (renderCertsTimer). */
export function renderTurnCertsService(): string {
  return `[Unit]
Description=xmpp-constructs: obtain the TURN name's Let's Encrypt certificate
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${TURN_PROVISION_SCRIPT} issue
`;
}

/** A unit's name from its path. */
function unitName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
