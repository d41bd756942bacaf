/**
 * Scenarios for accounts, messaging, archives, group chat and discovery. Each behaves as a real
 * client would: names from the rehearsal DNS (SRV, host-meta), certificates checked against the
 * rehearsal CA, @xmpp/client where it can do the job, a raw stream where a client talks before
 * authenticating.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { promises as dns } from 'dns';
import * as tls from 'tls';
import { client, ClientOptions } from '@xmpp/client';
import { boshSession } from './messaging-bosh';
import { errorCondition, escapeXML, featureList, NS, offeredMechanisms, parseXml, RawStream } from './messaging-raw';
import type { Scenario } from './scenarios';
import { Account, disconnect, dnsName, Element, iq, nextStanza, withTimeout, xml, XmppClient } from './xmpp';

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_MAM = 'urn:xmpp:mam:2';
const NS_SID = 'urn:xmpp:sid:0';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_SASL2 = 'urn:xmpp:sasl:2';

const domainOf = (jid: string): string => jid.split('@')[1].split('/')[0];
const localOf = (jid: string): string => jid.split('@')[0];
const bare = (jid: string): string => jid.split('/')[0];

/** A client session together with everything it received and sent, in order. */
interface Observed {
  readonly xmpp: XmppClient;
  readonly received: Element[];
  readonly sent: Element[];
  /** Mechanisms the client could choose from (server offer ∩ client support), as @xmpp/client saw them. */
  readonly mechanismsSeen: string[];
}

/**
 * Connect with @xmpp/client, recording the stream as it goes, and authenticate with SCRAM-SHA-1:
 * a client that may fall back to PLAIN would hide a server that stopped offering SCRAM.
 */
async function connectObserved(account: Account, options: { service?: string; resource?: string; legacySasl?: boolean } = {}): Promise<Observed> {
  const domain = domainOf(account.jid);
  const received: Element[] = [];
  const sent: Element[] = [];
  const mechanismsSeen: string[] = [];
  const credentials = async (authenticate: (c: { username: string; password: string }, mechanism: string) => Promise<void>, mechanisms: string[]) => {
    mechanismsSeen.push(...mechanisms);
    if (!mechanisms.includes('SCRAM-SHA-1')) throw new Error(`SCRAM-SHA-1 is not offered (client could use: ${mechanisms.join(', ')})`);
    await authenticate({ username: localOf(account.jid), password: account.password }, 'SCRAM-SHA-1');
  };
  const xmpp = client({ service: options.service ?? dnsName(domain), domain, username: localOf(account.jid), resource: options.resource, credentials } as ClientOptions);
  xmpp.on('error', () => undefined); // surfaced through start()'s rejection instead
  // @xmpp/client prefers SASL2 (XEP-0388, with Bind2) where the server offers it, as Prosody 13 does.
  // A client that predates SASL2 (and the compliance tester) ignores that feature and authenticates
  // with RFC 6120 SASL, then binds a resource: `legacySasl` makes this client one of those.
  if (options.legacySasl) {
    xmpp.prependListener('element', (e: Element) => {
      if (e.is('features', 'http://etherx.jabber.org/streams')) e.children = e.children.filter((c) => typeof c === 'string' || !(c.name === 'authentication' && c.attrs.xmlns === NS_SASL2));
    });
  }
  xmpp.on('element', (e: Element) => received.push(e));
  xmpp.on('send', (e: Element) => sent.push(e));
  try {
    await withTimeout(xmpp.start(), 15000, `connecting as ${account.jid} via ${options.service ?? 'discovery'}`);
  } catch (error) {
    await disconnect(xmpp); // or @xmpp/reconnect keeps trying in the background
    throw error;
  }
  return { xmpp, received, sent, mechanismsSeen };
}

/** Online with available presence (messages to the bare JID reach only available resources). */
async function online(account: Account, resource: string): Promise<XmppClient> {
  const { xmpp } = await connectObserved(account, { resource });
  await xmpp.send(xml('presence'));
  return xmpp;
}

async function srv(service: string, domain: string): Promise<{ name: string; port: number }> {
  const records = await dns.resolveSrv(`_${service}._tcp.${dnsName(domain)}`);
  if (records.length === 0 || records[0].name === '' || records[0].name === '.') throw new Error(`no usable _${service}._tcp.${domain} SRV record`);
  const [best] = [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  return { name: best.name, port: best.port };
}

function streamFeatures(elements: readonly Element[]): string[][] {
  return elements.filter((e) => e.name === 'stream:features').map(featureList);
}

// ---------------------------------------------------------------------------------------------
// Connecting: the four ways a client reaches the server

/** RFC 6120 client: `_xmpp-client._tcp` SRV, STARTTLS, SCRAM, bind. */
async function c2sStarttls(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  const target = await srv('xmpp-client', domain);
  const service = `xmpp://${target.name}:${target.port}`;
  const session = await connectObserved(args, { service, legacySasl: true });
  try {
    const ping = await iq(session.xmpp, xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const features = session.received.filter((e) => e.name === 'stream:features');
    const beforeTls = features[0];
    const auth = session.sent.find((e) => e.name === 'auth' && e.attrs.xmlns === NS.sasl);
    const smEnabled = session.received.some((e) => e.name === 'enabled' && e.attrs.xmlns === 'urn:xmpp:sm:3');
    const tlsSocket = (session.xmpp.socket as { socket?: { getProtocol?(): string; authorized?: boolean } } | undefined)?.socket;
    return {
      srv: target,
      service,
      featuresBeforeTls: featureList(beforeTls),
      starttlsRequired: beforeTls.getChild('starttls', NS.tls)?.getChild('required') !== undefined,
      mechanismsBeforeTls: offeredMechanisms(beforeTls),
      mechanismsAfterTls: offeredMechanisms(features[1]),
      mechanismsClientCouldUse: session.mechanismsSeen,
      authMechanismSent: auth?.attrs.mechanism,
      tlsProtocol: tlsSocket?.getProtocol?.(),
      tlsAuthorized: tlsSocket?.authorized,
      jid: session.xmpp.jid?.toString(),
      featuresAfterAuth: featureList(features[features.length - 1]),
      smEnabled,
      ping: ping.attrs.type,
    };
  } finally {
    await disconnect(session.xmpp);
  }
}

/** The certificate a TLS server presents, with or without SNI, and whether it verifies for `domain`. */
async function presentedCertificate(host: string, port: number, domain: string, sni: boolean): Promise<Record<string, unknown>> {
  const socket = tls.connect({ host, port, servername: sni ? dnsName(domain) : undefined, rejectUnauthorized: false });
  try {
    await withTimeout(new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), 10000, `TLS to ${host}:${port}`);
    const certificate = socket.getPeerCertificate();
    const identityError = tls.checkServerIdentity(dnsName(domain), certificate);
    return {
      sni,
      verified: socket.authorized && identityError === undefined,
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : identityError?.message ?? null,
      subject: certificate.subject?.CN ?? null,
      issuer: certificate.issuer?.CN ?? null,
      fingerprint256: certificate.fingerprint256,
    };
  } finally {
    socket.destroy();
  }
}

/**
 * XEP-0368: `_xmpps-client._tcp` SRV, TLS from the first byte. First as Conversations, Dino or
 * Gajim do it (SNI = the XMPP domain, ALPN `xmpp-client`, certificate checked against the domain,
 * not the SRV target), by hand through SCRAM and bind; then as @xmpp/client 0.14 does it
 * (`xmpps://host:port`, which sends no SNI).
 */
async function c2sDirectTls(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  const target = await srv('xmpps-client', domain);
  const raw = await RawStream.tls(target.name, target.port, { servername: dnsName(domain), alpn: ['xmpp-client'] });
  let withSni: Record<string, unknown>;
  try {
    const socket = raw.tlsSocket!;
    const features = await raw.open(domain);
    const handshake = { authorized: socket.authorized, protocol: socket.getProtocol(), alpnProtocol: socket.alpnProtocol, issuer: socket.getPeerCertificate().issuer?.CN };
    const auth = await raw.scramSha1(localOf(args.jid), args.password);
    const afterAuth = await raw.open(domain);
    const bound = await raw.iq('set', `<bind xmlns='${NS.bind}'><resource>direct-tls</resource></bind>`);
    withSni = {
      handshake,
      features: featureList(features),
      mechanisms: offeredMechanisms(features),
      auth: auth.name,
      featuresAfterAuth: featureList(afterAuth),
      jid: bound.getChild('bind', NS.bind)?.getChildText('jid') ?? `error:${errorCondition(bound)}`,
    };
  } finally {
    raw.close();
  }

  const service = `xmpps://${target.name}:${target.port}`;
  let withoutSni: Record<string, unknown>;
  try {
    const session = await connectObserved(args, { service });
    withoutSni = { jid: session.xmpp.jid?.toString(), authMechanismSent: session.sent.find((e) => e.name === 'auth')?.attrs.mechanism };
    await disconnect(session.xmpp);
  } catch (error) {
    withoutSni = { error: String(error) };
  }
  return {
    srv: target,
    service,
    withSni,
    withoutSni,
    certificates: [await presentedCertificate(target.name, target.port, domain, true), await presentedCertificate(target.name, target.port, domain, false)],
  };
}

/** XEP-0156 discovery over HTTPS, both documents, with the headers web clients depend on. */
async function hostMeta(domain: string): Promise<{ xml: { status: number; cors: string | null; contentType: string | null; links: { rel: string; href: string }[] }; json: { status: number; cors: string | null; contentType: string | null; links: { rel: string; href: string }[] } }> {
  const xmlResponse = await fetch(`https://${domain}/.well-known/host-meta`, { signal: AbortSignal.timeout(10000) });
  const xrd = parseXml(await xmlResponse.text());
  const jsonResponse = await fetch(`https://${domain}/.well-known/host-meta.json`, { signal: AbortSignal.timeout(10000) });
  const json = (await jsonResponse.json()) as { links?: { rel: string; href: string }[] };
  return {
    xml: {
      status: xmlResponse.status,
      cors: xmlResponse.headers.get('access-control-allow-origin'),
      contentType: xmlResponse.headers.get('content-type'),
      links: xrd.getChildren('Link').map((l) => ({ rel: String(l.attrs.rel), href: String(l.attrs.href) })),
    },
    json: {
      status: jsonResponse.status,
      cors: jsonResponse.headers.get('access-control-allow-origin'),
      contentType: jsonResponse.headers.get('content-type'),
      links: (json.links ?? []).map((l) => ({ rel: l.rel, href: l.href })),
    },
  };
}

/**
 * Node 20 has WebSocket (which @xmpp/websocket uses) only behind a flag: run this scenario again
 * in a node that has it, the way a browser would simply have it.
 */
function rerunWithWebSocket(scenario: string, args: unknown): unknown {
  const r = spawnSync(process.execPath, ['--experimental-websocket', '--no-warnings', ...process.execArgv, process.argv[1], scenario, JSON.stringify(args)], {
    encoding: 'utf8',
    env: process.env,
    timeout: 45000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || line === undefined) throw new Error(`scenario ${scenario} (with WebSocket) failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** A web client: host-meta says where the WebSocket endpoint is (RFC 7395 through nginx). */
async function c2sWebSocket(args: Account): Promise<unknown> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') return rerunWithWebSocket('c2sWebSocket', args);
  const domain = domainOf(args.jid);
  const meta = await hostMeta(domain);
  const href = meta.json.links.find((l) => l.rel === 'urn:xmpp:alt-connections:websocket')?.href;
  if (!href) throw new Error(`host-meta.json has no websocket link: ${JSON.stringify(meta.json)}`);
  const session = await connectObserved(args, { service: href, legacySasl: true });
  try {
    const ping = await iq(session.xmpp, xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const auth = session.sent.find((e) => e.name === 'auth' && e.attrs.xmlns === NS.sasl);
    return {
      hostMeta: meta,
      service: href,
      transport: (session.xmpp.socket as { url?: string } | undefined)?.url ?? null,
      authMechanismSent: auth?.attrs.mechanism,
      jid: session.xmpp.jid?.toString(),
      ping: ping.attrs.type,
    };
  } finally {
    await disconnect(session.xmpp);
  }
}

/** A web client on BOSH: host-meta (XML) gives the endpoint; session, SASL, restart, bind by hand. */
async function c2sBosh(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  const meta = await hostMeta(domain);
  const href = meta.xml.links.find((l) => l.rel === 'urn:xmpp:alt-connections:xbosh')?.href;
  if (!href) throw new Error(`host-meta has no BOSH link: ${JSON.stringify(meta.xml)}`);
  return { hostMetaLinks: meta.xml.links, ...(await boshSession(href, domain, localOf(args.jid), args.password)) };
}

// ---------------------------------------------------------------------------------------------
// Accounts: invitations (XEP-0401 + XEP-0077) as a client redeems them

/**
 * Redeem an invitation URI (`xmpp:DOMAIN?register;preauth=TOKEN`) the way Conversations does:
 * direct TLS, `<preauth/>` before authentication, in-band registration, then a normal login.
 */
async function registerWithInvite(args: { uri: string; username: string; password: string }): Promise<unknown> {
  // XEP-0401: xmpp:<domain>?register;preauth=<token>, or xmpp:<user>@<domain>?… for an invitation
  // that names the account (Prosody 13's `invite create_account <jid>`).
  const m = /^xmpp:(?:[^@?]+@)?([^@?]+)\?register;preauth=([^;]+)/.exec(args.uri);
  if (!m) throw new Error(`not an account invitation URI: ${args.uri}`);
  const [, domain, token] = m;
  const target = await srv('xmpps-client', domain);
  const stream = await RawStream.tls(target.name, target.port, { servername: domain });
  const result: Record<string, unknown> = { domain, token };
  try {
    const features = await stream.open(domain);
    result.features = featureList(features);
    const preauth = await stream.iq('set', `<preauth xmlns='${NS.pars}' token='${escapeXML(token)}'/>`);
    result.preauth = preauth.attrs.type === 'result' ? 'result' : `error:${errorCondition(preauth)}`;
    const form = await stream.iq('get', `<query xmlns='${NS.register}'/>`);
    result.formFields = form.attrs.type === 'result' ? (form.getChild('query')?.children ?? []).filter((c): c is Element => typeof c !== 'string').map((c) => c.name) : `error:${errorCondition(form)}`;
    const register = await stream.iq(
      'set',
      `<query xmlns='${NS.register}'><username>${escapeXML(args.username)}</username><password>${escapeXML(args.password)}</password></query>`,
    );
    result.register = register.attrs.type === 'result' ? 'result' : `error:${errorCondition(register)}`;
    result.registerError = register.getChild('error')?.getChildText('text', NS.stanzas) ?? undefined;
  } finally {
    stream.close();
  }
  if (result.register === 'result') {
    const session = await connectObserved({ jid: `${args.username}@${domain}`, password: args.password });
    result.loginJid = session.xmpp.jid?.toString();
    await disconnect(session.xmpp);
  }
  return result;
}

/** The clients a landing page should offer a new user, whatever their device. */
const ONBOARDING_CLIENTS = ['Conversations', 'Monal', 'Siskin', 'Dino', 'Gajim'];

/**
 * Open an invitation's landing page as a browser would (HTTPS, the certificate checked): what it
 * says, the xmpp: link it stands for (its `Link: <…>; rel="alternate"` header, XEP-0401), the
 * clients it lists and where its "register an account manually" link leads.
 */
async function invitationPage(args: { url: string }): Promise<unknown> {
  const response = await fetch(args.url, { signal: AbortSignal.timeout(10000), redirect: 'manual' });
  const html = await response.text();
  const manual = /<a href="(register\?t=[^"]+)">register an account manually<\/a>/.exec(html)?.[1];
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    hsts: response.headers.get('strict-transport-security'),
    uri: /^<([^>]+)>;\s*rel="alternate"$/.exec(response.headers.get('link') ?? '')?.[1],
    title: /<title>([^<]*)<\/title>/.exec(html)?.[1],
    clients: ONBOARDING_CLIENTS.filter((name) => html.includes(name)),
    registerUrl: manual === undefined ? undefined : new URL(manual.replace(/&amp;/g, '&'), args.url).toString(),
  };
}

/**
 * Register in the browser, from the page an invitation's landing page links to: open the form,
 * post it as the form says (its hidden token included), and report what the server answered.
 */
async function registerOnWeb(args: { url: string; username: string; password: string }): Promise<unknown> {
  const form = await fetch(args.url, { signal: AbortSignal.timeout(10000), redirect: 'manual' });
  const formHtml = await form.text();
  const token = /<input type="hidden" name="token" value="([^"]*)">/.exec(formHtml)?.[1];
  const result: Record<string, unknown> = { formStatus: form.status, formFields: [...formHtml.matchAll(/<input[^>]*name="([^"]+)"/g)].map((m) => m[1]) };
  if (token === undefined) return result;
  const posted = await fetch(args.url, {
    method: 'POST',
    signal: AbortSignal.timeout(10000),
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user: args.username, password: args.password, token }).toString(),
  });
  const html = await posted.text();
  result.status = posted.status;
  result.cacheControl = posted.headers.get('cache-control');
  result.congratulated = html.includes('Congratulations!');
  result.account = /readonly value="([^"]+@[^"]+)"/.exec(html)?.[1];
  result.message = /<div class="alert[^"]*"[^>]*>\s*([^<]*?)\s*</.exec(html)?.[1];
  return result;
}

/**
 * The server's refusal of the credentials, if `error` is one: a SASL `<failure/>` (RFC 6120 6.5, or
 * SASL2's, XEP-0388, where the server offers SASL2) as @xmpp/sasl and @xmpp/sasl2 report it, with its condition (not-authorized, account-disabled, …). A timeout, a
 * DNS or TLS error, a closed stream are not refusals: a test expecting one must fail on them.
 */
function saslRefusal(error: unknown): { condition: string; text: string } | undefined {
  const failure = error as { name?: string; condition?: string; text?: string; element?: Element } | undefined;
  if (failure?.name !== 'SASLError' || failure.element?.name !== 'failure' || ![NS.sasl, NS_SASL2].includes(failure.element.attrs.xmlns)) return undefined;
  return { condition: String(failure.condition), text: failure.text ?? '' };
}

/**
 * Can this account log in with this password? (SCRAM.) A refusal is an answer,
 * `{ loggedIn: false, refusal: <SASL condition> }`; every other error is thrown, failing the scenario.
 */
async function canLogIn(args: Account): Promise<unknown> {
  let session: Observed;
  try {
    session = await connectObserved(args);
  } catch (error) {
    const refusal = saslRefusal(error);
    if (refusal === undefined) throw error;
    return { loggedIn: false, refusal: refusal.condition, text: refusal.text };
  }
  const jid = session.xmpp.jid?.toString();
  await disconnect(session.xmpp);
  return { loggedIn: true, jid };
}

// ---------------------------------------------------------------------------------------------
// Messaging: offline delivery, delivery, carbons, archive

async function mamQuery(xmpp: XmppClient, form: Record<string, string>, to?: string): Promise<{ complete: boolean; items: { id: string; from: string; to: string | null; body: string | null }[] }> {
  const queryid = `q${Math.random().toString(36).slice(2, 10)}`;
  const items: { id: string; from: string; to: string | null; body: string | null }[] = [];
  const listener = (stanza: Element) => {
    const r = stanza.is('message') ? stanza.getChild('result', NS_MAM) : undefined;
    if (!r || r.attrs.queryid !== queryid) return;
    const message = r.getChild('forwarded', NS_FORWARD)?.getChild('message');
    items.push({ id: String(r.attrs.id), from: String(message?.attrs.from), to: message?.attrs.to ?? null, body: message?.getChildText('body') ?? null });
  };
  xmpp.on('stanza', listener);
  try {
    const fields = [
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)),
      ...Object.entries(form).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))),
    ];
    const reply = await iq(xmpp, xml('iq', { type: 'set', to }, xml('query', { xmlns: NS_MAM, queryid }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields))));
    return { complete: reply.getChild('fin', NS_MAM)?.attrs.complete === 'true', items };
  } finally {
    xmpp.removeListener('stanza', listener);
  }
}

/**
 * Sender on two devices (both with carbons), recipient on one: a message waiting offline, then a
 * live one; the sender's other device gets the carbon, the recipient's archive has both.
 */
async function conversation(args: { sender: Account; recipient: Account }): Promise<unknown> {
  const run = Math.random().toString(36).slice(2, 8);
  const offlineBody = `while you were away ${run}`;
  const liveBody = `hello ${run}`;
  const clients: XmppClient[] = [];
  try {
    const phone = await online(args.sender, 'phone');
    clients.push(phone);
    const laptop = await online(args.sender, 'laptop');
    clients.push(laptop);
    for (const device of [phone, laptop]) await iq(device, xml('iq', { type: 'set' }, xml('enable', { xmlns: NS_CARBONS })));

    // XEP-0160: the recipient is offline, the server keeps the message.
    await phone.send(xml('message', { type: 'chat', to: args.recipient.jid, id: `off-${run}` }, xml('body', {}, offlineBody)));
    await iq(phone, xml('iq', { type: 'get', to: domainOf(args.sender.jid) }, xml('ping', { xmlns: 'urn:xmpp:ping' })));

    const { xmpp: desktop } = await connectObserved(args.recipient, { resource: 'desktop' });
    clients.push(desktop);
    const offline = nextStanza(desktop, (s) => s.is('message') && s.getChildText('body') === offlineBody);
    await desktop.send(xml('presence'));
    const offlineMessage = await offline;

    const delivered = nextStanza(desktop, (s) => s.is('message') && s.getChildText('body') === liveBody);
    const carbon = nextStanza(laptop, (s) => s.is('message') && s.getChild('sent', NS_CARBONS) !== undefined);
    await phone.send(xml('message', { type: 'chat', to: args.recipient.jid, id: `live-${run}` }, xml('body', {}, liveBody)));
    const message = await delivered;
    const copy = await carbon;
    const forwarded = copy.getChild('sent', NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message');
    const stanzaId = message.getChildren('stanza-id', NS_SID).find((s) => s.attrs.by === bare(args.recipient.jid))?.attrs.id;

    const archive = await mamQuery(desktop, { with: bare(args.sender.jid) });
    return {
      offline: { from: offlineMessage.attrs.from, body: offlineMessage.getChildText('body'), delayed: offlineMessage.getChild('delay', 'urn:xmpp:delay') !== undefined },
      delivered: { from: message.attrs.from, to: message.attrs.to, body: message.getChildText('body'), stanzaId },
      carbon: { from: copy.attrs.from, to: copy.attrs.to, forwardedFrom: forwarded?.attrs.from, forwardedTo: forwarded?.attrs.to, body: forwarded?.getChildText('body') },
      archive: { ...archive, bodies: archive.items.map((i) => i.body) },
      // The full JIDs the server bound: with Bind2 (XEP-0386) it makes the resource from the client's tag.
      jids: { phone: phone.jid?.toString(), laptop: laptop.jid?.toString(), desktop: desktop.jid?.toString() },
      liveBody,
      offlineBody,
    };
  } finally {
    for (const c of clients) await disconnect(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Group chat (XEP-0045) with its archive

async function groupChat(args: { owner: Account; guest: Account; room: string }): Promise<unknown> {
  const service = `conference.${domainOf(args.owner.jid)}`;
  const room = `${args.room}@${service}`;
  const body = `hello room ${Math.random().toString(36).slice(2, 8)}`;
  const clients: XmppClient[] = [];
  try {
    const owner = await online(args.owner, 'muc');
    clients.push(owner);
    const guest = await online(args.guest, 'muc');
    clients.push(guest);

    const ownerSelf = nextStanza(owner, (s) => s.is('presence') && s.attrs.from === `${room}/owner` && hasStatus(s, '110'));
    await owner.send(xml('presence', { to: `${room}/owner` }, xml('x', { xmlns: NS_MUC })));
    const created = await ownerSelf;
    const createdStatuses = statuses(created);
    // Accept the default configuration: an "instant room" (XEP-0045 §10.1.2).
    const configured = await iq(owner, xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' }))));

    const guestSelf = nextStanza(guest, (s) => s.is('presence') && s.attrs.from === `${room}/guest` && hasStatus(s, '110'));
    const ownerSeesGuest = nextStanza(owner, (s) => s.is('presence') && s.attrs.from === `${room}/guest`);
    await guest.send(xml('presence', { to: `${room}/guest` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }))));
    const joined = await guestSelf;
    await ownerSeesGuest;

    const received = nextStanza(guest, (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === body);
    await owner.send(xml('message', { type: 'groupchat', to: room, id: 'room1' }, xml('body', {}, body)));
    const message = await received;
    const roomStanzaId = message.getChildren('stanza-id', NS_SID).find((s) => s.attrs.by === room)?.attrs.id;

    const roomInfo = await iq(guest, xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_INFO })));
    const archive = await mamQuery(guest, {}, room);

    for (const [c, nick] of [[guest, 'guest'], [owner, 'owner']] as const) await c.send(xml('presence', { to: `${room}/${nick}`, type: 'unavailable' }));
    return {
      room,
      createdStatuses,
      configured: configured.attrs.type,
      guestAffiliation: joined.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation,
      guestRole: joined.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role,
      message: { from: message.attrs.from, body: message.getChildText('body'), roomStanzaId },
      roomFeatures: roomInfo.getChild('query')!.getChildren('feature').map((f) => String(f.attrs.var)),
      archive: { ...archive, bodies: archive.items.map((i) => i.body), ids: archive.items.map((i) => i.id) },
      body,
    };
  } finally {
    for (const c of clients) await disconnect(c);
  }
}

/** Try to create `room` on `service`: created (status 201), or the error condition Prosody answers with. */
async function groupChatCreate(args: { owner: Account; service: string; room: string }): Promise<unknown> {
  const room = `${args.room}@${args.service}`;
  const xmpp = await online(args.owner, 'muc-create');
  try {
    const answer = nextStanza(xmpp, (s) => s.is('presence') && String(s.attrs.from).startsWith(`${room}/`));
    await xmpp.send(xml('presence', { to: `${room}/owner` }, xml('x', { xmlns: NS_MUC })));
    const presence = await answer;
    if (presence.attrs.type === 'error') {
      return { created: false, error: presence.getChild('error')?.children.map((c) => (typeof c === 'string' ? c : c.name)).join(' ') };
    }
    return { created: hasStatus(presence, '201'), statuses: statuses(presence) };
  } finally {
    await disconnect(xmpp);
  }
}

/** An IQ's outcome: 'result', or 'error:<condition>' for an error reply (which `iq` would throw). */
async function iqOutcome(xmpp: XmppClient, stanza: Element): Promise<{ outcome: string; reply?: Element }> {
  try {
    return { outcome: 'result', reply: await iq(xmpp, stanza) };
  } catch (error) {
    const condition = (error as { condition?: string; name?: string }).condition;
    if ((error as { name?: string }).name !== 'StanzaError' || condition === undefined) throw error;
    return { outcome: `error:${condition}` };
  }
}

/** Enter `room` as `nick` and return the room's presence for oneself (status 110). */
async function enterRoom(xmpp: XmppClient, room: string, nick: string): Promise<Element> {
  const self = nextStanza(xmpp, (s) => s.is('presence') && s.attrs.from === `${room}/${nick}` && (hasStatus(s, '110') || s.attrs.type === 'error'));
  await xmpp.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }))));
  const presence = await self;
  if (presence.attrs.type === 'error') throw new Error(`could not enter ${room} as ${nick}: ${presence.toString()}`);
  return presence;
}

/** Create `room` as its first occupant and accept the default configuration (an instant room). */
async function createInstantRoom(xmpp: XmppClient, room: string, nick: string): Promise<string[]> {
  const created = statuses(await enterRoom(xmpp, room, nick));
  if (!created.includes('201')) throw new Error(`${room} was not created (statuses ${created.join(', ')})`);
  await iq(xmpp, xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' }))));
  return created;
}

const ownItem = (presence: Element) => presence.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs as { affiliation?: string; role?: string } | undefined;

/**
 * Who owns a room someone else created: `creator` creates it and stays; `admin` and `other` enter
 * it. For each, the affiliation the room gives them, and whether they may read the room's owner
 * configuration form (only owners may, XEP-0045 §10.2).
 */
async function roomOwnership(args: { creator: Account; admin: Account; other: Account; service: string; room: string }): Promise<unknown> {
  const room = `${args.room}@${args.service}`;
  const clients: XmppClient[] = [];
  try {
    const creator = await online(args.creator, 'muc');
    clients.push(creator);
    const createdStatuses = await createInstantRoom(creator, room, 'creator');
    const seen: Record<string, { affiliation?: string; role?: string; ownerForm: string }> = {};
    for (const [nick, account] of [['admin', args.admin], ['other', args.other]] as const) {
      const xmpp = await online(account, 'muc');
      clients.push(xmpp);
      const item = ownItem(await enterRoom(xmpp, room, nick));
      const form = await iqOutcome(xmpp, xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_MUC_OWNER })));
      seen[nick] = { affiliation: item?.affiliation, role: item?.role, ownerForm: form.outcome };
    }
    return { room, createdStatuses, ...seen };
  } finally {
    for (const c of clients) await disconnect(c);
  }
}

/** A 1×1 PNG, the room's avatar. */
const ROOM_AVATAR_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/**
 * A room's avatar the way clients set and show it: the owner publishes a vCard (vcard-temp) on the
 * room's JID; anyone reads it back; an occupant entering the room learns its hash from the room's
 * presence (XEP-0153) and from disco#info (muc#roominfo_avatarhash); a participant may not replace it.
 */
async function roomAvatar(args: { owner: Account; guest: Account; room: string }): Promise<unknown> {
  const service = `conference.${domainOf(args.owner.jid)}`;
  const room = `${args.room}@${service}`;
  const vcard = (binval: string) => xml('vCard', { xmlns: 'vcard-temp' }, xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, binval)));
  const clients: XmppClient[] = [];
  try {
    const owner = await online(args.owner, 'muc');
    clients.push(owner);
    await createInstantRoom(owner, room, 'owner');
    const set = await iqOutcome(owner, xml('iq', { type: 'set', to: room }, vcard(ROOM_AVATAR_PNG)));

    const guest = await online(args.guest, 'muc');
    clients.push(guest);
    const read = await iqOutcome(guest, xml('iq', { type: 'get', to: room }, xml('vCard', { xmlns: 'vcard-temp' })));
    const photo = read.reply?.getChild('vCard', 'vcard-temp')?.getChild('PHOTO');
    const hashPresence = nextStanza(guest, (s) => s.is('presence') && s.attrs.from === room && s.getChild('x', 'vcard-temp:x:update') !== undefined);
    await enterRoom(guest, room, 'guest');
    // No such presence is an answer too (undefined), for the test to report.
    const advertised = (await hashPresence.catch(() => undefined))?.getChild('x', 'vcard-temp:x:update')?.getChildText('photo');
    const info = await discoInfo(guest, room);
    const guestSet = await iqOutcome(guest, xml('iq', { type: 'set', to: room }, vcard(ROOM_AVATAR_PNG.replace('AAAA', 'BBBB'))));
    const after = await iqOutcome(owner, xml('iq', { type: 'get', to: room }, xml('vCard', { xmlns: 'vcard-temp' })));
    return {
      room,
      set: set.outcome,
      read: { outcome: read.outcome, type: photo?.getChildText('TYPE'), binval: photo?.getChildText('BINVAL')?.replace(/\s+/g, '') },
      sha1: createHash('sha1').update(Buffer.from(ROOM_AVATAR_PNG, 'base64')).digest('hex'),
      advertised,
      roomInfo: { features: info.features, form: info.forms['http://jabber.org/protocol/muc#roominfo'] ?? {} },
      guestSet: guestSet.outcome,
      afterGuestSet: after.reply?.getChild('vCard', 'vcard-temp')?.getChild('PHOTO')?.getChildText('BINVAL')?.replace(/\s+/g, ''),
      avatar: ROOM_AVATAR_PNG,
    };
  } finally {
    for (const c of clients) await disconnect(c);
  }
}

function statuses(presence: Element): string[] {
  return (presence.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
}

function hasStatus(presence: Element, code: string): boolean {
  return statuses(presence).includes(code);
}

// ---------------------------------------------------------------------------------------------
// Service discovery, as the compliance tester reads it

interface DiscoInfo {
  identities: { category: string; type: string; name?: string }[];
  features: string[];
  /** Extension forms (XEP-0128) by FORM_TYPE: field var → values. */
  forms: Record<string, Record<string, string[]>>;
}

async function discoInfo(xmpp: XmppClient, to: string): Promise<DiscoInfo> {
  const query = (await iq(xmpp, xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_DISCO_INFO })))).getChild('query')!;
  const forms: DiscoInfo['forms'] = {};
  for (const form of query.getChildren('x', NS_DATA)) {
    const fields = Object.fromEntries(form.getChildren('field').map((f) => [String(f.attrs.var), f.getChildren('value').map((v) => v.getText())]));
    forms[fields.FORM_TYPE?.[0] ?? ''] = fields;
  }
  return {
    identities: query.getChildren('identity').map((i) => ({ category: String(i.attrs.category), type: String(i.attrs.type), name: i.attrs.name })),
    features: query.getChildren('feature').map((f) => String(f.attrs.var)),
    forms,
  };
}

async function discovery(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  // As the compliance tester connects: RFC 6120 SASL, then the stream features after authentication.
  const session = await connectObserved(args, { legacySasl: true });
  const { xmpp } = session;
  try {
    const items = (await iq(xmpp, xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_DISCO_ITEMS })))).getChild('query')!;
    const services = await iq(xmpp, xml('iq', { type: 'get', to: domain }, xml('services', { xmlns: 'urn:xmpp:extdisco:2' })));
    return {
      streamFeaturesAfterAuth: streamFeatures(session.received).pop(),
      domain: await discoInfo(xmpp, domain),
      account: await discoInfo(xmpp, bare(args.jid)),
      upload: await discoInfo(xmpp, `upload.${domain}`),
      conference: await discoInfo(xmpp, `conference.${domain}`),
      items: items.getChildren('item').map((i) => String(i.attrs.jid)),
      externalServices: (services.getChild('services')?.getChildren('service') ?? []).map((s) => ({
        type: s.attrs.type,
        transport: s.attrs.transport,
        host: s.attrs.host,
        port: s.attrs.port,
        hasCredentials: s.attrs.username !== undefined && s.attrs.password !== undefined,
      })),
    };
  } finally {
    await disconnect(xmpp);
  }
}

/**
 * What Conversations does with PEP at first start: publish the OMEMO device list with
 * publish-options (access model open, so contacts can encrypt to us) and bookmarks with
 * publish-options (whitelist); another account then reads the device list.
 */
async function pepPublishOptions(args: { owner: Account; reader: Account }): Promise<unknown> {
  const clients: XmppClient[] = [];
  const publishOptions = (fields: Record<string, string>) =>
    xml(
      'publish-options',
      {},
      xml(
        'x',
        { xmlns: NS_DATA, type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#publish-options`)),
        ...Object.entries(fields).map(([name, value]) => xml('field', { var: name }, xml('value', {}, value))),
      ),
    );
  try {
    const { xmpp: owner } = await connectObserved(args.owner);
    clients.push(owner);
    const deviceId = String(1000 + Math.floor(Math.random() * 100000));
    const devicelist = await iq(
      owner,
      xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS_PUBSUB },
        xml('publish', { node: 'eu.siacs.conversations.axolotl.devicelist' }, xml('item', { id: 'current' }, xml('list', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('device', { id: deviceId })))),
        publishOptions({ 'pubsub#access_model': 'open' }))),
    );
    const bookmark = await iq(
      owner,
      xml('iq', { type: 'set' }, xml('pubsub', { xmlns: NS_PUBSUB },
        xml('publish', { node: 'urn:xmpp:bookmarks:1' }, xml('item', { id: `lobby@conference.${domainOf(args.owner.jid)}` }, xml('conference', { xmlns: 'urn:xmpp:bookmarks:1', name: 'Lobby', autojoin: 'true' }, xml('nick', {}, 'owner')))),
        publishOptions({ 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' }))),
    );
    const { xmpp: reader } = await connectObserved(args.reader);
    clients.push(reader);
    const read = await iq(reader, xml('iq', { type: 'get', to: bare(args.owner.jid) }, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: 'eu.siacs.conversations.axolotl.devicelist' }))));
    const devices = (read.getChild('pubsub')?.getChild('items')?.getChild('item')?.getChild('list', 'eu.siacs.conversations.axolotl')?.getChildren('device') ?? []).map((d) => String(d.attrs.id));
    let bookmarksByOthers: string;
    try {
      await iq(reader, xml('iq', { type: 'get', to: bare(args.owner.jid) }, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: 'urn:xmpp:bookmarks:1' }))));
      bookmarksByOthers = 'readable';
    } catch (error) {
      // Only the server's error reply is a refusal; a timeout or a dropped stream fails the scenario.
      if ((error as { name?: string } | undefined)?.name !== 'StanzaError') throw error;
      bookmarksByOthers = `refused: ${String((error as { condition?: string }).condition)}`;
    }
    return { deviceId, devicelistPublish: devicelist.attrs.type, bookmarkPublish: bookmark.attrs.type, devicesSeenByContact: devices, bookmarksByOthers };
  } finally {
    for (const c of clients) await disconnect(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Security: what a careless (or hostile) client gets without TLS

async function plaintextAuth(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  const target = await srv('xmpp-client', domain);
  const stream = await RawStream.tcp(target.name, target.port);
  try {
    const features = await stream.open(domain);
    const before = {
      features: featureList(features),
      starttlsRequired: features.getChild('starttls', NS.tls)?.getChild('required') !== undefined,
      mechanisms: offeredMechanisms(features),
    };
    const plain = Buffer.from(`\0${localOf(args.jid)}\0${args.password}`).toString('base64');
    stream.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${plain}</auth>`);
    const plainOutcome = await stream.next((e) => e.attrs.xmlns === NS.sasl, 'answer to PLAIN before TLS');
    const register = await stream.iq('get', `<query xmlns='${NS.register}'/>`);
    // The same connection, upgraded: now authentication is on offer, and SCRAM succeeds.
    const secured = await stream.starttls(domain);
    const scram = await stream.scramSha1(localOf(args.jid), args.password);
    return {
      before,
      plainBeforeTls: { outcome: plainOutcome.name, condition: errorCondition(plainOutcome) },
      registerBeforeTls: register.attrs.type === 'result' ? 'result' : `error:${errorCondition(register)}`,
      afterStarttls: { protocol: stream.tlsSocket?.getProtocol(), authorized: stream.tlsSocket?.authorized, features: featureList(secured), mechanisms: offeredMechanisms(secured) },
      scramAfterTls: scram.name,
    };
  } finally {
    stream.close();
  }
}

/**
 * What `args` is allowed to administer on each of `domains`, and whom each domain names as its
 * contacts: the ad-hoc commands the domain lists for this account (XEP-0050; the admin commands
 * only to its admins) and the XEP-0157 form of its disco#info.
 */
async function domainAdministration(args: Account & { domains: string[] }): Promise<unknown> {
  const session = await connectObserved(args);
  const { xmpp } = session;
  try {
    const result: Record<string, { commands: string[]; contacts: Record<string, string[]> }> = {};
    for (const domain of args.domains) {
      const commands = (await iq(xmpp, xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_DISCO_ITEMS, node: 'http://jabber.org/protocol/commands' })))).getChild('query')!;
      const { FORM_TYPE: _type, ...contacts } = (await discoInfo(xmpp, domain)).forms['http://jabber.org/network/serverinfo'] ?? {};
      result[domain] = { commands: commands.getChildren('item').map((i) => String(i.attrs.node)), contacts };
    }
    return result;
  } finally {
    await disconnect(xmpp);
  }
}

export const messagingScenarios: { [name: string]: Scenario } = {
  domainAdministration,
  c2sStarttls,
  c2sDirectTls,
  c2sWebSocket,
  c2sBosh,
  registerWithInvite,
  invitationPage,
  registerOnWeb,
  canLogIn,
  conversation,
  groupChat,
  groupChatCreate,
  roomOwnership,
  roomAvatar,
  discovery,
  pepPublishOptions,
  plaintextAuth,
};
