/**
 * nginx in front of Prosody: the site file at NGINX_SITE and the XEP-0156 host-meta documents.
 *
 * nginx is the only public HTTP listener. It answers Let's Encrypt on port 80, terminates TLS on
 * 443 and forwards exactly three Prosody paths (BOSH, WebSocket, file share) to Prosody's
 * loopback-only HTTP port; every other Prosody HTTP path stays unreachable from outside.
 */
import { NGINX_HTTP_PORT, NGINX_HTTPS_PORT } from './listeners';
import { ACME_WEBROOT, BACKUP_FRESH_DIR, BACKUP_FRESH_PATH, BACKUP_STATUS_FILE, BACKUP_STATUS_PATH, BUNDLE_STATUS_FILE, BUNDLE_STATUS_PATH, CERTS_DIR, HOST_META_ROOT, NGINX_SITE, VOLUME_STATUS_FILE, VOLUME_STATUS_PATH } from './paths';
import { certificateNames, deliversInPlace, ResolvedDomain, ResolvedSpec } from './spec';
import { DomainFiles, DOMAINS_LIST, DomainTemplate, expandDomainFiles, expandDomainTemplate } from './expansion';
import { ECDHE_AEAD_CIPHERS } from './tls';
import { platformOf } from './platforms';
import { renderWebClientDomainModule, servesWebClient, WEB_CLIENT_DOMAIN_MODULE_PATH, WEB_CLIENT_SERVED_ROOT, webClientCsp } from './web-client';

// ---------------------------------------------------------------------------------------------
// A small writer for nginx configuration
// ---------------------------------------------------------------------------------------------

/**
 * One argument of a directive. Numbers are written as they are (nginx reads plain sizes as bytes);
 * strings are quoted only when nginx needs it, or always when wrapped by `quoted()`.
 */
export type NginxArg = string | number | { readonly quoted: string };

/** An argument written in double quotes even when it would not need them, as convention has it. */
export function quoted(value: string): NginxArg {
  return { quoted: value };
}

/** A node of an nginx configuration file. */
export type NginxNode =
  | { readonly kind: 'directive'; readonly name: string; readonly args: readonly NginxArg[] }
  | { readonly kind: 'block'; readonly name: string; readonly args: readonly NginxArg[]; readonly children: readonly NginxNode[] }
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'blank' };

/** `name arg…;` */
export function directive(name: string, ...args: NginxArg[]): NginxNode {
  return { kind: 'directive', name, args };
}

/** `name arg… { children }` */
export function block(name: string, args: readonly NginxArg[], children: readonly NginxNode[]): NginxNode {
  return { kind: 'block', name, args, children };
}

/** `# text`, one comment line per line of text. */
export function comment(text: string): NginxNode {
  return { kind: 'comment', text };
}

/** An empty line, to group directives for the reader. */
export const blank: NginxNode = { kind: 'blank' };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Outside quotes nginx splits on whitespace, ends a directive at ";", opens and closes blocks at
// braces, starts comments at "#" and treats quotes and backslashes specially.
const NEEDS_QUOTES = /[\s;{}"'\\#]/;

/**
 * One argument as nginx's tokenizer reads it back: bare when that is unambiguous, otherwise in
 * double quotes with `"` and `\` escaped. `$variables` stay live in both forms, on purpose.
 */
export function nginxArg(value: NginxArg): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`nginx has no literal for ${value}`);
    return String(value);
  }
  const force = typeof value === 'object';
  const text = typeof value === 'object' ? value.quoted : value;
  // nginx turns "\n" inside quotes into a newline, but a raw control character in a rendered file
  // can only come from a bug upstream; refuse it rather than write something surprising.
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) throw new Error(`control character in nginx argument ${JSON.stringify(text)}`);
  if (!force && text !== '' && !NEEDS_QUOTES.test(text)) return text;
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const INDENT = '    ';

/** The text of a configuration file: four-space indentation, one directive per line, final newline. */
export function renderNginxConfig(nodes: readonly NginxNode[]): string {
  const lines: string[] = [];
  const write = (list: readonly NginxNode[], depth: number): void => {
    const pad = INDENT.repeat(depth);
    for (const node of list) {
      switch (node.kind) {
        case 'blank':
          lines.push('');
          break;
        case 'comment':
          for (const line of node.text.split('\n')) lines.push(`${pad}#${line === '' ? '' : ` ${line}`}`);
          break;
        case 'directive':
          lines.push(`${pad}${head(node.name, node.args)};`);
          break;
        case 'block':
          if (node.children.length === 0) {
            lines.push(`${pad}${head(node.name, node.args)} {}`);
          } else {
            lines.push(`${pad}${head(node.name, node.args)} {`);
            write(node.children, depth + 1);
            lines.push(`${pad}}`);
          }
          break;
      }
    }
  };
  write(nodes, 0);
  return `${lines.join('\n')}\n`;
}

function head(name: string, args: readonly NginxArg[]): string {
  if (!NAME.test(name)) throw new Error(`"${name}" is not an nginx directive name`);
  return [name, ...args.map(nginxArg)].join(' ');
}

// ---------------------------------------------------------------------------------------------
// What is served where
// ---------------------------------------------------------------------------------------------

/** Paths Prosody 0.12 serves these features at; nginx forwards nothing else. */
export const BOSH_PATH = '/http-bind';
export const WEBSOCKET_PATH = '/xmpp-websocket';
export const FILE_SHARE_PATH = '/file_share/';
/**
 * Where the invitation pages are, when the platform serves them (`invitationPageModules`): the
 * landing page and its client guides and files (invites_page), the web registration it links to
 * as `register?t=…` (invites_register_web), and the clients' logos (register_apps). One location,
 * to keep user_data small.
 */
export const INVITATION_PAGE_LOCATIONS: readonly (readonly string[])[] = [['~', '^/(invites_page|register_apps/|register$)']];

/** The locations of the invitation pages `spec` serves: none without invitations, or where the platform has no pages. */
export function invitationPageLocations(spec: ResolvedSpec): readonly (readonly string[])[] {
  return spec.registration === 'invite' && platformOf(spec).prosody.invitationPageModules.length > 0 ? INVITATION_PAGE_LOCATIONS : [];
}

/**
 * The libraries the invitation pages load: prosody-modules' pages link Bootstrap 4 and jQuery under
 * `/share/` (where mod_http_libjs would serve Debian's libjs packages). nginx serves them itself,
 * from the packages' directory: without them the pages are unstyled and their buttons dead. Every
 * file there is a public library from a Debian package.
 */
export const INVITATION_PAGE_LIBRARIES = {
  packages: ['libjs-bootstrap4', 'libjs-jquery'],
  path: '/share/',
  root: '/usr/share/javascript/',
} as const;

/** Whether `spec` serves the invitation pages, and so their libraries. */
export function servesInvitationPages(spec: ResolvedSpec): boolean {
  return invitationPageLocations(spec).length > 0;
}

/**
 * Debian's access and error logs (its nginx.conf names them; logrotate keeps 14 days). A file's URL is
 * the only key to it, so requests under FILE_SHARE_PATH are logged in FILE_SHARE_LOG_FORMAT, without
 * the path, and their errors only when critical (an upstream error names the request line).
 */
export const NGINX_ACCESS_LOG = '/var/log/nginx/access.log';
export const NGINX_ERROR_LOG = '/var/log/nginx/error.log';
export const FILE_SHARE_LOG_FORMAT = 'xmpp_constructs_file_share';
/** Debian's "combined" format with the request's path replaced by "-", and no referer. */
const FILE_SHARE_LOG_LINE = `$remote_addr - $remote_user [$time_local] "$request_method ${FILE_SHARE_PATH}- $server_protocol" $status $body_bytes_sent "-" "$http_user_agent"`;

/** Where certbot's webroot plugin puts challenge files under ACME_WEBROOT. */
const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';
export const HOST_META_PATH = '/.well-known/host-meta';
export const HOST_META_JSON_PATH = '/.well-known/host-meta.json';

/** Mozilla's "intermediate" profile (nginx 1.22, OpenSSL 3.0), without the DHE suites that would need a dhparam file. */
export const TLS_PROTOCOLS = ['TLSv1.2', 'TLSv1.3'] as const;
export const TLS_CIPHERS = ECDHE_AEAD_CIPHERS;
const TLS_CURVES = 'X25519:prime256v1:secp384r1';
/** Two years, as Mozilla recommends; the names never serve anything but HTTPS. */
export const HSTS_VALUE = 'max-age=63072000';

/** A WebSocket sits quiet between stanzas; it must outlive the clients' keepalive interval, not nginx's 60 s default. */
const WEBSOCKET_READ_TIMEOUT = '900s';
/** BOSH holds a request open for up to Prosody's bosh_max_wait (120 s); nginx's default 60 s would cut it. */
const BOSH_READ_TIMEOUT = '180s';

/** The two host-meta documents of one domain, on the host. */
export interface HostMetaPaths {
  readonly xml: string;
  readonly json: string;
}

/** Where the host-meta files of `domain` live; the domain's server block uses the directory as root. */
export function hostMetaPaths(domain: string): HostMetaPaths {
  return {
    xml: `${hostMetaRoot(domain)}${HOST_META_PATH}`,
    json: `${hostMetaRoot(domain)}${HOST_META_JSON_PATH}`,
  };
}

function hostMetaRoot(domain: string): string {
  return `${HOST_META_ROOT}/${domain}`;
}

/** The certificate links the host maintains for `domain`. */
export function certificatePaths(domain: string): { readonly fullchain: string; readonly privkey: string } {
  return { fullchain: `${CERTS_DIR}/${domain}/fullchain.pem`, privkey: `${CERTS_DIR}/${domain}/privkey.pem` };
}

// ---------------------------------------------------------------------------------------------
// host-meta (XEP-0156)
// ---------------------------------------------------------------------------------------------

export interface HostMetaLink {
  readonly rel: string;
  readonly href: string;
}

/** The links `domain`'s host-meta documents announce: the enabled web transports. */
export function hostMetaLinks(spec: ResolvedSpec, domain: string): HostMetaLink[] {
  const links: HostMetaLink[] = [];
  if (spec.web.bosh) links.push({ rel: 'urn:xmpp:alt-connections:xbosh', href: `https://${domain}${BOSH_PATH}` });
  if (spec.web.websocket) links.push({ rel: 'urn:xmpp:alt-connections:websocket', href: `wss://${domain}${WEBSOCKET_PATH}` });
  return links;
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The XRD and JSON host-meta documents for `domain`, announcing the enabled web transports.
 * With neither transport on, both documents are valid and list nothing.
 */
export function renderHostMeta(spec: ResolvedSpec, domain: string): { xml: string; json: string } {
  const links = hostMetaLinks(spec, domain);
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">',
    ...links.map((l) => `  <Link rel="${xmlAttr(l.rel)}" href="${xmlAttr(l.href)}"/>`),
    '</XRD>',
    '',
  ].join('\n');
  const json = `${JSON.stringify({ links: links.map((l) => ({ rel: l.rel, href: l.href })) }, null, 2)}\n`;
  return { xml, json };
}

// ---------------------------------------------------------------------------------------------
// The site
// ---------------------------------------------------------------------------------------------

/** Every name nginx answers for: each domain, its components and, with calls, the TURN host. */
export function nginxServerNames(spec: ResolvedSpec): string[] {
  return spec.domains.flatMap((d) => certificateNames(spec, d));
}

/**
 * nginx keeps exact server names in a hash of one-cache-line buckets (64 bytes on x86-64). A name
 * longer than 46 characters does not fit one, and nginx refuses to start ("could not build
 * server_names_hash"); past about a hundred names it warns that it "could not build optimal
 * server_names_hash". The simulation below follows ngx_hash_init() so that the site sets the two
 * sizes exactly when nginx's defaults would fail, and keeps the common case free of them.
 */
const POINTER_BYTES = 8;
const DEFAULT_NAMES_BUCKET = 64;
const DEFAULT_NAMES_MAX = 512;
const MAX_NAMES_BUCKET = 512;

function hashEntryBytes(name: string): number {
  return POINTER_BYTES + Math.ceil((name.length + 2) / POINTER_BYTES) * POINTER_BYTES;
}

const TWO_32 = 2 ** 32;

/**
 * ngx_hash_key_lc() on a 64-bit build (key = key * 31 + byte, modulo 2^64), kept as two 32-bit
 * halves so every step stays exact in a double: `lo * 31 + byte` and `hi * 31 + carry` are < 2^37.
 */
function nginxHashKey(name: string): { readonly hi: number; readonly lo: number } {
  let hi = 0;
  let lo = 0;
  for (const byte of Buffer.from(name.toLowerCase(), 'latin1')) {
    const low = lo * 31 + byte;
    lo = low % TWO_32;
    hi = (hi * 31 + Math.floor(low / TWO_32)) % TWO_32;
  }
  return { hi, lo };
}

/**
 * The names' entry sizes and keys, as a search over table sizes reads them millions of times for a
 * few thousand names. Each 64-bit key is held as three chunks (bits 48-63, 24-47 and 0-23), so that
 * reducing it modulo a table size (at most 2^15) stays in 32-bit integer arithmetic: V8 does that
 * several times faster than the double arithmetic two 32-bit halves would need.
 */
interface HashEntries {
  readonly count: number;
  readonly smallestBytes: number;
  readonly largestBytes: number;
  readonly bytes: Int32Array;
  readonly bits48: Int32Array;
  readonly bits24: Int32Array;
  readonly bits0: Int32Array;
}

function hashEntries(names: readonly string[]): HashEntries {
  const bytes = new Int32Array(names.length);
  const bits48 = new Int32Array(names.length);
  const bits24 = new Int32Array(names.length);
  const bits0 = new Int32Array(names.length);
  names.forEach((name, i) => {
    const { hi, lo } = nginxHashKey(name);
    bytes[i] = hashEntryBytes(name);
    bits48[i] = hi >>> 16;
    bits24[i] = (lo >>> 24) | ((hi & 0xffff) << 8);
    bits0[i] = lo & 0xffffff;
  });
  return {
    count: names.length,
    smallestBytes: bytes.reduce((a, b) => Math.min(a, b), Infinity),
    largestBytes: bytes.reduce((a, b) => Math.max(a, b), 0),
    bytes,
    bits48,
    bits24,
    bits0,
  };
}

/** Whether ngx_hash_init() finds a table for `names` with these sizes, without warning. */
export function serverNamesHashFits(names: readonly string[], bucketSize: number, maxSize: number): boolean {
  return hashFits(hashEntries(names), bucketSize, maxSize);
}

/** The table size ngx_hash_init() tries first: as many buckets as the names fill at two pointers each, or 1,000 below a large max. */
function firstTableSize(entries: HashEntries, room: number, maxSize: number): number {
  if (maxSize > 10000 && entries.count > 0 && maxSize / entries.count < 100) return maxSize - 1000;
  return Math.floor(entries.count / Math.floor(room / (2 * POINTER_BYTES))) || 1;
}

/** serverNamesHashFits on precomputed entries, so a search over sizes computes them once. */
function hashFits(entries: HashEntries, bucketSize: number, maxSize: number): boolean {
  if (bucketSize < entries.largestBytes + POINTER_BYTES) return false;
  const room = bucketSize - POINTER_BYTES;
  return someSizeFits(entries, room, firstTableSize(entries, room, maxSize), maxSize, new Uint32Array(maxSize));
}

/**
 * Whether a table of some size from `smallest` to `largest` holds every entry, which is all
 * nginx's upward scan over that range needs. Tried from the largest down: large tables usually
 * fit at once, so only a range where nothing fits costs a try of every size.
 */
function someSizeFits(entries: HashEntries, room: number, smallest: number, largest: number, used: Uint32Array): boolean {
  // Fewer buckets than the entries fill even packed as tightly as they can be never fit: not tried.
  const perBucket = Math.floor(room / entries.smallestBytes);
  const fewestBuckets = entries.count === 0 ? 1 : perBucket === 0 ? Infinity : Math.ceil(entries.count / perBucket);
  for (let size = largest; size >= Math.max(smallest, fewestBuckets); size--) if (fitsAtSize(entries, room, size, used)) return true;
  return false;
}

/** Whether no bucket of a table with `size` buckets would hold more than `room` bytes. `used` is scratch space. */
function fitsAtSize(entries: HashEntries, room: number, size: number, used: Uint32Array): boolean {
  const { bytes, bits48, bits24, bits0 } = entries;
  const scale48 = 2 ** 48 % size;
  const scale24 = 2 ** 24 % size;
  used.fill(0, 0, size);
  for (let i = 0; i < entries.count; i++) {
    const slot = ((((bits48[i] % size) * scale48) % size) + (((bits24[i] % size) * scale24) % size) + (bits0[i] % size)) % size;
    used[slot] += bytes[i];
    if (used[slot] > room) return false;
  }
  return true;
}

/**
 * http-level sizing for the server names hash, empty when nginx's defaults suffice. With thousands
 * of names the search takes tens of milliseconds, so `nginxSite` runs it once per rendering.
 */
export function serverNamesHashSizing(names: readonly string[]): NginxNode[] {
  const entries = hashEntries(names);
  if (names.length === 0 || hashFits(entries, DEFAULT_NAMES_BUCKET, DEFAULT_NAMES_MAX)) return [];
  // nginx's advice: a bucket large enough for the longest name, then a larger table before larger buckets.
  let bucket = DEFAULT_NAMES_BUCKET;
  // Past nginx's default table size, buckets of one name each would need a perfect hash (not found,
  // after a long search); buckets for two names fit at once.
  const namesPerBucket = names.length > DEFAULT_NAMES_MAX ? 2 : 1;
  while (bucket < namesPerBucket * entries.largestBytes + POINTER_BYTES) bucket *= 2;
  const used = new Uint32Array(64 * DEFAULT_NAMES_MAX);
  for (; bucket <= MAX_NAMES_BUCKET; bucket *= 2) {
    if (bucket < entries.largestBytes + POINTER_BYTES) continue;
    const room = bucket - POINTER_BYTES;
    // For every max up to 10000 nginx scans sizes from the same start, so each max needs only the
    // sizes above the previous one: had one of those below fit, the previous max would have.
    let searchedUpTo = firstTableSize(entries, room, DEFAULT_NAMES_MAX) - 1;
    for (let max = DEFAULT_NAMES_MAX; max <= 64 * DEFAULT_NAMES_MAX; max *= 2) {
      let fits: boolean;
      if (max > 10000 && max / names.length < 100) {
        fits = hashFits(entries, bucket, max);
      } else {
        fits = someSizeFits(entries, room, searchedUpTo + 1, max, used);
        searchedUpTo = Math.max(searchedUpTo, max);
      }
      if (fits) {
        return [
          ...(bucket !== DEFAULT_NAMES_BUCKET ? [directive('server_names_hash_bucket_size', bucket)] : []),
          ...(max !== DEFAULT_NAMES_MAX ? [directive('server_names_hash_max_size', max)] : []),
        ];
      }
    }
  }
  throw new Error(`no server_names_hash sizing found for ${names.length} names`);
}

function proxyHeaders(): NginxNode[] {
  return [
    directive('proxy_set_header', 'Host', '$host'),
    directive('proxy_set_header', 'X-Forwarded-For', '$proxy_add_x_forwarded_for'),
    // Prosody 0.12 treats requests from trusted_proxies (loopback) with this header as secure.
    directive('proxy_set_header', 'X-Forwarded-Proto', '$scheme'),
    // Prosody sends its own, shorter HSTS header; browsers honour only the first one they see.
    directive('proxy_hide_header', 'Strict-Transport-Security'),
  ];
}

function hstsHeader(): NginxNode {
  return directive('add_header', 'Strict-Transport-Security', quoted(HSTS_VALUE), 'always');
}

function hostMetaLocation(path: string, contentType: string, root: string): NginxNode {
  return block('location', ['=', path], [
    directive('root', root),
    // An empty types map makes default_type apply even to "host-meta.json".
    block('types', [], []),
    directive('default_type', contentType),
    // Browsers' XMPP clients fetch host-meta from other origins.
    directive('add_header', 'Access-Control-Allow-Origin', '*', 'always'),
    // A location with its own add_header no longer inherits the server's, so HSTS is repeated.
    hstsHeader(),
  ]);
}

function httpServer(): NginxNode {
  return block('server', [], [
    comment('default_server, and no server_name: every name on port 80 gets the challenge files and\nthe redirect, never another site. Debian\'s own default site must be gone (provisioning\nremoves it), or nginx refuses two default servers on port 80.'),
    directive('listen', NGINX_HTTP_PORT, 'default_server'),
    directive('listen', `[::]:${NGINX_HTTP_PORT}`, 'default_server'),
    blank,
    block('location', ['^~', ACME_CHALLENGE_PATH], [
      directive('root', ACME_WEBROOT),
      directive('default_type', 'text/plain'),
      directive('try_files', '$uri', '=404'),
    ]),
    blank,
    block('location', ['/'], [directive('return', 301, 'https://$host$request_uri')]),
  ]);
}

function httpsServer(spec: ResolvedSpec, domain: ResolvedDomain): NginxNode {
  const upstream = `http://127.0.0.1:${spec.ports.httpLoopback}`;
  const cert = certificatePaths(domain.name);
  // The primary domain answers TLS handshakes without (or with an unknown) SNI name.
  const isDefault = domain.name === spec.primaryDomain;
  // nginx 1.25.1 and later enable HTTP/2 with a directive (the listen parameter is deprecated there).
  const http2AsDirective = platformOf(spec).nginx.http2 === 'directive';
  const listenArgs = [...(http2AsDirective ? ['ssl'] : ['ssl', 'http2']), ...(isDefault ? ['default_server'] : [])];
  const children: NginxNode[] = [
    directive('listen', NGINX_HTTPS_PORT, ...listenArgs),
    directive('listen', `[::]:${NGINX_HTTPS_PORT}`, ...listenArgs),
    ...(http2AsDirective ? [directive('http2', 'on')] : []),
    directive('server_name', ...certificateNames(spec, domain)),
    blank,
    comment("Debian's nginx.conf sets ssl_protocols and ssl_prefer_server_ciphers in http {} already, so\nthe TLS settings live here, where they override instead of colliding. Every server block\nnames the same session cache with the same size, so they share one zone."),
    directive('ssl_certificate', cert.fullchain),
    directive('ssl_certificate_key', cert.privkey),
    directive('ssl_protocols', ...TLS_PROTOCOLS),
    directive('ssl_ciphers', TLS_CIPHERS),
    directive('ssl_ecdh_curve', TLS_CURVES),
    directive('ssl_prefer_server_ciphers', 'off'),
    directive('ssl_session_timeout', '1d'),
    directive('ssl_session_cache', 'shared:XmppConstructsTLS:10m'),
    directive('ssl_session_tickets', 'off'),
    comment("No OCSP stapling: Let's Encrypt no longer runs OCSP responders."),
    hstsHeader(),
    blank,
    hostMetaLocation(HOST_META_PATH, 'application/xrd+xml', hostMetaRoot(domain.name)),
    blank,
    hostMetaLocation(HOST_META_JSON_PATH, 'application/json', hostMetaRoot(domain.name)),
  ];
  const statusLocation = (path: string, file: string) => block('location', ['=', path], [
    directive('alias', file),
    block('types', [], []),
    directive('default_type', 'text/plain'),
    directive('add_header', 'Cache-Control', 'no-store', 'always'),
    hstsHeader(),
  ]);
  if (isDefault) {
    children.push(blank, comment('How full the data volume is: not secret, read by xmpp-doctor.'), statusLocation(VOLUME_STATUS_PATH, VOLUME_STATUS_FILE));
  }
  if (isDefault && spec.offsiteBackups) {
    children.push(
      blank,
      comment('How the last off-host backup went: not secret, read by xmpp-doctor.'),
      statusLocation(BACKUP_STATUS_PATH, BACKUP_STATUS_FILE),
      blank,
      comment('200 while the newest off-host backup is fresh, 503 otherwise: what the backup uptime check watches.'),
      block('location', ['=', BACKUP_FRESH_PATH], [
        directive('root', BACKUP_FRESH_DIR),
        directive('try_files', '/backup', '=503'),
        block('types', [], []),
        directive('default_type', 'text/plain'),
        directive('add_header', 'Cache-Control', 'no-store', 'always'),
        hstsHeader(),
      ]),
    );
  }
  if (isDefault && deliversInPlace(spec)) {
    children.push(
      blank,
      comment('Which configuration bundle this host runs (and which it refused): not secret, read by xmpp-doctor.'),
      statusLocation(BUNDLE_STATUS_PATH, BUNDLE_STATUS_FILE),
    );
  }
  if (spec.web.bosh) {
    children.push(
      blank,
      block('location', [BOSH_PATH], [
        directive('proxy_pass', upstream),
        ...proxyHeaders(),
        // BOSH answers are held back by Prosody on purpose; nginx must pass them on at once.
        directive('proxy_buffering', 'off'),
        directive('tcp_nodelay', 'on'),
        directive('proxy_read_timeout', BOSH_READ_TIMEOUT),
      ]),
    );
  }
  if (spec.web.websocket) {
    children.push(
      blank,
      block('location', [WEBSOCKET_PATH], [
        directive('proxy_pass', upstream),
        directive('proxy_http_version', '1.1'),
        ...proxyHeaders(),
        directive('proxy_set_header', 'Upgrade', '$http_upgrade'),
        directive('proxy_set_header', 'Connection', quoted('upgrade')),
        directive('proxy_buffering', 'off'),
        directive('tcp_nodelay', 'on'),
        directive('proxy_read_timeout', WEBSOCKET_READ_TIMEOUT),
        directive('proxy_send_timeout', WEBSOCKET_READ_TIMEOUT),
      ]),
    );
  }
  if (spec.fileShare.enabled) {
    children.push(
      blank,
      block('location', [FILE_SHARE_PATH], [
        directive('proxy_pass', upstream),
        // Without HTTP/1.1 towards Prosody, nginx buffers chunked uploads whatever
        // proxy_request_buffering says.
        directive('proxy_http_version', '1.1'),
        ...proxyHeaders(),
        // Uploads are raw PUT bodies, so the limit in bytes is exactly Prosody's own.
        directive('client_max_body_size', spec.fileShare.fileSizeLimitBytes),
        // Stream uploads and downloads instead of spooling them to nginx's disk first.
        directive('proxy_request_buffering', 'off'),
        directive('proxy_buffering', 'off'),
        comment('A file\'s URL is the key to it: logged without the path, errors only when critical.'),
        directive('access_log', NGINX_ACCESS_LOG, FILE_SHARE_LOG_FORMAT),
        directive('error_log', NGINX_ERROR_LOG, 'crit'),
      ]),
    );
  }
  const pages = invitationPageLocations(spec);
  if (pages.length > 0) {
    children.push(blank, comment('Invitation pages and their web registration; the libraries they load, from Debian\'s packages.'));
    for (const location of pages) children.push(block('location', location, [directive('proxy_pass', upstream), ...proxyHeaders()]));
    children.push(block('location', [INVITATION_PAGE_LIBRARIES.path], [directive('alias', INVITATION_PAGE_LIBRARIES.root)]));
  }
  if (servesWebClient(spec)) {
    children.push(blank, ...webClientLocations(spec, domain));
  } else {
    children.push(
      blank,
      comment('There is no website; nothing else of Prosody\'s HTTP service is exposed.'),
      block('location', ['/'], [directive('return', 404)]),
    );
  }
  return block('server', [], children);
}

/**
 * The web client's two locations: its files (web-client.ts), only on the domain's own name (on a
 * component's, the upload service's above all, the client would share an origin with what users
 * upload), and the module naming its domain. Nothing else of Prosody's HTTP service is exposed.
 */
function webClientLocations(spec: ResolvedSpec, domain: ResolvedDomain): NginxNode[] {
  return [
    block('location', ['/'], [
      block('if', ['($host', '!=', `${domain.name})`], [directive('return', 404)]),
      directive('root', WEB_CLIENT_SERVED_ROOT),
      directive('try_files', '$uri', '$uri/', '=404'),
      directive('gzip_types', 'text/css', 'application/javascript', 'application/json', 'application/wasm', 'image/svg+xml'),
      // A location with its own add_header no longer inherits the server's: HSTS is repeated below.
      directive('add_header', 'Content-Security-Policy', quoted(webClientCsp(spec, domain)), 'always'),
      directive('add_header', 'Referrer-Policy', 'no-referrer', 'always'),
      directive('add_header', 'X-Content-Type-Options', 'nosniff', 'always'),
      // Revalidated on every load (a 304 when unchanged): a new release is live at once.
      directive('add_header', 'Cache-Control', 'no-cache', 'always'),
      hstsHeader(),
    ]),
    // Names only, harmless on any name; without validators it is never cached.
    block('location', ['=', WEB_CLIENT_DOMAIN_MODULE_PATH], [
      block('types', [], []),
      directive('default_type', quoted('text/javascript; charset=utf-8')),
      directive('return', 200, quoted(renderWebClientDomainModule(domain))),
    ]),
  ];
}

/**
 * NGINX_SITE, which Debian's nginx.conf includes inside http {}, by domain (expansion.ts): the
 * http-level settings and the port 80 server, then a server block for each domain.
 */
export function nginxSite(spec: ResolvedSpec): DomainTemplate {
  const head: NginxNode[] = [
    comment(`Rendered by xmpp-constructs from the service spec; edits are lost on the next deployment.\nIncluded by Debian's nginx.conf inside http {}.`),
    blank,
  ];
  // Sized for every domain's names, once: the template and its expansion share this rendering.
  const sizing = serverNamesHashSizing(nginxServerNames(spec));
  if (sizing.length > 0) head.push(...sizing, blank);
  if (spec.fileShare.enabled) {
    head.push(comment('Uploads are logged without their URLs, which are the keys to the files.'), directive('log_format', FILE_SHARE_LOG_FORMAT, FILE_SHARE_LOG_LINE), blank);
  }
  head.push(comment("Port 80 exists for Let's Encrypt's HTTP-01 challenge; everything else moves to HTTPS."), httpServer());
  return {
    shared: {
      head: renderNginxConfig(head),
      between: renderNginxConfig([blank, comment(`Every further domain (${DOMAINS_LIST}), the same way.`)]),
      tail: '',
    },
    perDomain: (domain) => renderNginxConfig([blank, comment(`${domain.name}: host-meta and the XMPP web transports.`), httpsServer(spec, domain)]),
  };
}

/** The content of NGINX_SITE, every domain written out. */
export function renderNginxSite(spec: ResolvedSpec): string {
  return expandDomainTemplate(nginxSite(spec), spec);
}

/** Each domain's host-meta pair, at its path on the host (expansion.ts). */
export function hostMetaFiles(spec: ResolvedSpec): DomainFiles {
  return {
    perDomain: (domain) => {
      const paths = hostMetaPaths(domain.name);
      const docs = renderHostMeta(spec, domain.name);
      return { [paths.xml]: docs.xml, [paths.json]: docs.json };
    },
  };
}

/** Every nginx-related file as `{ path on the host: content }`: the site and each domain's host-meta pair. */
export function renderNginxFiles(spec: ResolvedSpec): Record<string, string> {
  return { [NGINX_SITE]: renderNginxSite(spec), ...expandDomainFiles(hostMetaFiles(spec), spec) };
}
