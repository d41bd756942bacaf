/**
 * planFirewall(): the DigitalOcean cloud firewall in front of the Prosody droplet, derived from the
 * listeners of the enabled features (`planListeners`). Only listeners that are meant to be public
 * get an inbound rule open to everyone, SSH only the administrators' networks; Prosody's own HTTP
 * ports stay behind nginx and are never opened.
 * planTurnFirewall(): the one in front of a dedicated TURN droplet.
 */
import { Listener, ListenerHost, LOOPBACK_ONLY_TCP_PORTS, planListeners, portText, PortRange } from './listeners';
import { hasDedicatedTurnDroplet, ResolvedSpec } from './spec';

export { LOOPBACK_ONLY_TCP_PORTS } from './listeners';
export type { PortRange } from './listeners';

export type FirewallProtocol = 'tcp' | 'udp' | 'icmp';

export interface FirewallRulePlan {
  readonly protocol: FirewallProtocol;
  /** A port (`"443"`) or an inclusive range (`"49152-65535"`); absent for icmp. */
  readonly ports?: string;
  /** Source (inbound) or destination (outbound) addresses and CIDR blocks. */
  readonly addresses: readonly string[];
  /** Why the rule exists; for review and for adapters' descriptions. */
  readonly purpose: string;
}

export interface FirewallPlan {
  readonly inbound: readonly FirewallRulePlan[];
  readonly outbound: readonly FirewallRulePlan[];
}

/** Every IPv4 and IPv6 address. */
export const EVERYWHERE: readonly string[] = ['0.0.0.0/0', '::/0'];

/** DigitalOcean's spelling of "every port" for tcp and udp. */
export const ALL_PORTS = '1-65535';

/** Reads `"443"` or `"49152-65535"`; `undefined` (icmp) has no ports. */
export function parsePortRange(ports: string): PortRange {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(ports);
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max) throw new Error(`"${ports}" is not a port or port range between 1 and 65535`);
  return { min, max };
}

/** Whether `rule` lets `protocol` traffic to (inbound) or from (outbound) `port` through. */
export function ruleCoversPort(rule: FirewallRulePlan, protocol: 'tcp' | 'udp', port: number): boolean {
  if (rule.protocol !== protocol || rule.ports === undefined) return false;
  const { min, max } = parsePortRange(rule.ports);
  return port >= min && port <= max;
}

/** The ports a set of rules opens, per protocol, as ranges (icmp rules contribute nothing). */
export function firewallPorts(rules: readonly FirewallRulePlan[]): { readonly protocol: 'tcp' | 'udp'; readonly min: number; readonly max: number }[] {
  return rules.flatMap((r) => (r.protocol === 'icmp' || r.ports === undefined ? [] : [{ protocol: r.protocol, ...parsePortRange(r.ports) }]));
}

function portRule(protocol: 'tcp' | 'udp', ports: number | string, purpose: string, addresses: readonly string[] = EVERYWHERE): FirewallRulePlan {
  return { protocol, ports: String(ports), addresses: [...addresses], purpose };
}

/**
 * The inbound rules of one droplet's listeners: public ones open to everyone, admin ones to the
 * administrators' networks (no rule at all when none are named: the DigitalOcean console still
 * works), loopback ones never.
 */
function listenerRules(spec: ResolvedSpec, host: ListenerHost): FirewallRulePlan[] {
  return planListeners(spec)
    .filter((l) => l.host === host)
    .flatMap((l: Listener) => {
      if (l.exposure === 'loopback' || (l.exposure === 'admin' && spec.adminSourceCidrs.length === 0)) return [];
      return [portRule(l.protocol, portText(l.port), l.purpose, l.exposure === 'admin' ? spec.adminSourceCidrs : EVERYWHERE)];
    });
}

/** Path MTU discovery needs ICMP "too big" / "fragmentation needed"; ping helps diagnosis. */
function icmpInRule(): FirewallRulePlan {
  return { protocol: 'icmp', addresses: [...EVERYWHERE], purpose: 'ICMP: path MTU discovery and ping' };
}

/** Explicit outbound rules: a DigitalOcean cloud firewall without any drops all outbound traffic. */
function outboundRules(): FirewallRulePlan[] {
  return [
    // Federation reaches other servers on whatever port their SRV records name; apt, ACME,
    // DNS over TCP and push notification services need the rest.
    portRule('tcp', ALL_PORTS, 'TCP to anywhere: federation to any SRV port, apt, ACME, DNS, push services'),
    // DNS and NTP, and TURN relays media to each peer's own, arbitrary port.
    portRule('udp', ALL_PORTS, 'UDP to anywhere: DNS, NTP, relayed media to peers\' ports'),
    { protocol: 'icmp', addresses: [...EVERYWHERE], purpose: 'ICMP to anywhere: path MTU discovery and diagnosis' },
  ];
}

/**
 * The Prosody droplet's firewall: inbound rules for the enabled features, then explicit outbound
 * rules. coturn's ports are here only when coturn runs on this droplet.
 */
export function planFirewall(spec: ResolvedSpec): FirewallPlan {
  const inbound: FirewallRulePlan[] = [...listenerRules(spec, 'prosody'), icmpInRule()];
  const outbound = outboundRules();

  for (const port of LOOPBACK_ONLY_TCP_PORTS) {
    const open = inbound.find((r) => ruleCoversPort(r, 'tcp', port));
    if (open) throw new Error(`Firewall rule "${open.purpose}" (tcp ${open.ports}) would expose Prosody's internal HTTP port ${port}`);
  }
  return { inbound, outbound };
}

/**
 * The dedicated TURN droplet's firewall: coturn's ports, port 80 for certbot's standalone http-01
 * challenges for the TURN name, SSH from the administrators, and the same outbound rules as the
 * Prosody droplet (certbot, apt and DNS go out over TCP, relayed media over UDP).
 */
export function planTurnFirewall(spec: ResolvedSpec): FirewallPlan {
  if (!hasDedicatedTurnDroplet(spec)) {
    throw new Error('planTurnFirewall: this spec has no TURN droplet of its own (calls.placement is not "dedicated", or calls are off)');
  }
  const inbound: FirewallRulePlan[] = [...listenerRules(spec, 'turn'), icmpInRule()];
  return { inbound, outbound: outboundRules() };
}
