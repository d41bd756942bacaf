/**
 * The one value of a spec that may be unknown until deploy: the TURN shared secret, when it comes
 * from a sensitive Terraform variable or a Pulumi secret. Both adapters resolve it here, the same way.
 */
import { DEPLOY_TIME_SECRET_PLACEHOLDER } from './cloud-init';
import { SpecIssue, SpecValidationError } from './rules';
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

/** Recognises an engine's values that are known only at deploy time (a Terraform token, a Pulumi Output). */
export type IsDeployTimeValue<S> = (value: unknown) => value is S;

/** Where a deploy-time value may stand in a declaration: the TURN secret, and nowhere else. */
const DEPLOY_TIME_FIELD = 'calls.sharedSecret';

/**
 * Every place in `spec` but `calls.sharedSecret` that holds a deploy-time value. Everything else is
 * rendered into files at synthesis, so it must be known then; a token or Output there would
 * otherwise fail the field's own check with a confusing message, or be rendered as its placeholder.
 */
export function findDeployTimeValues(spec: unknown, isDeployTime: (value: unknown) => boolean, field = ''): SpecIssue[] {
  if (isDeployTime(spec)) {
    if (field === DEPLOY_TIME_FIELD) return [];
    return [
      {
        field: field || '(the declaration)',
        value: '(a value known only at deploy time)',
        problem: 'is a deploy-time value (a Terraform token or variable, a Pulumi Output or Promise), but the declaration is rendered into the droplet\'s files at synthesis; only calls.sharedSecret may be one',
        fix: 'give the value itself (with Pulumi, config.require() gives a string; with cdktf, a TypeScript value rather than a TerraformVariable), or pass a secret through calls.sharedSecret',
      },
    ];
  }
  if (Array.isArray(spec)) return spec.flatMap((item, i) => findDeployTimeValues(item, isDeployTime, `${field}[${i}]`));
  if (typeof spec === 'object' && spec !== null && [Object.prototype, null].includes(Object.getPrototypeOf(spec))) {
    return Object.entries(spec).flatMap(([key, value]) => findDeployTimeValues(value, isDeployTime, field ? `${field}.${key}` : key));
  }
  return [];
}

/**
 * Validate and default `spec` with `resolveSpec` (the same messages for every engine). A secret that
 * `isDeployTime` recognises cannot be checked now: the spec is validated and rendered with
 * `DEPLOY_TIME_SECRET_PLACEHOLDER` in its place, and the adapter swaps the secret back in. A
 * deploy-time value anywhere else fails, naming its field.
 */
export function resolveSpecDeferringSecret<S>(spec: SpecWithDeployTimeSecret<S>, isDeployTime: IsDeployTimeValue<S>): SpecWithDeferredSecret<S> {
  const misplaced = findDeployTimeValues(spec, isDeployTime);
  if (misplaced.length > 0) throw new SpecValidationError(misplaced);
  const secret = typeof spec === 'object' && spec !== null ? spec.calls?.sharedSecret : undefined;
  if (secret !== undefined && isDeployTime(secret)) {
    const withPlaceholder: XmppServiceSpec = { ...spec, calls: { ...spec.calls, sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER } };
    return { spec: resolveSpec(withPlaceholder), deployTimeSecret: secret };
  }
  return { spec: resolveSpec(spec as XmppServiceSpec) };
}
