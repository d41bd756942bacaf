/**
 * host-meta (XEP-0156): how web clients (Converse.js, Movim) find the BOSH and WebSocket
 * endpoints. Both documents must be served over HTTPS at every address of the domain, list the
 * planned links, and carry `Access-Control-Allow-Origin: *`, or a browser on another origin
 * cannot read them.
 */
import * as https from 'https';
import * as tls from 'tls';
import type { DoctorPlan } from '../core/doctor-plan';
import { NGINX_HTTPS_PORT } from '../core/listeners';
import { HOST_META_JSON_PATH, HOST_META_PATH } from '../core/nginx';
import { allAddresses, DoctorContext, message, withDeadline } from './net';
import { CheckResult } from './report';

interface Fetched {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** GET https://name/path from `address`, the name sent as SNI and Host, with an Origin like a browser's. */
export function getHttps(ctx: DoctorContext, address: string, name: string, path: string, port: number = NGINX_HTTPS_PORT): Promise<Fetched> {
  const request = new Promise<Fetched>((resolve, reject) => {
    const req = https.request({
      host: address,
      servername: name,
      port,
      path,
      method: 'GET',
      headers: { Host: port === NGINX_HTTPS_PORT ? name : `${name}:${port}`, Origin: 'https://web-client.example', Accept: '*/*' },
      ...(ctx.extraCa.length > 0 ? { ca: [...tls.rootCertificates, ...ctx.extraCa] } : {}),
      // Trust is the TLS checks' finding; here only the documents matter.
      rejectUnauthorized: false,
      agent: false,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        // host-meta is a few hundred bytes; whatever answers instead need not be read whole.
        if (body.length < 1_000_000) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withDeadline(request, ctx.timeoutMs, `GET https://${name}${path}`);
}

/** The `rel href` pairs of an XRD or JSON host-meta document. */
export function linksInHostMeta(body: string, kind: 'xml' | 'json'): string[] {
  if (kind === 'json') {
    const parsed = JSON.parse(body) as { links?: { rel?: unknown; href?: unknown }[] };
    return (parsed.links ?? []).map((l) => `${String(l.rel)} ${String(l.href)}`);
  }
  const links: string[] = [];
  for (const match of body.matchAll(/<Link\b([^>]*)\/?>/g)) {
    const attr = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(match[1])?.[1]?.replace(/&amp;/g, '&');
    links.push(`${attr('rel')} ${attr('href')}`);
  }
  return links;
}

export async function checkHostMeta(ctx: DoctorContext, plan: DoctorPlan): Promise<CheckResult[]> {
  const results = await Promise.all(plan.hostMeta.map(async ({ domain, links }): Promise<CheckResult[]> => {
    const planned = links.map((l) => `${l.rel} ${l.href}`).sort();
    const addresses = await allAddresses(ctx, domain);
    const documents = [{ path: HOST_META_PATH, kind: 'xml' as const }, { path: HOST_META_JSON_PATH, kind: 'json' as const }];
    if ('problem' in addresses) {
      return documents.map((d) => ({ id: `http:${domain}${d.path}`, group: 'http', title: `https://${domain}${d.path}`, status: 'fail', detail: addresses.problem, fix: 'see the DNS checks' }));
    }
    return Promise.all(addresses.flatMap((address) => documents.map(async (d): Promise<CheckResult> => {
      const id = `http:${domain}${d.path}@${address}`;
      const title = `https://${domain}${d.path} at ${address}`;
      try {
        const res = await ctx.limit(() => getHttps(ctx, address, domain, d.path));
        const problems: string[] = [];
        const fixes: string[] = [];
        if (res.status !== 200) {
          problems.push(`HTTP ${res.status}`);
          fixes.push('nginx must serve the host-meta files of every domain: on the host, `sudo nginx -t` and `sudo /usr/local/sbin/xmpp-constructs-provision` rewrite them');
        } else {
          let served: string[] = [];
          try {
            served = linksInHostMeta(res.body, d.kind).sort();
          } catch (error) {
            problems.push(`unreadable ${d.kind.toUpperCase()}: ${message(error)}`);
          }
          const missing = planned.filter((l) => !served.includes(l));
          if (missing.length > 0) {
            problems.push(`missing links: ${missing.join(', ')}`);
            fixes.push('the host serves an older host-meta: run `sudo /usr/local/sbin/xmpp-constructs-provision` on the host, or deploy the current stack');
          }
        }
        const cors = res.headers['access-control-allow-origin'];
        if (cors !== '*') {
          problems.push(`Access-Control-Allow-Origin is ${cors === undefined ? 'missing' : JSON.stringify(cors)}, so web clients on other sites cannot read it`);
          fixes.push('serve it with `add_header Access-Control-Allow-Origin * always;` (the rendered nginx site does)');
        }
        return problems.length === 0
          ? { id, group: 'http', title, status: 'pass', detail: `${responseSummary(res)} with CORS` }
          : { id, group: 'http', title, status: 'fail', detail: problems.join('; '), fix: fixes.join('; ') };
      } catch (error) {
        return { id, group: 'http', title, status: 'fail', detail: message(error), fix: `check that nginx runs and the firewall allows tcp ${NGINX_HTTPS_PORT} (see the port checks)` };
      }
    })));
  }));
  return results.flat();
}

function responseSummary(res: Fetched): string {
  return `HTTP ${res.status}, ${Buffer.byteLength(res.body)} bytes`;
}

/**
 * A status document the host publishes (https://<primary domain>/.well-known/xmpp-constructs/…),
 * as each address of its name serves it, or why it could not be read.
 */
export async function statusAtEveryAddress<T>(ctx: DoctorContext, url: URL, parse: (text: string) => T): Promise<{ readonly address: string; readonly status: T }[] | { readonly problem: string }> {
  const addresses = await allAddresses(ctx, url.hostname);
  if ('problem' in addresses) return addresses;
  try {
    return await Promise.all(addresses.map(async (address) => {
      const res = await ctx.limit(() => getHttps(ctx, address, url.hostname, url.pathname, url.port ? Number(url.port) : undefined));
      if (res.status !== 200) throw new Error(`${address} answered ${url.pathname} with HTTP ${res.status}`);
      return { address, status: parse(res.body) };
    }));
  } catch (error) {
    return { problem: message(error) };
  }
}
