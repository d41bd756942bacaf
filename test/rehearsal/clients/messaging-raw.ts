/**
 * A raw XMPP client stream for what @xmpp/client does not let a scenario do: speak before
 * authenticating (XEP-0401 invitations, XEP-0077 registration), look at stream features as they
 * arrive, try what a careless client would (authenticate before TLS). Plus SCRAM-SHA-1 by hand,
 * shared with the BOSH scenario.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import { Element, withTimeout } from './xmpp';

interface XmlParser {
  on(event: 'start' | 'element', listener: (element: Element) => void): void;
  on(event: 'end', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(data: string): void;
}

// @xmpp/xml ships no types; its streaming parser is what @xmpp/client itself uses.
const { Parser, escapeXML } = require('@xmpp/xml') as { Parser: new () => XmlParser; escapeXML(s: string): string };
const ltx = require('ltx') as { parse(s: string): Element };

export { escapeXML };

/** Parse one XML document (a BOSH body, host-meta). */
export function parseXml(text: string): Element {
  return ltx.parse(text);
}

export const NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  register: 'jabber:iq:register',
  pars: 'urn:xmpp:pars:0',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
} as const;

/** A stream feature as `name xmlns` (e.g. `starttls urn:ietf:params:xml:ns:xmpp-tls`). */
export function featureList(features: Element): string[] {
  return features.children.filter((c): c is Element => typeof c !== 'string').map((c) => `${c.name} ${c.attrs.xmlns ?? ''}`.trim());
}

/** The SASL mechanisms a features element offers (empty when none). */
export function offeredMechanisms(features: Element): string[] {
  const mechanisms = features.getChild('mechanisms', NS.sasl);
  return mechanisms ? mechanisms.getChildren('mechanism').map((m) => m.getText()) : [];
}

/** The defined condition of a stanza or SASL error, e.g. `forbidden`. */
export function errorCondition(element: Element): string | undefined {
  const error = element.name === 'failure' ? element : element.getChild('error');
  const condition = error?.children.find((c): c is Element => typeof c !== 'string' && c.name !== 'text');
  return condition?.name;
}

export class RawStream {
  private parser!: XmlParser;
  private readonly queue: Element[] = [];
  private readonly waiters: { predicate: (e: Element) => boolean; resolve: (e: Element) => void }[] = [];
  private ended: string | undefined;
  private readonly onData = (data: Buffer) => this.parser.write(data.toString('utf8'));
  private counter = 0;
  /** Everything received, serialised, for failure messages. */
  readonly transcript: string[] = [];

  private constructor(private socket: net.Socket) {
    this.watch(socket);
  }

  /** Plain TCP, as a client that will use STARTTLS (or a careless one that will not). */
  static async tcp(host: string, port: number): Promise<RawStream> {
    const socket = net.connect({ host, port });
    await withTimeout(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 10000, `TCP connect ${host}:${port}`);
    return new RawStream(socket);
  }

  /** TLS from the first byte (XEP-0368), verifying the certificate for `servername`. */
  static async tls(host: string, port: number, options: { servername: string; alpn?: string[] }): Promise<RawStream> {
    const socket = tls.connect({ host, port, servername: options.servername, ALPNProtocols: options.alpn });
    await withTimeout(new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)), 10000, `TLS connect ${host}:${port}`);
    return new RawStream(socket);
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined;
  }

  /** Send a stream header to `domain` and return the stream features. */
  async open(domain: string): Promise<Element> {
    this.parser = new Parser();
    this.parser.on('element', (element) => this.receive(element));
    this.parser.on('end', () => this.end('the server closed the stream'));
    this.parser.on('error', (error) => this.end(`unparseable XML from the server: ${error.message}`));
    this.send(`<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' to='${domain}' version='1.0' xml:lang='en'>`);
    return this.next((e) => e.name === 'stream:features', 'stream features');
  }

  /** STARTTLS (RFC 6120 §5) on this stream, then a new stream; returns the new features. */
  async starttls(domain: string): Promise<Element> {
    this.send(`<starttls xmlns='${NS.tls}'/>`);
    const answer = await this.next((e) => e.attrs.xmlns === NS.tls, 'STARTTLS answer');
    if (answer.name !== 'proceed') throw new Error(`STARTTLS refused: ${answer.toString()}`);
    this.socket.removeListener('data', this.onData);
    const secure = tls.connect({ socket: this.socket, servername: domain });
    await withTimeout(new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject)), 10000, 'TLS handshake after STARTTLS');
    this.socket = secure;
    this.watch(secure);
    return this.open(domain);
  }

  send(data: string): void {
    if (this.ended) throw new Error(`cannot send, ${this.ended}`);
    this.socket.write(data);
  }

  /** The next received top-level element for which `predicate` holds (earlier ones stay queued). */
  next(predicate: (e: Element) => boolean, what: string, timeoutMs = 10000): Promise<Element> {
    const i = this.queue.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.ended) return Promise.reject(new Error(`${what}: ${this.ended}\n${this.transcript.join('\n')}`));
    return withTimeout(
      new Promise<Element>((resolve) => this.waiters.push({ predicate, resolve })),
      timeoutMs,
      `${what}; received so far:\n${this.transcript.join('\n')}`,
    );
  }

  /** Send an IQ (`body` is its payload) and return the reply, result or error. */
  async iq(type: 'get' | 'set', body: string, to?: string): Promise<Element> {
    const id = `raw${++this.counter}`;
    this.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${body}</iq>`);
    return this.next((e) => e.name === 'iq' && e.attrs.id === id, `reply to IQ ${body.slice(0, 80)}`);
  }

  /** SCRAM-SHA-1 (RFC 5802), checking the server's signature too. Returns the outcome element. */
  async scramSha1(username: string, password: string): Promise<Element> {
    const scram = new ScramSha1(username, password);
    this.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-1'>${scram.clientFirst()}</auth>`);
    const challenge = await this.next((e) => e.attrs.xmlns === NS.sasl, 'SCRAM challenge');
    if (challenge.name !== 'challenge') return challenge;
    this.send(`<response xmlns='${NS.sasl}'>${scram.clientFinal(challenge.getText())}</response>`);
    const outcome = await this.next((e) => e.attrs.xmlns === NS.sasl, 'SCRAM outcome');
    if (outcome.name === 'success') scram.verifyServer(outcome.getText());
    return outcome;
  }

  close(): void {
    if (!this.ended) {
      try {
        this.socket.write('</stream:stream>');
      } catch {
        /* gone already */
      }
    }
    this.end('closed by the client');
    this.socket.destroy();
  }

  private watch(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (error) => this.end(`socket error: ${error.message}`));
    socket.on('close', () => this.end('the connection closed'));
  }

  private receive(element: Element): void {
    this.transcript.push(element.toString());
    const i = this.waiters.findIndex((w) => w.predicate(element));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(element);
    else this.queue.push(element);
  }

  private end(reason: string): void {
    this.ended ??= reason;
  }
}

/** The client side of SCRAM-SHA-1 without channel binding; messages base64 in, base64 out. */
export class ScramSha1 {
  private readonly nonce = randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private expectedServerSignature = '';

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  clientFirst(): string {
    const name = this.username.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.clientFirstBare = `n=${name},r=${this.nonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`).toString('base64');
  }

  clientFinal(serverFirstBase64: string): string {
    const serverFirst = Buffer.from(serverFirstBase64, 'base64').toString('utf8');
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    if (!attrs.r?.startsWith(this.nonce)) throw new Error(`SCRAM: the server nonce does not extend ours: ${serverFirst}`);
    const salted = pbkdf2Sync(this.password.normalize('NFKC'), Buffer.from(attrs.s, 'base64'), Number(attrs.i), 20, 'sha1');
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha1').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`).toString('base64');
  }

  /** Mutual authentication: the server proves it knows the salted password too. */
  verifyServer(successBase64: string): void {
    const final = Buffer.from(successBase64, 'base64').toString('utf8');
    if (final !== `v=${this.expectedServerSignature}`) throw new Error(`SCRAM: wrong server signature: ${final}`);
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha1', key).update(data).digest();
}
