/** `alerts`: the uptime check's and the monitor alerts' thresholds, and who is told. */
import { DEFAULTS } from '../defaults';
import { checkAlertEmail, checkAlertEmails, checkAlertsNeedMonitoring, checkInteger, checkOneOf, checkSlackChannel, checkSlackWebhookUrl } from '../rules';
import { AlertsSpec, MONITOR_WINDOWS, ResolvedAlerts, SlackAlertsSpec, UPTIME_PERIODS } from '../spec';
import { IssueCollector, isObject } from './collector';

/**
 * The alerts, or undefined when none are declared (then nothing is created). `monitoring` is the
 * resolved `droplet.monitoring`: the memory, CPU and disk alerts need the agent it installs.
 */
export function resolveAlerts(declared: AlertsSpec | undefined, monitoring: unknown, c: IssueCollector): ResolvedAlerts | undefined {
  if (declared === undefined) return undefined;
  if (!isObject(declared)) {
    c.check('alerts', declared, { problem: 'must be an object', fix: 'write alerts: { emails: ["ops@example.net"] }' });
    return undefined;
  }
  const alerts = { ...DEFAULTS.alerts, ...declared };
  c.check('alerts.emails', alerts.emails, checkAlertEmails(alerts.emails));
  const emails: string[] = Array.isArray(alerts.emails) ? [...alerts.emails] : [];
  emails.forEach((email, i) => c.check(`alerts.emails[${i}]`, email, checkAlertEmail(email)));
  const slack = resolveSlack(alerts.slack, c);
  c.check('alerts.latencyThresholdMs', alerts.latencyThresholdMs, checkInteger(alerts.latencyThresholdMs, 100, 60_000, ' ms'));
  c.check('alerts.uptimePeriod', alerts.uptimePeriod, checkOneOf(alerts.uptimePeriod, UPTIME_PERIODS));
  // Below certbot's 30 days: at 30 or more, every certificate would alert before its renewal was due.
  c.check('alerts.sslExpiryDays', alerts.sslExpiryDays, checkInteger(alerts.sslExpiryDays, 1, 29, ' days'));
  c.check('alerts.cpuPercent', alerts.cpuPercent, checkInteger(alerts.cpuPercent, 1, 100, '%'));
  c.check('alerts.memoryPercent', alerts.memoryPercent, checkInteger(alerts.memoryPercent, 1, 100, '%'));
  c.check('alerts.diskPercent', alerts.diskPercent, checkInteger(alerts.diskPercent, 1, 100, '%'));
  c.check('alerts.monitorWindow', alerts.monitorWindow, checkOneOf(alerts.monitorWindow, MONITOR_WINDOWS));
  // Reported on the field that must change, naming the section that needs it.
  c.check('droplet.monitoring', monitoring, checkAlertsNeedMonitoring(true, monitoring));
  return {
    emails,
    ...(slack ? { slack } : {}),
    latencyThresholdMs: alerts.latencyThresholdMs,
    uptimePeriod: alerts.uptimePeriod,
    sslExpiryDays: alerts.sslExpiryDays,
    cpuPercent: alerts.cpuPercent,
    memoryPercent: alerts.memoryPercent,
    diskPercent: alerts.diskPercent,
    monitorWindow: alerts.monitorWindow,
  };
}

function resolveSlack(declared: SlackAlertsSpec | undefined, c: IssueCollector): ResolvedAlerts['slack'] {
  if (declared === undefined) return undefined;
  if (!isObject(declared)) {
    c.check('alerts.slack', declared, { problem: 'must be an object', fix: 'write slack: { channel: "ops-alerts", webhookUrl: "https://hooks.slack.com/services/…" }' });
    return undefined;
  }
  c.check('alerts.slack.channel', declared.channel, checkSlackChannel(declared.channel));
  // The URL is a secret: the message names the field and what is wrong, never the value.
  const problem = checkSlackWebhookUrl(declared.webhookUrl);
  c.check('alerts.slack.webhookUrl', problem ? '(not shown: a webhook URL is a secret)' : declared.webhookUrl, problem);
  return { channel: declared.channel, webhookUrl: declared.webhookUrl };
}
