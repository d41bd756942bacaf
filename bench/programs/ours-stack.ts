/**
 * xmpp-constructs: the whole service for `count` domains on one host, synthesized the way
 * `cdktf synth` runs an app.
 */
import { App } from 'cdktf';
import { XmppStack } from '../../lib/cdktf';
import { benchDomains } from './domains';

export function synthesizeOurs(count: number, outdir: string, writeReviewFiles: boolean): void {
  const domains = benchDomains(count);
  const app = new App({ outdir });
  new XmppStack(app, 'bench', {
    spec: {
      domains,
      admins: [`admin@${domains[0]}`],
      acme: { email: `hostmaster@${domains[0]}` },
      adminSourceCidrs: ['203.0.113.0/24'],
      // Prosody needs about 0.75 MiB per host (validate.ts): a thousand domains need a larger droplet.
      droplet: { size: 's-4vcpu-8gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
    },
    writeReviewFiles,
  });
  app.synth();
}
