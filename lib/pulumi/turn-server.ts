import * as pulumi from '@pulumi/pulumi';
import { Droplet } from '@pulumi/digitalocean/droplet';
import { renderTurnCloudInit } from '../core/cloud-init';
import { turnDropletAttributes } from '../core/resources';
import { hasDedicatedTurnDroplet } from '../core/spec';
import { renderTurnFiles } from '../core/turn';
import { FirewallRules } from './firewall-rules';
import { componentType, numericDropletId, PulumiXmppServiceSpec, resolveForPulumi, userDataOutput } from './spec';

export interface TurnServerArgs {
  /** The service declaration; `calls.placement` decides where coturn runs. */
  readonly spec: PulumiXmppServiceSpec;
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

/**
 * coturn for audio and video calls.
 *
 * On the Prosody host (the default) it creates no resource: its configuration is part of the
 * host's user_data and its ports part of the host's firewall, both rendered by the core. With
 * `calls.placement: 'dedicated'` it creates coturn's own droplet and firewall; both hosts then
 * hold the supplied shared secret, which stays a Pulumi secret when given as one.
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

  constructor(name: string, args: TurnServerArgs, opts?: pulumi.ComponentResourceOptions) {
    const resolved = resolveForPulumi(args.spec);
    const { spec } = resolved;
    const files = renderTurnFiles(spec);
    const rendered = hasDedicatedTurnDroplet(spec) ? renderTurnCloudInit(spec) : undefined;
    super(componentType('TurnServer'), name, {}, opts);
    this.hostName = spec.calls.host;
    this.files = files;
    if (rendered === undefined) {
      this.registerOutputs({ hostName: this.hostName });
      return;
    }

    this.userData = userDataOutput(rendered, resolved);
    // No volume: its certificate is re-issued on replacement, so Pulumi's default create-then-delete
    // is right here and keeps calls working until the new droplet is up.
    this.droplet = new Droplet(
      `${name}-droplet`,
      {
        ...turnDropletAttributes(spec),
        userData: this.userData,
        tags: args.tags,
        vpcUuid: args.vpcUuid,
      },
      { parent: this },
    );
    this.firewall = new FirewallRules(
      `${name}-firewall`,
      { spec: args.spec, role: 'turn-host', dropletIds: [numericDropletId(this.droplet.id)] },
      { parent: this },
    );
    this.registerOutputs({ hostName: this.hostName, ipv4Address: this.droplet.ipv4Address });
  }
}
