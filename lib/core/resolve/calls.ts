/** `calls`: coturn's name, ports, relay range, quotas, secret and placement. */
import { DEFAULTS } from '../defaults';
import {
  checkBoolean,
  checkComponentLabel,
  checkDedicatedTurnSecret,
  checkInteger,
  checkOneOf,
  checkRelayRange,
  checkSharedSecret,
  checkSizeSlug,
  checkTurnCapacity,
} from '../rules';
import { CallsSpec, ResolvedSpec, TURN_PLACEMENTS } from '../spec';
import { IssueCollector, section } from './collector';

/** The resolved `calls` but for the TURN droplet's name, which follows the Prosody droplet's. */
export interface ResolvedCalls extends Omit<ResolvedSpec['calls'], 'droplet'> {
  /** The label the TURN host name was made of (checked against component names). */
  readonly name: string;
  readonly dropletSize: string;
  /** Whether coturn gets a droplet of its own. */
  readonly dedicated: boolean;
}

export function resolveCalls(declared: CallsSpec | undefined, primaryDomain: string, c: IssueCollector): ResolvedCalls {
  const callsIn = section<CallsSpec>(declared);
  const calls = { ...DEFAULTS.calls, ...callsIn };
  c.check('calls.enabled', calls.enabled, checkBoolean(calls.enabled));
  c.check('calls.placement', calls.placement, checkOneOf(calls.placement, TURN_PLACEMENTS));
  if (calls.enabled) {
    c.check('calls.name', calls.name, checkComponentLabel(calls.name));
    c.check('calls.port', calls.port, checkInteger(calls.port, 1, 65535));
    c.check('calls.tlsPort', calls.tlsPort, checkInteger(calls.tlsPort, 1, 65535));
    const rangeProblem = checkRelayRange(calls.relayPortMin, calls.relayPortMax);
    c.check('calls.relayPortMin/relayPortMax', [calls.relayPortMin, calls.relayPortMax], rangeProblem);
    c.check('calls.credentialTtlSeconds', calls.credentialTtlSeconds, checkInteger(calls.credentialTtlSeconds, 300, 7 * 86400, ' seconds'));
    c.check('calls.userQuota', calls.userQuota, checkInteger(calls.userQuota, 1, 10000));
    c.check('calls.totalQuota', calls.totalQuota, checkInteger(calls.totalQuota, 1, 1000000));
    c.check('calls.allocationMaxKbps', calls.allocationMaxKbps, checkInteger(calls.allocationMaxKbps, 64, 100000, ' kbit/s'));
    c.check('calls.totalMaxMbps', calls.totalMaxMbps, checkTurnCapacity(calls.totalMaxMbps, calls.allocationMaxKbps));
    if (callsIn.sharedSecret !== undefined) {
      // The value itself never goes into an error message.
      c.check('calls.sharedSecret', '(redacted)', checkSharedSecret(callsIn.sharedSecret));
    }
    c.check('calls.sharedSecret', undefined, checkDedicatedTurnSecret(calls.placement, callsIn.sharedSecret));
    c.check('calls.dropletSize', calls.dropletSize, checkSizeSlug(calls.dropletSize));
  }
  return {
    enabled: calls.enabled,
    host: `${calls.name}.${primaryDomain}`,
    port: calls.port,
    tlsPort: calls.tlsPort,
    relayPortMin: calls.relayPortMin,
    relayPortMax: calls.relayPortMax,
    credentialTtlSeconds: calls.credentialTtlSeconds,
    userQuota: calls.userQuota,
    totalQuota: calls.totalQuota,
    allocationMaxKbps: calls.allocationMaxKbps,
    totalMaxMbps: calls.totalMaxMbps,
    ...(callsIn.sharedSecret !== undefined ? { sharedSecret: callsIn.sharedSecret } : {}),
    placement: calls.placement,
    name: calls.name,
    dropletSize: calls.dropletSize,
    dedicated: calls.enabled === true && calls.placement === 'dedicated',
  };
}
