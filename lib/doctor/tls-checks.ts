/**
 * Every TLS endpoint a client or another server meets, at every address its name resolves to:
 * TLS comes up (after STARTTLS on 5222/5269), the chain is trusted, the certificate is valid for
 * the name asked for and for every other name of its lineage, and it does not expire soon.
 */
import { Socket } from 'net';
import * as tls from 'tls';
import type { DoctorPlan, PlannedTlsEndpoint } from '../core/doctor-plan';
import { CERTS_SCRIPT } from '../core/host-scripts';
import { xmppName } from '../core/expansion';
import { allAddresses, DoctorContext, hostPort, message, withDeadline } from './net';
import { CheckResult } from './report';

const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** What a TLS handshake showed. */
export interface ServedCertificate {
  readonly authorized: boolean;
  readonly authorizationError?: string;
  readonly certificate: tls.PeerCertificate;
  readonly protocol: string | null;
}

/**
 * Open `endpoint` at `address` and complete the TLS handshake the way its clients do; verification
 * is left to the caller (the handshake must complete to show a bad certificate).
 */
export async function handshake(ctx: DoctorContext, endpoint: PlannedTlsEndpoint, address: string): Promise<ServedCertificate> {
  const options: tls.ConnectionOptions = {
    servername: endpoint.name,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ...(endpoint.alpn ? { ALPNProtocols: [endpoint.alpn] } : {}),
    ...(ctx.extraCa.length > 0 ? { ca: [...tls.rootCertificates, ...ctx.extraCa] } : {}),
  };
  const work = async (): Promise<ServedCertificate> => {
    const socket = endpoint.mode === 'direct-tls' ? undefined : await startTls(address, endpoint);
    const secure = tls.connect({ ...options, ...(socket ? { socket } : { host: address, port: endpoint.port }) });
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      return {
        authorized: secure.authorized,
        authorizationError: secure.authorizationError ? String(secure.authorizationError) : undefined,
        certificate: secure.getPeerCertificate(),
        protocol: secure.getProtocol(),
      };
    } finally {
      secure.destroy();
      socket?.destroy();
    }
  };
  return withDeadline(work(), ctx.timeoutMs, `TLS handshake with ${hostPort(address, endpoint.port)}`);
}

/** An XMPP stream up to `<proceed/>`: the plain socket, ready for the TLS handshake. */
async function startTls(address: string, endpoint: PlannedTlsEndpoint): Promise<Socket> {
  const socket = new Socket();
  const ns = endpoint.mode === 'xmpp-server-starttls' ? 'jabber:server' : 'jabber:client';
  let received = '';
  const waitFor = (pattern: RegExp, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(received)) {
          cleanup();
          resolve();
        } else if (/<(stream:)?error|<failure/.test(received) && /<\/(stream:)?error>|<failure[^>]*\/>|<\/failure>/.test(received)) {
          cleanup();
          reject(new Error(`the server ended the stream before ${what}: ${received.slice(-300)}`));
        }
      };
      const onData = (data: Buffer): void => {
        received += data.toString('utf8');
        check();
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error(`the server closed the connection before ${what}`));
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', onError);
      check();
    });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.connect(endpoint.port, address);
    });
    // The stream names the host as XMPP does (Unicode for an internationalised domain); TLS, its DNS name.
    socket.write(`<?xml version='1.0'?><stream:stream xmlns='${ns}' xmlns:stream='http://etherx.jabber.org/streams' to='${xmppName(endpoint.name)}' version='1.0'>`);
    await waitFor(/<\/stream:features>|<stream:features\s*\/>/, 'its stream features');
    if (!new RegExp(`<starttls[^>]*xmlns=["']${TLS_NS}["']`).test(received)) throw new Error('the server does not offer STARTTLS');
    received = '';
    socket.write(`<starttls xmlns='${TLS_NS}'/>`);
    await waitFor(/<proceed/, 'STARTTLS could start');
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** The DNS names a certificate is valid for (subjectAltName; the CN only when there is none). */
export function certificateDnsNames(certificate: tls.PeerCertificate): string[] {
  const san = certificate.subjectaltname;
  if (san) return san.split(/,\s*/).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4));
  return certificate.subject?.CN ? [String(certificate.subject.CN)] : [];
}

/** The names of `names` the certificate is not valid for (wildcards honoured, as clients do). */
export function uncoveredNames(certificate: tls.PeerCertificate, names: readonly string[]): string[] {
  return names.filter((name) => tls.checkServerIdentity(name, certificate) !== undefined);
}

/** The findings on one handshake, as problems with their fixes; none when all is well. */
export function judgeCertificate(
  served: ServedCertificate,
  endpoint: PlannedTlsEndpoint,
  lineageNames: readonly string[],
  now: Date,
  minValidDays: number,
): { problems: string[]; fixes: string[]; summary: string } {
  const problems: string[] = [];
  const fixes: string[] = [];
  const reissue = `on the host run \`sudo ${CERTS_SCRIPT} issue\`: it requests the lineage listed in /etc/xmpp-constructs/certificates.list with every name, once each name resolves to the host (see the DNS checks)`;
  const cert = served.certificate;
  if (!served.authorized) {
    problems.push(`the chain is not trusted (${served.authorizationError ?? 'unknown reason'})`);
    fixes.push(/SELF_SIGNED|self.signed/i.test(served.authorizationError ?? '')
      ? `the host still serves its self-signed bootstrap certificate: Let's Encrypt has not issued one yet; ${reissue}`
      : `serve the full chain (fullchain.pem) from a public CA; ${reissue}`);
  }
  const wrongName = uncoveredNames(cert, [endpoint.name]).length > 0;
  if (wrongName) problems.push(`it is not valid for ${endpoint.name}, the name clients ask for`);
  const missing = uncoveredNames(cert, lineageNames).filter((n) => n !== endpoint.name);
  if (missing.length > 0) problems.push(`it lacks ${missing.join(', ')}`);
  if (wrongName || missing.length > 0) fixes.push(reissue);
  const validTo = new Date(cert.valid_to);
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / 86400000);
  if (Number.isNaN(daysLeft)) problems.push('its expiry date is unreadable');
  else if (daysLeft < 0) problems.push(`it expired on ${validTo.toISOString().slice(0, 10)}`);
  else if (daysLeft < minValidDays) problems.push(`it expires in ${daysLeft} days (${validTo.toISOString().slice(0, 10)})`);
  if (!Number.isNaN(daysLeft) && daysLeft < minValidDays) {
    fixes.push('renewal is failing: on the host, `sudo certbot renew --dry-run` shows why (certbot.timer renews 30 days before expiry)');
  }
  const summary = `${served.protocol ?? 'TLS'}, valid for ${certificateDnsNames(cert).join(' ')}, ${Number.isNaN(daysLeft) ? '?' : daysLeft} days left`;
  return { problems, fixes: [...new Set(fixes)], summary };
}

export async function checkTls(ctx: DoctorContext, plan: DoctorPlan): Promise<CheckResult[]> {
  const perEndpoint = await Promise.all(plan.tlsEndpoints.map(async (endpoint): Promise<CheckResult[]> => {
    const idBase = `tls:${endpoint.name}:${endpoint.port}`;
    const title = (address?: string) => `${endpoint.purpose}, ${endpoint.name} port ${endpoint.port}${address ? ` at ${address}` : ''}`;
    const addresses = await allAddresses(ctx, endpoint.name);
    if ('problem' in addresses) return [{ id: idBase, group: 'tls', title: title(), status: 'fail', detail: addresses.problem, fix: 'see the DNS checks' }];
    return Promise.all(addresses.map(async (address): Promise<CheckResult> => {
      const id = `${idBase}@${address}`;
      let served: ServedCertificate;
      try {
        served = await ctx.limit(() => handshake(ctx, endpoint, address));
      } catch (error) {
        return {
          id, group: 'tls', title: title(address), status: 'fail', detail: `no TLS: ${message(error)}`,
          fix: `check that the service runs on the host and the cloud firewall allows tcp ${endpoint.port} (see the port checks)`,
        };
      }
      const lineage = plan.certificates[endpoint.certificate] ?? [endpoint.name];
      const verdict = judgeCertificate(served, endpoint, lineage, ctx.now(), ctx.minValidDays);
      return verdict.problems.length === 0
        ? { id, group: 'tls', title: title(address), status: 'pass', detail: verdict.summary }
        : { id, group: 'tls', title: title(address), status: 'fail', detail: `${verdict.problems.join('; ')} (${verdict.summary})`, fix: verdict.fixes.join('; ') };
    }));
  }));
  return perEndpoint.flat();
}
