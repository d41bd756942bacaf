import { TerraformResourceLifecycle, Token } from 'cdktf';
import { substituteBackupSecrets } from '../core/backup';
import { substituteDeployTimeSecret, substituteSpacesKey } from '../core/cloud-init';
import { LifecycleIntent } from '../core/lifecycle';
import { planService, ServicePlan, ServicePlanOptions } from '../core/service-plan';
import { XmppServiceSpec } from '../core/spec';
import { escapeTemplateLiteral } from './template';

/** A service planned for cdktf: a TURN secret given as a token stays a token. */
export type CdktfServicePlan = ServicePlan<string>;

/** A token (a variable's value, another resource's attribute): what Terraform knows only at deploy. */
const isToken = (value: unknown): value is string => Token.isUnresolved(value);

/**
 * Plan the whole service from `spec` for cdktf (see `planService`): validated and defaulted with the
 * core's rules, the same messages as every engine. A TURN secret given as a token cannot be checked
 * before deploy: it is validated as a placeholder and swapped back in after rendering, so the
 * synthesized JSON only references it.
 */
export function planForCdktf(spec: XmppServiceSpec, options: ServicePlanOptions = {}): CdktfServicePlan {
  return planService<string>(spec, isToken, options);
}

/**
 * A droplet's user_data for cdktf: `text`, what the droplet receives (the deploy-time secret's
 * token in place), and `template`, what goes into the JSON: escaped as a Terraform template literal
 * first, so that only the references put in afterwards stay live: the secret's `${var.…}`, the
 * configuration channel's read key (`spacesKey`, the key resource's attributes), and the off-host
 * backups' key with, when it is a variable, their password (`backup`).
 */
export function userDataForTerraform(
  rendered: string,
  deployTimeSecret?: string,
  spacesKey?: { readonly accessKey: string; readonly secretKey: string },
  backup?: { readonly accessKey: string; readonly secretKey: string; readonly deployTimePassword?: string },
): { readonly text: string; readonly template: string } {
  const put = (text: string) => {
    const withSecret = deployTimeSecret === undefined ? text : substituteDeployTimeSecret(text, deployTimeSecret);
    const withChannelKey = spacesKey ? substituteSpacesKey(withSecret, spacesKey.accessKey, spacesKey.secretKey) : withSecret;
    return backup ? substituteBackupSecrets(withChannelKey, backup, backup.deployTimePassword) : withChannelKey;
  };
  return { text: put(rendered), template: put(escapeTemplateLiteral(rendered)) };
}

/** An intent as Terraform's `lifecycle` block: only what differs from Terraform's defaults. */
export function terraformLifecycle(intent: LifecycleIntent): TerraformResourceLifecycle | undefined {
  const lifecycle: TerraformResourceLifecycle = {
    ...(intent.protect ? { preventDestroy: true } : {}),
    ...(intent.replacement === 'create-first' ? { createBeforeDestroy: true } : {}),
    ...(intent.ignoreChanges.length > 0 ? { ignoreChanges: [...intent.ignoreChanges] } : {}),
  };
  return Object.keys(lifecycle).length > 0 ? lifecycle : undefined;
}
