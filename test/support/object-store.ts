/**
 * The rehearsals' object store for the off-host backups: a real S3 server, s3rver (npm, pinned),
 * answering as `<region>.digitaloceanspaces.com` over TLS, behind a front that checks what Spaces
 * checks and s3rver does not (s3rver 3.7.1 accepts any signature, and anonymous requests):
 * - AWS Signature Version 4, verified in full with the Spaces stand-in's `authenticate`;
 * - the `digitalocean_spaces_key` grants: "read" may GET and HEAD, "readwrite" and "fullaccess"
 *   may also PUT, POST and DELETE, each only on its bucket; anonymous requests are 403.
 * What passes is forwarded as it came, to s3rver on loopback, which stores, lists, ranges and deletes
 * objects as S3 does; its answers go back unchanged. Its directory outlives the process, so a second
 * rehearsal (a droplet deployed again) finds the bucket as the first one left it.
 *
 * As a process that a harness spawns in a network namespace, printing "listening <url>" once ready:
 *   node -r ts-node/register/transpile-only test/support/object-store.ts --config <json file>
 */
import { appendFileSync, readFileSync } from 'fs';
import { request as httpRequest } from 'http';
import { createServer } from 'https';
import type { IncomingMessage, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { accessDenied, authenticate, decodeOrThrow, readBody, requestParts, S3Error, SpacesKey, xmlEscape } from './spaces-standin';

// s3rver has no types of its own; what is used of it.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(cb: (err: Error | null, address: AddressInfo) => void): unknown };

export interface ObjectStoreConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsKeyFile: string;
  readonly tlsCertFile: string;
  readonly region: string;
  readonly keys: readonly SpacesKey[];
  /** Where s3rver keeps its buckets: reuse it, and the objects are still there. */
  readonly directory: string;
  readonly buckets: readonly string[];
  /** Each request, one JSON line: method, bucket, key, accessKey, status. */
  readonly requestLog?: string;
}

const WRITES = new Set(['PUT', 'POST', 'DELETE']);

export async function startObjectStore(config: ObjectStoreConfig): Promise<{ url: string; close(): void }> {
  const keys = new Map(config.keys.map((k) => [k.accessKey, k]));
  const regionHost = `${config.region}.digitaloceanspaces.com`;
  const backend = await new Promise<AddressInfo>((resolve, reject) => {
    new S3rver({
      address: '127.0.0.1', port: 0, silent: true, directory: config.directory,
      // The front hands on every request path-style, to 127.0.0.1.
      vhostBuckets: false,
      configureBuckets: config.buckets.map((name) => ({ name })),
    }).run((err, address) => (err ? reject(err) : resolve(address)));
  });

  const log = (entry: Record<string, unknown>): void => {
    if (config.requestLog !== undefined) appendFileSync(config.requestLog, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  };

  const sendError = (res: ServerResponse, method: string, e: S3Error): void => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message>`
      + Object.entries(e.extra).map(([n, v]) => `<${n}>${xmlEscape(v)}</${n}>`).join('') + '</Error>';
    res.writeHead(e.status, { 'Content-Type': 'application/xml', ...(method === 'HEAD' ? {} : { 'Content-Length': String(Buffer.byteLength(xml)) }) });
    res.end(method === 'HEAD' ? undefined : xml);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { method, target, rawPath, rawQuery, hostName } = requestParts(req);
    const body = await readBody(req);
    const virtualHost = hostName.endsWith(`.${regionHost}`);
    const bucket = virtualHost ? hostName.slice(0, -regionHost.length - 1) : /^\/([^/]*)/.exec(decodeOrThrow(rawPath))?.[1] ?? '';
    let accessKey: string | undefined;
    try {
      const principal = authenticate(req, body, rawPath, rawQuery, { region: config.region, keys, now: () => new Date() });
      accessKey = principal?.accessKey;
      if (principal === undefined) throw accessDenied();
      const grant = principal.grants.find((g) => g.bucket === bucket);
      if (grant === undefined || (WRITES.has(method) && grant.permission === 'read')) throw accessDenied();
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      log({ method, bucket, path: rawPath, accessKey, status: e.status, code: e.code });
      sendError(res, method, e);
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${backend.port}`, 'content-length': String(body.length) };
    // Verified here; s3rver would only look at the key's name.
    delete headers.authorization;
    // Path-style for s3rver, whichever style the client used.
    const path = virtualHost ? `/${bucket}${target}` : target;
    const forwarded = httpRequest({ host: '127.0.0.1', port: backend.port, method, path, headers }, (answer) => {
      log({ method, bucket, path: rawPath, accessKey, status: answer.statusCode });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', (e) => {
      log({ method, bucket, path: rawPath, accessKey, status: 502, code: e.message });
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    forwarded.end(body);
  };

  const server = createServer({ key: readFileSync(config.tlsKeyFile), cert: readFileSync(config.tlsCertFile) }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `https://${config.host}:${port}`, close: () => server.close() };
}

async function main(argv: readonly string[]): Promise<void> {
  const i = argv.indexOf('--config');
  if (i < 0 || argv[i + 1] === undefined) {
    process.stderr.write('usage: object-store.ts --config <json file>\n');
    process.exit(2);
  }
  const store = await startObjectStore(JSON.parse(readFileSync(argv[i + 1], 'utf8')) as ObjectStoreConfig);
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  process.stdout.write(`listening ${store.url}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`object-store: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
