/**
 * A complete single-domain XMPP service, with Pulumi: the same service the cdktf example declares.
 *
 *   pulumi stack init dev
 *   export DIGITALOCEAN_TOKEN=…                 # or: pulumi config set digitalocean:token --secret
 *   pulumi config set domain example.net
 *   pulumi config set --path 'adminSourceCidrs[0]' 203.0.113.7/32
 *   pulumi config set --path 'sshKeyFingerprints[0]' 3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa
 *   pulumi preview                              # also writes ./review/xmpp/** for reading
 *   pulumi up
 *
 * In your own project, import from 'xmpp-constructs/pulumi' instead of '../../lib/pulumi'.
 */
import * as pulumi from '@pulumi/pulumi';
import { XmppService } from '../../lib/pulumi';

const config = new pulumi.Config();
const domain = config.get('domain') ?? 'example.net';
// Optional: without it, the host generates the secret at first boot and it never enters state.
const hasTurnSecret = config.get('turnSecret') !== undefined;

const service = new XmppService('xmpp', {
  spec: {
    domains: [domain],
    admins: [`admin@${domain}`],
    acme: { email: `hostmaster@${domain}` },
    contacts: { abuse: [`mailto:abuse@${domain}`, `xmpp:admin@${domain}`] },
    // Your SSH key(s), required to open SSH: root logs in with a key only.
    droplet: { region: config.get('region') ?? 'ams3', size: 's-1vcpu-1gb', sshKeyFingerprints: config.getObject<string[]>('sshKeyFingerprints') ?? [] },
    // Your own public address(es); SSH stays closed to everyone else.
    adminSourceCidrs: config.getObject<string[]>('adminSourceCidrs') ?? [],
    ...(hasTurnSecret ? { calls: { sharedSecret: config.requireSecret('turnSecret') } } : {}),
  },
  reviewDirectory: config.get('reviewDirectory') ?? 'review',
});

// The same names as the cdktf example's outputs (there prefixed with the construct id).
export const { ipv4, ipv6, reserved_ipv4, reserved_ipv6, domains, ssh, first_admin } = service.outputs;
