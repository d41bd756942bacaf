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

// stackTraces: false keeps absolute paths of this machine out of the synthesized JSON.
const app = new App({ stackTraces: false });

new XmppStack(app, 'xmpp-example-net', {
  spec: {
    domains: ['example.net'],
    admins: ['admin@example.net'],
    acme: { email: 'hostmaster@example.net' },
    contacts: { abuse: ['mailto:abuse@example.net', 'xmpp:admin@example.net'] },
    droplet: { region: 'ams3', size: 's-1vcpu-1gb' },
    // Your own public address(es); SSH stays closed to everyone else.
    adminSourceCidrs: ['203.0.113.0/24'],
  },
});

app.synth();
