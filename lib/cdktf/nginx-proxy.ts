import { Construct } from 'constructs';
import { XmppServiceSpec } from '../core/spec';
import { CdktfServicePlan, planForCdktf } from './spec';

export interface NginxProxyProps {
  /** The service, planned from its declaration (`planForCdktf`); `NginxProxy.fromSpec` plans it for you. */
  readonly plan: CdktfServicePlan;
}

/** `NginxProxyProps` with the declaration in place of a plan, for `NginxProxy.fromSpec`. */
export interface NginxProxySpecProps {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
}

/**
 * The web front: ACME on port 80; BOSH, WebSocket, file share and host-meta on 443.
 *
 * It creates no cloud resource. Its files are part of the host's cloud-init user_data (rendered
 * from the same spec by the core), and are exposed here for review and for custom hosts.
 */
export class NginxProxy extends Construct {
  /** `{ path on the host: content }` of every nginx file. */
  public readonly files: { readonly [path: string]: string };

  /** The web front on its own, planned from `props.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(scope: Construct, id: string, props: NginxProxySpecProps): NginxProxy {
    return new NginxProxy(scope, id, { plan: planForCdktf(props.spec) });
  }

  constructor(scope: Construct, id: string, props: NginxProxyProps) {
    super(scope, id);
    this.files = props.plan.nginxFiles;
  }
}
