import * as pulumi from '@pulumi/pulumi';
import { Firewall } from '@pulumi/digitalocean/firewall';
import { FirewallPlan } from '../core/firewall';
import { firewallRuleAttributes } from '../core/resources';
import { firewallOfRole } from '../core/service-plan';
import { componentType, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec, withLifecycle } from './spec';

export interface FirewallRulesArgs {
  /** The service, planned from its declaration (`planForPulumi`); `FirewallRules.fromSpec` plans it for you. */
  readonly plan: PulumiServicePlan;
  /** Droplets the firewall protects (numbers; see `numericDropletId`). */
  readonly dropletIds: pulumi.Input<pulumi.Input<number>[]>;
  /**
   * Name of the firewall.
   * @default - the droplet name followed by "-fw"
   */
  readonly name?: pulumi.Input<string>;
  /**
   * Which host the firewall protects: the Prosody host, or coturn's own droplet.
   * @default "prosody-host"
   */
  readonly role?: 'prosody-host' | 'turn-host';
}

/** `FirewallRulesArgs` with the declaration in place of a plan, for `FirewallRules.fromSpec`. */
export interface FirewallRulesSpecArgs extends Omit<FirewallRulesArgs, 'plan'> {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
}

/** A DigitalOcean cloud firewall with exactly the ports the enabled features need. */
export class FirewallRules extends pulumi.ComponentResource {
  public readonly firewall: Firewall;
  /** The plan the rules were made from. */
  public readonly plan: FirewallPlan;

  /** A firewall on its own, planned from `args.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(name: string, args: FirewallRulesSpecArgs, opts?: pulumi.ComponentResourceOptions): FirewallRules {
    const { spec, ...rest } = args;
    return new FirewallRules(name, { ...rest, plan: planForPulumi(spec) }, opts);
  }

  constructor(name: string, args: FirewallRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = firewallOfRole(args.plan, args.role);
    super(componentType('FirewallRules'), name, {}, opts);
    this.plan = planned.firewall.rules;
    const rules = firewallRuleAttributes(this.plan);
    this.firewall = new Firewall(
      `${name}-firewall`,
      {
        name: args.name ?? planned.firewall.name,
        dropletIds: args.dropletIds,
        inboundRules: rules.inbound,
        outboundRules: rules.outbound,
      },
      withLifecycle(planned.lifecycle, { parent: this }),
    );
    this.registerOutputs({ firewallId: this.firewall.id });
  }
}
