/** `dns` and `acme`. */
import { DEFAULTS, TURN_MAX_TTL_SECONDS } from '../defaults';
import { checkBoolean, checkEmail, checkInteger } from '../rules';
import { ResolvedSpec, XmppServiceSpec } from '../spec';
import { IssueCollector, isObject } from './collector';

export function resolveDns(declared: XmppServiceSpec['dns'], c: IssueCollector): ResolvedSpec['dns'] {
  const ttlSeconds = declared?.ttlSeconds ?? DEFAULTS.dns.ttlSeconds;
  c.check('dns.ttlSeconds', ttlSeconds, checkInteger(ttlSeconds, 30, 86400, ' seconds'));
  return { ttlSeconds, turnTtlSeconds: Math.min(ttlSeconds, TURN_MAX_TTL_SECONDS) };
}

/** The Let's Encrypt account; undefined (and reported) when the section is missing. */
export function resolveAcme(declared: XmppServiceSpec['acme'], primaryDomain: string, c: IssueCollector): ResolvedSpec['acme'] | undefined {
  if (!isObject(declared)) {
    c.check('acme.email', undefined, { problem: "Let's Encrypt needs a contact address", fix: `set acme: { email: "admin@${primaryDomain}" }` });
    return undefined;
  }
  c.check('acme.email', declared.email, checkEmail(declared.email));
  if (declared.staging !== undefined) c.check('acme.staging', declared.staging, checkBoolean(declared.staging));
  return { email: declared.email, staging: declared.staging ?? DEFAULTS.acme.staging };
}
