import type { XmppServiceSpec } from '../../lib/core/spec';

/** The example's declaration: a complete single-domain service for example.net. */
export const exampleSpec: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  contacts: { abuse: ['mailto:abuse@example.net', 'xmpp:admin@example.net'] },
  // Your SSH key's fingerprint (`doctl compute ssh-key list`): root logs in with a key only.
  droplet: { region: 'ams3', size: 's-1vcpu-1gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
  // Your own public address(es); SSH stays closed to everyone else.
  adminSourceCidrs: ['203.0.113.0/24'],
};
