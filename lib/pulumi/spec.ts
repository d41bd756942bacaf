import * as pulumi from '@pulumi/pulumi';
import { substituteBackupSecrets } from '../core/backup';
import { substituteDeployTimeSecret, substituteSpacesKey } from '../core/cloud-init';
import { SpecWithDeployTimeSecret } from '../core/deploy-time';
import { LifecycleIntent } from '../core/lifecycle';
import { planService, ServicePlan, ServicePlanOptions } from '../core/service-plan';
import { checkBackupPassword } from '../core/rules';
import { checkSharedSecret, SpecValidationError } from '../core/validate';

/**
 * The service declaration for Pulumi: an `XmppServiceSpec` whose `calls.sharedSecret`,
 * `alerts.slack.webhookUrl` and `offsiteBackups.password` may also be a `pulumi.Input<string>`,
 * e.g. `config.requireSecret("turnSecret")`.
 */
export type PulumiXmppServiceSpec = SpecWithDeployTimeSecret<pulumi.Input<string>>;

/** A service planned for Pulumi: a TURN secret given as an Output or Promise stays one. */
export type PulumiServicePlan = ServicePlan<pulumi.Input<string>>;

/** An Output or a Promise: what Pulumi knows only while it deploys. */
const isDeployTime = (value: unknown): value is pulumi.Input<string> =>
  pulumi.Output.isInstance(value) || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');

/** Type token of a component, e.g. `xmpp-constructs:index:XmppService`. */
export function componentType(name: string): string {
  return `xmpp-constructs:index:${name}`;
}

/**
 * Plan the whole service from `spec` for Pulumi (see `planService`): validated and defaulted with
 * the core's rules, the same messages as cdktf. A secret given as an Output or Promise is validated
 * as a placeholder now and checked for real when it resolves.
 */
export function planForPulumi(spec: PulumiXmppServiceSpec, options: ServicePlanOptions = {}): PulumiServicePlan {
  return planService<pulumi.Input<string>>(spec, isDeployTime, options);
}

/**
 * An intent as Pulumi resource options, together with the options given (e.g. `parent`). `protect`
 * is set only to protect: left unset, a resource inherits it from its component, so a user who
 * protects the whole service protects every resource in it. The replacement order is always spelled
 * out, as Pulumi's default (create first) is not the one most of these resources need.
 */
export function withLifecycle(intent: LifecycleIntent, opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return {
    ...opts,
    ...(intent.protect ? { protect: true } : {}),
    deleteBeforeReplace: intent.replacement === 'delete-first',
    ...(intent.ignoreChanges.length > 0 ? { ignoreChanges: intent.ignoreChanges.map(camelCase) } : {}),
  };
}

/** A Terraform argument name as the Pulumi bridge names it: `user_data` → `userData`. */
function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A droplet's user_data: the core's rendering with a deploy-time secret, the configuration channel's
 * read key (`spacesKey`) and the off-host backups' key (`backupKey`, with a deploy-time password)
 * put in once they resolve. When the document carries a secret it is a Pulumi secret, so it is
 * encrypted in state and hidden in previews (the review files show the redacted document).
 */
export function userDataOutput(
  rendered: string,
  resolved: PulumiServicePlan,
  spacesKey?: { readonly accessKey: pulumi.Input<string>; readonly secretKey: pulumi.Input<string> },
  backupKey?: { readonly accessKey: pulumi.Input<string>; readonly secretKey: pulumi.Input<string> },
): pulumi.Output<string> {
  const { deployTimeSecret, deployTimeBackupPassword } = resolved;
  if (deployTimeSecret === undefined && spacesKey === undefined && backupKey === undefined) {
    return resolved.spec.calls.sharedSecret === undefined ? pulumi.output(rendered) : pulumi.secret(rendered);
  }
  const secret = deployTimeSecret === undefined ? pulumi.output(undefined) : pulumi.output(deployTimeSecret);
  const password = deployTimeBackupPassword === undefined ? pulumi.output(undefined) : pulumi.output(deployTimeBackupPassword);
  return pulumi.secret(
    pulumi.all([secret, spacesKey?.accessKey, spacesKey?.secretKey, backupKey?.accessKey, backupKey?.secretKey, password]).apply(
      ([turnSecret, accessKey, secretKey, backupAccessKey, backupSecretKey, backupPassword]) => {
        const withSecret = turnSecret === undefined ? rendered : withDeployTimeSecret(rendered, turnSecret);
        const withChannelKey = accessKey === undefined || secretKey === undefined ? withSecret : withSpacesKey(withSecret, accessKey, secretKey);
        return backupAccessKey === undefined || backupSecretKey === undefined ? withChannelKey : withBackupSecrets(withChannelKey, backupAccessKey, backupSecretKey, backupPassword);
      },
    ),
  );
}

/**
 * `rendered` with the off-host backups' key put in, and their deploy-time password once its value is
 * known, checked by the same rule as a literal one (the message never shows the value).
 */
export function withBackupSecrets(rendered: string, accessKey: string, secretKey: string, deployTimePassword?: string): string {
  if (deployTimePassword !== undefined) {
    const problem = checkBackupPassword(deployTimePassword);
    if (problem) throw new SpecValidationError([{ field: 'offsiteBackups.password', value: '(the deploy-time password, not shown)', ...problem }]);
  }
  return substituteBackupSecrets(rendered, { accessKey, secretKey }, deployTimePassword);
}

/** `rendered` with the configuration channel's read key put in. */
export function withSpacesKey(rendered: string, accessKey: string, secretKey: string): string {
  return substituteSpacesKey(rendered, accessKey, secretKey);
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
