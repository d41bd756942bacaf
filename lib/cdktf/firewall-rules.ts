import { Firewall } from '@cdktf/provider-digitalocean/lib/firewall';
import { Construct } from 'constructs';
import { FirewallPlan, planFirewall, planTurnFirewall } from '../core/firewall';
import { firewallName, firewallRuleAttributes } from '../core/resources';
import { XmppServiceSpec } from '../core/spec';
import { resolveForCdktf } from './spec';

export interface FirewallRulesProps {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
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

/** A DigitalOcean cloud firewall with exactly the ports the enabled features need. */
export class FirewallRules extends Construct {
  public readonly firewall: Firewall;
  /** The plan the rules were made from. */
  public readonly plan: FirewallPlan;

  constructor(scope: Construct, id: string, props: FirewallRulesProps) {
    super(scope, id);
    const { spec } = resolveForCdktf(props.spec);
    const turnHost = props.role === 'turn-host';
    this.plan = turnHost ? planTurnFirewall(spec) : planFirewall(spec);
    const rules = firewallRuleAttributes(this.plan);
    this.firewall = new Firewall(this, 'Firewall', {
      name: props.name ?? firewallName(spec, props.role ?? 'prosody-host'),
      dropletIds: [...props.dropletIds],
      inboundRule: rules.inbound,
      outboundRule: rules.outbound,
    });
  }
}
