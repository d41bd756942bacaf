import { Construct } from 'constructs';
import { XmppServiceSpec } from '../core/spec';
import { renderTurnFiles } from '../core/turn';
import { resolveForCdktf } from './spec';

export interface TurnServerProps {
  /** The service declaration. */
  readonly spec: XmppServiceSpec;
}

/**
 * coturn for audio and video calls, on the Prosody host: its configuration is part of the host's
 * cloud-init user_data and its ports are part of the host's firewall plan, both rendered by the
 * core from the same spec. Exposed here for review and as the place TURN settings are read from.
 */
export class TurnServer extends Construct {
  /** The TURN server's host name, e.g. `turn.example.net`. */
  public readonly hostName: string;
  /** `{ path on the host: content }` of coturn's files (empty when calls are off). */
  public readonly files: { readonly [path: string]: string };

  constructor(scope: Construct, id: string, props: TurnServerProps) {
    super(scope, id);
    const { spec } = resolveForCdktf(props.spec);
    this.hostName = spec.calls.host;
    this.files = renderTurnFiles(spec);
  }
}
