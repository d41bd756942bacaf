import * as pulumi from '@pulumi/pulumi';
import { componentType, planForPulumi, PulumiServicePlan, PulumiXmppServiceSpec } from './spec';

export interface NginxProxyArgs {
  /** The service, planned from its declaration (`planForPulumi`); `NginxProxy.fromSpec` plans it for you. */
  readonly plan: PulumiServicePlan;
}

/** `NginxProxyArgs` with the declaration in place of a plan, for `NginxProxy.fromSpec`. */
export interface NginxProxySpecArgs {
  /** The service declaration. */
  readonly spec: PulumiXmppServiceSpec;
}

/**
 * The web front: ACME on port 80; BOSH, WebSocket, file share and host-meta on 443.
 *
 * It creates no cloud resource. Its files are part of the host's cloud-init user_data (rendered
 * from the same spec by the core), and are exposed here for review and for custom hosts.
 */
export class NginxProxy extends pulumi.ComponentResource {
  /** `{ path on the host: content }` of every nginx file. */
  public readonly files: { readonly [path: string]: string };

  /** The web front on its own, planned from `args.spec` (an `XmppService` passes its plan instead). */
  public static fromSpec(name: string, args: NginxProxySpecArgs, opts?: pulumi.ComponentResourceOptions): NginxProxy {
    return new NginxProxy(name, { plan: planForPulumi(args.spec) }, opts);
  }

  constructor(name: string, args: NginxProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType('NginxProxy'), name, {}, opts);
    this.files = args.plan.nginxFiles;
    this.registerOutputs({ paths: Object.keys(this.files) });
  }
}
