import * as pulumi from '@pulumi/pulumi';
import { Droplet } from '@pulumi/digitalocean/droplet';
import { FirewallRules } from './firewall-rules';
import { componentType, numericDropletId, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec, userDataOutput, withLifecycle } from './spec';

export interface TurnServerArgs {
  /**
   * The service, planned from its declaration (`planForPulumi`); `calls.placement` decides where
   * coturn runs. `TurnServer.fromSpec` plans it for you.
   */
  readonly plan: PulumiServicePlan;
  /**
   * Tags for the dedicated TURN droplet.
   * @default - none
   */
  readonly tags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * UUID of the VPC the dedicated TURN droplet joins.
   * @default - the region's default VPC
   */
  readonly vpcUuid?: pulumi.Input<string>;
}

/** `TurnServerArgs` with the declaration in place of a plan, for `TurnServer.fromSpec`. */
export interface TurnServerSpecArgs extends Omit<TurnServerArgs, 'plan'> {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
}

/**
 * coturn for audio and video calls.
 *
 * On the Prosody host (the default) it creates no resource: its configuration is part of the
 * host's user_data and its ports part of the host's firewall, both rendered by the core. With
 * `calls.placement: 'dedicated'` it creates coturn's own droplet and firewall; both hosts then
 * hold the supplied shared secret, which stays a Pulumi secret when given as one. A replacement of
 * that droplet is created before the old one is deleted, so calls keep working.
 */
export class TurnServer extends pulumi.ComponentResource {
  /** The TURN server's host name, e.g. `turn.example.net`. */
  public readonly hostName: string;
  /** `{ path on the host: content }` of coturn's files (empty when calls are off). */
  public readonly files: { readonly [path: string]: string };
  /** coturn's own droplet, when dedicated. */
  public readonly droplet?: Droplet;
  /** The firewall of coturn's own droplet, when dedicated. */
  public readonly firewall?: FirewallRules;
  /** The dedicated droplet's user_data, when dedicated; a secret, as it holds the shared secret. */
  public readonly userData?: pulumi.Output<string>;

  /** coturn on its own, planned from `args.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(name: string, args: TurnServerSpecArgs, opts?: pulumi.ComponentResourceOptions): TurnServer {
    const { spec, ...rest } = args;
    return new TurnServer(name, { ...rest, plan: planForPulumi(spec) }, opts);
  }

  constructor(name: string, args: TurnServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType('TurnServer'), name, {}, opts);
    const { plan } = args;
    this.hostName = plan.turn.hostName;
    this.files = plan.turn.files;
    const dedicated = plan.turn.dedicated;
    if (!dedicated) {
      this.registerOutputs({ hostName: this.hostName });
      return;
    }

    this.userData = userDataOutput(dedicated.rendered.userData, plan);
    this.droplet = new Droplet(
      `${name}-droplet`,
      {
        ...dedicated.droplet,
        userData: this.userData,
        tags: args.tags,
        vpcUuid: args.vpcUuid,
      },
      withLifecycle(plan.lifecycle.turnDroplet, { parent: this }),
    );
    this.firewall = new FirewallRules(`${name}-firewall`, { plan, role: 'turn-host', dropletIds: [numericDropletId(this.droplet.id)] }, { parent: this });
    this.registerOutputs({ hostName: this.hostName, ipv4Address: this.droplet.ipv4Address });
  }
}
