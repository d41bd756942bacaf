/**
 * Representative specs used across the test suite. Each one exercises a different shape of
 * deployment; tests that run real daemons render every one of them.
 */
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec, SpecValidationError } from '../../lib/core/validate';

/** The smallest useful declaration: one domain, every default. */
export const minimalSpec: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
};

/**
 * Everything switched on (configuration changes in place included), several domains (one with its own admin and contacts, its zone already
 * at DigitalOcean), non-default names, name pattern and limits, uploads kept shorter than the history.
 */
export const fullSpec: XmppServiceSpec = {
  domains: [
    'example.net',
    'example.org',
    { name: 'xn--bcher-kva.example', admins: ['moderator@xn--bcher-kva.example'], contacts: { support: ['https://xn--bcher-kva.example/hilfe'] }, zone: 'existing' },
  ],
  admins: ['admin@example.net', 'ops@example.org'],
  acme: { email: 'hostmaster@example.net', staging: true },
  historyExpireAfterSeconds: 30 * 86400,
  components: {
    namePattern: '{label}.xmpp.{domain}',
    fileShare: { name: 'share', fileSizeLimitBytes: 50 * 1024 * 1024, expireAfterSeconds: 7 * 86400, dailyQuotaBytesPerUser: 200 * 1024 * 1024, globalQuotaBytes: 5 * 1024 * 1024 * 1024 },
    groupChat: { name: 'groupchat', archiveExpireAfterSeconds: 30 * 86400, roomCreation: 'admin' },
    proxy65: { enabled: true },
    pubsub: { enabled: true },
  },
  calls: { name: 'stun', relayPortMin: 40000, relayPortMax: 44999, credentialTtlSeconds: 3600 },
  contacts: {
    abuse: ['mailto:abuse@example.net', 'xmpp:admin@example.net'],
    security: ['mailto:security@example.net'],
    feedback: ['https://example.net/feedback?from=xmpp&lang=de'],
  },
  droplet: { region: 'fra1', size: 's-2vcpu-2gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'], volumeSizeGib: 50 },
  adminSourceCidrs: ['203.0.113.7', '2001:db8:1234::/48'],
  dns: { ttlSeconds: 600 },
  federation: { directTls: true },
  // Configuration changes applied in place, through a bucket in another region than the droplet's.
  configDelivery: { channel: 'spaces', spacesRegion: 'ams3', bucket: 'example-net-xmpp-config' },
};

/** A droplet with the memory Prosody needs for a thousand domains on one host (validate.ts). */
export const MANY_DOMAINS_DROPLET = { size: 's-4vcpu-8gb' } as const;

/** A private, closed server: no calls, no web access, no federation, no components, a short history. */
export const closedSpec: XmppServiceSpec = {
  domains: ['chat.example.com'],
  admins: ['root@chat.example.com'],
  acme: { email: 'ops@example.com' },
  registration: 'closed',
  // Short history, not in whole days: Prosody gets the seconds.
  historyExpireAfterSeconds: 36 * 3600,
  components: { fileShare: { enabled: false }, groupChat: { enabled: false } },
  calls: { enabled: false },
  web: { bosh: false, websocket: false, client: false },
  federation: { enabled: false },
  droplet: { ipv6: false, monitoring: false },
};

/** The minimal declaration with coturn on a droplet of its own, which needs a supplied secret. */
export const dedicatedTurnSpec: XmppServiceSpec = {
  ...minimalSpec,
  calls: { placement: 'dedicated', sharedSecret: '5f0c3d2a9b8e7f6a1c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b' },
};

/** The minimal declaration with off-host backups to Spaces and alerts, the backups' check among them. */
export const backedUpSpec: XmppServiceSpec = {
  ...minimalSpec,
  offsiteBackups: { password: 'correct horse battery staple 42', keep: { daily: 14 } },
  alerts: { emails: ['ops@example.net'] },
};

export const representativeSpecs: readonly [string, XmppServiceSpec][] = [
  ['minimal', minimalSpec],
  ['full', fullSpec],
  ['closed', closedSpec],
  ['dedicated-turn', dedicatedTurnSpec],
  ['backed-up', backedUpSpec],
];

/** The SpecValidationError `resolveSpec` throws for `spec`; fails the test if it resolves or throws anything else. */
export function validationErrorOf(spec: unknown): SpecValidationError {
  try {
    resolveSpec(spec as XmppServiceSpec);
  } catch (e) {
    if (e instanceof SpecValidationError) return e;
    throw e;
  }
  throw new Error('expected resolveSpec to fail');
}

/** `spec` deployed on the droplet image `image` (a platform's slug): its files are written for that platform. */
export function onImage(spec: XmppServiceSpec, image: string): XmppServiceSpec {
  return { ...spec, droplet: { ...(spec.droplet ?? {}), image } };
}
