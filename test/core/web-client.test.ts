import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { renderHostFiles } from '../../lib/core/cloud-init';
import { renderHostEnv } from '../../lib/core/host-scripts';
import { ResolvedDomain, XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import {
  npmIntegrityOf,
  npmTarballUrl,
  renderWebClientDomainModule,
  renderWebClientIndex,
  renderWebClientModule,
  WEB_CLIENT_INDEX,
  WEB_CLIENT_MODULE,
  WEB_CLIENT_PACKAGE,
  WEB_CLIENT_SCRIPT,
  WEB_CLIENT_SERVICE,
  WEB_CLIENT_TIMER,
  renderWebClientService,
  renderWebClientTimer,
  webClientCsp,
  webClientDomain,
} from '../../lib/core/web-client';
import { minimalSpec } from '../support/specs';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { testUnless } from '../support/tools';

const ROOT = join(__dirname, '..', '..');

describe('the pinned web client', () => {
  test('GIVEN the pin WHEN compared with the lockfile THEN it is the exact release and integrity npm installed as the devDependency (so an upgrade of one without the other fails here)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    expect(manifest.devDependencies[WEB_CLIENT_PACKAGE.name]).toBe(WEB_CLIENT_PACKAGE.version);
    const locked = lock.packages[`node_modules/${WEB_CLIENT_PACKAGE.name}`];
    expect({ version: locked.version, integrity: locked.integrity, license: locked.license })
      .toEqual({ version: WEB_CLIENT_PACKAGE.version, integrity: WEB_CLIENT_PACKAGE.integrity, license: WEB_CLIENT_PACKAGE.license });
    expect(npmTarballUrl(WEB_CLIENT_PACKAGE)).toBe('https://registry.npmjs.org/converse.js/-/converse.js-14.0.0.tgz');
  });

  test('GIVEN the pinned integrity WHEN the installer turns it into the digest sha512sum prints THEN it is the same digest (and a tarball of other bytes differs)', () => {
    const script = readFileSync(join(ROOT, 'lib', 'host', 'web-client.sh'), 'utf8');
    const conversion = /^\s*pinned=\$\((.*)\)$/m.exec(script)![1];
    const bytes = Buffer.from('a tarball');
    const integrity = npmIntegrityOf(bytes);
    const r = spawnSync('bash', ['-c', `set -euo pipefail; echo "$(${conversion})"`], { env: { ...process.env, WEB_CLIENT_INTEGRITY: integrity }, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(createHash('sha512').update(bytes).digest('hex'));
    expect(npmIntegrityOf(Buffer.from('another tarball'))).not.toBe(integrity);
  });
});

describe('the page and its modules', () => {
  test('GIVEN the page WHEN read THEN every script is an external module of its own origin, and nothing names another origin', () => {
    const page = renderWebClientIndex();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => [m[1].trim(), m[2]])).toEqual([['type="module" src="/converse/converse.min.js"', ''], ['type="module" src="/web-client.js"', '']]);
    expect(page).not.toMatch(/https?:\/\/|\/\/[a-z]/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/<style|style=/i);
  });

  test('GIVEN the module WHEN read THEN it imports only from its own origin, finds transports through host-meta, turns OMEMO on and keeps media to the own upload service', () => {
    const module = renderWebClientModule();
    expect([...module.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['/web-client-domain.js', '/converse/converse.min.js']);
    expect(module).toMatch(/fetch\('\/\.well-known\/host-meta\.json'\)/);
    expect(module).toMatch(/websocket === undefined \? \{ bosh_service_url: link\('urn:xmpp:alt-connections:xbosh'\) \} : \{ websocket_url: websocket \}/);
    expect(module).toMatch(/omemo_default: true/);
    expect(module).toMatch(/locked_domain: names\.domain/);
    // One URL only, a link to the client's source, which the page never loads.
    expect([...module.matchAll(/https?:\/\/[^'"\s]*/g)].map((m) => m[0])).toEqual(['https://github.com/conversejs/converse.js']);
    expect(module).toMatch(/customElements\.define\('converse-footer'/);
  });

  test('GIVEN every setting of the pinned Converse whose default names another server WHEN the module is read THEN it sets each one itself, but for a link users may follow and images system emojis replace', () => {
    // Converse's own sources, as npm installed the pinned release (the devDependency).
    const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (['tests', 'dist', 'types'].includes(e.name) ? [] : sources(join(dir, e.name))) : e.name.endsWith('.js') ? [join(dir, e.name)] : []);
    const thirdParty = new Map<string, string>();
    for (const file of sources(join(__dirname, '..', '..', 'node_modules', 'converse.js', 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^\s*'?([a-z_0-9]+)'?\s*:\s*'(https?:\/\/[^']+|[a-z0-9.-]+@[a-z0-9.-]+)'/gm)) thirdParty.set(m[1], m[2]);
    }
    expect(thirdParty.get('muc_search_service')).toBe('api@search.jabber.network');
    const module = renderWebClientModule();
    const unset = [...thirdParty.keys()].filter((setting) => !new RegExp(`^\\s*${setting}: `, 'm').test(module)).sort();
    // A geo: link opens OpenStreetMap only when clicked; with use_system_emojis no emoji image loads.
    expect(unset).toEqual(['emoji_image_path', 'geouri_replacement']);
    expect(module).toMatch(/^\s*use_system_emojis: true,$/m);
    expect(module).toMatch(/^\s*muc_search_service: names\.domain,$/m);
  });

  const domainOf = (spec: XmppServiceSpec, i = 0): ResolvedDomain => resolveSpec(spec).domains[i];

  test.each<[string, XmppServiceSpec, number, object]>([
    ['the minimal spec', minimalSpec, 0, { domain: 'example.net', upload: 'upload.example.net', groupChat: 'conference.example.net' }],
    ['an internationalised further domain (its XMPP name is Unicode)', { ...minimalSpec, domains: ['example.net', 'xn--bcher-kva.example'] }, 1,
      { domain: 'bücher.example', upload: 'upload.xn--bcher-kva.example', groupChat: 'conference.xn--bcher-kva.example' }],
    ['no upload or group chat service', { ...minimalSpec, components: { fileShare: { enabled: false }, groupChat: { enabled: false } } }, 0, { domain: 'example.net' }],
  ])('GIVEN %s WHEN the domain module is rendered THEN it names the domain as XMPP addresses carry it and its services as DNS does', (_why, spec, i, expected) => {
    expect(webClientDomain(domainOf(spec, i))).toEqual(expected);
    const module = renderWebClientDomainModule(domainOf(spec, i));
    expect(module).toMatch(/^export default \{.*\};$/);
    expect(JSON.parse(module.slice('export default '.length, -1))).toEqual(expected);
  });

  test.each<[string, XmppServiceSpec, RegExp[], RegExp[]]>([
    ['everything on', minimalSpec, [/connect-src 'self' wss:\/\/example\.net https:\/\/upload\.example\.net;/, /img-src 'self' data: blob: https:\/\/upload\.example\.net;/], []],
    ['no upload service', { ...minimalSpec, components: { fileShare: { enabled: false } } }, [/connect-src 'self' wss:\/\/example\.net;/], [/upload/]],
    ['BOSH only', { ...minimalSpec, web: { websocket: false } }, [/connect-src 'self' https:\/\/upload\.example\.net;/], [/wss:/]],
  ])('GIVEN %s WHEN the policy is written THEN it allows its own origin and services only', (_why, spec, present, absent) => {
    const csp = webClientCsp(resolveSpec(spec), domainOf(spec));
    expect(csp).toMatch(/^default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; /);
    expect(csp).toMatch(/frame-ancestors 'none'; base-uri 'none'; form-action 'self'$/);
    expect(csp).not.toMatch(/'unsafe-eval'|\*|http:|script-src[^;]*'unsafe-inline'/);
    for (const p of present) expect(csp).toMatch(p);
    for (const a of absent) expect(csp).not.toMatch(a);
  });
});

describe('on the host', () => {
  test('GIVEN the client on WHEN the host is rendered THEN host.env names the release and its integrity, the installer downloads exactly the registry\'s tarball of it, and the installer, its timer, the page and module travel', () => {
    const spec = resolveSpec(minimalSpec);
    const env = renderHostEnv(spec);
    expect(env).toContain("WEB_CLIENT='1'");
    expect(env).toContain(`WEB_CLIENT_VERSION='${WEB_CLIENT_PACKAGE.version}'`);
    expect(env).toContain(`WEB_CLIENT_INTEGRITY='${WEB_CLIENT_PACKAGE.integrity}'`);
    const script = readFileSync(join(ROOT, 'lib', 'host', 'web-client.sh'), 'utf8');
    const url = /^url="(.*)"$/m.exec(script)![1];
    expect(url.replace('$WEB_CLIENT_VERSION', WEB_CLIENT_PACKAGE.version)).toBe(npmTarballUrl(WEB_CLIENT_PACKAGE));
    const paths = renderHostFiles(spec).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([WEB_CLIENT_INDEX, WEB_CLIENT_MODULE, WEB_CLIENT_SCRIPT, WEB_CLIENT_TIMER]));
  });

  test('GIVEN the client off WHEN the host is rendered THEN host.env says so and none of its files travel', () => {
    const spec = resolveSpec({ ...minimalSpec, web: { client: false } });
    expect(renderHostEnv(spec)).toContain("WEB_CLIENT='0'");
    expect(renderHostEnv(spec)).not.toContain('WEB_CLIENT_VERSION');
    const paths = renderHostFiles(spec).map((f) => f.path);
    for (const p of [WEB_CLIENT_INDEX, WEB_CLIENT_MODULE, WEB_CLIENT_SCRIPT, WEB_CLIENT_TIMER]) expect(paths).not.toContain(p);
  });
});

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  /** The platform's image, opened by the first test that needs it, closed after this platform's tests. */
  const image = platformToolsForFile(platform);

  testUnless(platformUnavailable())('THEN the platform\'s systemd accepts the installer\'s service and the timer that retries it', () => {
    const r = image().verifyUnits([
      [WEB_CLIENT_SCRIPT, readFileSync(join(ROOT, 'lib', 'host', 'web-client.sh'), 'utf8'), 0o755],
      [WEB_CLIENT_SERVICE, renderWebClientService(), 0o644],
      [WEB_CLIENT_TIMER, renderWebClientTimer(), 0o644],
    ], ['xmpp-constructs-web-client.service', 'xmpp-constructs-web-client.timer']);
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
