import * as pulumi from '@pulumi/pulumi';
import { substituteDeployTimeSecret } from '../core/cloud-init';
import { resolveSpecDeferringSecret, SpecWithDeferredSecret, SpecWithDeployTimeSecret } from '../core/deploy-time';
import { checkSharedSecret, SpecValidationError } from '../core/validate';

/**
 * The service declaration for Pulumi: an `XmppServiceSpec` whose `calls.sharedSecret` may also be
 * a `pulumi.Input<string>`, e.g. `config.requireSecret("turnSecret")`.
 */
export type PulumiXmppServiceSpec = SpecWithDeployTimeSecret<pulumi.Input<string>>;

/** A spec resolved for Pulumi, remembering a TURN secret that is only known at deploy time. */
export type PulumiResolvedSpec = SpecWithDeferredSecret<pulumi.Input<string>>;

/** Type token of a component, e.g. `xmpp-constructs:index:XmppService`. */
export function componentType(name: string): string {
  return `xmpp-constructs:index:${name}`;
}

/**
 * Validate and default `spec` with the core's rules: the same messages as cdktf. A secret given as
 * an Output or Promise is validated as a placeholder now and checked for real when it resolves.
 */
export function resolveForPulumi(spec: PulumiXmppServiceSpec): PulumiResolvedSpec {
  return resolveSpecDeferringSecret<pulumi.Input<string>>(spec, (secret): secret is pulumi.Input<string> => typeof secret !== 'string');
}

/**
 * A droplet's user_data: the core's rendering with a deploy-time secret put in once it resolves.
 * When the document carries a secret it is a Pulumi secret, so it is encrypted in state and hidden
 * in previews (the review files show the redacted document).
 */
export function userDataOutput(rendered: string, resolved: PulumiResolvedSpec): pulumi.Output<string> {
  const { deployTimeSecret } = resolved;
  if (deployTimeSecret === undefined) {
    return resolved.spec.calls.sharedSecret === undefined ? pulumi.output(rendered) : pulumi.secret(rendered);
  }
  return pulumi.secret(pulumi.output(deployTimeSecret).apply((secret) => withDeployTimeSecret(rendered, secret)));
}

/**
 * `rendered` with the deploy-time secret put in, once its value is known. The secret is checked by
 * the same rule as a literal one; the message names the field but never shows the value.
 */
export function withDeployTimeSecret(rendered: string, secret: string): string {
  const problem = checkSharedSecret(secret);
  if (problem) throw new SpecValidationError([{ field: 'calls.sharedSecret', value: '(the deploy-time secret, not shown)', ...problem }]);
  return substituteDeployTimeSecret(rendered, secret);
}

/**
 * A droplet's numeric ID. The provider reports IDs as strings, while firewalls and reserved-IP
 * assignments take numbers; a non-numeric ID is a provider fault and fails loudly, not as NaN.
 */
export function numericDropletId(id: pulumi.Input<string>): pulumi.Output<number> {
  return pulumi.output(id).apply(parseDropletId);
}

/** `"123"` → 123; anything but a safe non-negative integer fails naming the value. */
export function parseDropletId(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`droplet ID ${JSON.stringify(text)} is not a number; expected DigitalOcean's numeric droplet ID`);
  return n;
}
