/**
 * Deploy-time values (a Terraform token, a Pulumi Output) may stand only where the declaration says:
 * calls.sharedSecret and alerts.slack.webhookUrl. Anywhere else the value is needed at synthesis, so
 * it fails naming its field.
 */
import { DEPLOY_TIME_WEBHOOK_PLACEHOLDER, planAlerts } from '../../lib/core/alerts';
import { DEPLOY_TIME_SECRET_PLACEHOLDER } from '../../lib/core/cloud-init';
import { findDeployTimeValues, resolveSpecDeferringSecret } from '../../lib/core/deploy-time';
import { SpecValidationError } from '../../lib/core/rules';
import { minimalSpec } from '../support/specs';

/** A stand-in for an engine's deploy-time value, and the predicate that knows it. */
class Later {}
const later = new Later();
const isLater = (value: unknown): value is Later => value instanceof Later;

describe('findDeployTimeValues', () => {
  test.each<[string, unknown, string[]]>([
    ['a plain declaration', { domains: ['example.net'], droplet: { region: 'fra1' } }, []],
    ['the TURN secret', { calls: { sharedSecret: later } }, []],
    ['the Slack webhook', { alerts: { emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl: later } } }, []],
    ['both secrets', { calls: { sharedSecret: later }, alerts: { slack: { channel: 'ops-alerts', webhookUrl: later } } }, []],
    ['the Slack channel beside the webhook', { alerts: { slack: { channel: later, webhookUrl: later } } }, ['alerts.slack.channel']],
    ['the whole Slack section', { alerts: { slack: later } }, ['alerts.slack']],
    ['an alert e-mail address', { alerts: { emails: [later] } }, ['alerts.emails[0]']],
    ['a whole section', { droplet: later }, ['droplet']],
    ['a field', { droplet: { region: later } }, ['droplet.region']],
    ['a list item', { domains: ['example.net', later] }, ['domains[1]']],
    ['a field inside a list item', { domains: [{ name: later }] }, ['domains[0].name']],
    ['several places', { admins: [later], calls: { sharedSecret: later, name: later } }, ['admins[0]', 'calls.name']],
    ['the declaration itself', later, ['(the declaration)']],
  ])('GIVEN %s THEN it reports %j', (_name, spec, fields) => {
    const issues = findDeployTimeValues(spec, isLater);
    expect(issues.map((i) => i.field)).toEqual(fields);
    for (const issue of issues) {
      // Both places a deploy-time value may stand are named, in the problem and in the fix.
      for (const text of [issue.problem, issue.fix]) expect(text).toMatch(/calls\.sharedSecret.*alerts\.slack\.webhookUrl/);
    }
  });

  test('GIVEN an object that is not plain data (a class instance) THEN it is not walked into', () => {
    class Holder {
      public readonly inner = later;
    }
    expect(findDeployTimeValues({ droplet: new Holder() }, isLater)).toEqual([]);
  });
});

describe('resolveSpecDeferringSecret', () => {
  const slackAlerts = <T>(webhookUrl: T) => ({ emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl } });

  test('GIVEN the Slack webhook as a deploy-time value THEN the spec is validated and planned with the webhook placeholder, and the value is handed back', () => {
    const { spec, deployTimeSecret, deployTimeWebhookUrl } = resolveSpecDeferringSecret<Later>({ ...minimalSpec, alerts: slackAlerts(later) }, isLater);
    expect(deployTimeWebhookUrl).toBe(later);
    expect(deployTimeSecret).toBeUndefined();
    expect(spec.alerts?.slack).toEqual({ channel: 'ops-alerts', webhookUrl: DEPLOY_TIME_WEBHOOK_PLACEHOLDER });
    const alerts = planAlerts(spec)!;
    for (const n of [...alerts.uptimeAlerts.flatMap((a) => a.notifications), ...alerts.monitorAlerts.map((a) => a.alerts)]) {
      expect(n.slack).toEqual([{ channel: 'ops-alerts', url: DEPLOY_TIME_WEBHOOK_PLACEHOLDER }]);
    }
  });

  test('GIVEN both secrets as deploy-time values THEN each gets its own placeholder and is handed back', () => {
    const secret = new Later();
    const { spec, deployTimeSecret, deployTimeWebhookUrl } = resolveSpecDeferringSecret<Later>({ ...minimalSpec, calls: { sharedSecret: secret }, alerts: slackAlerts(later) }, isLater);
    expect(deployTimeSecret).toBe(secret);
    expect(deployTimeWebhookUrl).toBe(later);
    expect(spec.calls.sharedSecret).toBe(DEPLOY_TIME_SECRET_PLACEHOLDER);
    expect(spec.alerts?.slack?.webhookUrl).toBe(DEPLOY_TIME_WEBHOOK_PLACEHOLDER);
  });

  test('GIVEN a literal webhook THEN it is kept and nothing is handed back', () => {
    const url = 'https://hooks.slack.com/services/T0000000/B0000000/literalliteral';
    const resolved = resolveSpecDeferringSecret<Later>({ ...minimalSpec, alerts: slackAlerts(url) }, isLater);
    expect(resolved.spec.alerts?.slack?.webhookUrl).toBe(url);
    expect(resolved).not.toHaveProperty('deployTimeWebhookUrl');
  });

  test('GIVEN a deploy-time webhook but an invalid channel THEN validation still reports the channel, and not the webhook', () => {
    const alerts = { emails: ['ops@example.net'], slack: { channel: '', webhookUrl: later } };
    let error: unknown;
    try {
      resolveSpecDeferringSecret<Later>({ ...minimalSpec, alerts: alerts }, isLater);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecValidationError);
    expect((error as SpecValidationError).issues.map((i) => i.field)).toEqual(['alerts.slack.channel']);
  });
});
