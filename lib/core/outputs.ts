/**
 * What the stack tells its operator after deploy. Plain text only: never a password or secret.
 */
import type { ServicePlan } from './service-plan';
import { hasExternalZones, ResolvedSpec } from './spec';
import { platformOf } from './platforms';
import { xmppJid } from './expansion';

/** A service's outputs, by name, with what each says; both engines give them these names. */
export const SERVICE_OUTPUTS = {
  ipv4: "The droplet's own IPv4 address (changes when the droplet is replaced)",
  ipv6: "The droplet's IPv6 address",
  reserved_ipv4: 'The stable IPv4 address the domains point at',
  reserved_ipv6: 'The stable IPv6 address the domains point at',
  turn_ipv4: "The dedicated TURN droplet's IPv4 address",
  domains: 'The XMPP domains served',
  ssh: 'How to reach the host as root',
  first_admin: 'How to create the first admin account (no password is ever output)',
  zone_files: 'Records of the zones hosted outside DigitalOcean, by zone: load each into its DNS',
  config_bundle: 'The SHA-256 of the configuration bundle the host should run (configDelivery "spaces"): xmpp-doctor --bundle compares it with the live host',
} as const;
export type ServiceOutputName = keyof typeof SERVICE_OUTPUTS;

/** The outputs `plan` has, in order: IPv6, the reserved IPv6, the TURN droplet and zone files only where they exist. */
export function plannedOutputs(plan: ServicePlan<unknown>): ServiceOutputName[] {
  const present: { readonly [name in ServiceOutputName]: boolean } = {
    ipv4: true,
    ipv6: plan.spec.droplet.ipv6,
    reserved_ipv4: true,
    reserved_ipv6: plan.host.reservedIpv6 !== undefined,
    turn_ipv4: plan.turn.dedicated !== undefined,
    domains: true,
    ssh: true,
    first_admin: true,
    zone_files: hasExternalZones(plan.spec),
    config_bundle: plan.host.configChannel !== undefined,
  };
  return (Object.keys(SERVICE_OUTPUTS) as ServiceOutputName[]).filter((name) => present[name]);
}

/** How to reach the host as root. */
export function sshInstructions(spec: ResolvedSpec, address: string): string {
  return spec.adminSourceCidrs.length > 0
    ? `ssh root@${address}`
    : `SSH is closed (adminSourceCidrs is empty): use the DigitalOcean web console of droplet ${spec.droplet.name}`;
}

/**
 * How the first admin gets their account: with invitations, provisioning has created it (so no
 * invitation for any name can take it) and a one-use link sets its password on the admin's own
 * device; on a closed server prosodyctl creates it, asking for the password interactively.
 */
export function firstAdminInstructions(spec: ResolvedSpec): string {
  // As the admin signs in, and as Prosody knows the domain: Unicode for an internationalised one.
  const admin = xmppJid(spec.admins[0]);
  const prosody = platformOf(spec).prosody;
  return spec.registration === 'invite'
    ? `On the host, run: ${prosody.adminInviteCommand(admin)} — open the link (valid for a day) on the admin's device and choose the password of ${admin}`
    : `On the host, run: ${prosody.addUserCommand(admin)} — it asks for the password`;
}
