/**
 * Domains spread over several hosts: each host is a whole service (droplet, volume, reserved IP,
 * firewall) for the domains assigned to it. What must hold across hosts is checked here, before
 * any engine creates anything.
 */
import { ResolvedSpec } from './spec';

/**
 * A host's name and how to resolve the declaration of the service it runs: `resolveSpec`, or an
 * adapter's resolver that defers a deploy-time secret. Its failure is reported under the host.
 */
export interface HostAssignment {
  readonly host: string;
  readonly resolve: () => ResolvedSpec;
}

/**
 * Fails, naming every conflict and its fix, when two hosts would serve the same domain, hold the
 * same component or TURN name, or get the same droplet (and so volume and firewall) name.
 * Each spec is validated on its own first, its messages prefixed with the host.
 */
export function checkHostAssignments(hosts: readonly HostAssignment[]): void {
  if (hosts.length === 0) throw new Error('hosts: no host is declared. Fix: declare at least one, e.g. hosts: { "chat-1": { spec: { domains: ["example.net"], … } } }.');
  const problems: string[] = [];
  const owners = new Map<string, string>();
  const claim = (what: string, name: string, host: string, fix: string) => {
    const owner = owners.get(`${what}:${name}`);
    if (owner !== undefined && owner !== host) problems.push(`hosts.${host}: ${what} "${name}" is also on host ${owner}. Fix: ${fix}`);
    else owners.set(`${what}:${name}`, host);
  };
  const names = new Map<string, string>();
  for (const { host, resolve } of hosts) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(host)) {
      problems.push(`hosts: "${host}" is not a usable host name. Fix: lower-case letters, digits and hyphens, at most 63 characters.`);
      continue;
    }
    let resolved;
    try {
      resolved = resolve();
    } catch (error) {
      problems.push(`hosts.${host}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    for (const domain of resolved.domains) {
      // A name in two zones' records and two certificates: DigitalOcean refuses the second zone,
      // and clients would reach either host.
      claim('name', domain.name, host, 'assign each domain to one host only.');
      for (const component of domain.components) claim('name', component.host, host, 'assign each domain to one host only.');
    }
    if (resolved.calls.enabled) claim('name', resolved.calls.host, host, 'give each host its own calls.name or primary domain.');
    const sameDroplet = names.get(resolved.droplet.name);
    if (sameDroplet !== undefined) problems.push(`hosts.${host}: droplet name "${resolved.droplet.name}" is also host ${sameDroplet}'s. Fix: set droplet.name on one of them.`);
    else names.set(resolved.droplet.name, host);
  }
  if (problems.length > 0) throw new Error(`The hosts do not fit together:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

/**
 * Plan every host's service with `plan` (an adapter's planner), check the hosts together as
 * `checkHostAssignments` does, and return the plans by host name, so each service is planned once.
 */
export function planHosts<Declared, Plan extends { readonly spec: ResolvedSpec }>(hosts: { readonly [host: string]: Declared }, plan: (declared: Declared) => Plan): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  checkHostAssignments(
    Object.entries(hosts).map(([host, declared]) => ({
      host,
      resolve: () => {
        const planned = plan(declared);
        plans.set(host, planned);
        return planned.spec;
      },
    })),
  );
  return plans;
}
