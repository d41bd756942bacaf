import { Construct } from 'constructs';
import { renderNginxFiles } from '../core/nginx';
import { XmppServiceSpec } from '../core/spec';
import { resolveForCdktf } from './spec';

export interface NginxProxyProps {
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

  constructor(scope: Construct, id: string, props: NginxProxyProps) {
    super(scope, id);
    this.files = renderNginxFiles(resolveForCdktf(props.spec).spec);
  }
}
