import { Construct } from 'constructs';
import { planHosts } from '../core/hosts';
import { planForCdktf } from './spec';
import { XmppService, XmppServiceProps } from './xmpp-service';

export interface XmppFleetProps {
  /**
   * The hosts by name, each with the domains assigned to it and everything else a service takes.
   * Each host gets its own droplet, volume, reserved IP and firewall; each domain's records point
   * at its host. A domain moves by moving it to another host's list (its data does not move).
   */
  readonly hosts: { readonly [host: string]: XmppServiceProps };
}

/**
 * Domains spread over several hosts, checked together: no domain, component or TURN name on two
 * hosts, no two hosts with the same droplet name. Invalid input fails before anything is created.
 */
export class XmppFleet extends Construct {
  /** The hosts' services, by host name. */
  public readonly services: { readonly [host: string]: XmppService } = {};

  constructor(scope: Construct, id: string, props: XmppFleetProps) {
    super(scope, id);
    const plans = planHosts(props.hosts, (service) => planForCdktf(service.spec, service));
    for (const [host, serviceProps] of Object.entries(props.hosts)) {
      (this.services as { [host: string]: XmppService })[host] = new XmppService(this, host, serviceProps, plans.get(host));
    }
  }
}
