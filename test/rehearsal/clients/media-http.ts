/**
 * HTTP, TLS and TCP probes for the media scenarios, as a browser or a phone's HTTP stack would
 * make them: names resolve through the rehearsal's DNS, certificates are checked against the
 * rehearsal's ACME root (NODE_EXTRA_CA_CERTS), nothing is followed or retried behind the test's back.
 */
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';

function commonName(cn: string | string[] | undefined): string | undefined {
  return Array.isArray(cn) ? cn.join(', ') : cn;
}

export interface HttpProbe {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string | number>;
  /** The body, base64 (binary uploads) or text. */
  readonly body?: { readonly base64?: string; readonly text?: string };
  /**
   * Send the headers (which may announce a larger Content-Length) and only this many body bytes,
   * then wait for the answer: how to test a size limit without sending the size.
   */
  readonly partialBodyBytes?: number;
  readonly timeoutMs?: number;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as base64 when binary was asked for, else as text. */
  readonly body: string;
  readonly bodyBytes: number;
  /** Negotiated TLS version and the server certificate, for https URLs. */
  readonly tls?: { readonly protocol: string | null; readonly subjectAltName?: string; readonly issuer?: string; readonly authorized: boolean };
}

/** One HTTP(S) request; never follows redirects. */
export function httpRequest(probe: HttpProbe, binary = false): Promise<HttpAnswer> {
  const url = new URL(probe.url);
  const lib = url.protocol === 'https:' ? https : http;
  const bodyBuffer = probe.body?.base64 !== undefined ? Buffer.from(probe.body.base64, 'base64') : probe.body?.text !== undefined ? Buffer.from(probe.body.text) : undefined;
  const headers: Record<string, string | number> = { ...(probe.headers ?? {}) };
  if (bodyBuffer && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = bodyBuffer.length;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = lib.request(url, { method: probe.method ?? 'GET', headers, agent: false, timeout: probe.timeoutMs ?? 15000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let tlsInfo: HttpAnswer['tls'];
        const socket = res.socket as tls.TLSSocket | null;
        if (socket && typeof socket.getProtocol === 'function') {
          const cert = socket.getPeerCertificate();
          tlsInfo = { protocol: socket.getProtocol(), subjectAltName: cert?.subjectaltname, issuer: commonName(cert?.issuer?.CN), authorized: socket.authorized };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: binary ? body.toString('base64') : body.toString('utf8'), bodyBytes: body.length, tls: tlsInfo });
        if (probe.partialBodyBytes !== undefined) req.destroy();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${probe.method ?? 'GET'} ${probe.url}`)));
    req.on('error', reject);
    if (probe.partialBodyBytes !== undefined) {
      // Keep the request open: the server must answer from the headers alone.
      req.write(Buffer.alloc(probe.partialBodyBytes));
    } else {
      req.end(bodyBuffer);
    }
  });
}

export interface TlsProbe {
  readonly host: string;
  readonly port: number;
  readonly servername: string;
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher string; `DEFAULT@SECLEVEL=0` lets this client offer TLS 1.0/1.1 at all. */
  readonly ciphers?: string;
  readonly timeoutMs?: number;
}

export interface TlsAnswer {
  readonly ok: boolean;
  readonly protocol?: string | null;
  readonly cipher?: string;
  readonly subjectAltName?: string;
  readonly issuer?: string;
  readonly authorized?: boolean;
  /** OpenSSL's error code when the handshake failed (e.g. ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION). */
  readonly error?: string;
  readonly message?: string;
}

/** A TLS handshake only, with the client's versions pinned. */
export function tlsHandshake(probe: TlsProbe): Promise<TlsAnswer> {
  return new Promise<TlsAnswer>((resolve) => {
    const socket = tls.connect({
      host: probe.host,
      port: probe.port,
      servername: probe.servername,
      minVersion: probe.minVersion,
      maxVersion: probe.maxVersion,
      ciphers: probe.ciphers,
      ALPNProtocols: ['http/1.1'],
    });
    const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), probe.timeoutMs ?? 10000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name, subjectAltName: cert.subjectaltname, issuer: commonName(cert.issuer?.CN), authorized: socket.authorized });
      socket.end();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, error: e.code, message: e.message });
    });
  });
}

/** Whether a TCP connection to host:port is accepted: 'connected', or the socket error code (ECONNREFUSED, …). */
export function tcpConnect(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('TIMEOUT');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}
