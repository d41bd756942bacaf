/**
 * planListeners(): every socket the service listens on, on which droplet, who may reach it, and
 * what it is for. The one table that the port-collision check (during resolution), the cloud
 * firewalls and the doctor's port and TLS probes are all derived from, so that a port opened,
 * checked or probed is always a port something listens on.
 */
import type { SpecIssue } from './rules';
import type { ResolvedSpec } from './spec';

/** An inclusive port range. */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** Which droplet listens: the one running Prosody, or coturn's own (`calls.placement: "dedicated"`). */
export type ListenerHost = 'prosody' | 'turn';

/**
 * Who may reach a listener:
 * - `'public'`: everyone; the firewall opens it to every address and the doctor probes it open;
 * - `'admin'`: only the administrators' networks (`adminSourceCidrs`); with none, nobody;
 * - `'loopback'`: nothing outside the droplet; the firewall refuses to open it and the doctor
 *   probes that it stays closed.
 */
export type Exposure = 'public' | 'admin' | 'loopback';

/** How a client starts TLS on an endpoint. */
export type TlsMode = 'xmpp-client-starttls' | 'xmpp-server-starttls' | 'direct-tls';

/** The TLS a client meets on a listener the doctor probes. */
export interface ListenerTls {
  readonly mode: TlsMode;
  /** ALPN protocol the client offers (XEP-0368 `xmpp-client`/`xmpp-server`, `http/1.1`), if any. */
  readonly alpn?: string;
}

/** Names of the listeners, to look one up (`listener(listeners, 'c2s')`). */
export type ListenerId =
  | 'ssh' | 'http' | 'https' | 'prosody-http' | 'prosody-https' | 'prosody-component' | 'prosody-console'
  | 'c2s' | 'c2s-direct-tls' | 's2s' | 's2s-direct-tls' | 'proxy65'
  | 'turn-ssh' | 'turn-http'
  | 'stun-tcp' | 'stun-udp' | 'turn-tls' | 'turn-relay';

/** One listening socket (or, for coturn's relay, a range of them). */
export interface Listener {
  readonly id: ListenerId;
  readonly host: ListenerHost;
  /** The program that listens; coturn's ports are reached at the TURN name wherever it runs. */
  readonly daemon: 'sshd' | 'nginx' | 'prosody' | 'coturn' | 'certbot';
  readonly protocol: 'tcp' | 'udp';
  /** One port, or coturn's relay range. */
  readonly port: number | PortRange;
  readonly exposure: Exposure;
  /** The spec field that sets the port, or the daemon in parentheses for a port that cannot be moved. */
  readonly field: string;
  /** What holds the port, as a collision names it ("already used by SSH"). */
  readonly usedBy: string;
  /** Why the port is open (or must stay closed), as firewall rules and doctor probes describe it. */
  readonly purpose: string;
  /**
   * Whether no other listener may take the port. False only for Prosody's component and console
   * ports: the rendered configuration never binds them, but the doctor still checks they stay closed.
   */
  readonly reserved: boolean;
  /** The TLS the doctor expects there; absent where it does not probe TLS. */
  readonly tls?: ListenerTls;
}

/** A listener whose port this library does not let you move. */
type FixedListener = Listener & { readonly port: number };

/** The Prosody droplet's fixed listeners, in the order firewalls and collision messages list them. */
const PROSODY_HOST_FIXED: readonly FixedListener[] = [
  {
    id: 'ssh', host: 'prosody', daemon: 'sshd', protocol: 'tcp', port: 22, exposure: 'admin', field: '(ssh)',
    usedBy: 'SSH', purpose: 'SSH from the administrators\' networks', reserved: true,
  },
  {
    id: 'http', host: 'prosody', daemon: 'nginx', protocol: 'tcp', port: 80, exposure: 'public', field: '(nginx)',
    usedBy: 'HTTP for ACME and redirects', purpose: 'HTTP: ACME http-01 challenges and redirects to HTTPS', reserved: true,
  },
  {
    id: 'https', host: 'prosody', daemon: 'nginx', protocol: 'tcp', port: 443, exposure: 'public', field: '(nginx)',
    usedBy: 'HTTPS (BOSH, WebSocket, uploads)', purpose: 'HTTPS: BOSH, WebSocket, file uploads and host-meta', reserved: true,
    tls: { mode: 'direct-tls', alpn: 'http/1.1' },
  },
  {
    id: 'prosody-http', host: 'prosody', daemon: 'prosody', protocol: 'tcp', port: 5280, exposure: 'loopback', field: '(prosody http)',
    usedBy: "Prosody's loopback HTTP", purpose: "Prosody's internal HTTP port: plaintext, behind nginx", reserved: true,
  },
  {
    id: 'prosody-https', host: 'prosody', daemon: 'prosody', protocol: 'tcp', port: 5281, exposure: 'loopback', field: '(prosody https)',
    usedBy: "Prosody's default HTTPS port, kept free", purpose: "Prosody's internal HTTP port: plaintext, behind nginx", reserved: true,
  },
  {
    id: 'prosody-component', host: 'prosody', daemon: 'prosody', protocol: 'tcp', port: 5347, exposure: 'loopback', field: '(prosody components)',
    usedBy: "Prosody's external component port", purpose: "Prosody's external component port: a component's secret is all that guards it", reserved: false,
  },
  {
    id: 'prosody-console', host: 'prosody', daemon: 'prosody', protocol: 'tcp', port: 5582, exposure: 'loopback', field: '(prosody console)',
    usedBy: "Prosody's admin console", purpose: "Prosody's admin console (telnet): root on the XMPP server", reserved: false,
  },
];

/** A dedicated TURN droplet's fixed listeners: SSH, and certbot answering http-01 for the TURN name itself. */
const TURN_HOST_FIXED: readonly FixedListener[] = [
  { ...PROSODY_HOST_FIXED[0], id: 'turn-ssh', host: 'turn' },
  {
    id: 'turn-http', host: 'turn', daemon: 'certbot', protocol: 'tcp', port: 80, exposure: 'public', field: '(certbot)',
    usedBy: "certbot's http-01 challenges for the TURN name", purpose: "HTTP: certbot's http-01 challenges for the TURN name", reserved: true,
  },
];

function fixedPort(id: ListenerId): number {
  const found = PROSODY_HOST_FIXED.find((l) => l.id === id);
  if (!found) throw new Error(`no fixed listener ${id}`);
  return found.port;
}

/** nginx's ports on the Prosody droplet: HTTP (ACME, redirects) and HTTPS (BOSH, WebSocket, uploads, host-meta). */
export const NGINX_HTTP_PORT = fixedPort('http');
export const NGINX_HTTPS_PORT = fixedPort('https');

/** Prosody's plaintext HTTP port, bound to loopback; nginx proxies BOSH, WebSocket and uploads to it. */
export const PROSODY_HTTP_LOOPBACK_PORT = fixedPort('prosody-http');

/** TCP ports Prosody serves HTTP on internally; only nginx, over loopback, may reach them. */
export const LOOPBACK_ONLY_TCP_PORTS: readonly number[] = [fixedPort('prosody-http'), fixedPort('prosody-https')];

/**
 * What `planListeners` reads: the resolved sections that place listeners. During resolution these
 * are the declared values, which may still be invalid (each is reported by its own rule as well).
 */
export interface ListenerSpec {
  readonly ports: Pick<ResolvedSpec['ports'], 'c2s' | 'c2sDirectTls' | 's2s' | 's2sDirectTls'>;
  readonly federation: ResolvedSpec['federation'];
  readonly proxy65: Pick<ResolvedSpec['proxy65'], 'enabled' | 'port'>;
  readonly calls: Pick<ResolvedSpec['calls'], 'enabled' | 'placement' | 'port' | 'tlsPort' | 'relayPortMin' | 'relayPortMax'>;
}

/**
 * Every listener of the service, Prosody's droplet first: fixed ports, then the configurable ones
 * of the enabled features, then (on a droplet of its own, after that droplet's fixed ports) coturn's.
 */
export function planListeners(spec: ListenerSpec): Listener[] {
  const { ports, federation, proxy65, calls } = spec;
  const listeners: Listener[] = [...PROSODY_HOST_FIXED];
  const prosody = (id: ListenerId, field: string, port: number, usedBy: string, purpose: string, tls?: ListenerTls): void => {
    listeners.push({ id, host: 'prosody', daemon: 'prosody', protocol: 'tcp', port, exposure: 'public', field, usedBy, purpose, reserved: true, ...(tls ? { tls } : {}) });
  };
  prosody('c2s', 'ports.c2s', ports.c2s, 'client connections', 'XMPP clients (STARTTLS)', { mode: 'xmpp-client-starttls' });
  prosody('c2s-direct-tls', 'ports.c2sDirectTls', ports.c2sDirectTls, 'client direct TLS', 'XMPP clients (direct TLS, XEP-0368)', { mode: 'direct-tls', alpn: 'xmpp-client' });
  if (federation.enabled) prosody('s2s', 'ports.s2s', ports.s2s, 'server connections', 'XMPP servers (federation)', { mode: 'xmpp-server-starttls' });
  // Resolution rejects direct TLS without federation; its port is still checked for collisions.
  if (federation.directTls) {
    prosody('s2s-direct-tls', 'ports.s2sDirectTls', ports.s2sDirectTls, 'server direct TLS', 'XMPP servers (direct TLS, XEP-0368)', { mode: 'direct-tls', alpn: 'xmpp-server' });
  }
  if (proxy65.enabled) prosody('proxy65', 'components.proxy65.port', proxy65.port, 'the SOCKS5 proxy', 'SOCKS5 file transfer proxy (XEP-0065)');
  if (calls.enabled) {
    const host: ListenerHost = calls.enabled === true && calls.placement === 'dedicated' ? 'turn' : 'prosody';
    if (host === 'turn') listeners.push(...TURN_HOST_FIXED);
    const coturn = (id: ListenerId, protocol: 'tcp' | 'udp', field: string, port: number | PortRange, usedBy: string, purpose: string, tls?: ListenerTls): void => {
      listeners.push({ id, host, daemon: 'coturn', protocol, port, exposure: 'public', field, usedBy, purpose, reserved: true, ...(tls ? { tls } : {}) });
    };
    coturn('stun-tcp', 'tcp', 'calls.port', calls.port, 'STUN/TURN', 'STUN/TURN over TCP');
    coturn('stun-udp', 'udp', 'calls.port', calls.port, 'STUN/TURN', 'STUN/TURN over UDP');
    coturn('turn-tls', 'tcp', 'calls.tlsPort', calls.tlsPort, 'TURN over TLS', 'TURN over TLS', { mode: 'direct-tls' });
    coturn('turn-relay', 'udp', 'calls.relayPortMin/relayPortMax', { min: calls.relayPortMin, max: calls.relayPortMax }, 'the TURN relay range', 'TURN relayed media');
  }
  return listeners;
}

/** The listener `id` among `listeners`, if the spec has it. */
export function findListener(listeners: readonly Listener[], id: ListenerId): Listener | undefined {
  return listeners.find((l) => l.id === id);
}

/** A listener's port as a firewall writes it: `"443"`, or `"49152-65535"` for a range. */
export function portText(port: number | PortRange): string {
  return isRange(port) ? `${port.min}-${port.max}` : String(port);
}

// ---------------------------------------------------------------------------------------------
// Port collisions
// ---------------------------------------------------------------------------------------------

/** A port listener, named for error messages. */
export interface PortUse {
  readonly field: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly purpose: string;
}

/**
 * The single-port listeners that hold their port. During resolution a port may not be a number yet
 * (it is reported as such too); it still takes part, as it always has.
 */
function portUses(listeners: readonly Listener[]): PortUse[] {
  return listeners.flatMap((l) => (l.reserved && !isRange(l.port) ? [{ field: l.field, protocol: l.protocol, port: l.port, purpose: l.usedBy }] : []));
}

function isRange(port: number | PortRange): port is PortRange {
  return typeof port === 'object' && port !== null;
}

/** Ports taken on the droplet by things this library does not let you move. */
export const FIXED_PORTS: readonly PortUse[] = portUses(PROSODY_HOST_FIXED);

/** Ports taken on a dedicated TURN droplet by things this library does not let you move. */
export const TURN_HOST_FIXED_PORTS: readonly PortUse[] = portUses(TURN_HOST_FIXED);

/** Two listeners on the same protocol and port, or a listener inside the relay range. */
export function findPortCollisions(uses: readonly PortUse[], relay?: PortRange): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Map<string, PortUse>();
  for (const use of uses) {
    const key = `${use.protocol}/${use.port}`;
    const earlier = seen.get(key);
    if (earlier) {
      issues.push({
        field: use.field,
        value: use.port,
        problem: `${use.protocol.toUpperCase()} port ${use.port} is already used by ${earlier.purpose} (${earlier.field})`,
        fix: 'choose a free port',
      });
    } else {
      seen.set(key, use);
    }
    if (relay && use.protocol === 'udp' && use.port >= relay.min && use.port <= relay.max) {
      issues.push({
        field: use.field,
        value: use.port,
        problem: `UDP port ${use.port} lies inside the TURN relay range ${relay.min}-${relay.max}`,
        fix: 'move the listener, or shrink calls.relayPortMin/relayPortMax so they exclude it',
      });
    }
  }
  return issues;
}

/**
 * Every collision among `listeners`, droplet by droplet: listeners on different droplets never
 * compete. `checkRelay` is false while the relay range is itself invalid (reported on its own).
 */
export function findListenerCollisions(listeners: readonly Listener[], checkRelay: boolean): SpecIssue[] {
  return (['prosody', 'turn'] as const).flatMap((host) => {
    const on = listeners.filter((l) => l.host === host);
    const relay = on.find((l) => l.id === 'turn-relay')?.port;
    return findPortCollisions(portUses(on), checkRelay && relay !== undefined && isRange(relay) ? relay : undefined);
  });
}
