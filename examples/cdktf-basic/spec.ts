import type { XmppServiceSpec } from '../../lib/core/spec';

/** The example's declaration: a complete single-domain service for example.net. */
export const exampleSpec: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  contacts: { abuse: ['mailto:abuse@example.net', 'xmpp:admin@example.net'] },
  droplet: { region: 'ams3', size: 's-1vcpu-1gb' },
  // Your own public address(es); SSH stays closed to everyone else.
  adminSourceCidrs: ['203.0.113.0/24'],
};
