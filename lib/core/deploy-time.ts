/**
 * The one value of a spec that may be unknown until deploy: the TURN shared secret, when it comes
 * from a sensitive Terraform variable or a Pulumi secret. Both adapters resolve it here, the same way.
 */
import { DEPLOY_TIME_SECRET_PLACEHOLDER } from './cloud-init';
import { CallsSpec, ResolvedSpec, XmppServiceSpec } from './spec';
import { resolveSpec } from './validate';

/** `XmppServiceSpec` whose `calls.sharedSecret` may also be an engine's deploy-time value `S`. */
export type SpecWithDeployTimeSecret<S> = Omit<XmppServiceSpec, 'calls'> & {
  readonly calls?: Omit<CallsSpec, 'sharedSecret'> & {
    /** See `CallsSpec.sharedSecret`; a deploy-time value is checked by the engine at deploy. */
    readonly sharedSecret?: string | S;
  };
};

/** A resolved spec, and the deploy-time secret to put where the core rendered the placeholder. */
export interface SpecWithDeferredSecret<S> {
  readonly spec: ResolvedSpec;
  readonly deployTimeSecret?: S;
}

/**
 * Validate and default `spec` with `resolveSpec` (the same messages for every engine). A secret that
 * `isDeployTime` recognises cannot be checked now: the spec is validated and rendered with
 * `DEPLOY_TIME_SECRET_PLACEHOLDER` in its place, and the adapter swaps the secret back in.
 */
export function resolveSpecDeferringSecret<S>(spec: SpecWithDeployTimeSecret<S>, isDeployTime: (secret: string | S) => secret is S): SpecWithDeferredSecret<S> {
  const secret = typeof spec === 'object' && spec !== null ? spec.calls?.sharedSecret : undefined;
  if (secret !== undefined && isDeployTime(secret)) {
    const withPlaceholder: XmppServiceSpec = { ...spec, calls: { ...spec.calls, sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER } };
    return { spec: resolveSpec(withPlaceholder), deployTimeSecret: secret };
  }
  return { spec: resolveSpec(spec as XmppServiceSpec) };
}
