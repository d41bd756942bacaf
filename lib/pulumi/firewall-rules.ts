import * as pulumi from '@pulumi/pulumi';
import { Firewall } from '@pulumi/digitalocean/firewall';
import { FirewallPlan, planFirewall, planTurnFirewall } from '../core/firewall';
import { firewallName, firewallRuleAttributes } from '../core/resources';
import { componentType, PulumiXmppServiceSpec, resolveForPulumi } from './spec';

export interface FirewallRulesArgs {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
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

/** A DigitalOcean cloud firewall with exactly the ports the enabled features need. */
export class FirewallRules extends pulumi.ComponentResource {
  public readonly firewall: Firewall;
  /** The plan the rules were made from. */
  public readonly plan: FirewallPlan;

  constructor(name: string, args: FirewallRulesArgs, opts?: pulumi.ComponentResourceOptions) {
    const { spec } = resolveForPulumi(args.spec);
    const turnHost = args.role === 'turn-host';
    const plan = turnHost ? planTurnFirewall(spec) : planFirewall(spec);
    super(componentType('FirewallRules'), name, {}, opts);
    this.plan = plan;
    const rules = firewallRuleAttributes(plan);
    this.firewall = new Firewall(
      `${name}-firewall`,
      {
        name: args.name ?? firewallName(spec, args.role ?? 'prosody-host'),
        dropletIds: args.dropletIds,
        inboundRules: rules.inbound,
        outboundRules: rules.outbound,
      },
      { parent: this },
    );
    this.registerOutputs({ firewallId: this.firewall.id });
  }
}
