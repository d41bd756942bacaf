/**
 * A stand-in for DigitalOcean Spaces, the S3-compatible object storage, small enough to run inside
 * the rehearsal's network namespaces (which have no route out). The droplet fetches a private
 * object from it exactly as it would from Spaces, with Debian 12's curl 7.88:
 *   curl -fsS --aws-sigv4 "aws:amz:<region>:s3" --user "<ACCESS_KEY>:<SECRET_KEY>" \
 *     https://<region>.digitaloceanspaces.com/<bucket>/<key>
 *
 * What it does as the real service documents it:
 * - GET, HEAD and PUT of an object, path-style (/<bucket>/<key> on <region>.digitaloceanspaces.com)
 *   and, since it costs a few lines, virtual-host style (<bucket>.<region>.digitaloceanspaces.com).
 * - AWS Signature Version 4 in the Authorization header, verified in full: the canonical request
 *   from the method, the URI-encoded path, the sorted query, the headers named in SignedHeaders and
 *   the payload hash from x-amz-content-sha256 (or UNSIGNED-PAYLOAD), signed under the credential
 *   scope <date>/<region>/s3/aws4_request. Failures answer with S3's codes: InvalidAccessKeyId,
 *   SignatureDoesNotMatch, RequestTimeTooSkewed (more than 15 minutes off), AccessDenied (403), and
 *   AuthorizationHeaderMalformed (400, as AWS answers a wrong region or date in the scope).
 * - Spaces access keys with per-bucket grants, as the digitalocean_spaces_key resource makes them:
 *   "read" may GET and HEAD (and list, so a missing key is 404 NoSuchKey, not 403), "readwrite" and
 *   "fullaccess" may also PUT. A key has no access at all to a bucket it has no grant for. Buckets
 *   are private: an anonymous request is 403 AccessDenied.
 * - ETag (the quoted MD5 hex of the body, as S3 gives it for a single-part upload), Last-Modified,
 *   and the conditional GET/HEAD that curl's --etag-compare relies on: If-None-Match (and, without
 *   it, If-Modified-Since) answer 304 Not Modified.
 * - Error bodies as S3's XML <Error> document; HEAD answers carry none, as S3's do.
 *
 * What it leaves out: listing (bucket GETs), multipart uploads, DELETE, ACLs and bucket policies,
 * presigned URLs (query-string SigV4), SigV2, chunked streaming signatures
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), ranges, and every other conditional header. Those answer
 * 501 NotImplemented, so a test leaning on them fails loudly instead of getting a made-up answer.
 *
 * Use it from a test with startSpacesStandin(), or as a process that a harness spawns in a network
 * namespace (nsenter), which prints one line "listening <url>" when it accepts connections:
 *   node -r ts-node/register/transpile-only test/support/spaces-standin.ts --config <json file>
 * The file holds StandinConfig (below); SIGTERM or SIGINT stops it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { appendFileSync, readFileSync } from 'fs';
import { createServer, Server } from 'https';
import type { IncomingMessage, ServerResponse } from 'http';
import type { AddressInfo } from 'net';

export type SpacesPermission = 'read' | 'readwrite' | 'fullaccess';

export interface SpacesGrant {
  readonly bucket: string;
  readonly permission: SpacesPermission;
}

export interface SpacesKey {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly grants: readonly SpacesGrant[];
}

export interface SpacesStandinOptions {
  /** Address to listen on, e.g. '127.0.0.1', or '0.0.0.0' inside a namespace. */
  readonly host: string;
  /** Port to listen on; 0 picks a free one (see `port` on the result). */
  readonly port: number;
  readonly tlsKeyPem: string;
  readonly tlsCertPem: string;
  readonly keys: readonly SpacesKey[];
  /** The Spaces region, e.g. 'ams3': the host name and the credential scope both name it. */
  readonly region: string;
  /** Buckets that exist though empty (putObject creates the bucket it puts into). */
  readonly buckets?: readonly string[];
  /** The server's clock, for the 15-minute skew check (default: the real one). */
  readonly now?: () => Date;
  /** Called with each request record as it is logged. */
  readonly onRequest?: (record: SpacesRequestRecord) => void;
}

export interface StoredObject {
  readonly body: Buffer;
  /** Quoted, as S3 sends it: "\"<md5 hex>\"". */
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string;
}

export interface SpacesRequestRecord {
  readonly time: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly bucket?: string;
  readonly key?: string;
  /** The access key the request was signed with, or undefined when it was anonymous. */
  readonly accessKey?: string;
  readonly ifNoneMatch?: string;
  readonly status: number;
  /** The S3 error code, for a failed request. */
  readonly code?: string;
}

export interface SpacesStandin {
  /** The endpoint, with the real host name: https://<region>.digitaloceanspaces.com[:port]. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  close(): Promise<void>;
  /** Store an object directly, as the provider's apply would: no signature, no grant. Creates the bucket. */
  putObject(bucket: string, key: string, body: string | Buffer, contentType?: string): StoredObject;
  getObject(bucket: string, key: string): StoredObject | undefined;
  /** Every request, oldest first. */
  readonly requests: readonly SpacesRequestRecord[];
}

/** The file given to --config when run as a process. PEMs inline or as files; objects to preload. */
export interface StandinConfig extends Omit<SpacesStandinOptions, 'tlsKeyPem' | 'tlsCertPem' | 'now' | 'onRequest'> {
  readonly tlsKeyPem?: string;
  readonly tlsCertPem?: string;
  readonly tlsKeyFile?: string;
  readonly tlsCertFile?: string;
  readonly objects?: readonly { bucket: string; key: string; body?: string; bodyBase64?: string; file?: string; contentType?: string }[];
  /** Append each request record to this file as one JSON line. */
  readonly requestLog?: string;
}

// ------------------------------------------------------------------------------------------------
// Errors, as S3 words them.
// ------------------------------------------------------------------------------------------------

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements S3 adds to some errors (SignatureDoesNotMatch shows what it signed). */
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const accessDenied = (): S3Error => new S3Error(403, 'AccessDenied', 'Access Denied');
const notImplemented = (what: string): S3Error =>
  new S3Error(501, 'NotImplemented', `A header or operation you provided implies functionality that is not implemented (the Spaces stand-in does not do ${what})`);

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// ------------------------------------------------------------------------------------------------
// SigV4, as the S3 documentation spells it ("Signature Calculations for the Authorization Header").
// ------------------------------------------------------------------------------------------------

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** URI-encode as SigV4 does: every byte but A-Z a-z 0-9 - . _ ~ as %XX, uppercase; '/' kept in paths. */
function awsUriEncode(s: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeOrThrow(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

/**
 * S3's canonical URI: the path as sent, each segment decoded and encoded once more the AWS way.
 * S3 (unlike other services) neither normalizes '.' or '//' segments nor double-encodes.
 */
function canonicalUri(rawPath: string): string {
  return rawPath.split('/').map((segment) => awsUriEncode(decodeOrThrow(segment), false)).join('/') || '/';
}

/** Each name and value decoded then AWS-encoded, sorted by name then value; a bare name gets '='. */
function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    const [name, value] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
    // '+' in a query is a space only in forms; SigV4 signs it as the literal character.
    return [awsUriEncode(decodeOrThrow(name), false), awsUriEncode(decodeOrThrow(value), false)] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

interface ParsedAuthorization {
  readonly accessKey: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminal: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const malformed = (why: string): S3Error => new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${why}`);
  if (header.startsWith('AWS ')) throw notImplemented('Signature Version 2');
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(header);
  if (m === null) throw new S3Error(400, 'InvalidArgument', 'Unsupported Authorization Type');
  const fields = new Map<string, string>();
  for (const part of m[1].split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('it needs Credential, SignedHeaders and Signature.');
  }
  const scope = credential.split('/');
  if (scope.length !== 5) throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [accessKey, date, region, service, terminal] = scope;
  return { accessKey, date, region, service, terminal, signedHeaders: signedHeaders.split(';'), signature };
}

/** The request time: X-Amz-Date (ISO 8601 basic), else Date (HTTP date), as S3 accepts either. */
function requestTime(req: IncomingMessage): { amzDate: string; time: Date } {
  const amz = req.headers['x-amz-date'];
  if (typeof amz === 'string') {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amz);
    if (m === null) throw accessDenied();
    return { amzDate: amz, time: new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) };
  }
  const date = req.headers.date;
  const time = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(time)) {
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const t = new Date(time);
  return { amzDate: t.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''), time: t };
}

const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Verify the Authorization header of `req` (body already read): the key that signed it, or
 * undefined when the request is anonymous. Throws the S3Error S3 would answer with. The object
 * store (object-store.ts) puts the same check in front of its S3 server.
 */
export function authenticate(
  req: IncomingMessage,
  body: Buffer,
  rawPath: string,
  rawQuery: string,
  opts: { region: string; keys: ReadonlyMap<string, SpacesKey>; now: () => Date },
): SpacesKey | undefined {
  const header = req.headers.authorization;
  if (/(^|&)X-Amz-(Signature|Credential)=/i.test(rawQuery)) throw notImplemented('presigned URLs');
  if (header === undefined) return undefined;
  const auth = parseAuthorization(header);

  // Unknown key before anything else that depends on it, as S3 orders these.
  const key = opts.keys.get(auth.accessKey);
  if (key === undefined) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: auth.accessKey });
  }
  if (auth.region !== opts.region) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
  }
  if (auth.service !== 's3' || auth.terminal !== 'aws4_request') {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; incorrect service "${auth.service}" or terminal "${auth.terminal}". This endpoint belongs to "s3".`);
  }

  const { amzDate, time } = requestTime(req);
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; Invalid credential date "${auth.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const now = opts.now();
  if (Math.abs(now.getTime() - time.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: time.toISOString(), ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }

  // The host must be signed, so a signature cannot be replayed against another endpoint.
  if (!auth.signedHeaders.includes('host')) throw accessDenied();
  // S3 requires x-amz-content-sha256 on every SigV4 header-authenticated request.
  const contentSha = req.headers['x-amz-content-sha256'];
  if (typeof contentSha !== 'string') {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  if (contentSha.startsWith('STREAMING-')) throw notImplemented('chunked streaming signatures');
  if (contentSha !== 'UNSIGNED-PAYLOAD') {
    if (!/^[0-9a-f]{64}$/.test(contentSha)) {
      throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.');
    }
    if (sha256Hex(body) !== contentSha) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: contentSha, S3ComputedContentSHA256: sha256Hex(body),
      });
    }
  }

  const canonicalHeaders = auth.signedHeaders.map((name) => {
    const value = req.headers[name];
    const joined = Array.isArray(value) ? value.join(',') : value ?? '';
    // Trimmed, with runs of spaces inside folded to one.
    return `${name}:${joined.trim().replace(/\s+/g, ' ')}\n`;
  }).join('');
  const canonicalRequest = [
    req.method ?? '',
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    contentSha,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminal}`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretKey}`, auth.date), auth.region), auth.service), auth.terminal);
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex'));
  const provided = Buffer.from(auth.signature);
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    // S3 shows what it signed, which is what one needs to find the difference.
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: auth.accessKey, StringToSign: stringToSign, SignatureProvided: auth.signature, CanonicalRequest: canonicalRequest,
    });
  }
  return key;
}

// ------------------------------------------------------------------------------------------------
// The server.
// ------------------------------------------------------------------------------------------------

const MAX_BODY = 64 * 1024 * 1024;

/** A request's method, its path and query as sent (still encoded), and the host it names, lower-case and without a port. */
export function requestParts(req: IncomingMessage): { method: string; target: string; rawPath: string; rawQuery: string; hostName: string } {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return {
    method: req.method ?? '',
    target,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    hostName: (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase(),
  };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size (of the stand-in)'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** If-None-Match holds a list of entity tags, or '*'; weak ones compare by their opaque part (RFC 9110 §13.1.2). */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = (t: string): string => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === etag);
}

const httpDate = (d: Date): string => d.toUTCString();

export function startSpacesStandin(options: SpacesStandinOptions): Promise<SpacesStandin> {
  const { region } = options;
  const now = options.now ?? ((): Date => new Date());
  const keys = new Map(options.keys.map((k) => [k.accessKey, k]));
  const buckets = new Map<string, Map<string, StoredObject>>();
  const ensureBucket = (name: string): Map<string, StoredObject> => {
    let b = buckets.get(name);
    if (b === undefined) buckets.set(name, (b = new Map()));
    return b;
  };
  // A grant does not make a bucket: one granted but never created (or deleted since) is 404
  // NoSuchBucket. putObject creates its bucket, as the provider's apply creates it first.
  for (const name of options.buckets ?? []) ensureBucket(name);
  const requests: SpacesRequestRecord[] = [];
  const regionHost = `${region}.digitaloceanspaces.com`;

  const store = (bucket: string, key: string, body: Buffer, contentType: string): StoredObject => {
    // Last-Modified has whole seconds on the wire; keep it so, or If-Modified-Since would never match.
    const obj: StoredObject = {
      body, etag: `"${createHash('md5').update(body).digest('hex')}"`, contentType,
      lastModified: new Date(Math.floor(now().getTime() / 1000) * 1000),
    };
    ensureBucket(bucket).set(key, obj);
    return obj;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, record: (r: Omit<SpacesRequestRecord, 'time' | 'method' | 'host' | 'path'>) => void): Promise<void> {
    const { method, rawPath, rawQuery, hostName } = requestParts(req);

    // Virtual-host style names the bucket in the host; otherwise the first path segment does.
    let bucket: string;
    let key: string;
    const decodedPath = decodeOrThrow(rawPath);
    if (hostName.endsWith(`.${regionHost}`)) {
      bucket = hostName.slice(0, -regionHost.length - 1);
      key = decodedPath.replace(/^\//, '');
    } else {
      const m = /^\/([^/]*)\/?(.*)$/s.exec(decodedPath);
      bucket = m?.[1] ?? '';
      key = m?.[2] ?? '';
    }

    const body = await readBody(req);
    let principal: SpacesKey | undefined;
    try {
      principal = authenticate(req, body, rawPath, rawQuery, { region, keys, now });
      if (bucket === '' || key === '') throw notImplemented('bucket operations (listing, creating buckets)');
      if (rawQuery !== '') throw notImplemented(`sub-resources or query parameters (${rawQuery.split('&')[0]})`);
      if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') throw notImplemented(`${method}`);
      // Private buckets: nothing for anonymous callers; a key only where it has a grant.
      if (principal === undefined) throw accessDenied();
      const grant = principal.grants.find((g) => g.bucket === bucket);
      if (grant === undefined) throw accessDenied();
      if (method === 'PUT' && grant.permission === 'read') throw accessDenied();
      const objects = buckets.get(bucket);
      if (objects === undefined) {
        throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
      }

      if (method === 'PUT') {
        if (req.headers['content-encoding'] === 'aws-chunked') throw notImplemented('aws-chunked uploads');
        const obj = store(bucket, key, body, req.headers['content-type'] ?? 'binary/octet-stream');
        record({ bucket, key, accessKey: principal.accessKey, status: 200 });
        res.writeHead(200, { ETag: obj.etag, 'Content-Length': '0' });
        res.end();
        return;
      }

      if (req.headers.range !== undefined) throw notImplemented('ranges');
      const obj = objects.get(key);
      if (obj === undefined) {
        // A "read" grant includes listing, and with list permission S3 says 404 rather than 403.
        throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key, BucketName: bucket });
      }
      const headers = { ETag: obj.etag, 'Last-Modified': httpDate(obj.lastModified) };
      const ifNoneMatch = req.headers['if-none-match'];
      const ifModifiedSince = req.headers['if-modified-since'];
      // If-None-Match decides when present; If-Modified-Since only without it (RFC 9110 §13.2.2).
      const notModified = ifNoneMatch !== undefined
        ? etagMatches(ifNoneMatch, obj.etag)
        : ifModifiedSince !== undefined && !Number.isNaN(Date.parse(ifModifiedSince)) && obj.lastModified.getTime() <= Date.parse(ifModifiedSince);
      if (notModified) {
        record({ bucket, key, accessKey: principal.accessKey, ifNoneMatch, status: 304 });
        res.writeHead(304, headers);
        res.end();
        return;
      }
      record({ bucket, key, accessKey: principal.accessKey, ifNoneMatch, status: 200 });
      res.writeHead(200, { ...headers, 'Content-Type': obj.contentType, 'Content-Length': String(obj.body.length) });
      res.end(method === 'HEAD' ? undefined : obj.body);
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      record({ bucket: bucket || undefined, key: key || undefined, accessKey: principal?.accessKey, status: e.status, code: e.code });
      sendError(req, res, e, bucket);
    }
  }

  function sendError(req: IncomingMessage, res: ServerResponse, e: S3Error, bucket: string): void {
    const requestId = randomBytes(8).toString('hex');
    const extra: Record<string, string> = { ...e.extra };
    if (e.code === 'AccessDenied' && bucket !== '') extra.BucketName ??= bucket;
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
      + `<Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message>`
      + Object.entries(extra).map(([n, v]) => `<${n}>${xmlEscape(v)}</${n}>`).join('')
      + `<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
    const headers = { 'Content-Type': 'application/xml', 'x-amz-request-id': requestId };
    // A HEAD answer has no body: S3 gives only the status (and curl would wait for the promised bytes).
    if (req.method === 'HEAD') {
      res.writeHead(e.status, headers);
      res.end();
    } else {
      res.writeHead(e.status, { ...headers, 'Content-Length': String(Buffer.byteLength(xml)) });
      res.end(xml);
    }
  }

  const server: Server = createServer({ key: options.tlsKeyPem, cert: options.tlsCertPem }, (req, res) => {
    const base = { time: now().toISOString(), method: req.method ?? '', host: req.headers.host ?? '', path: req.url ?? '' };
    // Each request is logged before its answer is sent: whoever reads the log once curl has
    // returned (a harness, through requestLog) finds the request in it.
    const record = (r: Omit<SpacesRequestRecord, 'time' | 'method' | 'host' | 'path'>): void => {
      const full: SpacesRequestRecord = { ...base, ...r };
      requests.push(full);
      options.onRequest?.(full);
    };
    handle(req, res, record).catch((e: unknown) => {
      // Malformed input that surfaced as an S3Error outside the inner try (path decoding, the body).
      if (e instanceof S3Error) {
        record({ status: e.status, code: e.code });
        sendError(req, res, e, '');
        return;
      }
      record({ status: 500, code: 'InternalError' });
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`stand-in failure: ${String(e)}`);
    });
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `https://${regionHost}${port === 443 ? '' : `:${port}`}`,
        port,
        region,
        requests,
        close: () => new Promise<void>((done, fail) => {
          server.close((err) => (err ? fail(err) : done()));
          server.closeAllConnections();
        }),
        putObject: (bucket, key, body, contentType = 'binary/octet-stream') =>
          store(bucket, key, typeof body === 'string' ? Buffer.from(body, 'utf8') : body, contentType),
        getObject: (bucket, key) => buckets.get(bucket)?.get(key),
      });
    });
  });
}

// ------------------------------------------------------------------------------------------------
// As a process: node -r ts-node/register/transpile-only spaces-standin.ts --config <file>
// ------------------------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<void> {
  const i = argv.indexOf('--config');
  if (i < 0 || argv[i + 1] === undefined) {
    process.stderr.write('usage: spaces-standin.ts --config <json file>\n');
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(argv[i + 1], 'utf8')) as StandinConfig;
  const pem = (inline: string | undefined, file: string | undefined, what: string): string => {
    if (inline !== undefined) return inline;
    if (file !== undefined) return readFileSync(file, 'utf8');
    throw new Error(`the config gives no TLS ${what} (tls${what}Pem or tls${what}File)`);
  };
  const standin = await startSpacesStandin({
    ...config,
    tlsKeyPem: pem(config.tlsKeyPem, config.tlsKeyFile, 'Key'),
    tlsCertPem: pem(config.tlsCertPem, config.tlsCertFile, 'Cert'),
    onRequest: config.requestLog === undefined ? undefined : (r) => appendFileSync(config.requestLog!, `${JSON.stringify(r)}\n`),
  });
  for (const o of config.objects ?? []) {
    const body = o.file !== undefined ? readFileSync(o.file) : o.bodyBase64 !== undefined ? Buffer.from(o.bodyBase64, 'base64') : Buffer.from(o.body ?? '', 'utf8');
    standin.putObject(o.bucket, o.key, body, o.contentType);
  }
  const stop = (): void => {
    void standin.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The harness waits for this line: objects are loaded and connections are accepted.
  process.stdout.write(`listening ${standin.url}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`spaces-standin: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
