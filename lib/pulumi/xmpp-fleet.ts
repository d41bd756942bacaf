import * as pulumi from '@pulumi/pulumi';
import { planHosts } from '../core/hosts';
import { componentType, planForPulumi } from './spec';
import { XmppService, XmppServiceArgs } from './xmpp-service';

export interface XmppFleetArgs {
  /**
   * The hosts by name, each with the domains assigned to it and everything else a service takes.
   * Each host gets its own droplet, volume, reserved IP and firewall; each domain's records point
   * at its host. A domain moves by moving it to another host's list (its data does not move).
   */
  readonly hosts: { readonly [host: string]: XmppServiceArgs };
}

/**
 * Domains spread over several hosts, checked together: no domain, component or TURN name on two
 * hosts, no two hosts with the same droplet name. The same as the cdktf `XmppFleet`; each host's
 * service is named `<name>-<host>`.
 */
export class XmppFleet extends pulumi.ComponentResource {
  /** The hosts' services, by host name. */
  public readonly services: { readonly [host: string]: XmppService } = {};

  constructor(name: string, args: XmppFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything registers.
    const plans = planHosts(args.hosts, (service) => planForPulumi(service.spec, service));
    super(componentType('XmppFleet'), name, {}, opts);
    for (const [host, serviceArgs] of Object.entries(args.hosts)) {
      (this.services as { [host: string]: XmppService })[host] = new XmppService(`${name}-${host}`, serviceArgs, { parent: this }, plans.get(host));
    }
    this.registerOutputs({});
  }
}
