/**
 * What the stack tells its operator after deploy. Plain text only: never a password or secret.
 */
import { ResolvedSpec } from './spec';

/** How to reach the host as root. */
export function sshInstructions(spec: ResolvedSpec, address: string): string {
  return spec.adminSourceCidrs.length > 0
    ? `ssh root@${address}`
    : `SSH is closed (adminSourceCidrs is empty): use the DigitalOcean web console of droplet ${spec.droplet.name}`;
}

/**
 * How the first admin account comes into being: an invitation (the admin picks a password on
 * their own device), or on a closed server prosodyctl, which asks for the password interactively.
 */
export function firstAdminInstructions(spec: ResolvedSpec): string {
  const admin = spec.admins[0];
  const domain = admin.split('@')[1];
  return spec.registration === 'invite'
    ? `On the host, run: prosodyctl mod_invites generate ${domain} — open the link on the admin's device and register as ${admin}`
    : `On the host, run: prosodyctl adduser ${admin} — it asks for the password`;
}
