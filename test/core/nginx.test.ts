import { ChildProcess, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { dirname } from 'path';
import * as tls from 'tls';
import {
  block,
  blank,
  comment,
  directive,
  FILE_SHARE_LOG_FORMAT,
  hostMetaPaths,
  HSTS_VALUE,
  NGINX_ACCESS_LOG,
  NGINX_ERROR_LOG,
  INVITATION_PAGE_LIBRARIES,
  invitationPageLocations,
  nginxArg,
  nginxServerNames,
  quoted,
  renderHostMeta,
  renderNginxConfig,
  renderNginxFiles,
  renderNginxSite,
  serverNamesHashFits,
  serverNamesHashSizing,
  servesInvitationPages,
  TLS_CIPHERS,
} from '../../lib/core/nginx';
import { hostPackages, provisionedPackages } from '../../lib/core/cloud-init';
import { renderHostEnv } from '../../lib/core/host-scripts';
import { ACME_WEBROOT, BUNDLE_STATUS_FILE, BUNDLE_STATUS_PATH, CERTS_DIR, HOST_META_ROOT, NGINX_SITE } from '../../lib/core/paths';
import { certificateNames, ResolvedSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { closedSpec, fullSpec, MANY_DOMAINS_DROPLET, minimalSpec, onImage, representativeSpecs } from '../support/specs';
import { PLATFORMS as LIBRARY_PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { PLATFORMS, PlatformTools, platformToolsForFile, platformUnavailable } from '../support/platform';
import { describeUnless, testWith } from '../support/tools';
import { WEB_CLIENT_DOMAIN_MODULE_PATH, WEB_CLIENT_SERVED_ROOT, webClientCsp, renderWebClientDomainModule } from '../../lib/core/web-client';

// ---------------------------------------------------------------------------------------------
// A reader for the rendered configuration, so assertions look at structure, not at substrings.
// ---------------------------------------------------------------------------------------------

interface Node {
  readonly name: string;
  readonly args: string[];
  readonly children?: Node[];
}

type Token = { readonly word: string } | { readonly punct: ';' | '{' | '}' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      tokens.push({ punct: c });
      i++;
    } else if (c === '"' || c === "'") {
      let word = '';
      i++;
      while (text[i] !== c) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '\\') i++;
        word += text[i++];
      }
      i++;
      tokens.push({ word });
    } else {
      let word = '';
      while (i < text.length && !/[\s;{}]/.test(text[i])) word += text[i++];
      tokens.push({ word });
    }
  }
  return tokens;
}

function parseNginx(text: string): Node[] {
  const tokens = tokenize(text);
  let pos = 0;
  const parseList = (nested: boolean): Node[] => {
    const nodes: Node[] = [];
    let words: string[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++];
      if ('word' in t) {
        words.push(t.word);
      } else if (t.punct === ';') {
        nodes.push({ name: words[0], args: words.slice(1) });
        words = [];
      } else if (t.punct === '{') {
        nodes.push({ name: words[0], args: words.slice(1), children: parseList(true) });
        words = [];
      } else {
        if (!nested || words.length > 0) throw new Error('unbalanced }');
        return nodes;
      }
    }
    if (nested || words.length > 0) throw new Error('unexpected end of configuration');
    return nodes;
  };
  return parseList(false);
}

const named = (nodes: readonly Node[] | undefined, name: string): Node[] => (nodes ?? []).filter((n) => n.name === name);
const argsOf = (nodes: readonly Node[] | undefined, name: string): string[][] => named(nodes, name).map((n) => n.args);

function servers(site: string): Node[] {
  return named(parseNginx(site), 'server');
}

/** The server blocks that listen on `port` (IPv4 form). */
function serversOn(site: string, port: number): Node[] {
  return servers(site).filter((s) => argsOf(s.children, 'listen').some((a) => a[0] === String(port)));
}

function httpsServerFor(site: string, domain: string): Node {
  const found = serversOn(site, 443).filter((s) => argsOf(s.children, 'server_name')[0]?.[0] === domain);
  expect(found).toHaveLength(1);
  return found[0];
}

function location(server: Node, ...args: string[]): Node | undefined {
  return named(server.children, 'location').find((l) => l.args.join(' ') === args.join(' '));
}

/** Every directive in the tree, depth first, with its enclosing blocks. */
function walk(nodes: readonly Node[], parents: Node[] = []): { node: Node; parents: Node[] }[] {
  return nodes.flatMap((n) => [{ node: n, parents }, ...walk(n.children ?? [], [...parents, n])]);
}

const minimal = resolveSpec(minimalSpec);
const full = resolveSpec(fullSpec);
const closed = resolveSpec(closedSpec);

function withWeb(spec: ResolvedSpec, web: Partial<ResolvedSpec['web']>): ResolvedSpec {
  return { ...spec, web: { ...spec.web, ...web } };
}

// ---------------------------------------------------------------------------------------------
// The writer
// ---------------------------------------------------------------------------------------------

describe('nginx writer', () => {
  test.each([
    ['plain', 'plain'],
    ['$host', '$host'],
    ['https://$host$request_uri', 'https://$host$request_uri'],
    ['max-age=63072000', 'max-age=63072000'],
    ['two words', '"two words"'],
    ['semi;colon', '"semi;colon"'],
    ['{brace}', '"{brace}"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["it's", '"it\'s"'],
    ['back\\slash', '"back\\\\slash"'],
    ['#hash', '"#hash"'],
    ['', '""'],
  ])('GIVEN the argument %j WHEN written THEN nginx reads back exactly it (%s)', (value, written) => {
    expect(nginxArg(value)).toBe(written);
    expect(parseNginx(`x ${written};`)[0].args).toEqual([value]);
  });

  test('GIVEN a number or a quoted() argument WHEN written THEN numbers stay bare and quoted() is always quoted', () => {
    expect(nginxArg(104857600)).toBe('104857600');
    expect(nginxArg(quoted('upgrade'))).toBe('"upgrade"');
  });

  test('fails when an argument holds a newline or another control character', () => {
    expect(() => nginxArg('a\nb')).toThrow(/control character/);
    expect(() => nginxArg('a\x00b')).toThrow(/control character/);
  });

  test('fails when a directive name is not an nginx identifier', () => {
    expect(() => renderNginxConfig([directive('bad name')])).toThrow(/directive name/);
    expect(() => renderNginxConfig([directive('x;y')])).toThrow(/directive name/);
  });

  test('GIVEN nested blocks, comments and an empty block WHEN rendered THEN indentation is four spaces per level', () => {
    const text = renderNginxConfig([
      comment('why\nand why again'),
      block('server', [], [directive('listen', 80), blank, block('location', ['=', '/x'], [block('types', [], []), directive('return', 404)])]),
    ]);
    expect(text).toBe(
      [
        '# why',
        '# and why again',
        'server {',
        '    listen 80;',
        '',
        '    location = /x {',
        '        types {}',
        '        return 404;',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The site, structurally
// ---------------------------------------------------------------------------------------------

describe('renderNginxSite', () => {
  test('GIVEN the same spec WHEN rendered twice THEN the bytes are identical', () => {
    expect(renderNginxSite(resolveSpec(fullSpec))).toBe(renderNginxSite(full));
    expect(renderNginxFiles(resolveSpec(fullSpec))).toEqual(renderNginxFiles(full));
  });

  test.each(representativeSpecs)('GIVEN the %s spec WHEN rendered THEN it parses with balanced braces and ends with a newline', (_n, raw) => {
    const site = renderNginxSite(resolveSpec(raw));
    expect(() => parseNginx(site)).not.toThrow();
    expect(site.endsWith('\n')).toBe(true);
  });

  describe('port 80', () => {
    test('GIVEN any spec WHEN rendered THEN exactly one server listens on 80 and [::]:80 as default_server', () => {
      for (const spec of [minimal, full, closed]) {
        const site = renderNginxSite(spec);
        const plain = serversOn(site, 80);
        expect(plain).toHaveLength(1);
        expect(argsOf(plain[0].children, 'listen')).toEqual([['80', 'default_server'], ['[::]:80', 'default_server']]);
      }
    });

    test('GIVEN several domains with components and calls WHEN rendered THEN port 80 is one default server for every name, listing none', () => {
      const servers = serversOn(renderNginxSite(full), 80);
      expect(servers).toHaveLength(1);
      expect(argsOf(servers[0].children, 'server_name')).toEqual([]);
      expect(argsOf(servers[0].children, 'listen')).toEqual([['80', 'default_server'], ['[::]:80', 'default_server']]);
    });

    test('GIVEN several domains WHEN rendered THEN the HTTPS servers together answer for every name exactly once', () => {
      const names = serversOn(renderNginxSite(full), 443).flatMap((s) => argsOf(s.children, 'server_name')[0]);
      expect(names).toEqual(full.domains.flatMap((d) => certificateNames(full, d)));
      expect(names).toEqual(expect.arrayContaining(['example.net', 'share.xmpp.example.org', 'groupchat.xmpp.xn--bcher-kva.example', 'stun.example.net', 'proxy.xmpp.example.org', 'pubsub.xmpp.example.net']));
      expect(new Set(names).size).toBe(names.length);
    });

    test('GIVEN calls disabled WHEN rendered THEN the TURN name is not served', () => {
      expect(nginxServerNames(closed)).toEqual(['chat.example.com']);
      expect(nginxServerNames(minimal)).toContain('turn.example.net');
    });

    test('GIVEN port 80 WHEN a request comes THEN ACME challenges come from the certbot webroot and everything else is redirected to https', () => {
      const [server] = serversOn(renderNginxSite(minimal), 80);
      const acme = location(server, '^~', '/.well-known/acme-challenge/');
      expect(acme).toBeDefined();
      expect(argsOf(acme!.children, 'root')).toEqual([[ACME_WEBROOT]]);
      expect(argsOf(acme!.children, 'try_files')).toEqual([['$uri', '=404']]);
      expect(argsOf(location(server, '/')!.children, 'return')).toEqual([['301', 'https://$host$request_uri']]);
      expect(named(server.children, 'location')).toHaveLength(2);
    });
  });

  describe('listeners', () => {
    test.each(representativeSpecs)('GIVEN the %s spec WHEN rendered THEN nginx listens on 80 and 443 only, never on 5280 or 5281', (_n, raw) => {
      const site = renderNginxSite(resolveSpec(raw));
      const listens = walk(parseNginx(site)).filter((w) => w.node.name === 'listen').map((w) => w.node.args[0]);
      expect(new Set(listens)).toEqual(new Set(['80', '[::]:80', '443', '[::]:443']));
      expect(site).not.toMatch(/listen\s+\S*528[01]/);
    });

    // nginx 1.25.1 made `http2` a directive of its own and deprecated the listen parameter (1.26 warns
    // on every reload); 1.22 knows only the parameter. Each real nginx below serves h2 from its own.
    test.each<[PlatformName, string[], string[][]]>([
      ['debian-13', ['ssl'], [['on']]],
      ['debian-12', ['ssl', 'http2'], []],
    ])('GIVEN %s and several domains WHEN rendered THEN only the primary domain is the default server on 443, listening with %p, http2 directive %p', (name, listen, http2) => {
      const spec = resolveSpec(onImage(fullSpec, LIBRARY_PLATFORMS[name].image));
      const site = renderNginxSite(spec);
      expect(argsOf(httpsServerFor(site, 'example.net').children, 'listen')).toEqual([
        ['443', ...listen, 'default_server'],
        ['[::]:443', ...listen, 'default_server'],
      ]);
      expect(argsOf(httpsServerFor(site, 'example.org').children, 'listen')).toEqual([
        ['443', ...listen],
        ['[::]:443', ...listen],
      ]);
      for (const server of serversOn(site, 443)) expect(argsOf(server.children, 'http2')).toEqual(http2);
    });
  });

  describe('TLS', () => {
    test('GIVEN several domains WHEN rendered THEN each has its own 443 server with its names and its certificate links', () => {
      const site = renderNginxSite(full);
      expect(serversOn(site, 443)).toHaveLength(3);
      for (const domain of full.domains) {
        const server = httpsServerFor(site, domain.name);
        expect(argsOf(server.children, 'server_name')).toEqual([certificateNames(full, domain)]);
        expect(argsOf(server.children, 'ssl_certificate')).toEqual([[`${CERTS_DIR}/${domain.name}/fullchain.pem`]]);
        expect(argsOf(server.children, 'ssl_certificate_key')).toEqual([[`${CERTS_DIR}/${domain.name}/privkey.pem`]]);
      }
      expect(argsOf(httpsServerFor(site, 'example.net').children, 'server_name')[0]).toContain('stun.example.net');
      expect(argsOf(httpsServerFor(site, 'example.org').children, 'server_name')[0]).not.toContain('stun.example.net');
    });

    test('GIVEN any 443 server WHEN rendered THEN it speaks exactly TLSv1.2 and TLSv1.3 with the intermediate ECDHE ciphers', () => {
      for (const server of serversOn(renderNginxSite(full), 443)) {
        const c = server.children;
        expect(argsOf(c, 'ssl_protocols')).toEqual([['TLSv1.2', 'TLSv1.3']]);
        expect(argsOf(c, 'ssl_ciphers')).toEqual([[TLS_CIPHERS]]);
        expect(TLS_CIPHERS.split(':').every((s) => /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/.test(s))).toBe(true);
        expect(argsOf(c, 'ssl_prefer_server_ciphers')).toEqual([['off']]);
        expect(argsOf(c, 'ssl_session_timeout')).toEqual([['1d']]);
        expect(argsOf(c, 'ssl_session_tickets')).toEqual([['off']]);
        expect(argsOf(c, 'add_header')).toEqual([['Strict-Transport-Security', 'max-age=63072000', 'always']]);
      }
    });

    test('GIVEN several 443 servers WHEN rendered THEN they all name the same session cache with the same size', () => {
      const caches = serversOn(renderNginxSite(full), 443).flatMap((s) => argsOf(s.children, 'ssl_session_cache'));
      expect(caches).toHaveLength(3);
      expect(new Set(caches.map((c) => c.join(' '))).size).toBe(1);
      expect(caches[0][0]).toMatch(/^shared:\w+:\d+m$/);
    });

    test('GIVEN any spec WHEN rendered THEN there is no OCSP stapling and nothing at http level but hash sizing and the uploads\' log format', () => {
      const site = renderNginxSite(full);
      expect(walk(parseNginx(site)).some((w) => w.node.name.startsWith('ssl_stapling'))).toBe(false);
      expect(parseNginx(site).filter((n) => n.name !== 'server').map((n) => n.name)).toEqual(['log_format']);
      expect(site).toContain(`add_header Strict-Transport-Security "${HSTS_VALUE}" always;`);
    });
  });

  describe('proxied paths', () => {
    const proxied = (spec: ResolvedSpec): string[] =>
      walk(parseNginx(renderNginxSite(spec)))
        .filter((w) => w.node.name === 'proxy_pass')
        .map((w) => w.parents[w.parents.length - 1].args.join(' '));

    /** The invitation pages' locations, as the platform of the default image (Debian 13) serves them. */
    const PAGES = ['~ ^/(invites_page|register_apps/|register$)'];

    test('GIVEN everything enabled WHEN rendered THEN only BOSH, WebSocket, the file share and the invitation pages reach Prosody, on loopback', () => {
      const site = renderNginxSite(full);
      for (const domain of full.domains) {
        const server = httpsServerFor(site, domain.name);
        const withProxy = named(server.children, 'location').filter((l) => named(l.children, 'proxy_pass').length > 0);
        expect(withProxy.map((l) => l.args.join(' '))).toEqual(['/http-bind', '/xmpp-websocket', '/file_share/', ...PAGES]);
        for (const l of withProxy) {
          expect(argsOf(l.children, 'proxy_pass')).toEqual([[`http://127.0.0.1:${full.ports.httpLoopback}`]]);
        }
      }
    });

    test('GIVEN a proxied location WHEN rendered THEN it passes Host, X-Forwarded-For and X-Forwarded-Proto', () => {
      const passes = walk(parseNginx(renderNginxSite(full))).filter((w) => w.node.name === 'proxy_pass');
      expect(passes.length).toBe(full.domains.length * 4);
      for (const { parents } of passes) {
        const headers = argsOf(parents[parents.length - 1].children, 'proxy_set_header');
        expect(headers).toEqual(expect.arrayContaining([
          ['Host', '$host'],
          ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
          ['X-Forwarded-Proto', '$scheme'],
        ]));
      }
    });

    test('GIVEN web.bosh WHEN rendered THEN /http-bind is proxied unbuffered with tcp_nodelay', () => {
      const bosh = location(httpsServerFor(renderNginxSite(minimal), 'example.net'), '/http-bind')!;
      expect(argsOf(bosh.children, 'proxy_buffering')).toEqual([['off']]);
      expect(argsOf(bosh.children, 'tcp_nodelay')).toEqual([['on']]);
    });

    test('GIVEN web.websocket WHEN rendered THEN /xmpp-websocket upgrades over HTTP/1.1 with a long read timeout', () => {
      const ws = location(httpsServerFor(renderNginxSite(minimal), 'example.net'), '/xmpp-websocket')!;
      expect(argsOf(ws.children, 'proxy_http_version')).toEqual([['1.1']]);
      expect(argsOf(ws.children, 'proxy_set_header')).toEqual(expect.arrayContaining([['Upgrade', '$http_upgrade'], ['Connection', 'upgrade']]));
      const timeout = argsOf(ws.children, 'proxy_read_timeout')[0][0];
      expect(Number(timeout.replace(/s$/, ''))).toBeGreaterThanOrEqual(300);
      expect(renderNginxSite(minimal)).toContain('proxy_set_header Connection "upgrade";');
    });

    test('no websocket location when web.websocket is false', () => {
      expect(proxied(withWeb(minimal, { websocket: false }))).toEqual(['/http-bind', '/file_share/', ...PAGES]);
      expect(renderNginxSite(withWeb(minimal, { websocket: false }))).not.toContain('xmpp-websocket');
    });

    test('no BOSH location when web.bosh is false', () => {
      expect(proxied(withWeb(minimal, { bosh: false }))).toEqual(['/xmpp-websocket', '/file_share/', ...PAGES]);
      expect(renderNginxSite(withWeb(minimal, { bosh: false }))).not.toContain('http-bind');
    });

    test.each([
      ['debian-13-x64', 'invite', PAGES],
      ['debian-12-x64', 'invite', []],
      ['debian-13-x64', 'closed', []],
    ] as const)('GIVEN %s and registration %s WHEN rendered THEN the invitation pages proxied are %j', (image, registration, pages) => {
      const spec = resolveSpec({ ...minimalSpec, registration, droplet: { image } });
      expect(proxied(spec).filter((p) => !['/http-bind', '/xmpp-websocket', '/file_share/'].includes(p))).toEqual(pages);
      expect(invitationPageLocations(spec).map((l) => l.join(' '))).toEqual(pages);
    });

    test.each([
      ['debian-13-x64', 'invite', true],
      ['debian-12-x64', 'invite', false],
      ['debian-13-x64', 'closed', false],
    ] as const)('GIVEN %s and registration %s WHEN rendered THEN the pages\' libraries are served from Debian\'s packages on every domain, and installed: %s', (image, registration, served) => {
      const spec = resolveSpec({ ...onImage(fullSpec, image), registration });
      expect(servesInvitationPages(spec)).toBe(served);
      const site = renderNginxSite(spec);
      for (const domain of spec.domains) {
        const share = location(httpsServerFor(site, domain.name), INVITATION_PAGE_LIBRARIES.path);
        expect(share === undefined ? undefined : (share.children ?? []).map((c) => [c.name, ...c.args])).toEqual(served ? [['alias', '/usr/share/javascript/']] : undefined);
      }
      // Provisioning installs them (host.env), not cloud-init: user_data stays the same when registration changes.
      const packages = provisionedPackages(spec);
      for (const p of ['libjs-bootstrap4', 'libjs-jquery']) expect({ p, installed: packages.includes(p), atFirstBoot: hostPackages(spec).includes(p) }).toEqual({ p, installed: served, atFirstBoot: false });
      expect(renderHostEnv(spec)).toMatch(new RegExp(`^PACKAGES='${packages.join(' ')}'$`, 'm'));
    });

    test('GIVEN the closed spec (no web, no file share) WHEN rendered THEN nothing is proxied to Prosody at all', () => {
      expect(proxied(closed)).toEqual([]);
      expect(renderNginxSite(closed)).not.toContain('127.0.0.1');
    });

    test('client_max_body_size follows the file size limit', () => {
      const limit = (spec: ResolvedSpec): string[][] =>
        argsOf(location(httpsServerFor(renderNginxSite(spec), spec.primaryDomain), '/file_share/')!.children, 'client_max_body_size');
      expect(limit(minimal)).toEqual([[String(100 * 1024 * 1024)]]);
      expect(limit(full)).toEqual([[String(50 * 1024 * 1024)]]);
      const huge = resolveSpec({ ...minimalSpec, components: { fileShare: { fileSizeLimitBytes: 2 * 1024 * 1024 * 1024 } } });
      expect(limit(huge)).toEqual([['2147483648']]);
    });

    test('GIVEN the file share WHEN rendered THEN uploads and downloads stream through unbuffered over HTTP/1.1', () => {
      const share = location(httpsServerFor(renderNginxSite(minimal), 'example.net'), '/file_share/')!;
      expect(argsOf(share.children, 'proxy_request_buffering')).toEqual([['off']]);
      expect(argsOf(share.children, 'proxy_buffering')).toEqual([['off']]);
      expect(argsOf(share.children, 'proxy_http_version')).toEqual([['1.1']]);
    });

    test('GIVEN the file share WHEN rendered THEN its requests are logged in a format without path, query or referer, and its errors only when critical', () => {
      for (const spec of [minimal, full]) {
        const site = renderNginxSite(spec);
        const formats = parseNginx(site).filter((n) => n.name === 'log_format');
        expect(formats.map((f) => f.args[0])).toEqual([FILE_SHARE_LOG_FORMAT]);
        const line = formats[0].args.slice(1).join(' ');
        expect(line).not.toMatch(/\$(request\b|request_uri|uri|document_uri|args|arg_|query_string|is_args|http_referer)/);
        expect(line).toContain('"$request_method /file_share/- $server_protocol" $status $body_bytes_sent');
        for (const server of serversOn(site, 443)) {
          const share = location(server, '/file_share/')!;
          expect(argsOf(share.children, 'access_log')).toEqual([[NGINX_ACCESS_LOG, FILE_SHARE_LOG_FORMAT]]);
          expect(argsOf(share.children, 'error_log')).toEqual([[NGINX_ERROR_LOG, 'crit']]);
        }
      }
    });

    test('no file share location when the file share is disabled', () => {
      const spec = resolveSpec({ ...minimalSpec, components: { fileShare: { enabled: false } } });
      expect(renderNginxSite(spec)).not.toContain('file_share');
      expect(renderNginxSite(spec)).not.toContain('client_max_body_size');
    });

    test('GIVEN the web client off WHEN another path is requested THEN every 443 server answers 404 itself', () => {
      const off = resolveSpec({ ...fullSpec, web: { ...fullSpec.web, client: false } });
      for (const server of serversOn(renderNginxSite(off), 443)) {
        const root = location(server, '/')!;
        expect(root.children).toEqual([{ name: 'return', args: ['404'] }]);
        expect(location(server, '=', WEB_CLIENT_DOMAIN_MODULE_PATH)).toBeUndefined();
      }
    });

    test('GIVEN the web client on WHEN another path is requested THEN each domain serves the client\'s files on its own name only (404 on a component\'s), from disk, never through Prosody', () => {
      for (const domain of full.domains) {
        const server = httpsServerFor(renderNginxSite(full), domain.name);
        const root = location(server, '/')!;
        expect(named(root.children, 'if').map((g) => [g.args, g.children])).toEqual([[['($host', '!=', `${domain.name})`], [{ name: 'return', args: ['404'] }]]]);
        expect(argsOf(root.children, 'add_header')).toEqual(expect.arrayContaining([['X-Content-Type-Options', 'nosniff', 'always'], ['Strict-Transport-Security', HSTS_VALUE, 'always']]));
        const module = location(server, '=', WEB_CLIENT_DOMAIN_MODULE_PATH)!;
        expect(argsOf(module.children, 'return')).toEqual([['200', renderWebClientDomainModule(domain).trimEnd().replace(/\n/g, ' ')]]);
        for (const loc of [root, module]) expect(named(loc.children, 'proxy_pass')).toEqual([]);
        expect(argsOf(root.children, 'root')).toEqual([[WEB_CLIENT_SERVED_ROOT]]);
        expect(argsOf(root.children, 'try_files')).toEqual([['$uri', '$uri/', '=404']]);
        expect(argsOf(root.children, 'add_header')).toContainEqual(['Content-Security-Policy', webClientCsp(full, domain), 'always']);
      }
    });
  });

  describe('host-meta locations', () => {
    test.each([
      ['/.well-known/host-meta', 'application/xrd+xml'],
      ['/.well-known/host-meta.json', 'application/json'],
    ])('GIVEN a domain WHEN %s is requested THEN it is a static %s file with CORS open and HSTS kept', (p, type) => {
      for (const domain of full.domains) {
        const loc = location(httpsServerFor(renderNginxSite(full), domain.name), '=', p)!;
        expect(argsOf(loc.children, 'root')).toEqual([[`${HOST_META_ROOT}/${domain.name}`]]);
        expect(argsOf(loc.children, 'default_type')).toEqual([[type]]);
        expect(named(loc.children, 'types')).toEqual([{ name: 'types', args: [], children: [] }]);
        expect(argsOf(loc.children, 'add_header')).toEqual([
          ['Access-Control-Allow-Origin', '*', 'always'],
          ['Strict-Transport-Security', HSTS_VALUE, 'always'],
        ]);
        expect(named(loc.children, 'proxy_pass')).toEqual([]);
        // root + location path must land on the file the cloud-init renderer writes.
        const file = `${argsOf(loc.children, 'root')[0][0]}${p}`;
        const paths = hostMetaPaths(domain.name);
        expect([paths.xml, paths.json]).toContain(file);
      }
    });
  });

  describe('server names hash', () => {
    test('GIVEN the representative specs WHEN rendered THEN nginx defaults suffice and no sizing is emitted', () => {
      for (const spec of [minimal, full, closed]) {
        expect(serverNamesHashSizing(nginxServerNames(spec))).toEqual([]);
        expect(renderNginxSite(spec)).not.toContain('server_names_hash');
      }
    });

    test('GIVEN a name longer than 46 characters WHEN rendered THEN the bucket size grows so nginx can start', () => {
      const long = 'a-customer-with-a-rather-long-name.hosting.example';
      expect(serverNamesHashFits([long], 64, 512)).toBe(false);
      const site = renderNginxSite(resolveSpec({ ...minimalSpec, domains: [long], admins: [`admin@${long}`] }));
      expect(parseNginx(site).filter((n) => n.name !== 'server' && n.name !== 'log_format')).toEqual([{ name: 'server_names_hash_bucket_size', args: ['128'] }]);
    });

    test('GIVEN a 46-character name WHEN checked THEN it still fits the default bucket', () => {
      expect(serverNamesHashFits([`${'a'.repeat(42)}.net`], 64, 512)).toBe(true);
      expect(serverNamesHashFits([`${'a'.repeat(43)}.net`], 64, 512)).toBe(false);
    });

    // The search skips sizes and reduces keys in 32-bit chunks for speed; ngx_hash_init() written
    // out plainly, with BigInt keys, is what it must agree with.
    const names = (count: number, name: (i: number) => string) => Array.from({ length: count }, (_, i) => name(i));
    const namesOfDomains = (count: number) => {
      const domains = names(count, (i) => `customer-${String(i).padStart(4, '0')}.example-hosting.net`);
      return nginxServerNames(resolveSpec({ ...minimalSpec, domains, admins: [`admin@${domains[0]}`], droplet: MANY_DOMAINS_DROPLET }));
    };
    const nameSets: [string, string[]][] = [
      ['3 names', names(3, (i) => `d${i}.example`)],
      ['the 301 names of 100 domains (a larger table)', namesOfDomains(100)],
      ['the 901 names of 300 domains (larger buckets and table)', namesOfDomains(300)],
      ['300 short names', names(300, (i) => `d${i}.example`)],
      ['400 scattered names', names(400, (i) => `${((i * 2654435761) >>> 0).toString(36)}-club.${['org', 'net', 'de', 'co.uk'][i % 4]}`)],
      ['120 names over 46 characters', names(120, (i) => `a-customer-with-a-rather-long-name-${i}.hosting.example`)],
      ['600 customer names (past 512: two per bucket)', names(600, (i) => `conference.customer-${String(i).padStart(4, '0')}.example-hosting.net`)],
    ];

    test.each(nameSets)('GIVEN %s WHEN sized THEN the sizing is what ngx_hash_init() itself needs', (_what, set) => {
      expect(serverNamesHashSizing(set)).toEqual(referenceSizing(set));
    });

    test.each([
      ['two 24-byte entries fill the one bucket of 56 bytes', ['d0.example', 'd1.example'], true],
      ['three do not', ['d0.example', 'd1.example', 'd2.example'], false],
    ])('GIVEN %s WHEN the table may have only one bucket THEN serverNamesHashFits agrees with ngx_hash_init()', (_what, set, fits) => {
      expect(referenceFits(set, 64, 1)).toBe(fits);
      expect(serverNamesHashFits(set, 64, 1)).toBe(fits);
    });

    test.each(nameSets)('GIVEN %s WHEN checked at given sizes THEN serverNamesHashFits agrees with ngx_hash_init()', (_what, set) => {
      for (const [bucket, max] of [[64, 512], [64, 1024], [128, 512], [128, 2048], [256, 16384]]) {
        expect({ bucket, max, fits: serverNamesHashFits(set, bucket, max) }).toEqual({ bucket, max, fits: referenceFits(set, bucket, max) });
      }
    });
  });
});

/**
 * ngx_hash_init() (src/core/ngx_hash.c) for exact server names on a 64-bit build, written plainly:
 * each element takes a pointer and the name rounded up to a pointer, each bucket ends in a pointer,
 * and sizes are tried upward from nginx's start until one holds every key.
 */
function referenceFits(names: readonly string[], bucketSize: number, maxSize: number): boolean {
  const element = (name: string) => 8 + Math.ceil((name.length + 2) / 8) * 8;
  if (names.some((name) => bucketSize < element(name) + 8)) return false;
  const room = bucketSize - 8;
  let start = Math.floor(names.length / Math.floor(room / 16)) || 1;
  if (maxSize > 10000 && names.length > 0 && maxSize / names.length < 100) start = maxSize - 1000;
  // ngx_hash_key_lc(): key = key * 31 + lowercased byte, in a 64-bit unsigned integer.
  const keys = names.map((name) => [...Buffer.from(name.toLowerCase(), 'latin1')].reduce((key, byte) => BigInt.asUintN(64, key * 31n + BigInt(byte)), 0n));
  for (let size = start; size <= maxSize; size++) {
    const used = new Array<number>(size).fill(0);
    if (names.every((name, i) => (used[Number(keys[i] % BigInt(size))] += element(name)) <= room)) return true;
  }
  return false;
}

/** The sizing policy of serverNamesHashSizing (nginx's advice: a bucket for the longest name, then larger tables) over referenceFits. */
function referenceSizing(names: readonly string[]): { kind: string; name: string; args: number[] }[] {
  if (referenceFits(names, 64, 512)) return [];
  const longest = Math.max(...names.map((name) => 8 + Math.ceil((name.length + 2) / 8) * 8));
  let bucket = 64;
  while (bucket < (names.length > 512 ? 2 : 1) * longest + 8) bucket *= 2;
  for (; bucket <= 512; bucket *= 2) {
    for (let max = 512; max <= 32768; max *= 2) {
      if (referenceFits(names, bucket, max)) {
        return [
          ...(bucket !== 64 ? [{ kind: 'directive', name: 'server_names_hash_bucket_size', args: [bucket] }] : []),
          ...(max !== 512 ? [{ kind: 'directive', name: 'server_names_hash_max_size', args: [max] }] : []),
        ];
      }
    }
  }
  throw new Error('no sizing');
}

// ---------------------------------------------------------------------------------------------
// host-meta documents
// ---------------------------------------------------------------------------------------------

describe('renderHostMeta', () => {
  test('GIVEN BOSH and WebSocket WHEN rendered THEN the XRD lists both alt-connections for the domain', () => {
    expect(renderHostMeta(full, 'example.org').xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">',
        '  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://example.org/http-bind"/>',
        '  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://example.org/xmpp-websocket"/>',
        '</XRD>',
        '',
      ].join('\n'),
    );
  });

  test('GIVEN BOSH and WebSocket WHEN rendered THEN the JSON form carries the same links', () => {
    expect(JSON.parse(renderHostMeta(minimal, 'example.net').json)).toEqual({
      links: [
        { rel: 'urn:xmpp:alt-connections:xbosh', href: 'https://example.net/http-bind' },
        { rel: 'urn:xmpp:alt-connections:websocket', href: 'wss://example.net/xmpp-websocket' },
      ],
    });
  });

  test('GIVEN only WebSocket WHEN rendered THEN BOSH is not announced', () => {
    const docs = renderHostMeta(withWeb(minimal, { bosh: false }), 'example.net');
    expect(docs.xml).not.toContain('xbosh');
    expect(docs.xml).toContain('wss://example.net/xmpp-websocket');
    expect(JSON.parse(docs.json).links).toEqual([{ rel: 'urn:xmpp:alt-connections:websocket', href: 'wss://example.net/xmpp-websocket' }]);
  });

  test('GIVEN only BOSH WHEN rendered THEN WebSocket is not announced', () => {
    const docs = renderHostMeta(withWeb(minimal, { websocket: false }), 'example.net');
    expect(docs.xml).not.toContain('websocket');
    expect(JSON.parse(docs.json).links).toEqual([{ rel: 'urn:xmpp:alt-connections:xbosh', href: 'https://example.net/http-bind' }]);
  });

  test('GIVEN no web transport WHEN rendered THEN both documents are valid and empty', () => {
    const docs = renderHostMeta(closed, 'chat.example.com');
    expect(docs.xml).toContain('<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n</XRD>');
    expect(JSON.parse(docs.json)).toEqual({ links: [] });
  });

  test('GIVEN both web transports WHEN rendered THEN the XRD holds one Link for each', () => {
    expect(renderHostMeta(full, 'example.net').xml.match(/<Link /g)).toHaveLength(2);
  });

  testWith('xmllint')('GIVEN an XRD WHEN xmllint reads it THEN it is well formed XML', () => {
    const r = spawnSync('xmllint', ['--noout', '-'], { input: renderHostMeta(full, 'example.net').xml, encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('renderNginxFiles', () => {
  test('GIVEN several domains WHEN rendered THEN the map holds the site and a host-meta pair per domain at their real paths', () => {
    const files = renderNginxFiles(full);
    expect(Object.keys(files)).toEqual([
      NGINX_SITE,
      `${HOST_META_ROOT}/example.net/.well-known/host-meta`,
      `${HOST_META_ROOT}/example.net/.well-known/host-meta.json`,
      `${HOST_META_ROOT}/example.org/.well-known/host-meta`,
      `${HOST_META_ROOT}/example.org/.well-known/host-meta.json`,
      `${HOST_META_ROOT}/xn--bcher-kva.example/.well-known/host-meta`,
      `${HOST_META_ROOT}/xn--bcher-kva.example/.well-known/host-meta.json`,
    ]);
    expect(files[NGINX_SITE]).toBe(renderNginxSite(full));
    expect(files[hostMetaPaths('example.org').json]).toBe(renderHostMeta(full, 'example.org').json);
  });
});

// ---------------------------------------------------------------------------------------------
// The real nginx of each platform (1.26 on Debian 13, 1.22 on Debian 12): config test, then a
// running server on loopback.
//
// It is the droplet platform's nginx, with its modules and its /etc/nginx/mime.types, run inside a
// throwaway root of the platform's image (test/support/platform.ts), never whatever this machine
// has. The scratch trees live in the temp dir, which is at the same path inside; the network is
// this machine's, so the test reaches nginx on loopback as before.
// ---------------------------------------------------------------------------------------------

/** Why the platform's image cannot be used here, if it cannot: the real-nginx blocks then fail under CI and are skipped loudly elsewhere. */
const platformMissing = platformUnavailable();

/** `nginx -t` with `args`, inside the image: its status, and everything it said. */
function nginxTest(image: () => PlatformTools, args: readonly string[], errorLog: string): { status: number | null; said: string } {
  const r = image().run(['nginx', '-t', ...args]);
  return { status: r.status, said: `${r.stdout}${r.stderr}${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : ''}` };
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Stands in for Prosody's loopback HTTP port and records what nginx forwards. */
class FakeProsody {
  readonly received: Received[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('from-prosody');
    });
  });

  constructor() {
    this.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n');
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly peerCertificate?: tls.PeerCertificate;
}

interface Ask {
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly secure: boolean;
  readonly address?: '127.0.0.1' | '::1';
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: string;
}

/** One request to the nginx under test; only ever to loopback. */
function ask(a: Ask): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: a.address ?? '127.0.0.1',
      port: a.port,
      path: a.path,
      method: a.method ?? 'GET',
      headers: { host: a.host, ...(a.headers ?? {}) },
      agent: false,
      ...(a.secure ? { servername: net.isIP(a.host) ? undefined : a.host, rejectUnauthorized: false } : {}),
    };
    const req = (a.secure ? https : http).request(options, (res) => {
      const peerCertificate = a.secure ? (res.socket as tls.TLSSocket).getPeerCertificate() : undefined;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), peerCertificate }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout on ${a.path}`)));
    req.end(a.body);
  });
}

function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited early (${child.exitCode}):\n${log()}`));
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/** The nginx version of each platform, for the titles. */
const NGINX_VERSION: Readonly<Record<PlatformName, string>> = { 'debian-13': '1.26', 'debian-12': '1.22' };

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  const library = LIBRARY_PLATFORMS[platform.name as PlatformName];
  /** The platform's image, opened by the first test that needs it, closed after this platform's tests. */
  const image = platformToolsForFile(platform);

  describeUnless(platformMissing, `real nginx ${NGINX_VERSION[platform.name as PlatformName]} of ${library.label}`, () => {
    test(`is nginx ${NGINX_VERSION[platform.name as PlatformName]}`, () => {
      const r = image().run(['nginx', '-v']);
      expect(r.stderr).toMatch(new RegExp(`^nginx version: nginx/${NGINX_VERSION[platform.name as PlatformName].replace('.', '\\.')}\\.`));
    });

    const prosody = new FakeProsody();
    let prosodyPort = 0;
    let scratch = '';

    beforeAll(async () => {
      prosodyPort = await prosody.start();
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-constructs-nginx-'));
    });

    afterAll(async () => {
      await prosody.stop();
      if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    describe.each(representativeSpecs)('GIVEN the %s spec', (label, raw) => {
      let root = '';
      let spec: ResolvedSpec;
      let files: Record<string, string>;
      let httpPort = 0;
      let httpsPort = 0;
      let child: ChildProcess | undefined;
      let output = '';
      const log = (): string => `${output}${fs.existsSync(`${root}/error.log`) ? fs.readFileSync(`${root}/error.log`, 'utf8') : ''}`;

      /** Our on-host prefixes, mapped into the scratch tree; anything else is refused. */
      const relocate = (hostPath: string): string => {
        const prefixes: [string, string][] = [
          [NGINX_SITE, `${root}/conf.d/xmpp-constructs.conf`],
          [CERTS_DIR, `${root}/certs`],
          [ACME_WEBROOT, `${root}/acme`],
          [HOST_META_ROOT, `${root}/host-meta`],
          [dirname(BUNDLE_STATUS_FILE), `${root}/bundle-status`],
          [WEB_CLIENT_SERVED_ROOT, `${root}/web-client`],
          // Debian's logs, where the harness's nginx.conf writes its own.
          [dirname(NGINX_ACCESS_LOG), root],
        ];
        const hit = prefixes.find(([p]) => hostPath === p || hostPath.startsWith(`${p}/`));
        if (!hit) throw new Error(`the harness has no place for ${hostPath}`);
        return hit[1] + hostPath.slice(hit[0].length);
      };

      beforeAll(async () => {
        root = path.join(scratch, label);
        // The real Prosody port is replaced by the stand-in's; nothing else about the spec changes.
        const resolved = resolveSpec(onImage(raw, platform.image));
        spec = { ...resolved, ports: { ...resolved.ports, httpLoopback: prosodyPort } };
        files = renderNginxFiles(spec);
        httpPort = await freePort();
        httpsPort = await freePort();

        for (const [hostPath, content] of Object.entries(files)) {
          let text = content;
          if (hostPath === NGINX_SITE) {
            for (const p of [CERTS_DIR, ACME_WEBROOT, HOST_META_ROOT, WEB_CLIENT_SERVED_ROOT, dirname(BUNDLE_STATUS_FILE), dirname(NGINX_ACCESS_LOG)]) text = text.split(p).join(relocate(p));
            text = text
              .replace(/^(\s*listen )80\b/gm, `$1127.0.0.1:${httpPort}`)
              .replace(/^(\s*listen )\[::\]:80\b/gm, `$1[::1]:${httpPort}`)
              .replace(/^(\s*listen )443\b/gm, `$1127.0.0.1:${httpsPort}`)
              .replace(/^(\s*listen )\[::\]:443\b/gm, `$1[::1]:${httpsPort}`);
            // Nothing in the copy may still point at the real machine.
            expect(text).not.toMatch(/\s\/(etc|var|srv|run)\//);
          }
          const target = relocate(hostPath);
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.writeFileSync(target, text);
        }

        for (const domain of spec.domains) {
          const dir = relocate(`${CERTS_DIR}/${domain.name}`);
          fs.mkdirSync(dir, { recursive: true });
          execFileSync('openssl', [
            'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
            '-subj', `/CN=${domain.name}`,
            '-addext', `subjectAltName=${certificateNames(spec, domain).map((n) => `DNS:${n}`).join(',')}`,
            '-keyout', `${dir}/privkey.pem`, '-out', `${dir}/fullchain.pem`,
          ], { stdio: 'ignore' });
        }

        const challenge = relocate(`${ACME_WEBROOT}/.well-known/acme-challenge/token-1`);
        fs.mkdirSync(path.dirname(challenge), { recursive: true });
        fs.writeFileSync(challenge, `challenge-for-${label}`);

        // The http {} settings of Debian's stock nginx.conf that could collide with the site
        // (ssl_protocols, ssl_prefer_server_ciphers), with every path moved into the scratch tree.
        const temp = (name: string): string => `${root}/temp/${name}`;
        fs.mkdirSync(`${root}/temp`, { recursive: true });
        fs.writeFileSync(`${root}/nginx.conf`, [
          ...(process.getuid?.() === 0 ? ['user root;'] : []),
          'worker_processes 1;',
          `pid ${root}/nginx.pid;`,
          `error_log ${root}/error.log;`,
          'events { worker_connections 128; }',
          'http {',
          '    sendfile on;',
          '    tcp_nopush on;',
          '    types_hash_max_size 2048;',
          '    include /etc/nginx/mime.types;',
          '    default_type application/octet-stream;',
          '    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;',
          '    ssl_prefer_server_ciphers on;',
          `    access_log ${root}/access.log;`,
          '    gzip on;',
          `    client_body_temp_path ${temp('body')};`,
          `    proxy_temp_path ${temp('proxy')};`,
          `    fastcgi_temp_path ${temp('fastcgi')};`,
          `    uwsgi_temp_path ${temp('uwsgi')};`,
          `    scgi_temp_path ${temp('scgi')};`,
          `    include ${root}/conf.d/*.conf;`,
          '}',
          '',
        ].join('\n'));
      });

      afterAll(async () => {
        if (child?.pid !== undefined && child.exitCode === null) {
          const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
          process.kill(child.pid, 'SIGTERM');
          await exited;
        }
      });

      const nginxArgs = (): string[] => ['-p', `${root}/`, '-e', `${root}/error.log`, '-c', `${root}/nginx.conf`];

      test('WHEN nginx -t checks the tree THEN it passes without warnings', () => {
        const { status, said } = nginxTest(image, nginxArgs(), `${root}/error.log`);
        expect({ status, said }).toEqual({ status: 0, said: expect.stringContaining('test is successful') });
        expect(said).not.toMatch(/\[(warn|emerg|alert|crit|error)\]/);
      });

      describe('WHEN nginx runs', () => {
        beforeAll(async () => {
          child = image().start(['nginx', ...nginxArgs(), '-g', 'daemon off;']);
          child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
          child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
          await waitForPort(httpsPort, child, log);
          await waitForPort(httpPort, child, log);
        });

        const https443 = (host: string, p: string, extra: Partial<Ask> = {}): Promise<Reply> =>
          ask({ port: httpsPort, host, path: p, secure: true, ...extra });
        const http80 = (host: string, p: string, extra: Partial<Ask> = {}): Promise<Reply> =>
          ask({ port: httpPort, host, path: p, secure: false, ...extra });

        test('THEN every domain serves its host-meta pair with the right type, CORS and its own certificate', async () => {
          for (const domain of spec.domains) {
            const docs = renderHostMeta(spec, domain.name);
            for (const [p, type, body] of [
              ['/.well-known/host-meta', 'application/xrd+xml', docs.xml],
              ['/.well-known/host-meta.json', 'application/json', docs.json],
            ]) {
              const r = await https443(domain.name, p);
              expect({ status: r.status, type: r.headers['content-type'], cors: r.headers['access-control-allow-origin'] }).toEqual({ status: 200, type, cors: '*' });
              expect(r.headers['strict-transport-security']).toBe(HSTS_VALUE);
              expect(r.body).toBe(body);
              expect(r.peerCertificate?.subject.CN).toBe(domain.name);
            }
          }
        });

        test('THEN the primary domain (only) tells which configuration bundle runs, as plain text never cached, exactly when changes are applied in place', async () => {
          const status = 'applied 1111111111111111111111111111111111111111111111111111111111111111\n';
          fs.mkdirSync(relocate(dirname(BUNDLE_STATUS_FILE)), { recursive: true });
          fs.writeFileSync(relocate(BUNDLE_STATUS_FILE), status);
          const r = await https443(spec.primaryDomain, BUNDLE_STATUS_PATH);
          if (spec.configDelivery.channel !== 'spaces') {
            expect(r.status).toBe(404);
            return;
          }
          expect({ status: r.status, type: r.headers['content-type'], cache: r.headers['cache-control'], body: r.body }).toEqual({ status: 200, type: 'text/plain', cache: 'no-store', body: status });
          expect(r.headers['strict-transport-security']).toBe(HSTS_VALUE);
          for (const domain of spec.domains.slice(1)) expect((await https443(domain.name, BUNDLE_STATUS_PATH)).status).toBe(404);
        });

        test('THEN with the web client on, each domain serves its page with the strict policy, and its own domain module, on its own name; a component\'s name answers 404', async () => {
          const index = '<!DOCTYPE html><title>Chat</title>\n';
          fs.mkdirSync(relocate(WEB_CLIENT_SERVED_ROOT), { recursive: true });
          fs.writeFileSync(`${relocate(WEB_CLIENT_SERVED_ROOT)}/index.html`, index);
          for (const domain of spec.domains) {
            const page = await https443(domain.name, '/');
            const module = await https443(domain.name, WEB_CLIENT_DOMAIN_MODULE_PATH);
            const component = domain.components[0]?.host;
            if (!spec.web.client) {
              expect([page.status, module.status]).toEqual([404, 404]);
              continue;
            }
            // The server's HSTS holds for the module: its location adds no header of its own.
            expect(module.headers['strict-transport-security']).toBe(HSTS_VALUE);
            expect({ status: page.status, type: page.headers['content-type'], body: page.body, csp: page.headers['content-security-policy'], nosniff: page.headers['x-content-type-options'] })
              .toEqual({ status: 200, type: 'text/html', body: index, csp: webClientCsp(spec, domain), nosniff: 'nosniff' });
            expect(page.headers['strict-transport-security']).toBe(HSTS_VALUE);
            expect({ status: module.status, type: module.headers['content-type'], body: module.body })
              .toEqual({ status: 200, type: 'text/javascript; charset=utf-8', body: renderWebClientDomainModule(domain).trimEnd().replace(/\n/g, ' ') });
            expect((await https443(domain.name, '/nothing-here.js')).status).toBe(404);
            if (component !== undefined) expect((await https443(component, '/')).status).toBe(404);
          }
        });

        test('THEN IPv6 loopback is served too', async () => {
          const r = await https443(spec.primaryDomain, '/.well-known/host-meta.json', { address: '::1' });
          expect(r.status).toBe(200);
        });

        test('THEN HTTP/2 is offered by ALPN', async () => {
          const protocol = await new Promise<string | false>((resolve, reject) => {
            const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: spec.primaryDomain, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false }, () => {
              resolve(socket.alpnProtocol ?? false);
              socket.destroy();
            });
            socket.on('error', reject);
          });
          expect(protocol).toBe('h2');
        });

        test('THEN port 80 serves ACME challenges from the webroot and redirects the rest to https', async () => {
          const challenge = await http80(spec.primaryDomain, '/.well-known/acme-challenge/token-1');
          expect({ status: challenge.status, body: challenge.body }).toEqual({ status: 200, body: `challenge-for-${label}` });
          const missing = await http80(spec.primaryDomain, '/.well-known/acme-challenge/nope');
          expect(missing.status).toBe(404);
          for (const name of nginxServerNames(spec)) {
            const r = await http80(name, '/some/path?x=1');
            expect({ status: r.status, location: r.headers.location }).toEqual({ status: 301, location: `https://${name}/some/path?x=1` });
          }
        });

        test('THEN a request by bare IP on port 80 gets the redirect, not another site', async () => {
          const r = await http80('127.0.0.1', '/');
          expect({ status: r.status, location: r.headers.location }).toEqual({ status: 301, location: 'https://127.0.0.1/' });
        });

        test('THEN Prosody paths that are not exposed answer 404 without reaching Prosody', async () => {
          prosody.received.length = 0;
          // With the web client on, "/" is its page (the test above).
          for (const p of [...(spec.web.client ? [] : ['/']), '/admin', '/register_web', '/register/x', '/upload_sessions', '/push_notification', '/.well-known/acme-challenge/token-1']) {
            expect({ p, status: (await https443(spec.primaryDomain, p)).status }).toEqual({ p, status: 404 });
          }
          // A proxied prefix ending in "/" makes nginx itself redirect the bare name to it (with the
          // harness's port in the URL; on the droplet that is the omitted 443).
          const bare = await https443(spec.primaryDomain, '/file_share');
          expect({ status: bare.status, location: bare.headers.location }).toEqual(
            spec.fileShare.enabled
              ? { status: 301, location: `https://${spec.primaryDomain}:${httpsPort}/file_share/` }
              : { status: 404, location: undefined },
          );
          expect(prosody.received).toEqual([]);
        });

        test('THEN the invitation pages (landing page, its files, web registration, client logos) reach Prosody with Host and forwarding headers, or 404 where not served', async () => {
          const paths = ['/invites_page?Tok3n', '/invites_page/static/invite.js', '/register?t=Tok3n&c=dino', '/register_apps/assets/logos/dino.svg'];
          const served = invitationPageLocations(spec).length > 0;
          for (const p of paths) {
            prosody.received.length = 0;
            const r = await https443(spec.primaryDomain, p);
            expect({ p, status: r.status }).toEqual({ p, status: served ? 200 : 404 });
            expect(prosody.received.map((got) => got.url)).toEqual(served ? [p] : []);
            if (served) expect(prosody.received[0].headers).toEqual(expect.objectContaining({ host: spec.primaryDomain, 'x-forwarded-proto': 'https' }));
          }
        });

        test('THEN the libraries the invitation pages load are Debian\'s own files, served by nginx as CSS and JavaScript, or 404 where no pages are served', async () => {
          const served = servesInvitationPages(spec);
          prosody.received.length = 0;
          for (const [p, type] of [['/share/bootstrap4/css/bootstrap.min.css', 'text/css'], ['/share/jquery/jquery.min.js', 'application/javascript'], ['/share/bootstrap4/js/bootstrap.min.js', 'application/javascript']]) {
            const r = await https443(spec.primaryDomain, p);
            if (!served) {
              expect({ p, status: r.status }).toEqual({ p, status: 404 });
              continue;
            }
            const file = image().run(['cat', `/usr/share/javascript/${p.slice('/share/'.length)}`]);
            expect({ p, status: r.status, type: r.headers['content-type'], sameBytes: r.body === file.stdout }).toEqual({ p, status: 200, type, sameBytes: true });
            expect(file.stdout.length).toBeGreaterThan(10000);
          }
          // Nothing outside the libraries' directory: not through the alias's prefix either (with
          // "location /share", nginx would map /share../ to /usr/share/javascript/../).
          expect(image().run(['test', '-f', '/usr/share/doc/nginx/copyright']).status).toBe(0);
          expect((await https443(spec.primaryDomain, '/share../doc/nginx/copyright')).status).toBe(404);
          expect(prosody.received).toEqual([]);
        });

        test('THEN BOSH reaches Prosody with Host and forwarding headers, or 404 when off', async () => {
          prosody.received.length = 0;
          const r = await https443(spec.primaryDomain, '/http-bind', { method: 'POST', body: '<body rid="1"/>', headers: { 'content-type': 'text/xml' } });
          if (!spec.web.bosh) {
            expect(r.status).toBe(404);
            expect(prosody.received).toEqual([]);
            return;
          }
          expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: 'from-prosody' });
          expect(prosody.received).toHaveLength(1);
          const [got] = prosody.received;
          expect({ url: got.url, body: got.body }).toEqual({ url: '/http-bind', body: '<body rid="1"/>' });
          expect(got.headers).toEqual(expect.objectContaining({ host: spec.primaryDomain, 'x-forwarded-proto': 'https', 'x-forwarded-for': '127.0.0.1' }));
        });

        test('THEN a WebSocket upgrade reaches Prosody with Upgrade and Connection, or 404 when off', async () => {
          prosody.received.length = 0;
          const status = await new Promise<number>((resolve, reject) => {
            const req = https.request({
              host: '127.0.0.1', port: httpsPort, path: '/xmpp-websocket', servername: spec.primaryDomain, rejectUnauthorized: false, agent: false,
              headers: {
                host: spec.primaryDomain, connection: 'Upgrade', upgrade: 'websocket',
                'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'xmpp',
              },
            });
            req.on('upgrade', (res, socket) => {
              socket.destroy();
              resolve(res.statusCode ?? 0);
            });
            req.on('response', (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            });
            req.on('error', reject);
            req.end();
          });
          if (!spec.web.websocket) {
            expect(status).toBe(404);
            expect(prosody.received).toEqual([]);
            return;
          }
          expect(status).toBe(101);
          expect(prosody.received).toHaveLength(1);
          expect(prosody.received[0].headers).toEqual(expect.objectContaining({
            host: spec.primaryDomain, upgrade: 'websocket', connection: 'upgrade', 'x-forwarded-proto': 'https',
          }));
        });

        test('THEN uploads to the component host reach Prosody, and bodies over the limit are refused with 413', async () => {
          prosody.received.length = 0;
          const uploadHost = spec.domains[0].components.find((c) => c.kind === 'fileShare')?.host ?? spec.primaryDomain;
          const put = await https443(uploadHost, '/file_share/slot-1/photo.jpg', { method: 'PUT', body: 'jpeg-bytes', headers: { 'content-type': 'image/jpeg' } });
          if (!spec.fileShare.enabled) {
            expect(put.status).toBe(404);
            expect(prosody.received).toEqual([]);
            return;
          }
          expect(put.status).toBe(200);
          expect(prosody.received).toHaveLength(1);
          expect(prosody.received[0]).toEqual(expect.objectContaining({ method: 'PUT', url: '/file_share/slot-1/photo.jpg', body: 'jpeg-bytes' }));
          expect(prosody.received[0].headers).toEqual(expect.objectContaining({ host: uploadHost, 'x-forwarded-proto': 'https' }));

          prosody.received.length = 0;
          // nginx judges the declared length before reading any of the body.
          const tooBig = await https443(uploadHost, '/file_share/slot-2/big.bin', {
            method: 'PUT', headers: { 'content-length': String(spec.fileShare.fileSizeLimitBytes + 1) },
          });
          expect(tooBig.status).toBe(413);
          expect(prosody.received).toEqual([]);
        });

        test('THEN the access log keeps every request but no upload\'s URL, and the error log names none either', async () => {
          const uploadHost = spec.domains[0].components.find((c) => c.kind === 'fileShare')?.host ?? spec.primaryDomain;
          const secret = `secret-slot-${label}`;
          const marker = `/.well-known/host-meta?logged-${label}`;
          expect((await https443(spec.primaryDomain, marker)).status).toBe(200);
          const get = await https443(uploadHost, `/file_share/${secret}/photo.jpg?token=${secret}`);
          const tooBig = await https443(uploadHost, `/file_share/${secret}-big/big.bin`, { method: 'PUT', headers: { 'content-length': String(spec.fileShare.fileSizeLimitBytes + 1) } });
          const accessLog = fs.readFileSync(`${root}/access.log`, 'utf8');
          // Other requests are logged with their path, as before.
          expect(accessLog).toContain(`"GET ${marker} HTTP/1.1" 200`);
          if (spec.fileShare.enabled) {
            expect(accessLog).not.toContain(secret);
            expect(fs.readFileSync(`${root}/error.log`, 'utf8')).not.toContain(secret);
            expect({ get: get.status, tooBig: tooBig.status }).toEqual({ get: 200, tooBig: 413 });
            // Still logged: who, when, the method, the outcome and the size, under a path of "-".
            expect(accessLog).toMatch(/"GET \/file_share\/- HTTP\/1\.1" 200 \d+ "-" "/);
            expect(accessLog).toMatch(/"PUT \/file_share\/- HTTP\/1\.1" 413 /);
          } else {
            // No file share, no files: the path is logged like any other.
            expect(get.status).toBe(404);
          }
        });
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  // Many domains on one host: the sizing nginx needs, checked by nginx itself
  // ---------------------------------------------------------------------------------------------

  describeUnless(platformMissing, `GIVEN 1,000 domains on one host (3,000 names with calls off), ${library.label}'s nginx`, () => {
    const domains = Array.from({ length: 1000 }, (_, i) => `customer-${String(i).padStart(4, '0')}.example-hosting.net`);
    const spec = resolveSpec(onImage({ ...minimalSpec, domains, admins: [`admin@${domains[0]}`], calls: { enabled: false }, droplet: MANY_DOMAINS_DROPLET }, platform.image));
    let root: string;

    beforeAll(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'xc-nginx-many-'));
      // One certificate stands in for all: nginx -t loads every one, which is all that is checked here.
      fs.mkdirSync(`${root}/cert`);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=many',
        '-keyout', `${root}/cert/privkey.pem`, '-out', `${root}/cert/fullchain.pem`], { stdio: 'ignore' });
      fs.mkdirSync(`${root}/certs`);
      for (const d of domains) fs.symlinkSync(`${root}/cert`, `${root}/certs/${d}`);
      const site = renderNginxSite(spec).split(`${CERTS_DIR}/`).join(`${root}/certs/`).split(HOST_META_ROOT).join(`${root}/host-meta`).split(ACME_WEBROOT).join(`${root}/acme`)
        .replace(/^(\s*listen )(80|443)\b/gm, '$1127.0.0.1:1$2').replace(/^(\s*listen )\[::\]:(80|443)\b/gm, '$1[::1]:1$2');
      fs.writeFileSync(`${root}/site.conf`, site);
      fs.writeFileSync(`${root}/nginx.conf`, [`pid ${root}/nginx.pid;`, `error_log ${root}/error.log;`, 'events {}', `http { access_log off; include ${root}/site.conf; }`, ''].join('\n'));
    });
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    test('THEN the site sizes the server names hash, and nginx -t accepts it without a warning', () => {
      expect(renderNginxSite(spec)).toMatch(/^server_names_hash_(bucket|max)_size \d+;$/m);
      const { status, said } = nginxTest(image, ['-p', `${root}/`, '-e', `${root}/error.log`, '-c', `${root}/nginx.conf`], `${root}/error.log`);
      expect({ status, said }).toEqual({ status: 0, said: expect.stringContaining('test is successful') });
      expect(said).not.toMatch(/\[(warn|emerg|alert|crit|error)\]/);
    });

    test('WHEN the sizing is left out THEN nginx itself warns (so the test above can fail)', () => {
      fs.writeFileSync(`${root}/site.conf`, fs.readFileSync(`${root}/site.conf`, 'utf8').replace(/^server_names_hash_\w+ \d+;$/gm, ''));
      const r = image().run(['nginx', '-t', '-p', `${root}/`, '-e', `${root}/error.log`, '-c', `${root}/nginx.conf`]);
      expect(`${r.stdout}${r.stderr}`).toMatch(/could not build (optimal )?server_names_hash/);
    });
  });
});
