/**
 * A complete single-domain XMPP service for example.net: the root cdktf.json app.
 *
 *   npm run synth                      # no credentials, no network
 *   DIGITALOCEAN_TOKEN=… npx cdktf-cli@0.21 deploy
 *
 * In your own project, import from 'xmpp-constructs/cdktf' instead of '../../lib/cdktf'.
 */
import { App } from 'cdktf';
import { join, relative } from 'path';
import { XmppStack } from '../../lib/cdktf';
import { exampleSpec } from './spec';

// stackTraces: false keeps absolute paths of this machine out of the synthesized JSON.
const app = new App({ stackTraces: false });

const STACK_ID = 'xmpp-example-net';
new XmppStack(app, STACK_ID, { spec: exampleSpec });

app.synth();

// Where it went and what comes next (cdktf-cli's deploy shows this too, as the app's output). The
// cdktf package itself has no executable: the CLI is the separate cdktf-cli package.
const stackDir = join(app.outdir, 'stacks', STACK_ID);
console.log(`Synthesized ${relative(process.cwd(), join(stackDir, 'cdk.tf.json'))} and the review files in ${relative(process.cwd(), join(stackDir, 'review'))}/.`);
console.log(`Next: DIGITALOCEAN_TOKEN=… npx cdktf-cli@0.21 deploy ${STACK_ID}   (or: cd ${relative(process.cwd(), stackDir)} && tofu init && tofu plan)`);
