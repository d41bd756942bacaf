import * as pulumi from '@pulumi/pulumi';
import { renderNginxFiles } from '../core/nginx';
import { componentType, PulumiXmppServiceSpec, resolveForPulumi } from './spec';

export interface NginxProxyArgs {
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

  constructor(name: string, args: NginxProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    const files = renderNginxFiles(resolveForPulumi(args.spec).spec);
    super(componentType('NginxProxy'), name, {}, opts);
    this.files = files;
    this.registerOutputs({ paths: Object.keys(files) });
  }
}
