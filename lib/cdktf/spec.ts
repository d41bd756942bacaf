import { Token } from 'cdktf';
import { DEPLOY_TIME_SECRET_PLACEHOLDER } from '../core/cloud-init';
import { ResolvedSpec, XmppServiceSpec } from '../core/spec';
import { resolveSpec } from '../core/validate';

/** A spec resolved for cdktf, remembering a TURN secret that is a token (e.g. a sensitive variable). */
export interface CdktfResolvedSpec {
  readonly spec: ResolvedSpec;
  /** The unresolved token to put where the core rendered `DEPLOY_TIME_SECRET_PLACEHOLDER`. */
  readonly deployTimeSecret?: string;
}

/**
 * Validate and default `spec` with the core's rules (same messages as every engine). A TURN secret
 * given as a token cannot be checked before deploy: it is validated as a placeholder and swapped
 * back in after rendering, so the synthesized JSON only references it.
 */
export function resolveForCdktf(spec: XmppServiceSpec): CdktfResolvedSpec {
  const secret = spec.calls?.sharedSecret;
  if (secret !== undefined && Token.isUnresolved(secret)) {
    const withPlaceholder = { ...spec, calls: { ...spec.calls, sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER } };
    return { spec: resolveSpec(withPlaceholder), deployTimeSecret: secret };
  }
  return { spec: resolveSpec(spec) };
}
