/**
 * Alerts through cdktf: the synthesized uptime check, its alerts referring to it, the monitor alerts
 * referring to the droplets by ID, the webhook wrapped in `sensitive()`, and the webhook in no
 * output and no review file.
 */
import { TerraformVariable, Testing } from 'cdktf';
import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { XmppService, XmppStack } from '../../lib/cdktf';
import { DEPLOY_TIME_WEBHOOK_PLACEHOLDER } from '../../lib/core/alerts';
import { XmppServiceSpec } from '../../lib/core/spec';
import { dedicatedTurnSpec, minimalSpec } from '../support/specs';
import { named, newStack, only, resources, synth } from './synth';

const WEBHOOK = 'https://hooks.slack.com/services/T0000000/B0000000/cdktfcdktfcdktfcdktf';
const ALERTS = { emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl: WEBHOOK } };

function synthesized(spec: XmppServiceSpec) {
  const stack = newStack();
  new XmppService(stack, 'Xmpp', { spec, writeReviewFiles: false });
  return synth(stack);
}

describe('GIVEN a service with alerts WHEN synthesized with cdktf', () => {
  const out = synthesized({ ...minimalSpec, alerts: ALERTS });
  const check = named(out, 'digitalocean_uptime_check', 'Alerts_UptimeCheck');
  const droplet = named(out, 'digitalocean_droplet', 'Host_Droplet');

  test('THEN one HTTPS uptime check requests the primary domain\'s host-meta from every region', () => {
    expect(check.body).toEqual({ name: 'xmpp-example-net https', target: 'https://example.net/.well-known/host-meta', type: 'https', regions: ['us_east', 'us_west', 'eu_west', 'se_asia'], enabled: true });
  });

  test('THEN its down, latency and certificate-expiry alerts refer to it and notify by e-mail and Slack, the webhook as a sensitive value', () => {
    const alerts = resources(out, 'digitalocean_uptime_alert');
    expect(alerts.map((a) => a.type)).toEqual(['down', 'latency', 'ssl_expiry']);
    for (const alert of alerts) {
      expect(alert.check_id).toBe(`\${digitalocean_uptime_check.${check.name}.id}`);
      expect(alert.notifications).toEqual([{ email: ['ops@example.net'], slack: [{ channel: 'ops-alerts', url: `\${sensitive(${JSON.stringify(WEBHOOK)})}` }] }]);
    }
    expect(alerts[1]).toMatchObject({ threshold: 2000, comparison: 'greater_than', period: '5m' });
    expect(alerts[2]).toMatchObject({ threshold: 20, comparison: 'less_than' });
    expect(alerts[2].period).toBeUndefined();
  });

  test('THEN memory, CPU and disk alerts watch the Prosody droplet by its ID', () => {
    const monitors = resources(out, 'digitalocean_monitor_alert');
    // Terraform JSON lists resources by logical ID: compared sorted.
    expect(monitors.map((m) => [m.type, m.value, m.window]).sort()).toEqual([
      ['v1/insights/droplet/cpu', 90, '10m'],
      ['v1/insights/droplet/disk_utilization_percent', 85, '10m'],
      ['v1/insights/droplet/memory_utilization_percent', 90, '10m'],
    ]);
    for (const m of monitors) {
      expect(m.entities).toEqual([`\${digitalocean_droplet.${droplet.name}.id}`]);
      expect(m.compare).toBe('GreaterThan');
      expect(m.alerts.slack[0].url).toBe(`\${sensitive(${JSON.stringify(WEBHOOK)})}`);
    }
  });

  test('THEN the droplet keeps its monitoring agent and its user_data is the one without alerts', () => {
    const without = named(synthesized(minimalSpec), 'digitalocean_droplet', 'Host_Droplet').body;
    expect(droplet.body.monitoring).toBe(true);
    expect(droplet.body.user_data).toBe(without.user_data);
  });

  test('THEN no output holds the webhook', () => {
    expect(JSON.stringify(out.output ?? {})).not.toContain('hooks.slack.com');
  });
});

describe('GIVEN the Slack webhook as a sensitive Terraform variable WHEN synthesized', () => {
  const stack = newStack();
  const webhook = new TerraformVariable(stack, 'slack_webhook', { type: 'string', sensitive: true });
  new XmppService(stack, 'Xmpp', { spec: { ...dedicatedTurnSpec, alerts: { emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl: webhook.stringValue } } }, writeReviewFiles: false });
  const out = synth(stack);
  const json = JSON.stringify(out);

  test('THEN every uptime alert and monitor alert sends to Slack through the variable, still wrapped in sensitive()', () => {
    const uptime = resources(out, 'digitalocean_uptime_alert');
    const monitors = resources(out, 'digitalocean_monitor_alert');
    expect(uptime).toHaveLength(3);
    expect(monitors).toHaveLength(6);
    const slack = [...uptime.flatMap((a) => a.notifications.map((n: { slack: unknown }) => n.slack)), ...monitors.map((m) => m.alerts.slack)];
    for (const s of slack) expect(s).toEqual([{ channel: 'ops-alerts', url: '${sensitive(var.slack_webhook)}' }]);
    expect(out.variable?.slack_webhook).toMatchObject({ sensitive: true });
  });

  test('THEN the synthesized JSON holds no webhook URL and never the placeholder', () => {
    expect(json).not.toContain('hooks.slack.com');
    expect(json).not.toContain(DEPLOY_TIME_WEBHOOK_PLACEHOLDER);
    expect(json).not.toContain('deploy-time-webhook-placeholder');
  });

  test('THEN no output refers to the variable', () => {
    expect(JSON.stringify(out.output ?? {})).not.toContain('slack_webhook');
  });
});

describe('GIVEN coturn on its own droplet and alerts WHEN synthesized', () => {
  test('THEN the TURN droplet gets its own memory, CPU and disk alerts', () => {
    const out = synthesized({ ...dedicatedTurnSpec, alerts: { emails: ['ops@example.net'] } });
    const turn = named(out, 'digitalocean_droplet', 'Turn_Droplet');
    const watched = resources(out, 'digitalocean_monitor_alert').filter((m) => m.entities[0] === `\${digitalocean_droplet.${turn.name}.id}`);
    expect(watched.map((m) => m.description).sort()).toEqual([
      'xmpp-example-net-turn: CPU use above 90% for 10m',
      'xmpp-example-net-turn: memory use above 90% for 10m',
      'xmpp-example-net-turn: root disk use above 85% for 10m',
    ]);
    expect(only(out, 'digitalocean_uptime_check').target).toBe('https://example.net/.well-known/host-meta');
  });
});

describe('GIVEN a service without alerts WHEN synthesized', () => {
  test('THEN there is no uptime check and no alert', () => {
    const out = synthesized(minimalSpec);
    for (const type of ['digitalocean_uptime_check', 'digitalocean_uptime_alert', 'digitalocean_monitor_alert']) expect(out.resource[type]).toBeUndefined();
  });
});

describe('GIVEN a stack with a Slack webhook WHEN the app is synthesized with review files', () => {
  test('THEN no review file holds the webhook', () => {
    const app = Testing.app({ stackTraces: false });
    new XmppStack(app, 'alerts', { spec: { ...minimalSpec, alerts: ALERTS } });
    app.synth();
    const review = join(app.outdir, 'stacks', 'alerts', 'review');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)]));
    })(review);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(readFileSync(file, 'utf8')).not.toContain('hooks.slack.com');
  });
});
