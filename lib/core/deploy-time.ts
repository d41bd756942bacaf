/**
 * The values of a spec that may be unknown until deploy: the TURN shared secret, the Slack webhook
 * of the alerts and the password of the off-host backups, when they come from a sensitive Terraform
 * variable or a Pulumi secret. Both adapters resolve them here, the same way.
 */
import { DEPLOY_TIME_WEBHOOK_PLACEHOLDER } from './alerts';
import { DEPLOY_TIME_SECRET_PLACEHOLDER } from './cloud-init';
import { SpecIssue, SpecValidationError } from './rules';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from './resolve/offsite-backups';
import { AlertsSpec, CallsSpec, OffsiteBackupsSpec, ResolvedSpec, SlackAlertsSpec, XmppServiceSpec } from './spec';
import { resolveSpec } from './validate';

/**
 * `XmppServiceSpec` whose `calls.sharedSecret`, `alerts.slack.webhookUrl` and
 * `offsiteBackups.password` may also be an engine's deploy-time value `S`.
 */
export type SpecWithDeployTimeSecret<S> = Omit<XmppServiceSpec, 'calls' | 'alerts' | 'offsiteBackups'> & {
  readonly calls?: Omit<CallsSpec, 'sharedSecret'> & {
    /** See `CallsSpec.sharedSecret`; a deploy-time value is checked by the engine at deploy. */
    readonly sharedSecret?: string | S;
  };
  readonly alerts?: Omit<AlertsSpec, 'slack'> & {
    readonly slack?: Omit<SlackAlertsSpec, 'webhookUrl'> & {
      /** See `SlackAlertsSpec.webhookUrl`; a deploy-time value is passed to the alerts as it is. */
      readonly webhookUrl: string | S;
    };
  };
  readonly offsiteBackups?: Omit<OffsiteBackupsSpec, 'password'> & {
    /** See `OffsiteBackupsSpec.password`; a deploy-time value is checked by the engine at deploy. */
    readonly password: string | S;
  };
};

/**
 * A resolved spec, and the deploy-time values to put where the core planned their placeholders:
 * the TURN secret and the backup password in user_data, the webhook in the alerts' Slack notifications.
 */
export interface SpecWithDeferredSecret<S> {
  readonly spec: ResolvedSpec;
  readonly deployTimeSecret?: S;
  readonly deployTimeWebhookUrl?: S;
  readonly deployTimeBackupPassword?: S;
}

/** Recognises an engine's values that are known only at deploy time (a Terraform token, a Pulumi Output). */
export type IsDeployTimeValue<S> = (value: unknown) => value is S;

/** Where a deploy-time value may stand in a declaration: the two secrets, and nowhere else. */
export const DEPLOY_TIME_FIELDS = ['calls.sharedSecret', 'alerts.slack.webhookUrl', 'offsiteBackups.password'] as const;

/**
 * Every place in `spec` but `DEPLOY_TIME_FIELDS` that holds a deploy-time value. Everything else is
 * rendered into files or planned at synthesis, so it must be known then; a token or Output there
 * would otherwise fail the field's own check with a confusing message, or be rendered as its placeholder.
 */
export function findDeployTimeValues(spec: unknown, isDeployTime: (value: unknown) => boolean, field = ''): SpecIssue[] {
  if (isDeployTime(spec)) {
    if ((DEPLOY_TIME_FIELDS as readonly string[]).includes(field)) return [];
    return [
      {
        field: field || '(the declaration)',
        value: '(a value known only at deploy time)',
        problem: 'is a deploy-time value (a Terraform token or variable, a Pulumi Output or Promise), but the declaration is rendered into the droplet\'s files and planned at synthesis; only calls.sharedSecret, alerts.slack.webhookUrl and offsiteBackups.password may be one',
        fix: 'give the value itself (with Pulumi, config.require() gives a string; with cdktf, a TypeScript value rather than a TerraformVariable), or pass a secret through calls.sharedSecret, alerts.slack.webhookUrl or offsiteBackups.password',
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
 * `isDeployTime` recognises cannot be checked now: the spec is validated and planned with a
 * placeholder in its place (`DEPLOY_TIME_SECRET_PLACEHOLDER` for the TURN secret,
 * `DEPLOY_TIME_WEBHOOK_PLACEHOLDER` for the Slack webhook, `DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER`
 * for the backup password), and the adapter swaps the value back in.
 * A deploy-time value anywhere else fails, naming its field.
 */
export function resolveSpecDeferringSecret<S>(spec: SpecWithDeployTimeSecret<S>, isDeployTime: IsDeployTimeValue<S>): SpecWithDeferredSecret<S> {
  const misplaced = findDeployTimeValues(spec, isDeployTime);
  if (misplaced.length > 0) throw new SpecValidationError(misplaced);
  const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;
  const secret = isObject(spec) && isObject(spec.calls) ? spec.calls.sharedSecret : undefined;
  const slack = isObject(spec) && isObject(spec.alerts) && isObject(spec.alerts.slack) ? spec.alerts.slack : undefined;
  const webhookUrl = slack?.webhookUrl;
  const password = isObject(spec) && isObject(spec.offsiteBackups) ? spec.offsiteBackups.password : undefined;
  const deployTimeSecret = secret !== undefined && isDeployTime(secret) ? secret : undefined;
  const deployTimeWebhookUrl = webhookUrl !== undefined && isDeployTime(webhookUrl) ? webhookUrl : undefined;
  const deployTimeBackupPassword = password !== undefined && isDeployTime(password) ? password : undefined;
  if (deployTimeSecret === undefined && deployTimeWebhookUrl === undefined && deployTimeBackupPassword === undefined) return { spec: resolveSpec(spec as XmppServiceSpec) };
  const withPlaceholders = {
    ...spec,
    ...(deployTimeSecret !== undefined ? { calls: { ...spec.calls, sharedSecret: DEPLOY_TIME_SECRET_PLACEHOLDER } } : {}),
    ...(deployTimeWebhookUrl !== undefined ? { alerts: { ...spec.alerts, slack: { ...slack, webhookUrl: DEPLOY_TIME_WEBHOOK_PLACEHOLDER } } } : {}),
    ...(deployTimeBackupPassword !== undefined ? { offsiteBackups: { ...spec.offsiteBackups, password: DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } } : {}),
  } as XmppServiceSpec;
  return {
    spec: resolveSpec(withPlaceholders),
    ...(deployTimeSecret !== undefined ? { deployTimeSecret } : {}),
    ...(deployTimeWebhookUrl !== undefined ? { deployTimeWebhookUrl } : {}),
    ...(deployTimeBackupPassword !== undefined ? { deployTimeBackupPassword } : {}),
  };
}
