/**
 * Alerts through the real engine: a service declaring alerts validates, plans the uptime check, its
 * down, latency and certificate-expiry alerts and the monitor alerts of each droplet, applies against
 * the stand-in provider and then plans nothing. What Terraform prints never shows the Slack webhook;
 * the state holds it, as the README says. Given as a sensitive variable, the synthesized JSON only
 * references it and the value comes with `-var`.
 */
import { TerraformVariable } from 'cdktf';
import { readFileSync } from 'fs';
import { join } from 'path';
import { XmppService } from '../../lib/cdktf';
import { XmppServiceSpec } from '../../lib/core/spec';
import { newStack, synth } from '../cdktf/synth';
import { effectiveChanges, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { NO_ENGINE, synthesizeStack, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;

const WEBHOOK = 'https://hooks.slack.com/services/T0000000/B0000000/planplanplanplanplan';
const ALERTS = { emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl: WEBHOOK } };

const CASES: [string, number, XmppServiceSpec][] = [
  ['coturn on the Prosody host', 3, { ...TWO_DOMAINS, alerts: ALERTS }],
  ['coturn on its own droplet', 6, { ...TWO_DOMAINS, calls: { placement: 'dedicated', sharedSecret: 'c'.repeat(64) }, alerts: ALERTS }],
];

describeUnless(missing, 'alerts through the real engine', () => {
  const workspaces: TerraformWorkspace[] = [];
  afterAll(() => workspaces.forEach((w) => w.remove()));

  test.each(CASES)('GIVEN alerts and %s WHEN planned and applied THEN the check, its three alerts and %s monitor alerts are created, the webhook is never printed, and then nothing changes', async (_what, monitorAlerts, spec) => {
    const workspace = new TerraformWorkspace();
    workspaces.push(workspace);
    workspace.writeStack(synthesizeStack(spec));
    await workspace.init();
    await workspace.ok(['validate', '-no-color']);
    const { result, json } = await workspace.plan();
    const created = effectiveChanges(json).filter((c) => /uptime|monitor/.test(c.type));
    expect(created.map((c) => `${c.change.actions.join('+')} ${c.type}`).sort()).toEqual([
      ...Array<string>(monitorAlerts).fill('create digitalocean_monitor_alert'),
      ...Array<string>(3).fill('create digitalocean_uptime_alert'),
      'create digitalocean_uptime_check',
    ]);
    expect(created.filter((c) => c.type === 'digitalocean_uptime_alert').map((c) => c.change.after?.type).sort()).toEqual(['down', 'latency', 'ssl_expiry']);
    expect(created.find((c) => c.type === 'digitalocean_uptime_check')?.change.after).toMatchObject({ target: 'https://example.net/.well-known/host-meta', type: 'https' });

    // What the operator and CI logs see: the plan as printed, and as `terraform show` prints it.
    expect(result.stdout).toContain('(sensitive value)');
    expect(result.stdout).not.toContain('hooks.slack.com');
    const shown = await workspace.ok(['show', '-no-color', 'plan.bin']);
    expect(shown.stdout).toContain('digitalocean_uptime_check');
    expect(shown.stdout).not.toContain('hooks.slack.com');

    const applied = await workspace.apply();
    expect(applied.stdout).not.toContain('hooks.slack.com');
    const again = await workspace.plan();
    expect(effectiveChanges(again.json)).toEqual([]);
    // Terraform keeps sensitive values in state in the clear: the README tells users to protect it.
    expect(readFileSync(join(workspace.dir, 'terraform.tfstate'), 'utf8')).toContain(WEBHOOK);
  });

  test('GIVEN the webhook as a sensitive variable, given with -var WHEN planned and applied THEN the JSON only references it, every alert is created with it, it is never printed, and then nothing changes', async () => {
    const stack = newStack();
    const webhook = new TerraformVariable(stack, 'slack_webhook', { type: 'string', sensitive: true });
    new XmppService(stack, 'Xmpp', { spec: { ...TWO_DOMAINS, alerts: { ...ALERTS, slack: { channel: 'ops-alerts', webhookUrl: webhook.stringValue } } }, writeReviewFiles: false });
    const synthesized = synth(stack);
    expect(JSON.stringify(synthesized)).not.toContain('hooks.slack.com');

    const workspace = new TerraformWorkspace();
    workspaces.push(workspace);
    workspace.writeStack(synthesized);
    await workspace.init();
    const variable = ['-var', `slack_webhook=${WEBHOOK}`];
    const { result, json } = await workspace.plan(variable);
    const alerts = effectiveChanges(json).filter((c) => /uptime_alert|monitor_alert/.test(c.type));
    expect(alerts).toHaveLength(3 + 3);
    for (const c of alerts) expect(c.change.actions).toEqual(['create']);
    expect(result.stdout).toContain('(sensitive value)');
    expect(result.stdout).not.toContain('hooks.slack.com');
    const shown = await workspace.ok(['show', '-no-color', 'plan.bin']);
    expect(shown.stdout).not.toContain('hooks.slack.com');

    const applied = await workspace.apply();
    expect(applied.stdout).not.toContain('hooks.slack.com');
    const again = await workspace.plan(variable);
    expect(effectiveChanges(again.json)).toEqual([]);
    // The alerts were created with the variable's value, which state holds; the placeholder is nowhere.
    const state = readFileSync(join(workspace.dir, 'terraform.tfstate'), 'utf8');
    expect(state).toContain(WEBHOOK);
    expect(state).not.toContain('deploy-time-webhook-placeholder');
  });
});
