/**
 * Scenarios for mobile clients, spoken on a raw stream the way Conversations (Android) and Monal or
 * Siskin (iOS) speak to Prosody 13: direct TLS (XEP-0368), SASL2 (XEP-0388) with Bind2 (XEP-0386),
 * FAST tokens (XEP-0484) and stream management (XEP-0198) negotiated inline, and push (XEP-0357)
 * to an app server. The app server is an account on the same server whose full JID plays the push
 * service (a full JID, so the server routes the publish to that connection instead of answering it
 * as the account's PEP service would for a bare JID). Where the server offers no SASL2 (Prosody
 * 0.12), the clients fall back as real ones do: SASL, bind, then stream management on its own.
 *
 * SCRAM is SCRAM-SHA-1 (the hash Prosody stores passwords with by default), with FAST's
 * HT-SHA-256-NONE: no channel binding, which every client can do. Once more as Conversations does
 * on TLS 1.3: SCRAM-SHA-1-PLUS and HT-SHA-256-EXPR, both bound to the connection's TLS exporter
 * (RFC 9266).
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from 'crypto';
import { promises as dns } from 'dns';
import * as tls from 'tls';
import { errorCondition, escapeXML, featureList, NS, ScramSha1 } from './messaging-raw';
import type { Scenario } from './scenarios';
import { Account, Element, withTimeout } from './xmpp';

const NS_SASL2 = 'urn:xmpp:sasl:2';
const NS_BIND2 = 'urn:xmpp:bind:0';
const NS_FAST = 'urn:xmpp:fast:0';
const NS_SM = 'urn:xmpp:sm:3';
const NS_PUSH = 'urn:xmpp:push:0';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DATA = 'jabber:x:data';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_PUSH_ENCRYPT = 'tigase:push:encrypt:0';
const NS_PUSH_PRIORITY = 'tigase:push:priority:0';

interface XmlParser {
  on(event: 'element', listener: (element: Element) => void): void;
  on(event: 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(data: string): void;
}
// @xmpp/xml ships no types; its streaming parser is what @xmpp/client itself uses.
const { Parser } = require('@xmpp/xml') as { Parser: new () => XmlParser };

const localOf = (jid: string): string => jid.split('@')[0];
const domainOf = (jid: string): string => jid.split('@')[1].split('/')[0];
const bare = (jid: string): string => jid.split('/')[0];

/**
 * A client stream over direct TLS that keeps stream management's count: once SM is enabled (or a
 * session resumed) it counts the stanzas it receives and answers the server's `<r/>` with them.
 */
class MobileStream {
  private parser!: XmlParser;
  private readonly queue: Element[] = [];
  private readonly waiters: { predicate: (e: Element) => boolean; resolve: (e: Element) => void }[] = [];
  private ended: string | undefined;
  private counter = 0;
  /** Stanzas received since SM was enabled; undefined while SM is off. */
  handled: number | undefined;
  readonly transcript: string[] = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (data: Buffer) => this.parser.write(data.toString('utf8')));
    socket.on('error', (error) => this.end(`socket error: ${error.message}`));
    socket.on('close', () => this.end('the connection closed'));
  }

  /** `_xmpps-client._tcp` of the account's domain, TLS with SNI and ALPN as Conversations sends them. */
  static async connect(domain: string): Promise<MobileStream> {
    const records = await dns.resolveSrv(`_xmpps-client._tcp.${domain}`);
    const [target] = [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    if (target === undefined) throw new Error(`no _xmpps-client._tcp.${domain} SRV record`);
    const socket = tls.connect({ host: target.name, port: target.port, servername: domain, ALPNProtocols: ['xmpp-client'] });
    await withTimeout(new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), 10000, `TLS to ${target.name}:${target.port}`);
    return new MobileStream(socket);
  }

  /**
   * Open the stream. `from` names the account, as a client that knows it does: Prosody's FAST
   * module offers token mechanisms only to a stream that says whose it is.
   */
  async open(domain: string, from?: string): Promise<Element> {
    this.parser = new Parser();
    this.parser.on('element', (element) => this.receive(element));
    this.parser.on('end', () => this.end('the server closed the stream'));
    this.parser.on('error', (error) => this.end(`unparseable XML from the server: ${error.message}`));
    const fromAttr = from === undefined ? '' : ` from='${escapeXML(from)}'`;
    this.send(`<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' to='${domain}'${fromAttr} version='1.0' xml:lang='en'>`);
    return this.next((e) => e.name === 'stream:features', 'stream features');
  }

  send(data: string): void {
    if (this.ended) throw new Error(`cannot send, ${this.ended}`);
    this.socket.write(data);
  }

  next(predicate: (e: Element) => boolean, what: string, timeoutMs = 10000): Promise<Element> {
    const i = this.queue.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.ended) return Promise.reject(new Error(`${what}: ${this.ended}\n${this.transcript.join('\n')}`));
    return withTimeout(new Promise<Element>((resolve) => this.waiters.push({ predicate, resolve })), timeoutMs, `${what}; received so far:\n${this.transcript.join('\n')}`);
  }

  async iq(type: 'get' | 'set', body: string, to?: string): Promise<Element> {
    const id = `m${++this.counter}`;
    this.send(`<iq type='${type}' id='${id}'${to ? ` to='${escapeXML(to)}'` : ''}>${body}</iq>`);
    return this.next((e) => e.name === 'iq' && e.attrs.id === id && (e.attrs.type === 'result' || e.attrs.type === 'error'), `reply to IQ ${body.slice(0, 80)}`);
  }

  /** RFC 9266 tls-exporter channel binding data of this TLS connection (TLS 1.3). */
  tlsExporter(): Buffer {
    return this.socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  }

  /** A clean logout: the stream is closed, the server ends the session (no hibernation). */
  close(): void {
    if (!this.ended) {
      try {
        this.socket.write('</stream:stream>');
      } catch {
        /* gone already */
      }
    }
    this.end('closed by the client');
    this.socket.end();
  }

  /** The phone loses its network: the TCP connection dies without the stream being closed. */
  drop(): void {
    this.end('dropped by the client');
    this.socket.destroy();
  }

  private receive(element: Element): void {
    this.transcript.push(element.toString());
    if (element.name === 'r' && element.attrs.xmlns === NS_SM) {
      if (this.handled !== undefined && !this.ended) this.send(`<a xmlns='${NS_SM}' h='${this.handled}'/>`);
      return;
    }
    if (this.handled !== undefined && ['message', 'presence', 'iq'].includes(element.name)) this.handled += 1;
    const i = this.waiters.findIndex((w) => w.predicate(element));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(element);
    else this.queue.push(element);
  }

  private end(reason: string): void {
    this.ended ??= reason;
  }
}

/** What a client asks for inside `<authenticate/>` besides the mechanism. */
interface Sasl2Request {
  /** XEP-0388 user-agent id: stable per installation; FAST tokens and Bind2 resources follow it. */
  readonly clientId: string;
  readonly requestToken?: string;
  readonly bind?: { tag: string; enableSm?: boolean; carbons?: boolean };
  readonly resume?: { previd: string; h: number };
  /** Authenticating with a FAST token (the `<fast/>` element). */
  readonly fast?: boolean;
}

function authenticateExtras(request: Sasl2Request): string {
  const parts = [`<user-agent id='${request.clientId}'><software>xmpp-constructs rehearsal</software><device>rehearsal phone</device></user-agent>`];
  if (request.fast) parts.push(`<fast xmlns='${NS_FAST}'/>`);
  if (request.requestToken) parts.push(`<request-token xmlns='${NS_FAST}' mechanism='${request.requestToken}'/>`);
  if (request.resume) parts.push(`<resume xmlns='${NS_SM}' previd='${escapeXML(request.resume.previd)}' h='${request.resume.h}'/>`);
  if (request.bind) {
    parts.push(`<bind xmlns='${NS_BIND2}'><tag>${escapeXML(request.bind.tag)}</tag>` +
      (request.bind.carbons ? `<enable xmlns='urn:xmpp:carbons:2'/>` : '') +
      (request.bind.enableSm ? `<enable xmlns='${NS_SM}' resume='true'/>` : '') + '</bind>');
  }
  return parts.join('');
}

/** The SASL2 offer in a features element: mechanisms and the inline features (Bind2, FAST, SM). */
function sasl2Offer(features: Element): { mechanisms: string[]; inline: string[]; bindInline: string[]; fastMechanisms: string[] } | undefined {
  const authentication = features.getChild('authentication', NS_SASL2);
  if (!authentication) return undefined;
  const inline = authentication.getChild('inline');
  return {
    mechanisms: authentication.getChildren('mechanism').map((m) => m.getText()),
    inline: inline ? featureList(inline) : [],
    bindInline: (inline?.getChild('bind', NS_BIND2)?.getChild('inline')?.getChildren('feature') ?? []).map((f) => String(f.attrs.var)),
    fastMechanisms: (inline?.getChild('fast', NS_FAST)?.getChildren('mechanism') ?? []).map((m) => m.getText()),
  };
}

/** What a SASL2 `<success/>` carried, and what the stream offered right after it (no restart). */
interface Sasl2Outcome {
  readonly outcome: 'success' | 'failure';
  readonly condition?: string;
  readonly text?: string;
  readonly jid?: string;
  readonly bound?: boolean;
  readonly smEnabled?: { id: string; resume: boolean };
  readonly resumed?: { previd: string; h: string };
  readonly token?: { token: string; expiry: string };
  readonly featuresAfter?: string[];
  /** The server proved it holds the credentials too (SCRAM server signature, FAST Responder hash). */
  readonly serverVerified?: boolean;
}

function readSuccess(success: Element): Omit<Sasl2Outcome, 'outcome' | 'featuresAfter' | 'serverVerified'> {
  const bound = success.getChild('bound', NS_BIND2);
  const enabled = bound?.getChild('enabled', NS_SM);
  const resumed = success.getChild('resumed', NS_SM);
  const token = success.getChild('token', NS_FAST);
  return {
    jid: success.getChildText('authorization-identifier') ?? undefined,
    bound: bound !== undefined,
    smEnabled: enabled ? { id: String(enabled.attrs.id), resume: enabled.attrs.resume === '1' || enabled.attrs.resume === 'true' } : undefined,
    resumed: resumed ? { previd: String(resumed.attrs.previd), h: String(resumed.attrs.h) } : undefined,
    token: token ? { token: String(token.attrs.token), expiry: String(token.attrs.expiry) } : undefined,
  };
}

async function finishSasl2(stream: MobileStream, outcome: Element, request: Sasl2Request, verify: (additionalData: string | undefined) => boolean): Promise<Sasl2Outcome> {
  if (outcome.name !== 'success') {
    return { outcome: 'failure', condition: errorCondition(outcome), text: outcome.getChildText('text') ?? undefined };
  }
  const read = readSuccess(outcome);
  // Stream management counts on: from zero on a new session, from our last count on a resumed one.
  if (read.resumed !== undefined) stream.handled = request.resume?.h ?? 0;
  else if (read.smEnabled !== undefined) stream.handled = 0;
  const serverVerified = verify(outcome.getChildText('additional-data') ?? undefined);
  // XEP-0388: no stream restart; the server sends the post-authentication features at once.
  const features = await stream.next((e) => e.name === 'stream:features', 'features after SASL2 success');
  return { outcome: 'success', ...read, featuresAfter: featureList(features), serverVerified };
}

/** SASL2 with SCRAM-SHA-1 (RFC 5802, no channel binding), with whatever `request` asks inline. */
async function sasl2Scram(stream: MobileStream, account: Account, request: Sasl2Request): Promise<Sasl2Outcome> {
  const scram = new ScramSha1(localOf(account.jid), account.password);
  stream.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-1'><initial-response>${scram.clientFirst()}</initial-response>${authenticateExtras(request)}</authenticate>`);
  const challenge = await stream.next((e) => e.attrs.xmlns === NS_SASL2, 'SASL2 challenge');
  if (challenge.name !== 'challenge') return finishSasl2(stream, challenge, request, () => false);
  stream.send(`<response xmlns='${NS_SASL2}'>${scram.clientFinal(challenge.getText())}</response>`);
  const outcome = await stream.next((e) => e.attrs.xmlns === NS_SASL2 && e.name !== 'challenge', 'SASL2 outcome');
  return finishSasl2(stream, outcome, request, (data) => {
    if (data === undefined) return false;
    scram.verifyServer(data); // throws on a wrong server signature
    return true;
  });
}

/**
 * SCRAM-SHA-1-PLUS (RFC 5802 with channel binding): the proof covers the TLS connection's
 * exporter value, so a man in the middle holding another TLS connection cannot relay it.
 */
class ScramSha1Plus {
  private readonly nonce = randomBytes(18).toString('base64');
  private readonly gs2Header = 'p=tls-exporter,,';
  private clientFirstBare = '';
  private expectedServerSignature = '';

  constructor(private readonly username: string, private readonly password: string, private readonly bindingData: Buffer) {}

  clientFirst(): string {
    this.clientFirstBare = `n=${this.username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`;
    return Buffer.from(this.gs2Header + this.clientFirstBare).toString('base64');
  }

  clientFinal(serverFirstBase64: string): string {
    const serverFirst = Buffer.from(serverFirstBase64, 'base64').toString('utf8');
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    if (!attrs.r?.startsWith(this.nonce)) throw new Error(`SCRAM: the server nonce does not extend ours: ${serverFirst}`);
    const salted = pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(attrs.s, 'base64'), Number(attrs.i), 20, 'sha1');
    const hmac = (key: Buffer, data: string) => createHmac('sha1', key).update(data).digest();
    const clientKey = hmac(salted, 'Client Key');
    const channelBinding = Buffer.concat([Buffer.from(this.gs2Header), this.bindingData]).toString('base64');
    const withoutProof = `c=${channelBinding},r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(createHash('sha1').update(clientKey).digest(), authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`).toString('base64');
  }

  verifyServer(successBase64: string): boolean {
    return Buffer.from(successBase64, 'base64').toString('utf8') === `v=${this.expectedServerSignature}`;
  }
}

/** SASL2 with SCRAM-SHA-1-PLUS bound to this connection's TLS exporter. */
async function sasl2ScramPlus(stream: MobileStream, account: Account, request: Sasl2Request): Promise<Sasl2Outcome> {
  const scram = new ScramSha1Plus(localOf(account.jid), account.password, stream.tlsExporter());
  stream.send(`<authenticate xmlns='${NS_SASL2}' mechanism='SCRAM-SHA-1-PLUS'><initial-response>${scram.clientFirst()}</initial-response>${authenticateExtras(request)}</authenticate>`);
  const challenge = await stream.next((e) => e.attrs.xmlns === NS_SASL2, 'SASL2 challenge');
  if (challenge.name !== 'challenge') return finishSasl2(stream, challenge, request, () => false);
  stream.send(`<response xmlns='${NS_SASL2}'>${scram.clientFinal(challenge.getText())}</response>`);
  const outcome = await stream.next((e) => e.attrs.xmlns === NS_SASL2 && e.name !== 'challenge', 'SASL2 outcome');
  return finishSasl2(stream, outcome, request, (data) => data !== undefined && scram.verifyServer(data));
}

/**
 * SASL2 with a FAST token: no password, one round trip. HT-SHA-256-NONE hashes the token alone;
 * HT-SHA-256-EXPR also hashes the new connection's TLS exporter (channel binding).
 */
async function sasl2Fast(
  stream: MobileStream,
  username: string,
  token: string,
  request: Sasl2Request,
  mechanism: 'HT-SHA-256-NONE' | 'HT-SHA-256-EXPR' = 'HT-SHA-256-NONE',
  /** Binding data from another connection, as a relay would have: the control case. */
  foreignBinding?: Buffer,
): Promise<Sasl2Outcome> {
  const bindingData = mechanism === 'HT-SHA-256-EXPR' ? foreignBinding ?? stream.tlsExporter() : Buffer.alloc(0);
  const initiator = createHmac('sha256', token).update(Buffer.concat([Buffer.from('Initiator'), bindingData])).digest();
  const initial = Buffer.concat([Buffer.from(`${username}\0`), initiator]).toString('base64');
  stream.send(`<authenticate xmlns='${NS_SASL2}' mechanism='${mechanism}'><initial-response>${initial}</initial-response>${authenticateExtras({ ...request, fast: true })}</authenticate>`);
  const outcome = await stream.next((e) => e.attrs.xmlns === NS_SASL2, 'FAST outcome');
  return finishSasl2(stream, outcome, request, (data) => {
    if (data === undefined) return false;
    const expected = createHmac('sha256', token).update(Buffer.concat([Buffer.from('Responder'), bindingData])).digest();
    const got = Buffer.from(data, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/**
 * SASL (RFC 6120) and resource binding the classic way, then stream management (XEP-0198) on its
 * own, or a resumption instead of binding: what clients do where the server offers no SASL2.
 */
async function legacyLogin(stream: MobileStream, domain: string, account: Account, request: Sasl2Request): Promise<Sasl2Outcome> {
  const scram = new ScramSha1(localOf(account.jid), account.password);
  stream.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${scram.clientFirst()}</auth>`);
  const challenge = await stream.next((e) => e.attrs.xmlns === NS.sasl, 'SCRAM challenge');
  if (challenge.name !== 'challenge') return { outcome: 'failure', condition: errorCondition(challenge) };
  stream.send(`<response xmlns='${NS.sasl}'>${scram.clientFinal(challenge.getText())}</response>`);
  const outcome = await stream.next((e) => e.attrs.xmlns === NS.sasl, 'SCRAM outcome');
  if (outcome.name !== 'success') return { outcome: 'failure', condition: errorCondition(outcome) };
  scram.verifyServer(outcome.getText());
  const features = await stream.open(domain, bare(account.jid));
  if (request.resume) {
    stream.send(`<resume xmlns='${NS_SM}' previd='${escapeXML(request.resume.previd)}' h='${request.resume.h}'/>`);
    const resumed = await stream.next((e) => e.attrs.xmlns === NS_SM && (e.name === 'resumed' || e.name === 'failed'), 'stream resumption');
    if (resumed.name !== 'resumed') return { outcome: 'failure', condition: `resume ${resumed.name}` };
    stream.handled = request.resume.h;
    return { outcome: 'success', resumed: { previd: String(resumed.attrs.previd), h: String(resumed.attrs.h) }, featuresAfter: featureList(features), serverVerified: true };
  }
  const bound = await stream.iq('set', `<bind xmlns='${NS.bind}'><resource>${escapeXML(request.bind?.tag ?? 'rehearsal')}</resource></bind>`);
  const jid = bound.getChild('bind', NS.bind)?.getChildText('jid') ?? undefined;
  let smEnabled: Sasl2Outcome['smEnabled'];
  if (request.bind?.enableSm) {
    stream.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
    const enabled = await stream.next((e) => e.attrs.xmlns === NS_SM && (e.name === 'enabled' || e.name === 'failed'), 'stream management');
    if (enabled.name === 'enabled') {
      smEnabled = { id: String(enabled.attrs.id), resume: enabled.attrs.resume === '1' || enabled.attrs.resume === 'true' };
      stream.handled = 0;
    }
  }
  return { outcome: jid ? 'success' : 'failure', jid, bound: jid !== undefined, smEnabled, featuresAfter: featureList(features), serverVerified: true };
}

/** How a client authenticated: SASL2 where the server offers it (as current clients prefer), else SASL. */
type Authentication = 'sasl2' | 'sasl';

/**
 * A logged-in connection, authenticated with the password: SASL2 with Bind2 where offered, else
 * SASL, bind and stream management one after the other. Throws when the login fails.
 */
async function login(account: Account, request: Sasl2Request): Promise<{ stream: MobileStream; outcome: Sasl2Outcome; features: Element; authentication: Authentication }> {
  const domain = domainOf(account.jid);
  const stream = await MobileStream.connect(domain);
  const features = await stream.open(domain, bare(account.jid));
  const authentication: Authentication = sasl2Offer(features) !== undefined ? 'sasl2' : 'sasl';
  const outcome = authentication === 'sasl2' ? await sasl2Scram(stream, account, request) : await legacyLogin(stream, domain, account, request);
  if (outcome.outcome !== 'success' || outcome.jid === undefined) {
    stream.close();
    throw new Error(`login of ${account.jid} (${authentication}) failed: ${JSON.stringify(outcome)}`);
  }
  return { stream, outcome, features, authentication };
}

async function ping(stream: MobileStream, domain: string): Promise<string> {
  const reply = await stream.iq('get', `<ping xmlns='urn:xmpp:ping'/>`, domain);
  return String(reply.attrs.type);
}

// ---------------------------------------------------------------------------------------------
// SASL2, Bind2 and FAST

/**
 * A phone logs in with its password once (SASL2, SCRAM), asking for a FAST token and binding with
 * Bind2; it goes away; a new connection logs in with the token alone. A made-up token is refused.
 */
async function fastLogin(args: Account): Promise<unknown> {
  const domain = domainOf(args.jid);
  const clientId = randomUUID();
  const first = await login(args, { clientId, requestToken: 'HT-SHA-256-NONE', bind: { tag: 'rehearsal', enableSm: true } });
  const legacyMechanisms = (first.features.getChild('mechanisms', NS.sasl)?.getChildren('mechanism') ?? []).map((m) => m.getText());
  const offer = sasl2Offer(first.features);
  const firstPing = await ping(first.stream, domain);
  first.stream.close();
  const token = first.outcome.token?.token;
  if (token === undefined) throw new Error(`no FAST token in the SASL2 success: ${first.stream.transcript.join('\n')}`);

  // A new connection, as after the phone slept: only the token, never the password.
  const again = await MobileStream.connect(domain);
  const againFeatures = await again.open(domain, bare(args.jid));
  const fast = await sasl2Fast(again, localOf(args.jid), token, { clientId, bind: { tag: 'rehearsal' } });
  const fastPing = fast.outcome === 'success' ? await ping(again, domain) : undefined;
  again.close();

  // Control: a token the server never issued, for the same client.
  const forged = await MobileStream.connect(domain);
  await forged.open(domain, bare(args.jid));
  const wrong = await sasl2Fast(forged, localOf(args.jid), `secret-token:fast-${randomBytes(24).toString('base64url')}`, { clientId, bind: { tag: 'rehearsal' } });
  forged.close();

  // As Conversations does on TLS 1.3: the password exchange and the token both bound to the TLS
  // connection they are used on (tls-exporter).
  const boundClientId = randomUUID();
  const bound = await MobileStream.connect(domain);
  await bound.open(domain, bare(args.jid));
  const plus = await sasl2ScramPlus(bound, args, { clientId: boundClientId, requestToken: 'HT-SHA-256-EXPR', bind: { tag: 'bound' } });
  const tlsProtocol = bound.socket.getProtocol();
  bound.close();
  let boundFast: Sasl2Outcome | undefined;
  let relayedFast: Sasl2Outcome | undefined;
  if (plus.token !== undefined) {
    // Control: the right token, hashed with another connection's exporter value, is refused.
    const relay = await MobileStream.connect(domain);
    await relay.open(domain, bare(args.jid));
    relayedFast = await sasl2Fast(relay, localOf(args.jid), plus.token.token, { clientId: boundClientId, bind: { tag: 'bound' } }, 'HT-SHA-256-EXPR', randomBytes(32));
    relay.close();
    const reconnect = await MobileStream.connect(domain);
    await reconnect.open(domain, bare(args.jid));
    boundFast = await sasl2Fast(reconnect, localOf(args.jid), plus.token.token, { clientId: boundClientId, bind: { tag: 'bound' } }, 'HT-SHA-256-EXPR');
    reconnect.close();
  }

  return {
    channelBound: { tlsProtocol, scramPlus: { ...plus, token: plus.token !== undefined }, fast: boundFast && { ...boundFast, token: undefined }, relayedFast },
    offer,
    legacyMechanisms,
    firstLogin: { ...first.outcome, token: first.outcome.token && { expiry: first.outcome.token.expiry, prefix: token.slice(0, 'secret-token:fast-'.length) } },
    firstPing,
    fastOffer: sasl2Offer(againFeatures)?.fastMechanisms,
    fastLogin: { ...fast, token: undefined },
    fastPing,
    wrongToken: wrong,
  };
}

// ---------------------------------------------------------------------------------------------
// Push (XEP-0357)

/** The app server's side: the next push publish to `node`, answered with a result as a push service does. */
async function receivePush(appServer: MobileStream, node: string): Promise<Element> {
  const publish = await appServer.next(
    (e) => e.name === 'iq' && e.attrs.type === 'set' && e.getChild('pubsub', NS_PUBSUB)?.getChild('publish')?.attrs.node === node,
    `push notification to node ${node}`,
    20000,
  );
  appServer.send(`<iq type='result' id='${escapeXML(String(publish.attrs.id))}' to='${escapeXML(String(publish.attrs.from))}'/>`);
  return publish;
}

/** A data form's fields: var → values. */
function formFields(form: Element | undefined): Record<string, string[]> {
  return Object.fromEntries((form?.getChildren('field') ?? []).map((f) => [String(f.attrs.var), f.getChildren('value').map((v) => v.getText())]));
}

function describePush(publish: Element): Record<string, unknown> {
  const pubsub = publish.getChild('pubsub', NS_PUBSUB)!;
  const notification = pubsub.getChild('publish')?.getChild('item')?.getChild('notification', NS_PUSH);
  return {
    from: publish.attrs.from,
    to: publish.attrs.to,
    node: pubsub.getChild('publish')?.attrs.node,
    notification: notification !== undefined,
    summary: formFields(notification?.getChild('x', NS_DATA)),
    publishOptions: formFields(pubsub.getChild('publish-options')?.getChild('x', NS_DATA)),
  };
}

function publishOptionsForm(fields: Record<string, string>): string {
  return `<x xmlns='${NS_DATA}' type='submit'><field var='FORM_TYPE'><value>${NS_PUBSUB}#publish-options</value></field>` +
    Object.entries(fields).map(([name, value]) => `<field var='${name}'><value>${escapeXML(value)}</value></field>`).join('') + '</x>';
}

function sendChat(sender: MobileStream, to: string, body: string): void {
  sender.send(`<message type='chat' to='${escapeXML(to)}' id='${randomUUID()}'><body>${escapeXML(body)}</body></message>`);
}

async function accountFeatures(stream: MobileStream, jid: string): Promise<string[]> {
  const info = await stream.iq('get', `<query xmlns='${NS_DISCO_INFO}'/>`, bare(jid));
  return (info.getChild('query')?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));
}

interface PushArgs {
  readonly phone: Account;
  readonly sender: Account;
  readonly appServer: Account;
}

/**
 * Conversations on Android: logs in with SASL2 (FAST token requested, SM enabled inline through
 * Bind2; without SASL2, the classic way), enables push to its app server with a publish-options form carrying its secret, and then
 * its connection dies (the phone slept): the session hibernates. A contact writes; the app server
 * gets the push and answers it; the phone wakes, logs in with its FAST token and resumes the
 * hibernating session inline (without SASL2: password, then resumption), and the message that
 * waited in it arrives.
 */
async function pushConversations(args: PushArgs): Promise<unknown> {
  const domain = domainOf(args.phone.jid);
  const node = randomBytes(12).toString('hex');
  const secret = randomBytes(16).toString('base64');
  const body = `wake up ${randomBytes(4).toString('hex')}`;
  const app = await login(args.appServer, { clientId: randomUUID(), bind: { tag: 'app-server' } });
  const appJid = app.outcome.jid!;
  const clientId = randomUUID();
  const phone = await login(args.phone, { clientId, requestToken: 'HT-SHA-256-NONE', bind: { tag: 'Conversations', enableSm: true, carbons: true } });
  const sender = await login(args.sender, { clientId: randomUUID(), bind: { tag: 'desktop' } });
  try {
    const features = await accountFeatures(phone.stream, args.phone.jid);
    phone.stream.send('<presence/>');
    const enable = await phone.stream.iq('set', `<enable xmlns='${NS_PUSH}' jid='${escapeXML(appJid)}' node='${node}'>${publishOptionsForm({ secret })}</enable>`);
    // Everything the server sent so far is handled; the phone acknowledges before its network goes.
    phone.stream.send(`<a xmlns='${NS_SM}' h='${phone.stream.handled}'/>`);
    const handledBeforeDrop = phone.stream.handled!;
    await new Promise((r) => setTimeout(r, 300));
    phone.stream.drop();
    // Prosody notices the closed connection and keeps the session hibernating.
    await new Promise((r) => setTimeout(r, 1000));

    const push = receivePush(app.stream, node);
    sendChat(sender.stream, bare(args.phone.jid), body);
    const publish = await push;

    // The push woke the phone: a new connection, the session resumed; with SASL2 in the same
    // exchange as the FAST token, which stands in for the password.
    const woken = await MobileStream.connect(domain);
    await woken.open(domain, bare(args.phone.jid));
    const waiting = woken.next((e) => e.name === 'message' && e.getChildText('body') === body, 'the message that waited in the hibernating session');
    const resume = { previd: phone.outcome.smEnabled!.id, h: handledBeforeDrop };
    const fast = phone.authentication === 'sasl2'
      ? await sasl2Fast(woken, localOf(args.phone.jid), phone.outcome.token!.token, { clientId, resume, bind: { tag: 'Conversations', enableSm: true } })
      : await legacyLogin(woken, domain, args.phone, { clientId, resume });
    const message = await waiting;
    woken.close();
    return {
      appServerJid: appJid,
      node,
      secret,
      body,
      accountFeatures: features,
      authentication: phone.authentication,
      sasl2Offered: sasl2Offer(phone.features) !== undefined,
      phoneLogin: { smEnabled: phone.outcome.smEnabled, token: phone.outcome.token !== undefined },
      enable: enable.attrs.type,
      push: describePush(publish),
      wake: { outcome: fast.outcome, condition: fast.condition, resumed: fast.resumed, bound: fast.bound, serverVerified: fast.serverVerified },
      delivered: { from: message.attrs.from, body: message.getChildText('body') },
    };
  } finally {
    for (const s of [app.stream, sender.stream]) s.close();
  }
}

/**
 * Monal or Siskin on iOS (cloud_notify_extensions): push enabled with an AES-128-GCM key
 * (Tigase's encrypted push, so the app server relays what it cannot read), and the phone fully
 * offline (logged out, as iOS leaves an app that was killed). A contact writes; the app server gets
 * the push with the encrypted payload and the high priority that lets iOS show it; decrypted with
 * the phone's key it names the sender and carries the message.
 */
async function pushIos(args: PushArgs): Promise<unknown> {
  const node = randomBytes(12).toString('hex');
  const key = randomBytes(16);
  const body = `encrypted hello ${randomBytes(4).toString('hex')}`;
  const app = await login(args.appServer, { clientId: randomUUID(), bind: { tag: 'app-server' } });
  const appJid = app.outcome.jid!;
  const phone = await login(args.phone, { clientId: randomUUID(), bind: { tag: 'Monal' } });
  const sender = await login(args.sender, { clientId: randomUUID(), bind: { tag: 'desktop' } });
  try {
    const features = await accountFeatures(phone.stream, args.phone.jid);
    const enable = await phone.stream.iq('set',
      `<enable xmlns='${NS_PUSH}' jid='${escapeXML(appJid)}' node='${node}'>${publishOptionsForm({ pushModule: 'monalProdiOS' })}` +
      `<encrypt xmlns='${NS_PUSH_ENCRYPT}' alg='aes-128-gcm'>${key.toString('base64')}</encrypt></enable>`);
    phone.stream.close();
    // Logged out: the session is gone, messages go to offline storage.
    await new Promise((r) => setTimeout(r, 1000));

    const push = receivePush(app.stream, node);
    sendChat(sender.stream, bare(args.phone.jid), body);
    const publish = await push;
    const notification = publish.getChild('pubsub', NS_PUBSUB)?.getChild('publish')?.getChild('item')?.getChild('notification', NS_PUSH);
    const encrypted = notification?.getChild('encrypted', NS_PUSH_ENCRYPT);
    let decrypted: unknown;
    if (encrypted !== undefined) {
      // AES-128-GCM: the payload is the ciphertext followed by the 16-byte tag, which must verify.
      const sealed = Buffer.from(encrypted.getText(), 'base64');
      const decipher = createDecipheriv('aes-128-gcm', key, Buffer.from(String(encrypted.attrs.iv), 'base64'));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      decrypted = JSON.parse(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8'));
    }
    return {
      appServerJid: appJid,
      node,
      body,
      accountFeatures: features,
      enable: enable.attrs.type,
      push: describePush(publish),
      encrypted: encrypted !== undefined,
      priority: notification?.getChildText('priority', NS_PUSH_PRIORITY) ?? null,
      decrypted,
    };
  } finally {
    for (const s of [app.stream, sender.stream]) s.close();
  }
}

export const mobileScenarios: { [name: string]: Scenario } = {
  fastLogin,
  pushConversations,
  pushIos,
};
