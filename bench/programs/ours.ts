/**
 * xmpp-constructs: the whole service for `count` domains on one host, synthesized the way
 * `cdktf synth` runs an app (review files included, as by default).
 */
import { App } from 'cdktf';
import { XmppStack } from '../../lib/cdktf';
import { benchDomains, reportPeakRss } from './domains';

const count = Number(process.argv[2]);
const outdir = process.argv[3];
const domains = benchDomains(count);
const app = new App({ outdir });
new XmppStack(app, 'bench', {
  spec: {
    domains,
    admins: [`admin@${domains[0]}`],
    acme: { email: `hostmaster@${domains[0]}` },
    adminSourceCidrs: ['203.0.113.0/24'],
    // Prosody needs about 0.75 MiB per host (validate.ts): a thousand domains need a larger droplet.
    droplet: { size: 's-4vcpu-8gb' },
  },
});
app.synth();
reportPeakRss();
