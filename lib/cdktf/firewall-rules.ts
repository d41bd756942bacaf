import { Firewall } from '@cdktf/provider-digitalocean/lib/firewall';
import { Construct } from 'constructs';
import { FirewallPlan } from '../core/firewall';
import { firewallRuleAttributes } from '../core/resources';
import { firewallOfRole } from '../core/service-plan';
import { XmppServiceSpec } from '../core/spec';
import { CdktfServicePlan, planForCdktf, terraformLifecycle } from './spec';

export interface FirewallRulesProps {
  /** The service, planned from its declaration (`planForCdktf`); `FirewallRules.fromSpec` plans it for you. */
  readonly plan: CdktfServicePlan;
  /** Droplets the firewall protects (numbers; use `Token.asNumber(droplet.id)`). */
  readonly dropletIds: readonly number[];
  /**
   * Name of the firewall.
   * @default - the droplet name followed by "-fw"
   */
  readonly name?: string;
  /**
   * Which host the firewall protects: the Prosody host, or coturn's own droplet.
   * @default "prosody-host"
   */
  readonly role?: 'prosody-host' | 'turn-host';
}

/** `FirewallRulesProps` with the declaration in place of a plan, for `FirewallRules.fromSpec`. */
export interface FirewallRulesSpecProps extends Omit<FirewallRulesProps, 'plan'> {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
}

/** A DigitalOcean cloud firewall with exactly the ports the enabled features need. */
export class FirewallRules extends Construct {
  public readonly firewall: Firewall;
  /** The plan the rules were made from. */
  public readonly plan: FirewallPlan;

  /** A firewall on its own, planned from `props.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(scope: Construct, id: string, props: FirewallRulesSpecProps): FirewallRules {
    const { spec, ...rest } = props;
    return new FirewallRules(scope, id, { ...rest, plan: planForCdktf(spec) });
  }

  constructor(scope: Construct, id: string, props: FirewallRulesProps) {
    super(scope, id);
    const planned = firewallOfRole(props.plan, props.role);
    this.plan = planned.firewall.rules;
    const rules = firewallRuleAttributes(this.plan);
    this.firewall = new Firewall(this, 'Firewall', {
      name: props.name ?? planned.firewall.name,
      dropletIds: [...props.dropletIds],
      inboundRule: rules.inbound,
      outboundRule: rules.outbound,
      lifecycle: terraformLifecycle(planned.lifecycle),
    });
  }
}
