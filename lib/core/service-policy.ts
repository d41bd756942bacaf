/**
 * The first-boot guard: Debian's policy layer for service starts, /usr/sbin/policy-rc.d.
 *
 * cloud-init installs the packages (its final stage) before it writes the package conffiles
 * (deferred write_files) and before the provisioning script runs, and Debian's maintainer scripts
 * start each service as it is installed, on the configuration Debian ships: coturn without any
 * authentication (an open relay, to the metadata service that serves user_data and into the VPC
 * too), nginx with its default site, Prosody listening publicly. That would last until provisioning
 * restarts them, which can be minutes (the volume wait), or for good if provisioning fails.
 *
 * So user_data writes this file before any package is installed (non-deferred write_files run in
 * cloud-init's init stage). Both ways a maintainer script starts a service, `deb-systemd-invoke` and
 * `invoke-rc.d`, ask it first; it forbids every action on the services this deployment configures
 * and allows every other, so the first boot's upgrades (openssh-server, say) restart theirs as usual.
 * The provisioning script deletes it right before it starts the services, once every configuration
 * is in place. If provisioning fails, the file stays and those services stay stopped, through any
 * later apt run as well, until a provisioning run succeeds.
 *
 * A reboot is the other way a service starts: systemd starts every enabled unit without asking
 * policy-rc.d, and the packages enable theirs on install. So each guarded unit also gets a drop-in
 * that makes systemd skip it while the guard is in place (`ConditionPathExists=!`).
 */
import { SERVICE_POLICY } from './paths';

/**
 * The packages whose services this deployment configures, each one's systemd unit named after it.
 * Any other package's services (openssh-server, unattended-upgrades) are left to Debian.
 */
export const CONFIGURED_SERVICES: readonly string[] = ['prosody', 'nginx', 'coturn'];

/** The units a droplet installing `packages` keeps stopped until provisioning: its configured services, in package order. */
export function guardedUnits(packages: readonly string[]): string[] {
  return packages.filter((p) => CONFIGURED_SERVICES.includes(p));
}

/**
 * The policy file's second line, saying whose it is and why. Provisioning deletes the file only when
 * it holds this exact line, so a policy-rc.d that someone else put there is never removed by mistake.
 */
export const SERVICE_POLICY_MARKER = '# xmpp-constructs first-boot guard: no service it configures may start before provisioning has configured it.';

/** Where the boot-time half of the guard goes for `unit` (a systemd drop-in). */
export function bootGuardDropinPath(unit: string): string {
  return `/etc/systemd/system/${unit}.service.d/xmpp-constructs-first-boot.conf`;
}

/**
 * The drop-in that keeps `unit` down at boot while the guard is in place: a unit whose condition
 * fails is skipped, not failed, and starts normally once provisioning has deleted the guard.
 */
export function renderBootGuardDropin(): string {
  return `# Rendered by xmpp-constructs. systemd starts enabled services at boot without asking
# ${SERVICE_POLICY}; while that first-boot guard is in place (provisioning has not succeeded yet),
# this service stays down rather than start on the configuration Debian ships.
[Unit]
ConditionPathExists=!${SERVICE_POLICY}
`;
}

/** A Debian package name: also a literal word in a shell `case` pattern. */
const UNIT_NAME = /^[a-z0-9][a-z0-9.+-]*$/;

/**
 * The content of SERVICE_POLICY, per policy-rc.d's interface (invoke-rc.d(8),
 * /usr/share/doc/init-system-helpers/README.policy-rc.d): exit 101 ("action forbidden") for every
 * action on `units`, named bare or as `<unit>.service`; 0 for any other unit; `--list` describes the
 * policy of one unit; other leading options (`--quiet`) are accepted; no unit at all is a syntax
 * error (103). A POSIX sh script, as invoke-rc.d and deb-systemd-invoke run it directly.
 */
export function renderServicePolicy(units: readonly string[]): string {
  if (units.length === 0) throw new Error('renderServicePolicy: no units to guard; a droplet without a configured service needs no guard');
  const invalid = units.filter((u) => !UNIT_NAME.test(u));
  if (invalid.length > 0) throw new Error(`renderServicePolicy: not a Debian package name: ${invalid.join(', ')}`);
  const pattern = units.flatMap((u) => [u, `${u}.service`]).join(' | ');
  return `#!/bin/sh
${SERVICE_POLICY_MARKER}
# ${SERVICE_POLICY}, Debian's policy layer (invoke-rc.d(8)): invoke-rc.d and deb-systemd-invoke ask
# it before a package's maintainer scripts start, stop, restart or reload a service. user_data writes
# it before cloud-init installs the packages, which would otherwise start ${units.join(', ')} on the
# configuration Debian ships, not on this deployment's: every action on them is forbidden (101).
# Every other service is allowed (0), so the first boot's upgrades restart theirs as usual. The
# provisioning script deletes this file right before it starts the services. Should provisioning
# fail, the file stays, and apt starts none of them until a provisioning run succeeds.
#   policy-rc.d [--quiet] <service> <actions> [<runlevel>]
#   policy-rc.d [--quiet] --list <service> [<runlevel> ...]
list=0 quiet=0
while [ $# -gt 0 ]; do
  case $1 in
    --list) list=1 ;;
    --quiet) quiet=1 ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
if [ $# -eq 0 ]; then
  [ "$quiet" = 1 ] || echo "usage: $0 [--quiet] <service> <actions> [<runlevel>] | [--quiet] --list <service> [<runlevel> ...]" >&2
  exit 103
fi
case $1 in
  ${pattern}) forbidden=1 ;;
  *) forbidden=0 ;;
esac
if [ "$list" = 1 ]; then
  if [ "$forbidden" = 1 ]; then echo "$1: every action forbidden until xmpp-constructs has provisioned this droplet"; else echo "$1: every action allowed"; fi
  exit 0
fi
if [ "$forbidden" = 1 ]; then exit 101; fi
exit 0
`;
}
