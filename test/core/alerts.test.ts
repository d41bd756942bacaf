/**
 * Alerts as code: the `alerts` section's validation (one table per rule, then resolveSpec naming
 * field, value and fix), and the plain attributes of the uptime check and the monitor alerts.
 */
import { planAlerts, UPTIME_REGIONS } from '../../lib/core/alerts';
import { planLifecycles } from '../../lib/core/lifecycle';
import { AlertsSpec, XmppServiceSpec } from '../../lib/core/spec';
import { checkAlertEmail, checkAlertEmails, checkAlertsNeedMonitoring, checkSlackChannel, checkSlackWebhookUrl, resolveSpec } from '../../lib/core/validate';
import { dedicatedTurnSpec, fullSpec, minimalSpec, validationErrorOf as errorOf } from '../support/specs';

const WEBHOOK = 'https://hooks.slack.com/services/T0000000/B0000000/abcdefghijklmnopqrstuvwx';
const withAlerts = (alerts: AlertsSpec, base: XmppServiceSpec = minimalSpec): XmppServiceSpec => ({ ...base, alerts });

describe('alert rules, one table each', () => {
  describe('checkAlertEmail', () => {
    test.each(['ops@example.net', 'first.last+alerts@mail.example.co.uk'])('accepts %s', (email) => {
      expect(checkAlertEmail(email)).toBeUndefined();
    });
    test.each([
      ['it has no @', 'ops.example.net'],
      ['it has a display name', 'Ops <ops@example.net>'],
      ['it is empty', ''],
      ['it is not a string', 42],
    ])('fails when %s', (_why, value) => {
      const p = checkAlertEmail(value);
      expect(p?.problem).toMatch(/not an e-mail address/);
      expect(p?.fix).toMatch(/DigitalOcean account or team/);
    });
  });

  test('checkAlertEmail fails on a mailto: URI, suggesting the bare address', () => {
    expect(checkAlertEmail('mailto:ops@example.net')).toEqual({ problem: 'not an e-mail address but a mailto: URI', fix: 'write the address alone: "ops@example.net"' });
  });

  describe('checkAlertEmails', () => {
    test.each([[['ops@example.net']], [['a@example.net', 'b@example.net']]])('accepts %j', (emails) => {
      expect(checkAlertEmails(emails)).toBeUndefined();
    });
    test.each([
      ['the list is empty', []],
      ['it is a single string', 'ops@example.net'],
      ['it is missing', undefined],
    ])('fails when %s', (_why, value) => {
      expect(checkAlertEmails(value)?.problem).toMatch(/at least one e-mail address/);
    });
  });

  describe('checkSlackWebhookUrl', () => {
    test.each([WEBHOOK, 'https://hooks.slack.com/workflows/T000/A000/1234/abcd'])('accepts %s', (url) => {
      expect(checkSlackWebhookUrl(url)).toBeUndefined();
    });
    test.each([
      ['it is plain HTTP', 'http://hooks.slack.com/services/T000/B000/XXXX'],
      ['it is another host', 'https://hooks.slack.com.evil.example/services/T000'],
      ['it is a Slack page, not a hook', 'https://example.slack.com/archives/C000'],
      ['it has no path', 'https://hooks.slack.com/'],
      ['it has a space', 'https://hooks.slack.com/services/T000 B000'],
      ['it is not a string', 7],
    ])('fails when %s', (_why, value) => {
      const p = checkSlackWebhookUrl(value);
      expect(p?.problem).toMatch(/hooks\.slack\.com/);
      expect(p?.fix).toMatch(/Incoming Webhooks/);
    });
  });

  describe('checkSlackChannel', () => {
    test('accepts a name', () => expect(checkSlackChannel('ops-alerts')).toBeUndefined());
    test.each([['it is empty', ''], ['it is blank', '  '], ['it is missing', undefined]])('fails when %s', (_why, value) => {
      expect(checkSlackChannel(value)?.problem).toMatch(/channel must be named/);
    });
  });

  describe('checkAlertsNeedMonitoring', () => {
    test.each([
      [true, true],
      [false, false],
      [false, true],
    ])('accepts alerts declared %s with monitoring %s', (declared, monitoring) => {
      expect(checkAlertsNeedMonitoring(declared, monitoring)).toBeUndefined();
    });
    test('fails when alerts are declared and the agent is off', () => {
      const p = checkAlertsNeedMonitoring(true, false);
      expect(p?.problem).toMatch(/metrics agent/);
      expect(p?.fix).toMatch(/droplet\.monitoring to true/);
    });
  });
});

describe('GIVEN a spec with alerts WHEN resolved', () => {
  test('THEN every threshold not given takes its documented default', () => {
    expect(resolveSpec(withAlerts({ emails: ['ops@example.net'] })).alerts).toEqual({
      emails: ['ops@example.net'],
      latencyThresholdMs: 2000,
      uptimePeriod: '5m',
      sslExpiryDays: 20,
      cpuPercent: 90,
      memoryPercent: 90,
      diskPercent: 85,
      monitorWindow: '10m',
    });
  });

  test('THEN a spec without alerts resolves with no alerts key at all', () => {
    expect('alerts' in resolveSpec(minimalSpec)).toBe(false);
  });

  test.each<[string, XmppServiceSpec, string, unknown, RegExp]>([
    ['no e-mail address is given', withAlerts({ emails: [] }), 'alerts.emails', [], /at least one e-mail address/],
    ['an address is not one', withAlerts({ emails: ['ops@example.net', 'pager'] }), 'alerts.emails[1]', 'pager', /not an e-mail address/],
    ['the Slack channel is empty', withAlerts({ emails: ['ops@example.net'], slack: { channel: '', webhookUrl: WEBHOOK } }), 'alerts.slack.channel', '', /channel must be named/],
    ['the latency threshold is too low', withAlerts({ emails: ['ops@example.net'], latencyThresholdMs: 10 }), 'alerts.latencyThresholdMs', 10, /from 100 to 60000 ms/],
    ['the uptime period is not DigitalOcean\'s', withAlerts({ emails: ['ops@example.net'], uptimePeriod: '4m' as never }), 'alerts.uptimePeriod', '4m', /"2m", "3m", "5m"/],
    ['the certificate would alert before certbot renews', withAlerts({ emails: ['ops@example.net'], sslExpiryDays: 30 }), 'alerts.sslExpiryDays', 30, /from 1 to 29 days/],
    ['the CPU threshold is over 100%', withAlerts({ emails: ['ops@example.net'], cpuPercent: 120 }), 'alerts.cpuPercent', 120, /from 1 to 100%/],
    ['the memory threshold is a fraction', withAlerts({ emails: ['ops@example.net'], memoryPercent: 0.9 }), 'alerts.memoryPercent', 0.9, /from 1 to 100%/],
    ['the disk threshold is zero', withAlerts({ emails: ['ops@example.net'], diskPercent: 0 }), 'alerts.diskPercent', 0, /from 1 to 100%/],
    ['the monitor window is not DigitalOcean\'s', withAlerts({ emails: ['ops@example.net'], monitorWindow: '15m' as never }), 'alerts.monitorWindow', '15m', /"5m", "10m", "30m", "1h"/],
    ['the metrics agent is off', { ...withAlerts({ emails: ['ops@example.net'] }), droplet: { monitoring: false } }, 'droplet.monitoring', false, /alerts watch memory, CPU and disk/],
    ['alerts is not an object', { ...minimalSpec, alerts: ['ops@example.net'] as never }, 'alerts', ['ops@example.net'], /must be an object/],
    ['a field is misspelt', withAlerts({ emails: ['ops@example.net'], cpuPercentage: 80 } as never), 'alerts.cpuPercentage', 80, /cpuPercent/],
  ])('fails when %s, naming the field, the value and the fix', (_why, spec, field, value, message) => {
    const issue = errorOf(spec).issues.find((i) => i.field === field);
    expect(issue).toBeDefined();
    expect(issue!.value).toEqual(value);
    expect(`${issue!.problem} ${issue!.fix}`).toMatch(message);
  });

  test('fails on a webhook that is not Slack\'s without showing the URL, which may be a mistyped secret', () => {
    const url = 'https://hooks.slack.co/services/T0000000/B0000000/secretpart';
    const error = errorOf(withAlerts({ emails: ['ops@example.net'], slack: { channel: 'ops', webhookUrl: url } }));
    expect(error.issues.map((i) => i.field)).toEqual(['alerts.slack.webhookUrl']);
    expect(error.message).toMatch(/hooks\.slack\.com/);
    expect(error.message).not.toContain('secretpart');
  });
});

describe('GIVEN alerts WHEN planned', () => {
  const notifications = { email: ['ops@example.net'], slack: [{ channel: 'ops-alerts', url: WEBHOOK }] };
  const spec = resolveSpec(withAlerts({ emails: ['ops@example.net'], slack: { channel: 'ops-alerts', webhookUrl: WEBHOOK } }));

  test('THEN nothing is planned without an alerts section', () => {
    expect(planAlerts(resolveSpec(minimalSpec))).toBeUndefined();
  });

  test('THEN one https check requests the primary domain\'s host-meta from every region', () => {
    expect(planAlerts(spec)!.uptimeCheck).toEqual({ name: 'xmpp-example-net https', target: 'https://example.net/.well-known/host-meta', type: 'https', regions: [...UPTIME_REGIONS], enabled: true });
  });

  test('THEN a service of many domains still gets one check, of its primary domain', () => {
    const plan = planAlerts(resolveSpec(withAlerts({ emails: ['ops@example.net'] }, fullSpec)))!;
    expect(plan.uptimeCheck.target).toBe('https://example.net/.well-known/host-meta');
    expect(plan.uptimeAlerts).toHaveLength(3);
  });

  test('THEN the check alerts when down, slow, and when the certificate is 20 days from expiry', () => {
    expect(planAlerts(spec)!.uptimeAlerts).toEqual([
      { name: 'xmpp-example-net: down', type: 'down', period: '5m', notifications: [notifications] },
      { name: 'xmpp-example-net: slower than 2000 ms', type: 'latency', threshold: 2000, comparison: 'greater_than', period: '5m', notifications: [notifications] },
      { name: 'xmpp-example-net: certificate expires in less than 20 days', type: 'ssl_expiry', threshold: 20, comparison: 'less_than', notifications: [notifications] },
    ]);
  });

  test('THEN the Prosody droplet gets memory, CPU and disk alerts with the thresholds given', () => {
    const custom = resolveSpec(withAlerts({ emails: ['ops@example.net'], cpuPercent: 80, memoryPercent: 85, diskPercent: 70, monitorWindow: '30m' }));
    expect(planAlerts(custom)!.monitorAlerts).toEqual([
      { droplet: 'prosody-host', metric: 'memory', type: 'v1/insights/droplet/memory_utilization_percent', compare: 'GreaterThan', value: 85, window: '30m', enabled: true, description: 'xmpp-example-net: memory use above 85% for 30m', alerts: { email: ['ops@example.net'] } },
      { droplet: 'prosody-host', metric: 'cpu', type: 'v1/insights/droplet/cpu', compare: 'GreaterThan', value: 80, window: '30m', enabled: true, description: 'xmpp-example-net: CPU use above 80% for 30m', alerts: { email: ['ops@example.net'] } },
      { droplet: 'prosody-host', metric: 'disk', type: 'v1/insights/droplet/disk_utilization_percent', compare: 'GreaterThan', value: 70, window: '30m', enabled: true, description: 'xmpp-example-net: root disk use above 70% for 30m', alerts: { email: ['ops@example.net'] } },
    ]);
  });

  test('THEN a dedicated TURN droplet is watched as well', () => {
    const plan = planAlerts(resolveSpec(withAlerts({ emails: ['ops@example.net'] }, dedicatedTurnSpec)))!;
    expect(plan.monitorAlerts.map((a) => `${a.droplet} ${a.metric}`)).toEqual(['prosody-host memory', 'prosody-host cpu', 'prosody-host disk', 'turn-host memory', 'turn-host cpu', 'turn-host disk']);
    expect(plan.monitorAlerts[3].description).toBe('xmpp-example-net-turn: memory use above 90% for 10m');
  });

  test('THEN the alert resources are replaced delete-first and not protected', () => {
    const lifecycle = planLifecycles(spec);
    for (const role of ['uptimeCheck', 'uptimeAlert', 'monitorAlert'] as const) expect(lifecycle[role]).toEqual({ protect: false, replacement: 'delete-first', ignoreChanges: [] });
  });
});
