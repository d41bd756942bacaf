import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { XmppServiceSpec } from '../core/spec';
import { FirewallRules } from './firewall-rules';
import { CdktfServicePlan, planForCdktf, terraformLifecycle, userDataForTerraform } from './spec';

export interface TurnServerProps {
  /**
   * The service, planned from its declaration (`planForCdktf`); `calls.placement` decides where
   * coturn runs. `TurnServer.fromSpec` plans it for you.
   */
  readonly plan: CdktfServicePlan;
  /**
   * Tags for the dedicated TURN droplet.
   * @default - none
   */
  readonly tags?: readonly string[];
  /**
   * UUID of the VPC the dedicated TURN droplet joins.
   * @default - the region's default VPC
   */
  readonly vpcUuid?: string;
}

/** `TurnServerProps` with the declaration in place of a plan, for `TurnServer.fromSpec`. */
export interface TurnServerSpecProps extends Omit<TurnServerProps, 'plan'> {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
}

/**
 * coturn for audio and video calls.
 *
 * On the Prosody host (the default) it creates no resource: its configuration is part of the
 * host's user_data and its ports part of the host's firewall, both rendered by the core. With
 * `calls.placement: 'dedicated'` it creates coturn's own droplet and firewall; both hosts then
 * hold the supplied shared secret, which stays a reference when given as a sensitive variable.
 * A replacement of that droplet is created before the old one is destroyed, so calls keep working.
 */
export class TurnServer extends Construct {
  /** The TURN server's host name, e.g. `turn.example.net`. */
  public readonly hostName: string;
  /** `{ path on the host: content }` of coturn's files (empty when calls are off). */
  public readonly files: { readonly [path: string]: string };
  /** coturn's own droplet, when dedicated. */
  public readonly droplet?: Droplet;
  /** The firewall of coturn's own droplet, when dedicated. */
  public readonly firewall?: FirewallRules;
  /** The dedicated droplet's user_data, when dedicated. */
  public readonly userData?: string;

  /** coturn on its own, planned from `props.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(scope: Construct, id: string, props: TurnServerSpecProps): TurnServer {
    const { spec, ...rest } = props;
    return new TurnServer(scope, id, { ...rest, plan: planForCdktf(spec) });
  }

  constructor(scope: Construct, id: string, props: TurnServerProps) {
    super(scope, id);
    const { plan } = props;
    this.hostName = plan.turn.hostName;
    this.files = plan.turn.files;
    const dedicated = plan.turn.dedicated;
    if (!dedicated) return;

    const userData = userDataForTerraform(dedicated.rendered.userData, plan.deployTimeSecret);
    this.userData = userData.text;
    this.droplet = new Droplet(this, 'Droplet', {
      ...dedicated.droplet,
      userData: userData.template,
      tags: props.tags ? [...props.tags] : undefined,
      vpcUuid: props.vpcUuid,
      lifecycle: terraformLifecycle(plan.lifecycle.turnDroplet),
    });
    this.firewall = new FirewallRules(this, 'Firewall', {
      plan,
      role: 'turn-host',
      dropletIds: [Token.asNumber(this.droplet.id)],
    });
  }
}
