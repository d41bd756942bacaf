import { MonitorAlert } from '@cdktf/provider-digitalocean/lib/monitor-alert';
import { UptimeAlert } from '@cdktf/provider-digitalocean/lib/uptime-alert';
import { UptimeCheck } from '@cdktf/provider-digitalocean/lib/uptime-check';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AlertNotifications, MonitoredDroplet, slackWebhookUrl } from '../core/alerts';
import { CdktfServicePlan, terraformLifecycle } from './spec';

export interface ServiceAlertsProps {
  /** The service, planned from its declaration (`planForCdktf`); it must declare `alerts`. */
  readonly plan: CdktfServicePlan;
  /** The IDs of the droplets the monitor alerts watch: the Prosody host's, and coturn's own when dedicated. */
  readonly dropletIds: { readonly [role in MonitoredDroplet]?: string };
}

/**
 * The service's alerts at DigitalOcean: an uptime check of the primary domain's HTTPS endpoint with
 * its down, latency and certificate-expiry alerts, and memory, CPU and disk alerts on each droplet.
 * `XmppService` creates it when the spec declares `alerts`.
 */
export class ServiceAlerts extends Construct {
  public readonly uptimeCheck: UptimeCheck;
  /** The down, latency and certificate-expiry alerts, in that order. */
  public readonly uptimeAlerts: readonly UptimeAlert[];
  public readonly monitorAlerts: readonly MonitorAlert[];
  /** With `offsiteBackups`: the check of the backups' freshness, and its "down" alert. */
  public readonly backupCheck?: UptimeCheck;
  public readonly backupAlert?: UptimeAlert;

  constructor(scope: Construct, id: string, props: ServiceAlertsProps) {
    super(scope, id);
    const { plan } = props;
    const alerts = plan.alerts;
    if (!alerts) {
      throw new Error('ServiceAlerts: the spec declares no alerts. Fix: add alerts: { emails: ["ops@example.net"] } to the spec, or leave ServiceAlerts out.');
    }
    const { lifecycle } = plan;
    this.uptimeCheck = new UptimeCheck(this, 'UptimeCheck', { ...alerts.uptimeCheck, regions: [...alerts.uptimeCheck.regions], lifecycle: terraformLifecycle(lifecycle.uptimeCheck) });
    this.uptimeAlerts = alerts.uptimeAlerts.map(
      (alert) =>
        new UptimeAlert(this, `UptimeAlert-${alert.type}`, {
          ...alert,
          checkId: this.uptimeCheck.id,
          notifications: alert.notifications.map((n) => sensitiveWebhooks(n, plan.deployTimeWebhookUrl)),
          lifecycle: terraformLifecycle(lifecycle.uptimeAlert),
        }),
    );
    if (alerts.backupCheck) {
      const { check, alert } = alerts.backupCheck;
      this.backupCheck = new UptimeCheck(this, 'BackupUptimeCheck', { ...check, regions: [...check.regions], lifecycle: terraformLifecycle(lifecycle.uptimeCheck) });
      this.backupAlert = new UptimeAlert(this, 'UptimeAlert-backup-down', {
        ...alert,
        checkId: this.backupCheck.id,
        notifications: alert.notifications.map((n) => sensitiveWebhooks(n, plan.deployTimeWebhookUrl)),
        lifecycle: terraformLifecycle(lifecycle.uptimeAlert),
      });
    }
    this.monitorAlerts = alerts.monitorAlerts.map((alert) => {
      const { droplet, metric, ...attributes } = alert;
      const dropletId = props.dropletIds[droplet];
      if (dropletId === undefined) throw new Error(`ServiceAlerts: no ID given for the ${droplet} droplet, which the ${metric} alert watches. Fix: pass dropletIds.${droplet === 'prosody-host' ? '"prosody-host"' : '"turn-host"'}.`);
      return new MonitorAlert(this, `MonitorAlert-${droplet}-${metric}`, {
        ...attributes,
        entities: [dropletId],
        alerts: sensitiveWebhooks(attributes.alerts, plan.deployTimeWebhookUrl),
        lifecycle: terraformLifecycle(lifecycle.monitorAlert),
      });
    });
  }
}

/**
 * The notifications with each Slack webhook wrapped in Terraform's `sensitive()`, so that plans show
 * `(sensitive value)` instead of the URL. A webhook given as a token (`deployTimeWebhookUrl`, e.g. a
 * sensitive variable's) goes where the core planned its placeholder, and the synthesized JSON only
 * references it; a literal one is in the JSON. Either way it is in state.
 */
function sensitiveWebhooks(notifications: AlertNotifications, deployTimeWebhookUrl: string | undefined): { email: string[]; slack?: { channel: string; url: string }[] } {
  return {
    email: [...notifications.email],
    ...(notifications.slack
      ? { slack: notifications.slack.map((s) => ({ channel: s.channel, url: Token.asString(Fn.sensitive(slackWebhookUrl(s.url, deployTimeWebhookUrl))) })) }
      : {}),
  };
}
