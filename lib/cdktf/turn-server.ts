import { Droplet } from '@cdktf/provider-digitalocean/lib/droplet';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { renderTurnCloudInit } from '../core/cloud-init';
import { turnDropletAttributes } from '../core/resources';
import { hasDedicatedTurnDroplet, XmppServiceSpec } from '../core/spec';
import { renderTurnFiles } from '../core/turn';
import { FirewallRules } from './firewall-rules';
import { resolveForCdktf, userDataForTerraform } from './spec';

export interface TurnServerProps {
  /** The service declaration; `calls.placement` decides where coturn runs. */
  readonly spec: XmppServiceSpec;
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

/**
 * coturn for audio and video calls.
 *
 * On the Prosody host (the default) it creates no resource: its configuration is part of the
 * host's user_data and its ports part of the host's firewall, both rendered by the core. With
 * `calls.placement: 'dedicated'` it creates coturn's own droplet and firewall; both hosts then
 * hold the supplied shared secret, which stays a reference when given as a sensitive variable.
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

  constructor(scope: Construct, id: string, props: TurnServerProps) {
    super(scope, id);
    const { spec, deployTimeSecret } = resolveForCdktf(props.spec);
    this.hostName = spec.calls.host;
    this.files = renderTurnFiles(spec);
    if (!hasDedicatedTurnDroplet(spec)) return;

    const userData = userDataForTerraform(renderTurnCloudInit(spec), deployTimeSecret);
    this.userData = userData.text;
    this.droplet = new Droplet(this, 'Droplet', {
      ...turnDropletAttributes(spec),
      userData: userData.template,
      tags: props.tags ? [...props.tags] : undefined,
      vpcUuid: props.vpcUuid,
    });
    this.firewall = new FirewallRules(this, 'Firewall', {
      spec: props.spec,
      role: 'turn-host',
      dropletIds: [Token.asNumber(this.droplet.id)],
    });
  }
}
