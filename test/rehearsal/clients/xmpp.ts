/**
 * Client-side helpers for rehearsal scenarios. These run inside the droplet's namespaces, so
 * names resolve through the rehearsal's DNS server, exactly as a phone would resolve them.
 */
import { client, xml } from '@xmpp/client';
import tls = require('tls');
import { domainToASCII } from 'url';

export { xml };
export type Element = ReturnType<typeof xml>;
export type XmppClient = ReturnType<typeof client>;

/**
 * The domain as DNS and TLS know it: an internationalised domain's A-label. Clients such as
 * Conversations, Dino and Gajim look it up and name it in TLS (SNI, and the certificate check) so,
 * while the XMPP address and the stream keep its Unicode form (RFC 7622).
 */
export function dnsName(domain: string): string {
  return domainToASCII(domain);
}

// @xmpp/client 0.14 hands TLS (STARTTLS) the XMPP domain as it is; Node would send a Unicode name as
// SNI and check the certificate against it. These clients do what an IDN-aware client does instead.
const tlsConnect = tls.connect;
tls.connect = ((options: tls.ConnectionOptions, ...rest: unknown[]) => {
  if (typeof options === 'object' && options.host !== undefined && /[^\x00-\x7f]/.test(options.host)) {
    const host = dnsName(options.host);
    return (tlsConnect as (...a: unknown[]) => tls.TLSSocket)({ ...options, host, servername: options.servername ?? host }, ...rest);
  }
  return (tlsConnect as (...a: unknown[]) => tls.TLSSocket)(options, ...rest);
}) as typeof tls.connect;

/** An account as the scenarios receive it. */
export interface Account {
  readonly jid: string;
  readonly password: string;
}

export interface ConnectOptions {
  /** Bare JID of the account. */
  readonly jid: string;
  readonly password: string;
  readonly resource?: string;
  /**
   * Where to connect: `xmpp://host:port` (STARTTLS), `xmpps://host:port` (direct TLS),
   * `wss://…`. Default: discovered from the domain (SRV records, then host-meta).
   */
  readonly service?: string;
}

/** Connect and authenticate; resolves once the session is online. */
export async function connect(options: ConnectOptions): Promise<XmppClient> {
  const [username, domain] = options.jid.split('@');
  const xmpp = client({ service: options.service ?? dnsName(domain), domain, username, password: options.password, resource: options.resource });
  xmpp.on('error', () => undefined); // surfaced through start()'s rejection instead
  await withTimeout(xmpp.start(), 15000, `connecting as ${options.jid}`);
  return xmpp;
}

/** Send an IQ and wait for its result; throws on an error reply. */
export async function iq(xmpp: XmppClient, stanza: Element, timeoutMs = 10000): Promise<Element> {
  return withTimeout(xmpp.iqCaller.request(stanza), timeoutMs, `IQ ${stanza.toString().slice(0, 120)}`);
}

/** The next stanza for which `predicate` holds. Start waiting before the stanza is triggered. */
export function nextStanza(xmpp: XmppClient, predicate: (stanza: Element) => boolean, timeoutMs = 10000): Promise<Element> {
  return withTimeout(
    new Promise<Element>((resolve) => {
      const listener = (stanza: Element) => {
        if (predicate(stanza)) {
          xmpp.removeListener('stanza', listener);
          resolve(stanza);
        }
      };
      xmpp.on('stanza', listener);
    }),
    timeoutMs,
    'waiting for a stanza',
  );
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stop a client, ignoring errors of an already closed connection. */
export async function disconnect(xmpp: XmppClient | undefined): Promise<void> {
  if (!xmpp) return;
  try {
    await withTimeout(xmpp.stop(), 5000, 'disconnect');
  } catch {
    /* already gone */
  }
}
