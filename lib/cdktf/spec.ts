import { Token } from 'cdktf';
import { resolveSpecDeferringSecret, SpecWithDeferredSecret } from '../core/deploy-time';
import { XmppServiceSpec } from '../core/spec';

/** A spec resolved for cdktf, remembering a TURN secret that is a token (e.g. a sensitive variable). */
export type CdktfResolvedSpec = SpecWithDeferredSecret<string>;

/**
 * Validate and default `spec` with the core's rules (same messages as every engine). A TURN secret
 * given as a token cannot be checked before deploy: it is validated as a placeholder and swapped
 * back in after rendering, so the synthesized JSON only references it.
 */
export function resolveForCdktf(spec: XmppServiceSpec): CdktfResolvedSpec {
  return resolveSpecDeferringSecret<string>(spec, (secret): secret is string => Token.isUnresolved(secret));
}
