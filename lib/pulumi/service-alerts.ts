import * as pulumi from '@pulumi/pulumi';
import { MonitorAlert } from '@pulumi/digitalocean/monitorAlert';
import { UptimeAlert } from '@pulumi/digitalocean/uptimeAlert';
import { UptimeCheck } from '@pulumi/digitalocean/uptimeCheck';
import { AlertNotifications, MonitoredDroplet, slackWebhookUrl } from '../core/alerts';
import { componentType, PulumiServicePlan, withLifecycle } from './spec';

export interface ServiceAlertsArgs {
  /** The service, planned from its declaration (`planForPulumi`); it must declare `alerts`. */
  readonly plan: PulumiServicePlan;
  /** The IDs of the droplets the monitor alerts watch: the Prosody host's, and coturn's own when dedicated. */
  readonly dropletIds: { readonly [role in MonitoredDroplet]?: pulumi.Input<string> };
}

/**
 * The service's alerts at DigitalOcean: an uptime check of the primary domain's HTTPS endpoint with
 * its down, latency and certificate-expiry alerts, and memory, CPU and disk alerts on each droplet.
 * `XmppService` creates it when the spec declares `alerts`. The same resources as cdktf's.
 */
export class ServiceAlerts extends pulumi.ComponentResource {
  public readonly uptimeCheck: UptimeCheck;
  /** The down, latency and certificate-expiry alerts, in that order. */
  public readonly uptimeAlerts: readonly UptimeAlert[];
  public readonly monitorAlerts: readonly MonitorAlert[];
  /** With `offsiteBackups`: the check of the backups' freshness, and its "down" alert. */
  public readonly backupCheck?: UptimeCheck;
  public readonly backupAlert?: UptimeAlert;

  constructor(name: string, args: ServiceAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    const alerts = args.plan.alerts;
    if (!alerts) {
      throw new Error('ServiceAlerts: the spec declares no alerts. Fix: add alerts: { emails: ["ops@example.net"] } to the spec, or leave ServiceAlerts out.');
    }
    super(componentType('ServiceAlerts'), name, {}, opts);
    const { lifecycle } = args.plan;
    const child = { parent: this };
    this.uptimeCheck = new UptimeCheck(`${name}-uptime-check`, { ...alerts.uptimeCheck, regions: [...alerts.uptimeCheck.regions] }, withLifecycle(lifecycle.uptimeCheck, child));
    this.uptimeAlerts = alerts.uptimeAlerts.map(
      (alert) =>
        new UptimeAlert(
          `${name}-uptime-${alert.type.replace(/_/g, '-')}`,
          { ...alert, checkId: this.uptimeCheck.id, notifications: alert.notifications.map((n) => pulumiNotifications(n, args.plan.deployTimeWebhookUrl)) },
          withLifecycle(lifecycle.uptimeAlert, child),
        ),
    );
    if (alerts.backupCheck) {
      const { check, alert } = alerts.backupCheck;
      this.backupCheck = new UptimeCheck(`${name}-backup-check`, { ...check, regions: [...check.regions] }, withLifecycle(lifecycle.uptimeCheck, child));
      this.backupAlert = new UptimeAlert(
        `${name}-uptime-backup-down`,
        { ...alert, checkId: this.backupCheck.id, notifications: alert.notifications.map((n) => pulumiNotifications(n, args.plan.deployTimeWebhookUrl)) },
        withLifecycle(lifecycle.uptimeAlert, child),
      );
    }
    this.monitorAlerts = alerts.monitorAlerts.map((alert) => {
      const { droplet, metric, ...attributes } = alert;
      const dropletId = args.dropletIds[droplet];
      if (dropletId === undefined) throw new Error(`ServiceAlerts: no ID given for the ${droplet} droplet, which the ${metric} alert watches. Fix: pass dropletIds["${droplet}"].`);
      return new MonitorAlert(
        `${name}-${droplet}-${metric}`,
        { ...attributes, entities: [dropletId], alerts: pulumiNotifications(attributes.alerts, args.plan.deployTimeWebhookUrl) },
        withLifecycle(lifecycle.monitorAlert, child),
      );
    });
    this.registerOutputs({ uptimeCheckId: this.uptimeCheck.id });
  }
}

/**
 * The notifications as the Pulumi provider names them (`emails`, `slacks`), each Slack webhook a
 * Pulumi secret: encrypted in state, hidden in previews and outputs. A webhook given as an Output or
 * Promise (`deployTimeWebhookUrl`, e.g. `config.requireSecret(...)`) goes where the core planned its
 * placeholder.
 */
function pulumiNotifications(
  notifications: AlertNotifications,
  deployTimeWebhookUrl: pulumi.Input<string> | undefined,
): { emails: string[]; slacks?: { channel: string; url: pulumi.Output<string> }[] } {
  return {
    emails: [...notifications.email],
    ...(notifications.slack ? { slacks: notifications.slack.map((s) => ({ channel: s.channel, url: pulumi.secret(slackWebhookUrl(s.url, deployTimeWebhookUrl)) })) } : {}),
  };
}
