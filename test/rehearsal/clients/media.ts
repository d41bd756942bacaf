/** Scenarios for file sharing (XEP-0363), calls (XEP-0215 and TURN clients) and the web front (HTTP, TLS, TCP probes); media.test.ts drives them. */
import { createHash, randomBytes } from 'crypto';
import type { Scenario } from './scenarios';
import { httpRequest, HttpAnswer, HttpProbe, tcpConnect, tlsHandshake, TlsProbe } from './media-http';
import { Account, connect, disconnect, Element, iq, xml, XmppClient } from './xmpp';

const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const UPLOAD = 'urn:xmpp:http:upload:0';
const EXTDISCO = 'urn:xmpp:extdisco:2';
const DATA_FORMS = 'jabber:x:data';

async function session<T>(account: Account, body: (xmpp: XmppClient, domain: string) => Promise<T>): Promise<T> {
  const xmpp = await connect(account);
  try {
    return await body(xmpp, account.jid.split('@')[1]);
  } finally {
    await disconnect(xmpp);
  }
}

/** A stanza error as plain data: the IQ helper rejects with @xmpp/client's StanzaError. */
interface StanzaErrorData {
  readonly type?: string;
  readonly condition?: string;
  readonly text?: string;
  readonly xml?: string;
}

function stanzaError(e: unknown): StanzaErrorData {
  const err = e as { type?: string; condition?: string; text?: string; element?: Element; message?: string };
  if (err.condition === undefined) throw e;
  return { type: err.type, condition: err.condition, text: err.text, xml: err.element?.toString() };
}

/** `{ var: [values] }` of a XEP-0004 form. */
function formFields(form: Element): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const field of form.getChildren('field')) fields[String(field.attrs.var)] = field.getChildren('value').map((v) => v.getText());
  return fields;
}

interface DiscoInfo {
  readonly jid: string;
  readonly identities: { category: string; type: string; name?: string }[];
  readonly features: string[];
  /** Extended info forms (XEP-0128), by FORM_TYPE. */
  readonly forms: Record<string, Record<string, string[]>>;
}

async function discoInfo(xmpp: XmppClient, to: string): Promise<DiscoInfo> {
  const reply = await iq(xmpp, xml('iq', { type: 'get', to }, xml('query', { xmlns: DISCO_INFO })));
  const query = reply.getChild('query', DISCO_INFO)!;
  const forms: DiscoInfo['forms'] = {};
  for (const form of query.getChildren('x', DATA_FORMS)) {
    const fields = formFields(form);
    forms[fields.FORM_TYPE?.[0] ?? ''] = fields;
  }
  return {
    jid: to,
    identities: query.getChildren('identity').map((i) => ({ category: String(i.attrs.category), type: String(i.attrs.type), name: i.attrs.name })),
    features: query.getChildren('feature').map((f) => String(f.attrs.var)),
    forms,
  };
}

/**
 * XEP-0363 §2 discovery as Conversations does it: the items of the account's domain, then the
 * info of each, keeping those that offer HTTP upload.
 */
async function fileShareDiscover(args: Account): Promise<unknown> {
  return session(args, async (xmpp, domain) => {
    const items = await iq(xmpp, xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: DISCO_ITEMS })));
    const jids = items.getChild('query', DISCO_ITEMS)!.getChildren('item').map((i) => String(i.attrs.jid));
    const infos = await Promise.all(jids.map((jid) => discoInfo(xmpp, jid)));
    return { items: jids, uploadServices: infos.filter((i) => i.features.includes(UPLOAD)) };
  });
}

interface Slot {
  readonly put: string;
  readonly get: string;
  readonly headers: Record<string, string>;
}

function slotRequest(service: string, filename: string, size: number, contentType: string): Element {
  return xml('iq', { type: 'get', to: service }, xml('request', { xmlns: UPLOAD, filename, size: String(size), 'content-type': contentType }));
}

async function requestSlot(xmpp: XmppClient, service: string, filename: string, size: number, contentType: string): Promise<Slot> {
  const reply = await iq(xmpp, slotRequest(service, filename, size, contentType));
  const slot = reply.getChild('slot', UPLOAD)!;
  const put = slot.getChild('put')!;
  const headers: Record<string, string> = {};
  for (const h of put.getChildren('header')) headers[String(h.attrs.name)] = h.getText();
  return { put: String(put.attrs.url), get: String(slot.getChild('get')!.attrs.url), headers };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An answer without its body (kept small in the RESULT line), plus the body's hash. */
function summary(answer: HttpAnswer, binary = false): Omit<HttpAnswer, 'body'> & { sha256: string; text?: string } {
  const { body, ...rest } = answer;
  const bytes = Buffer.from(body, binary ? 'base64' : 'utf8');
  return { ...rest, sha256: sha256(bytes), ...(binary ? {} : { text: body.slice(0, 2000) }) };
}

/**
 * XEP-0363 end to end: a slot for `sizeBytes` random bytes, the PUT with the slot's headers
 * through nginx, a browser's CORS preflight on the PUT URL, then the GET that must return the
 * very same bytes.
 */
async function fileShareRoundTrip(args: Account & { service: string; sizeBytes: number; filename: string; origin: string }): Promise<unknown> {
  const data = randomBytes(args.sizeBytes);
  const contentType = 'application/octet-stream';
  const slot = await session(args, (xmpp) => requestSlot(xmpp, args.service, args.filename, data.length, contentType));
  const preflight = await httpRequest({
    url: slot.put,
    method: 'OPTIONS',
    headers: { Origin: args.origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });
  const put = await httpRequest({ url: slot.put, method: 'PUT', headers: { ...slot.headers, 'Content-Type': contentType }, body: { base64: data.toString('base64') } });
  const get = await httpRequest({ url: slot.get }, true);
  return {
    slot,
    sentSha256: sha256(data),
    sentBytes: data.length,
    preflight: summary(preflight),
    put: summary(put),
    get: summary(get, true),
  };
}

/**
 * What a client meets when a file is too big: the slot request for more than the limit is
 * refused over XMPP; a PUT whose Content-Length exceeds what was declared, or what nginx
 * accepts, is refused over HTTP. The over-limit PUT sends only its headers and a few bytes.
 */
async function fileShareRefusals(args: Account & { service: string; limitBytes: number }): Promise<unknown> {
  const contentType = 'application/octet-stream';
  const { tooLarge, small, mismatch } = await session(args, async (xmpp) => {
    let tooLargeResult: unknown;
    try {
      tooLargeResult = { slot: await requestSlot(xmpp, args.service, 'too-large.bin', args.limitBytes + 1, contentType) };
    } catch (e) {
      tooLargeResult = { error: stanzaError(e) };
    }
    return {
      tooLarge: tooLargeResult,
      small: await requestSlot(xmpp, args.service, 'small.bin', 1024, contentType),
      mismatch: await requestSlot(xmpp, args.service, 'declared.bin', 1024, contentType),
    };
  });
  const overLimit = await httpRequest({
    url: small.put,
    method: 'PUT',
    headers: { ...small.headers, 'Content-Type': contentType, 'Content-Length': args.limitBytes + 1 },
    partialBodyBytes: 1024,
  });
  const moreThanDeclared = await httpRequest({
    url: mismatch.put,
    method: 'PUT',
    headers: { ...mismatch.headers, 'Content-Type': contentType },
    body: { base64: randomBytes(4096).toString('base64') },
  });
  // Neither refused upload may have left a file behind.
  const [smallGet, mismatchGet] = await Promise.all([httpRequest({ url: small.get }), httpRequest({ url: mismatch.get })]);
  return {
    tooLarge,
    overLimitPut: summary(overLimit),
    moreThanDeclaredPut: summary(moreThanDeclared),
    smallGet: summary(smallGet),
    mismatchGet: summary(mismatchGet),
    // So the test can look for the slots' files on the host as well.
    slotUrls: { small: small.get, mismatch: mismatch.get },
  };
}

/** XEP-0215: the STUN/TURN services (with credentials) the account's server hands out. */
async function externalServices(args: Account): Promise<unknown> {
  return session(args, async (xmpp, domain) => {
    const reply = await iq(xmpp, xml('iq', { type: 'get', to: domain }, xml('services', { xmlns: EXTDISCO })));
    const services = reply.getChild('services', EXTDISCO)!.getChildren('service').map((s) => ({ ...s.attrs }));
    return { services, fetchedAt: Math.floor(Date.now() / 1000) };
  });
}

/** Several HTTP requests, as data (bodies as text). */
async function httpProbes(args: { requests: HttpProbe[] }): Promise<unknown> {
  const answers: unknown[] = [];
  for (const probe of args.requests) {
    try {
      answers.push(summary(await httpRequest(probe)));
    } catch (e) {
      answers.push({ error: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
  }
  return answers;
}

/** Several TLS handshakes with pinned versions. */
async function tlsProbes(args: { probes: TlsProbe[] }): Promise<unknown> {
  return Promise.all(args.probes.map((p) => tlsHandshake(p)));
}

/** TCP connects to host:port pairs: 'connected' or the error code. */
async function tcpProbes(args: { targets: { host: string; port: number }[] }): Promise<unknown> {
  const outcomes = await Promise.all(args.targets.map((t) => tcpConnect(t.host, t.port)));
  return args.targets.map((t, i) => ({ ...t, outcome: outcomes[i] }));
}

export const mediaScenarios: { [name: string]: Scenario } = {
  fileShareDiscover,
  fileShareRoundTrip,
  fileShareRefusals,
  externalServices,
  httpProbes,
  tlsProbes,
  tcpProbes,
};
