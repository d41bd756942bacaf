/**
 * XEP-0124/XEP-0206 BOSH by hand over fetch: @xmpp/client has no BOSH transport, and web clients
 * behind proxies that break WebSocket still use it.
 */
import { escapeXML, NS, offeredMechanisms, parseXml, ScramSha1 } from './messaging-raw';
import type { Element } from './xmpp';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const NS_XBOSH = 'urn:xmpp:xbosh';

export interface BoshOutcome {
  readonly url: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly sid: string;
  /** SASL mechanisms offered on the BOSH session (it is secure: HTTPS to nginx, X-Forwarded-Proto to Prosody). */
  readonly mechanisms: string[];
  readonly mechanism: string;
  readonly boundJid: string;
  /** disco#info of the server, asked over the bound session: proof that stanzas flow. */
  readonly serverFeatures: string[];
}

export async function boshSession(url: string, domain: string, username: string, password: string): Promise<BoshOutcome> {
  let rid = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  let sid = '';
  let status = 0;
  let contentType: string | null = null;
  const transcript: string[] = [];

  const post = async (body: string): Promise<Element> => {
    transcript.push(`> ${body}`);
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body, signal: AbortSignal.timeout(20000) });
    const text = await response.text();
    transcript.push(`< ${response.status} ${text}`);
    status = response.status;
    contentType = response.headers.get('content-type');
    if (!response.ok) throw new Error(`BOSH: HTTP ${response.status} from ${url}:\n${transcript.join('\n')}`);
    const parsed = parseXml(text);
    if (parsed.attrs.type === 'terminate') throw new Error(`BOSH: the server terminated the session (${parsed.attrs.condition}):\n${transcript.join('\n')}`);
    return parsed;
  };
  /** Send `payload` in a body and poll (empty bodies) until an element matching `wanted` arrives. */
  const exchange = async (payload: string, wanted: (e: Element) => boolean, attrs = ''): Promise<Element> => {
    let body = await post(`<body rid='${rid++}' sid='${sid}' xmlns='${NS_HTTPBIND}'${attrs}>${payload}</body>`);
    for (let polls = 0; polls < 5; polls++) {
      const found = elements(body).find(wanted);
      if (found) return found;
      body = await post(`<body rid='${rid++}' sid='${sid}' xmlns='${NS_HTTPBIND}'/>`);
    }
    throw new Error(`BOSH: no answer to ${payload.slice(0, 80)}:\n${transcript.join('\n')}`);
  };

  const created = await post(
    `<body content='text/xml; charset=utf-8' hold='1' rid='${rid++}' to='${domain}' ver='1.6' wait='10' xml:lang='en' ` +
      `xmpp:version='1.0' xmlns='${NS_HTTPBIND}' xmlns:xmpp='${NS_XBOSH}'/>`,
  );
  sid = String(created.attrs.sid ?? '');
  if (!sid) throw new Error(`BOSH: no sid in the session creation response:\n${transcript.join('\n')}`);
  const features = elements(created).find(isFeatures) ?? (await exchange('', isFeatures));
  const mechanisms = offeredMechanisms(features);

  // SCRAM-SHA-1 where offered, as a careful web client would; PLAIN is acceptable inside HTTPS.
  let mechanism: string;
  if (mechanisms.includes('SCRAM-SHA-1')) {
    mechanism = 'SCRAM-SHA-1';
    const scram = new ScramSha1(username, password);
    const challenge = await exchange(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${scram.clientFirst()}</auth>`, isSasl);
    if (challenge.name !== 'challenge') throw new Error(`BOSH: SCRAM refused: ${challenge.toString()}`);
    const outcome = await exchange(`<response xmlns='${NS.sasl}'>${scram.clientFinal(challenge.getText())}</response>`, isSasl);
    if (outcome.name !== 'success') throw new Error(`BOSH: SCRAM failed: ${outcome.toString()}`);
    scram.verifyServer(outcome.getText());
  } else {
    mechanism = 'PLAIN';
    const token = Buffer.from(`\0${username}\0${password}`).toString('base64');
    const outcome = await exchange(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${token}</auth>`, isSasl);
    if (outcome.name !== 'success') throw new Error(`BOSH: PLAIN failed (offered: ${mechanisms.join(', ')}): ${outcome.toString()}`);
  }

  // XEP-0206 §5: restart the stream, then bind a resource.
  const restarted = await exchange('', isFeatures, ` to='${domain}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='${NS_XBOSH}'`);
  if (!restarted.getChild('bind', NS.bind)) throw new Error(`BOSH: no resource binding offered after restart: ${restarted.toString()}`);
  const bound = await exchange(
    `<iq type='set' id='bind1' xmlns='${NS.client}'><bind xmlns='${NS.bind}'><resource>${escapeXML('bosh')}</resource></bind></iq>`,
    (e) => e.name === 'iq' && e.attrs.id === 'bind1',
  );
  const boundJid = bound.getChild('bind', NS.bind)?.getChildText('jid') ?? '';
  if (bound.attrs.type !== 'result' || !boundJid) throw new Error(`BOSH: bind failed: ${bound.toString()}`);

  const disco = await exchange(
    `<iq type='get' id='disco1' to='${domain}' xmlns='${NS.client}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
    (e) => e.name === 'iq' && e.attrs.id === 'disco1',
  );
  const serverFeatures = (disco.getChild('query')?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));

  await post(`<body rid='${rid++}' sid='${sid}' type='terminate' xmlns='${NS_HTTPBIND}'><presence type='unavailable' xmlns='${NS.client}'/></body>`).catch(() => undefined);
  return { url, status, contentType, sid, mechanisms, mechanism, boundJid, serverFeatures };
}

function elements(body: Element): Element[] {
  return body.children.filter((c): c is Element => typeof c !== 'string');
}

function isFeatures(e: Element): boolean {
  return e.name === 'stream:features' || e.name === 'features';
}

function isSasl(e: Element): boolean {
  return ['challenge', 'success', 'failure'].includes(e.name);
}
