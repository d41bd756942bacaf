/**
 * prosody.cfg.lua, in the dialect of the droplet's platform (platforms/: Prosody 0.12 on Debian 12,
 * Prosody 13 on Debian 13).
 *
 * Every value is written through the Lua literal writer; the module list is derived from the spec
 * so that each feature the service advertises (the XMPP Compliance Suites' client requirements:
 * stream management, carbons, MAM, push, HTTP upload, group chat…) has the module that provides it.
 */
import { luaAssignment, luaString, luaValue, LuaValue } from './lua';
import { LETSENCRYPT_LIVE, PROSODY_CERTS_DIR, PROSODY_CONFIG, PROSODY_PLUGIN_DIR, PROSODY_SECRETS_INCLUDE } from './paths';
import { CONTACT_ROLES, hasDedicatedTurnDroplet, hasOwnProsodySettings, ResolvedComponent, ResolvedDomain, ResolvedSpec } from './spec';
import { DomainTemplate, DOMAINS_LIST, expandDomainTemplate, xmppJid, xmppName } from './expansion';
import { platformOf } from './platforms';

/**
 * The real-time blocklist group chats subscribe to: the one xmppbl.org publishes for MUC services.
 * Its node is mod_muc_rtbl's default, so only the service is written.
 */
export const MUC_RTBL = { jid: 'xmppbl.org', node: 'muc_bans_sha256' } as const;

/**
 * Failed logins, each within `windowSeconds` of the one before, after which logins are refused until
 * `windowSeconds` after the last failure: `failures` for one account from one address refuse that
 * account there (five covers a user mistyping on a few devices); `addressFailures` for any accounts
 * from one address refuse the address (guessing across accounts), high enough that a household or
 * club behind one NAT address is not locked out by one member's stale password.
 * The defaults of lib/host/mod_login_throttle.lua (login_throttle_failures,
 * login_throttle_address_failures, login_throttle_window).
 */
export const LOGIN_THROTTLE = { failures: 5, addressFailures: 20, windowSeconds: 300 } as const;

/** Modules Prosody loads on every VirtualHost, in the order they are written. */
export function prosodyHostModules(spec: ResolvedSpec): string[] {
  const modules = [
    // Core protocol
    'roster', 'saslauth', 'tls', 'disco', 'ping', 'time', 'uptime', 'version', 'private',
    // What modern clients (Conversations, Dino, Gajim, Monal, Siskin) rely on
    'carbons', 'pep', 'blocklist', 'vcard4', 'vcard_legacy', 'bookmarks', 'smacks', 'csi_simple', 'mam',
    'server_contact_info', 'cloud_notify',
    // Password changes always; account creation only as allowed below
    'register',
    'limits', 'admin_adhoc', 'admin_shell',
    // Failed logins throttled by account and address (this package's module)
    'login_throttle',
    // What the platform adds: process management, fast reconnects and push for mobile clients
    ...platformOf(spec).prosody.extraHostModules,
    // Spam reports (XEP-0377), where the platform packages them
    ...platformOf(spec).prosody.abuse.hostModules,
  ];
  if (spec.federation.enabled) modules.push('dialback', 's2s_bidi');
  if (spec.registration === 'invite') modules.push('invites', 'invites_adhoc', 'invites_register', ...platformOf(spec).prosody.invitationPageModules);
  // The invitation pages offer the web client (this package's module).
  if (invitationPagesOfferWebClient(spec)) modules.push('web_client_app');
  if (spec.web.bosh) modules.push('bosh');
  if (spec.web.websocket) modules.push('websocket');
  if (spec.calls.enabled) modules.push('external_services');
  return modules;
}

/**
 * A duration as Prosody reads it: whole days as "7d" (best in a review), anything else as a number
 * of seconds. A bare number in a string ("3600") is ambiguous to Prosody 13, which logs a warning.
 */
export function prosodyDuration(seconds: number): string | number {
  return seconds % 86400 === 0 ? `${seconds / 86400}d` : seconds;
}

/** The group chat options that make the domain's admins own every room, as 0.12 did unasked. */
function mucAdminLines(spec: Pick<ResolvedSpec, 'droplet'>): string[] {
  return Object.entries(platformOf(spec).prosody.mucAdminOptions).map(([name, value]) => `\t${luaAssignment(name, value)}`);
}

function componentLines(spec: ResolvedSpec, component: ResolvedComponent, domain: ResolvedDomain): string[] {
  const option = (name: string, value: LuaValue) => `\t${luaAssignment(name, value)}`;
  // Prosody 13 gives a component's users their roles (who may upload, who may create rooms) by
  // taking its first label off for the parent domain; a deeper name must say which domain it serves.
  const parent = isDirectSubdomain(component.host, domain.name) ? [] : [option('parent_host', xmppName(domain.name))];
  const header = (module: string) => [
    `Component ${luaString(xmppName(component.host))} ${luaString(module)}`,
    ...parent,
    ...requestNameLines(spec, component.host, component.kind === 'fileShare' ? ['http', 's2s'] : ['s2s']),
  ];
  switch (component.kind) {
    case 'fileShare': {
      const fs = spec.fileShare;
      return [
        '-- XEP-0363 HTTP file upload; nginx proxies https://<this name>/file_share/ to Prosody.',
        ...header('http_file_share'),
        option('http_external_url', `https://${component.host}/`),
        option('http_file_share_size_limit', fs.fileSizeLimitBytes),
        option('http_file_share_expires_after', fs.expireAfterSeconds),
        option('http_file_share_daily_quota', fs.dailyQuotaBytesPerUser),
        option('http_file_share_global_quota', fs.globalQuotaBytes),
      ];
    }
    case 'groupChat': {
      const gc = spec.groupChat;
      const prosody = platformOf(spec).prosody;
      const restriction = prosody.restrictRoomCreation(gc.roomCreation);
      const blocklist = spec.federation.enabled ? prosody.abuse.mucFederatedModules : [];
      return [
        '-- XEP-0045 group chat with history (XEP-0313) and room avatars (XEP-0153).',
        ...header('muc'),
        option('modules_enabled', [...prosody.mucModules, ...blocklist]),
        ...(blocklist.includes('muc_rtbl') ? [
          option('muc_rtbl_jid', MUC_RTBL.jid),
        ] : []),
        option('muc_log_expires_after', prosodyDuration(gc.archiveExpireAfterSeconds)),
        ...(restriction === undefined ? [] : [option('restrict_room_creation', restriction)]),
        ...mucAdminLines(spec),
      ];
    }
    case 'proxy65':
      return [
        '-- XEP-0065 SOCKS5 bytestreams proxy.',
        ...header('proxy65'),
        option('proxy65_address', component.host),
      ];
    case 'pubsub':
      return ['-- XEP-0060 publish-subscribe service.', ...header('pubsub')];
  }
}

/**
 * prosody.cfg.lua by domain (expansion.ts): the global settings, each domain's VirtualHost and
 * components, then the domains with settings of their own.
 */
export function prosodyConfig(spec: ResolvedSpec): DomainTemplate {
  const out: string[] = [];
  const line = (name: string, value: LuaValue) => out.push(luaAssignment(name, value));
  const blank = () => out.push('');

  out.push(
    `-- ${PROSODY_CONFIG}: rendered by xmpp-constructs for ${platformOf(spec).prosody.label} on ${platformOf(spec).label}.`,
    '-- Do not edit on the host; change the declaration and redeploy.',
    '',
  );
  line('admins', spec.admins.map(xmppJid));
  blank();
  line('modules_enabled', prosodyHostModules(spec));
  line('modules_disabled', spec.federation.enabled ? [] : ['s2s']);
  blank();

  out.push('-- systemd runs Prosody in the foreground; the pidfile is for prosodyctl.');
  line('pidfile', '/run/prosody/prosody.pid');
  line('log', { info: '/var/log/prosody/prosody.log', error: '/var/log/prosody/prosody.err' });
  blank();

  out.push('-- Storage: files under /var/lib/prosody, which lives on the persistent volume.');
  line('storage', 'internal');
  line('authentication', 'internal_hashed');
  // Users' archives; uploads and room history follow it unless overridden (historyExpireAfterSeconds).
  line('archive_expires_after', prosodyDuration(spec.historyExpireAfterSeconds));
  blank();

  out.push('-- Encryption is required everywhere; remote servers must present valid certificates.');
  line('c2s_require_encryption', true);
  line('s2s_require_encryption', true);
  line('s2s_secure_auth', true);
  line('c2s_ports', [spec.ports.c2s]);
  out.push('-- XEP-0368: TLS from the first byte, for networks that block STARTTLS.');
  line('c2s_direct_tls_ports', [spec.ports.c2sDirectTls]);
  if (spec.federation.enabled) {
    line('s2s_ports', [spec.ports.s2s]);
    if (spec.federation.directTls) line('s2s_direct_tls_ports', [spec.ports.s2sDirectTls]);
  }
  if (spec.proxy65.enabled) line('proxy65_ports', [spec.proxy65.port]);
  out.push(`-- Certificates are copied from ${LETSENCRYPT_LIVE} (for the prosody user) and found by the names they hold.`);
  line('certificates', PROSODY_CERTS_DIR);
  blank();

  out.push(
    '-- HTTP stays on loopback: nginx terminates TLS on 443 and proxies BOSH, WebSocket and uploads.',
    '-- Requests from trusted_proxies with X-Forwarded-Proto: https count as secure.',
  );
  line('http_ports', [spec.ports.httpLoopback]);
  line('http_interfaces', ['127.0.0.1', '::1']);
  line('https_ports', []);
  line('trusted_proxies', ['127.0.0.1', '::1']);
  blank();

  out.push('-- Keep a single client from flooding the server.');
  line('limits', { c2s: { rate: '64kb/s', burst: '2s' }, s2sin: { rate: '128kb/s', burst: '5s' } });
  blank();
  out.push(`-- mod_login_throttle: ${LOGIN_THROTTLE.failures} failed logins block an account from an address, ` +
    `${LOGIN_THROTTLE.addressFailures} the address, for ${LOGIN_THROTTLE.windowSeconds} s.`);
  line('plugin_paths', [PROSODY_PLUGIN_DIR]);

  out.push('-- Registration');
  line('allow_registration', spec.registration === 'invite');
  if (spec.registration === 'invite') {
    out.push(`-- Accounts only from invitations (${platformOf(spec).prosody.inviteCommand('<domain>')}, or an admin's client).`);
    line('registration_invite_only', true);
  }
  blank();

  out.push('-- XEP-0157 contact addresses');
  line('contact_info', contactInfo(spec.contacts));
  blank();

  if (spec.calls.enabled) {
    out.push(
      '-- XEP-0215: hand clients short-lived TURN credentials for calls. The shared secret is',
      hasDedicatedTurnDroplet(spec)
        ? `-- supplied through IaC (coturn runs on a droplet of its own) and set in ${PROSODY_SECRETS_INCLUDE}, never in this file.`
        : `-- generated on the host and set in ${PROSODY_SECRETS_INCLUDE}, never in this file.`,
    );
    out.push(
      '-- STUN and TURN over UDP and TCP, TURN over TLS: all with credentials (mod_turn_external',
      '-- would leave the TLS entry without them, so clients could not use it).',
    );
    line('external_service_host', spec.calls.host);
    out.push(`external_services = {\n${externalServices(spec).map((service) => `\t${luaValue(service)};`).join('\n')}\n}`);
    out.push(`Include ${luaString(PROSODY_SECRETS_INCLUDE)}`);
    blank();
  }

  const own = spec.domains.filter((domain) => hasOwnProsodySettings(spec, domain));
  const ownLines = own.length === 0 ? [] : [
    '',
    '-- Domains with settings of their own. Declaring a host again returns to its section: its admins',
    '-- add to the global ones (Prosody inherits that set), its contact_info replaces the global one.',
    ...own.flatMap((domain, i) => [...(i > 0 ? [''] : []), ...ownSettingsLines(domain)]),
  ];
  return {
    shared: {
      head: asText(out),
      between: asText(['', `-- Every further domain (${DOMAINS_LIST}), the same way.`]),
      tail: asText(ownLines),
    },
    perDomain: (domain) => asText(domainLines(spec, domain)),
  };
}

/** Each line followed by a newline. */
function asText(list: readonly string[]): string {
  return list.map((l) => `${l}\n`).join('');
}

/**
 * A domain's own admins and contact addresses, for a domain declared earlier. Its group chat and
 * pubsub get its admins too, so they can moderate rooms and nodes; a component is declared again
 * with its module, because without one Prosody would take it for an external component.
 */
function ownSettingsLines(domain: ResolvedDomain): string[] {
  const admins = domain.admins.map(xmppJid);
  const out = [`VirtualHost ${luaString(xmppName(domain.name))}`];
  if (admins.length > 0) out.push(`\t${luaAssignment('admins', admins)}`);
  out.push(`\t${luaAssignment('contact_info', contactInfo(domain.contacts))}`);
  if (domain.admins.length > 0) {
    for (const component of domain.components) {
      const module = component.kind === 'groupChat' ? 'muc' : component.kind === 'pubsub' ? 'pubsub' : undefined;
      if (module !== undefined) out.push(`Component ${luaString(xmppName(component.host))} ${luaString(module)}`, `\t${luaAssignment('admins', admins)}`);
    }
  }
  return out;
}

/** contact_info as Prosody reads it: roles without addresses left out. */
function contactInfo(contacts: ResolvedSpec['contacts']): Record<string, string[]> {
  const info: Record<string, string[]> = {};
  for (const role of CONTACT_ROLES) if (contacts[role].length > 0) info[role] = [...contacts[role]];
  return info;
}

/** The content of /etc/prosody/prosody.cfg.lua, every domain written out. */
export function renderProsodyConfig(spec: ResolvedSpec): string {
  return expandDomainTemplate(prosodyConfig(spec), spec);
}

/** Whether the invitation pages are served and list the web client (mod_web_client_app). */
export function invitationPagesOfferWebClient(spec: ResolvedSpec): boolean {
  return spec.web.client && spec.registration === 'invite' && platformOf(spec).prosody.invitationPageModules.length > 0;
}

/** A domain's VirtualHost and components, a blank line between blocks. */
function domainLines(spec: ResolvedSpec, domain: ResolvedDomain): string[] {
  const out = [
    `VirtualHost ${luaString(xmppName(domain.name))}`,
    `\t${luaAssignment('http_external_url', `https://${domain.name}/`)}`,
    // Where the invitation pages send people who would rather not install an app.
    ...(invitationPagesOfferWebClient(spec) ? [`\t${luaAssignment('webchat_url', `https://${domain.name}/`)}`] : []),
    spec.web.bosh || spec.web.websocket
      ? '\t-- Requests name the host by its DNS name: HTTP (BOSH, WebSocket) and TLS from the first byte (SNI).'
      : '\t-- Requests name the host by its DNS name: TLS from the first byte (SNI).',
    ...requestNameLines(spec, domain.name, spec.web.bosh || spec.web.websocket ? ['http', 'c2s', 's2s'] : ['c2s', 's2s']),
  ];
  const deeper = domain.components.filter((component) => !isDirectSubdomain(component.host, domain.name));
  if (deeper.length > 0) {
    out.push(
      '\t-- Prosody links only direct subdomains to their domain; these are listed for service discovery.',
      `\t${luaAssignment('disco_items', deeper.map((component) => [xmppName(component.host)]))}`,
    );
  }
  for (const component of domain.components) out.push('', ...componentLines(spec, component, domain));
  return out;
}

/**
 * The name requests ask for a host by: its DNS name, which for an internationalised domain is not
 * the name Prosody knows the host by (xmppName). Written for every host, so that a domain added
 * later changes no other host's section.
 * - `http`: nginx passes Prosody the Host it was asked for; `http_host` is the Host under which
 *   Prosody serves the host's HTTP endpoints (uploads, BOSH, WebSocket).
 * - `c2s`, `s2s` (direct TLS): Prosody registers a host's certificate for SNI under the host's name,
 *   and refuses a handshake for any name it does not know; `<kind>_direct_tls_host` registers it
 *   under the DNS name instead, and finds the certificate by that name.
 */
function requestNameLines(spec: ResolvedSpec, dnsName: string, kinds: readonly ('http' | 'c2s' | 's2s')[]): string[] {
  const served = kinds.filter((kind) => kind !== 's2s' || (spec.federation.enabled && spec.federation.directTls));
  return served.map((kind) => `\t${luaAssignment(kind === 'http' ? 'http_host' : `${kind}_direct_tls_host`, dnsName)}`);
}

/** Whether `host` is `<one label>.<domain>`, the components Prosody relates to their domain by name. */
function isDirectSubdomain(host: string, domain: string): boolean {
  return host.endsWith(`.${domain}`) && !host.slice(0, -domain.length - 1).includes('.');
}

/** The XEP-0215 services announced to clients; `secret: true` entries get REST credentials. */
export function externalServices(spec: ResolvedSpec): { [key: string]: LuaValue }[] {
  const { port, tlsPort, credentialTtlSeconds } = spec.calls;
  // A ttl per entry (not only external_service_ttl) makes Prosody send the `expires` attribute,
  // which tells clients when to fetch fresh credentials.
  const credentials = { secret: true, algorithm: 'turn', ttl: credentialTtlSeconds };
  return [
    { type: 'stun', transport: 'udp', port },
    { type: 'stun', transport: 'tcp', port },
    { type: 'turn', transport: 'udp', port, ...credentials },
    { type: 'turn', transport: 'tcp', port, ...credentials },
    { type: 'turns', transport: 'tcp', port: tlsPort, ...credentials },
  ];
}

/** The Prosody option holding the TURN secret; the host's provisioning script writes it too. */
export const PROSODY_TURN_SECRET_OPTION = 'external_service_secret';

/**
 * The content of the secrets include, generated on the host; exported so harness and host agree.
 * With a dedicated TURN droplet it is rendered here instead, from the supplied secret.
 */
export function renderProsodySecretsInclude(turnSecret: string, origin = 'Generated on the host from the data volume. Not managed by IaC.'): string {
  return `-- ${origin}\n${luaAssignment(PROSODY_TURN_SECRET_OPTION, turnSecret)}\n`;
}
