/**
 * Alerts as plain data: the uptime check of the service's HTTPS endpoint with its down, latency and
 * certificate-expiry alerts, and the memory, CPU and disk alerts of each droplet. Both adapters pass
 * these attributes on, adding only their engine's references (the check's ID, the droplets' IDs)
 * and their way of keeping the Slack webhook secret.
 */
import { HOST_META_PATH } from './nginx';
import { BACKUP_FRESH_PATH } from './paths';
import { hasDedicatedTurnDroplet, ResolvedAlerts, ResolvedSpec } from './spec';

/** Where notifications go; `slack` holds the webhook URL, a secret each adapter marks as one. */
export interface AlertNotifications {
  readonly email: string[];
  readonly slack?: { readonly channel: string; readonly url: string }[];
}

/** A `digitalocean_uptime_check`. */
export interface UptimeCheckAttributes {
  readonly name: string;
  readonly target: string;
  readonly type: 'https';
  readonly regions: string[];
  readonly enabled: true;
}

/** A `digitalocean_uptime_alert`, without the check's ID (the adapter's reference). */
export interface UptimeAlertAttributes {
  readonly name: string;
  readonly type: 'down' | 'latency' | 'ssl_expiry';
  readonly threshold?: number;
  readonly comparison?: 'greater_than' | 'less_than';
  readonly period?: string;
  readonly notifications: AlertNotifications[];
}

/** Which droplet a monitor alert watches. */
export type MonitoredDroplet = 'prosody-host' | 'turn-host';

/** A `digitalocean_monitor_alert`, without `entities` (the watched droplet's ID, the adapter's reference). */
export interface MonitorAlertAttributes {
  readonly droplet: MonitoredDroplet;
  /** What it watches, as a short stable name for resource IDs: `cpu`, `memory`, `disk`. */
  readonly metric: 'cpu' | 'memory' | 'disk';
  readonly type: string;
  readonly compare: 'GreaterThan';
  readonly value: number;
  readonly window: string;
  readonly description: string;
  readonly enabled: true;
  readonly alerts: AlertNotifications;
}

/** Every alert resource of a service. */
export interface AlertsPlan {
  readonly uptimeCheck: UptimeCheckAttributes;
  readonly uptimeAlerts: readonly UptimeAlertAttributes[];
  readonly monitorAlerts: readonly MonitorAlertAttributes[];
  /**
   * With `offsiteBackups`: a second uptime check, of the address that answers 200 only while the
   * newest off-host backup is fresh, and its "down" alert: a failed, refused or missed backup.
   */
  readonly backupCheck?: { readonly check: UptimeCheckAttributes; readonly alert: UptimeAlertAttributes };
}

/**
 * How long the backup check must fail before it alerts: long enough that a droplet replacement (the
 * main check reports it) does not also alert as a backup problem; a backup fails for longer than that.
 */
export const BACKUP_ALERT_PERIOD = '1h';

/**
 * Every region DigitalOcean checks from, listed rather than left unset: the provider reads the
 * regions back from the API, so a list DigitalOcean chose would show as a change in every plan.
 * Checks from four continents also tell a regional network fault from an outage in the graphs.
 */
export const UPTIME_REGIONS = ['us_east', 'us_west', 'eu_west', 'se_asia'] as const;

/** The droplet metrics alerted on, with the insight type DigitalOcean names each by. */
const METRICS = [
  { metric: 'memory', type: 'v1/insights/droplet/memory_utilization_percent', what: 'memory use', threshold: (a: ResolvedAlerts) => a.memoryPercent },
  { metric: 'cpu', type: 'v1/insights/droplet/cpu', what: 'CPU use', threshold: (a: ResolvedAlerts) => a.cpuPercent },
  { metric: 'disk', type: 'v1/insights/droplet/disk_utilization_percent', what: 'root disk use', threshold: (a: ResolvedAlerts) => a.diskPercent },
] as const;

/**
 * Stands in for a Slack webhook known only at deploy time (a sensitive Terraform variable, a Pulumi
 * secret): the spec is validated and planned with it, then the adapter puts its engine's value in
 * every Slack notification (`slackWebhookUrl`). It passes `checkSlackWebhookUrl`, and no real
 * webhook looks like it.
 */
export const DEPLOY_TIME_WEBHOOK_PLACEHOLDER = 'https://hooks.slack.com/services/xmpp-constructs-deploy-time-webhook-placeholder';

/**
 * The webhook URL a Slack notification is deployed with: the deploy-time value `deployTime` where the
 * core planned its placeholder, else the planned `url` (a literal given in the declaration).
 */
export function slackWebhookUrl<S>(url: string, deployTime: S | undefined): string | S {
  return url === DEPLOY_TIME_WEBHOOK_PLACEHOLDER && deployTime !== undefined ? deployTime : url;
}

/** The notification settings of every alert. */
export function alertNotifications(alerts: ResolvedAlerts): AlertNotifications {
  return {
    email: [...alerts.emails],
    ...(alerts.slack ? { slack: [{ channel: alerts.slack.channel, url: alerts.slack.webhookUrl }] } : {}),
  };
}

/**
 * The URL the uptime check requests: the primary domain's host-meta document, which nginx serves
 * from a file. An answer proves DNS, the reserved IP, the firewall, nginx and the certificate at
 * once, without loading Prosody or depending on web access (BOSH, WebSocket) being on.
 */
export function uptimeTarget(spec: ResolvedSpec): string {
  return `https://${spec.primaryDomain}${HOST_META_PATH}`;
}

/**
 * The alert resources of `spec`, or undefined when it declares no alerts. One uptime check per
 * service, not per domain: every domain is served by the same nginx with the same certificate
 * lineage, so a check per domain would say nothing more, and a provider of hundreds of domains would
 * pay for hundreds of checks. Monitor alerts watch each droplet the service runs by its ID.
 */
export function planAlerts(spec: ResolvedSpec): AlertsPlan | undefined {
  const alerts = spec.alerts;
  if (!alerts) return undefined;
  const notifications = alertNotifications(alerts);
  const name = spec.droplet.name;
  const droplets: { readonly role: MonitoredDroplet; readonly name: string }[] = [
    { role: 'prosody-host', name },
    ...(hasDedicatedTurnDroplet(spec) ? [{ role: 'turn-host' as const, name: spec.calls.droplet.name }] : []),
  ];
  return {
    uptimeCheck: { name: `${name} https`, target: uptimeTarget(spec), type: 'https', regions: [...UPTIME_REGIONS], enabled: true },
    uptimeAlerts: [
      // Down from any region for the period: a regional fault is reported too, as users there lose the service.
      { name: `${name}: down`, type: 'down', period: alerts.uptimePeriod, notifications: [notifications] },
      { name: `${name}: slower than ${alerts.latencyThresholdMs} ms`, type: 'latency', threshold: alerts.latencyThresholdMs, comparison: 'greater_than', period: alerts.uptimePeriod, notifications: [notifications] },
      // In days left; certbot renews at 30, so this fires only when renewal keeps failing.
      { name: `${name}: certificate expires in less than ${alerts.sslExpiryDays} days`, type: 'ssl_expiry', threshold: alerts.sslExpiryDays, comparison: 'less_than', notifications: [notifications] },
    ],
    monitorAlerts: droplets.flatMap((droplet) =>
      METRICS.map((m) => ({
        droplet: droplet.role,
        metric: m.metric,
        type: m.type,
        compare: 'GreaterThan' as const,
        value: m.threshold(alerts),
        window: alerts.monitorWindow,
        description: `${droplet.name}: ${m.what} above ${m.threshold(alerts)}% for ${alerts.monitorWindow}`,
        enabled: true as const,
        alerts: notifications,
      })),
    ),
    ...(spec.offsiteBackups
      ? {
          backupCheck: {
            check: { name: `${name} backup`, target: `https://${spec.primaryDomain}${BACKUP_FRESH_PATH}`, type: 'https' as const, regions: [...UPTIME_REGIONS], enabled: true as const },
            alert: { name: `${name}: off-host backup failed or missed`, type: 'down' as const, period: BACKUP_ALERT_PERIOD, notifications: [notifications] },
          },
        }
      : {}),
  };
}
