import { Token } from 'cdktf';
import { substituteDeployTimeSecret } from '../core/cloud-init';
import { resolveSpecDeferringSecret, SpecWithDeferredSecret } from '../core/deploy-time';
import { XmppServiceSpec } from '../core/spec';
import { escapeTemplateLiteral } from './template';

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

/**
 * A droplet's user_data for cdktf: `text`, what the droplet receives (the deploy-time secret's
 * token in place), and `template`, what goes into the JSON: escaped as a Terraform template literal
 * first, so that only the secret's `${var.…}` reference is put in afterwards stays live.
 */
export function userDataForTerraform(rendered: string, deployTimeSecret?: string): { readonly text: string; readonly template: string } {
  if (deployTimeSecret === undefined) return { text: rendered, template: escapeTemplateLiteral(rendered) };
  return { text: substituteDeployTimeSecret(rendered, deployTimeSecret), template: substituteDeployTimeSecret(escapeTemplateLiteral(rendered), deployTimeSecret) };
}
