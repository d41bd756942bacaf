/**
 * A complete single-domain XMPP service for example.net: the root cdktf.json app.
 *
 *   npm run synth                      # no credentials, no network
 *   DIGITALOCEAN_TOKEN=… npx cdktf deploy
 *
 * In your own project, import from 'xmpp-constructs/cdktf' instead of '../../lib/cdktf'.
 */
import { App } from 'cdktf';
import { XmppStack } from '../../lib/cdktf';
import { exampleSpec } from './spec';

// stackTraces: false keeps absolute paths of this machine out of the synthesized JSON.
const app = new App({ stackTraces: false });

new XmppStack(app, 'xmpp-example-net', { spec: exampleSpec });

app.synth();
