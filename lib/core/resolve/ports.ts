/** `ports`, and every listener's port checked against the others on the same droplet. */
import { DEFAULTS } from '../defaults';
import { findListenerCollisions, planListeners, PROSODY_HTTP_LOOPBACK_PORT } from '../listeners';
import { checkInteger, checkRelayRange } from '../rules';
import { ResolvedSpec, XmppServiceSpec } from '../spec';
import { IssueCollector } from './collector';

export function resolvePorts(
  declared: XmppServiceSpec['ports'],
  // The other sections that place listeners, as resolved so far (their values may still be invalid).
  others: Pick<ResolvedSpec, 'federation' | 'proxy65'> & { readonly calls: Omit<ResolvedSpec['calls'], 'droplet' | 'host' | 'totalMaxMbps'> },
  c: IssueCollector,
): ResolvedSpec['ports'] {
  const { federation, proxy65, calls } = others;
  const ports = { ...DEFAULTS.ports, ...(declared ?? {}), httpLoopback: PROSODY_HTTP_LOOPBACK_PORT };
  for (const key of ['c2s', 'c2sDirectTls', 's2s', 's2sDirectTls'] as const) {
    c.check(`ports.${key}`, ports[key], checkInteger(ports[key], 1, 65535));
  }
  // The proxy's port is a listener's port like these, so it is checked with them.
  if (proxy65.enabled) c.check('components.proxy65.port', proxy65.port, checkInteger(proxy65.port, 1, 65535));
  const relayValid = Boolean(calls.enabled) && !checkRelayRange(calls.relayPortMin, calls.relayPortMax);
  c.add(findListenerCollisions(planListeners({ ports, federation, proxy65, calls }), relayValid));
  return ports;
}
