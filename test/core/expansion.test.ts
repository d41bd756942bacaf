import { writeFileSync } from 'fs';
import { join } from 'path';
import { renderExpandedFiles, renderHostFiles } from '../../lib/core/cloud-init';
import {
  DOMAIN_PLACEHOLDER,
  DomainFiles,
  domainsList,
  DOMAINS_LIST,
  DomainTemplate,
  EACH_DOMAIN_BEGIN,
  EACH_DOMAIN_END,
  eachDomainSection,
  expandDomainFiles,
  expandDomainTemplate,
  expandTemplate,
  furtherDomains,
  renderDomainFilesTemplates,
  renderDomainTemplate,
  renderExpandScript,
  templatePath,
  xmppJid,
  xmppName,
} from '../../lib/core/expansion';
import { certificatesList, CERTIFICATES_LIST, EXPANDED_FILES, HOST_META_FILES } from '../../lib/core/host-scripts';
import { hostMetaFiles, nginxSite, renderNginxFiles } from '../../lib/core/nginx';
import { NGINX_SITE, PROSODY_CONFIG } from '../../lib/core/paths';
import { prosodyConfig, renderProsodyConfig } from '../../lib/core/prosody';
import { certificateNames, ResolvedDomain, ResolvedSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { PLATFORMS, PlatformTools, platformToolsForFile, platformUnavailable } from '../support/platform';
import { fullSpec, minimalSpec, onImage, representativeSpecs } from '../support/specs';
import { makeTempDir, removeDir, run, RunResult, testUnless, testWith } from '../support/tools';

/**
 * The expander runs on the droplet, so it is run here by the droplet platform's bash and awk
 * (Debian's mawk, not whatever awk this machine has), inside a throwaway root of the platform's
 * image (test/support/platform.ts); the test's temp dir is at the same path inside. shellcheck, a
 * checking tool that never reaches a droplet, runs here.
 */
const platformMissing = platformUnavailable();
/** For the tests that run the expander: without the platform's image they fail under CI, and are skipped with a warning elsewhere. */
const onPlatform = testUnless(platformMissing);

const section = (block: string) => `${EACH_DOMAIN_BEGIN}\n${block}${EACH_DOMAIN_END}\n`;

describe('expandTemplate', () => {
  test.each([
    { name: 'no section', template: 'a\nb\n', domains: ['x.example'], expected: 'a\nb\n' },
    { name: 'empty template', template: '', domains: ['x.example'], expected: '' },
    { name: 'a section and no domains', template: `head\n${section('@DOMAIN@ block\n')}tail\n`, domains: [], expected: 'head\ntail\n' },
    { name: 'one domain', template: `head\n${section('v "@DOMAIN@"\n')}`, domains: ['x.example'], expected: 'head\nv "x.example"\n' },
    {
      name: 'three domains, the placeholder twice on a line, blank lines kept',
      template: section('server @DOMAIN@ up.@DOMAIN@\n\n'),
      domains: ['a.example', 'b-c.example', 'xn--bcher-kva.example'],
      expected: 'server a.example up.a.example\n\nserver b-c.example up.b-c.example\n\nserver xn--bcher-kva.example up.xn--bcher-kva.example\n\n',
    },
    { name: 'two sections', template: `${section('1 @DOMAIN@\n')}mid\n${section('2 @DOMAIN@\n')}`, domains: ['a.example', 'b.example'], expected: '1 a.example\n1 b.example\nmid\n2 a.example\n2 b.example\n' },
    { name: 'a placeholder outside a section is left alone', template: '@DOMAIN@\n', domains: ['a.example'], expected: '@DOMAIN@\n' },
    {
      name: 'the XMPP name beside the name',
      template: section('VirtualHost "@XMPP_DOMAIN@" -- https://@DOMAIN@/ up.@XMPP_DOMAIN@\n'),
      domains: ['a.example', 'xn--bcher-kva.example', 'up.xn--9ca.xn--bcher-kva.example'],
      expected: 'VirtualHost "a.example" -- https://a.example/ up.a.example\nVirtualHost "bücher.example" -- https://xn--bcher-kva.example/ up.bücher.example\nVirtualHost "up.é.bücher.example" -- https://up.xn--9ca.xn--bcher-kva.example/ up.up.é.bücher.example\n',
    },
  ])('GIVEN $name THEN it expands to exactly the expected text', ({ template, domains, expected }) => {
    expect(expandTemplate(template, domains)).toBe(expected);
  });

  test.each([
    { name: 'no final newline', template: 'a', message: /ends with a newline/ },
    { name: 'an unterminated section', template: `${EACH_DOMAIN_BEGIN}\nx\n`, message: /without "@@@ end"/ },
  ])('GIVEN $name THEN it refuses, saying why', ({ template, message }) => {
    expect(() => expandTemplate(template, [])).toThrow(message);
  });

  test('GIVEN a block without its final newline THEN eachDomainSection refuses it', () => {
    expect(() => eachDomainSection('x')).toThrow(/must end with a newline/);
  });
});

describe('xmppName and xmppJid', () => {
  test.each([
    ['an ASCII name', 'example.net', 'example.net'],
    ['an internationalised name', 'xn--bcher-kva.example', 'bücher.example'],
    ['a component of one', 'share.xmpp.xn--bcher-kva.example', 'share.xmpp.bücher.example'],
    ['A-labels of other scripts', 'xn--hxajbheg2az3al.xn--jxalpdlp', 'παράδειγμα.δοκιμή'],
    ['the template placeholder', 'share.@DOMAIN@', 'share.@XMPP_DOMAIN@'],
  ])('GIVEN %s THEN xmppName is its U-label form', (_name, name, expected) => {
    expect(xmppName(name)).toBe(expected);
    expect(xmppJid(`alice@${name}`)).toBe(`alice@${expected}`);
  });

  test('GIVEN domains THEN domains.list gives the XMPP name only where it differs', () => {
    expect(domainsList(['example.net', 'xn--bcher-kva.example'])).toBe('example.net\nxn--bcher-kva.example bücher.example\n');
  });
});

describe('a DomainTemplate', () => {
  const spec = resolveSpec(fullSpec);
  const file: DomainTemplate = {
    shared: { head: 'head\n', between: 'between\n', tail: 'tail\n' },
    perDomain: (d: ResolvedDomain) => `block ${d.name} ${d.components.map((c) => c.host).join(' ')}\n\n`,
  };
  const components = (domain: string) => spec.domains[0].components.map((c) => `${c.host.slice(0, -spec.primaryDomain.length)}${domain}`).join(' ');

  test('WHEN rendered THEN the template holds the primary\'s block written out and the placeholder\'s between the markers, nothing else', () => {
    expect(renderDomainTemplate(file, spec)).toBe(
      `head\nblock example.net ${components('example.net')}\n\nbetween\n${section(`block @DOMAIN@ ${components('@DOMAIN@')}\n\n`)}tail\n`,
    );
  });

  test('WHEN expanded THEN every further domain gets its block after `between`, in order', () => {
    const blocks = furtherDomains(spec).map((d) => `block ${d} ${components(d)}\n\n`).join('');
    expect(expandDomainTemplate(file, spec)).toBe(`head\nblock example.net ${components('example.net')}\n\nbetween\n${blocks}tail\n`);
  });

  test.each([
    { name: 'a head', part: { shared: { ...file.shared, head: 'head' } }, message: /the head must be whole lines/ },
    { name: 'a part between the blocks', part: { shared: { ...file.shared, between: 'x' } }, message: /the part between the blocks must be whole lines/ },
    { name: 'a tail', part: { shared: { ...file.shared, tail: 'x' } }, message: /the tail must be whole lines/ },
    { name: 'a block', part: { perDomain: () => 'x' }, message: /block must (be whole lines|end with a newline)/ },
  ])('GIVEN $name without its final newline THEN rendering refuses it', ({ part, message }) => {
    expect(() => renderDomainTemplate({ ...file, ...part }, spec)).toThrow(message);
  });
});

describe('DomainFiles', () => {
  const spec = resolveSpec(fullSpec);
  const files: DomainFiles = { perDomain: (d) => ({ [`/srv/${d.name}/a`]: `a ${d.name}\n`, [`/srv/${d.name}/b`]: `b ${d.name}\n` }) };

  test('WHEN rendered THEN the templates are one domain\'s files with @DOMAIN@ in path and content', () => {
    expect(renderDomainFilesTemplates(files, spec)).toEqual({ '/srv/@DOMAIN@/a': 'a @DOMAIN@\n', '/srv/@DOMAIN@/b': 'b @DOMAIN@\n' });
  });

  test('WHEN expanded THEN every domain, the primary first, has its files, in order', () => {
    const expanded = expandDomainFiles(files, spec);
    expect(Object.keys(expanded)).toEqual(spec.domains.flatMap((d) => [`/srv/${d.name}/a`, `/srv/${d.name}/b`]));
    expect(expanded).toEqual(Object.assign({}, ...spec.domains.map((d) => files.perDomain(d))));
  });
});

/** Runs the host's expander on `template` with `domains` as domains.list, with the platform's bash. */
function expandOnHost(image: () => PlatformTools, dir: string, template: string, domains: readonly string[]): RunResult {
  const script = join(dir, 'expand');
  writeFileSync(script, renderExpandScript(), { mode: 0o755 });
  writeFileSync(join(dir, 'template'), template);
  writeFileSync(join(dir, 'domains.list'), domainsList(domains));
  return image().run(['bash', script, join(dir, 'template'), join(dir, 'domains.list')]);
}

const thousand = Array.from({ length: 1000 }, (_, i) => `customer-${i}.example`);

describe.each(Object.values(PLATFORMS))('the host\'s expander (awk, as on the droplet), on $name', (platform) => {
  /** The platform's image, opened by the first test that needs it, closed after this platform's tests. */
  const image = platformToolsForFile(platform);
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('expand');
  });
  afterAll(() => removeDir(dir));

  const specTemplates = representativeSpecs.flatMap(([name, raw]) =>
    renderHostFiles(resolveSpec(onImage(raw, platform.image)))
      .filter((f) => f.path.startsWith(templatePath('/')) && f.content.includes(EACH_DOMAIN_BEGIN))
      .map((f) => ({ name: `${name} spec's ${f.path}`, template: f.content })),
  );

  onPlatform.each([
    { name: 'a section between head and tail', template: `head\n${section('v "@DOMAIN@" @DOMAIN@\n\n')}tail\n` },
    { name: 'two sections', template: `${section('1 @DOMAIN@\n')}mid\n${section('2 @DOMAIN@\n')}` },
    { name: 'both names', template: section('VirtualHost "@XMPP_DOMAIN@" -- https://@DOMAIN@/\n') },
    ...specTemplates,
  ])('GIVEN $name THEN it writes byte for byte what expandTemplate does, for 0, 3 and 1,000 domains', ({ template }) => {
    for (const domains of [[], ['a.example', 'b-c.example', 'xn--bcher-kva.example'], thousand]) {
      const r = expandOnHost(image, dir, template, domains);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toBe(expandTemplate(template, domains));
    }
  });

  onPlatform('GIVEN an unterminated section THEN it fails, naming it', () => {
    const r = expandOnHost(image, dir, `${EACH_DOMAIN_BEGIN}\nx\n`, ['a.example']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`unterminated ${EACH_DOMAIN_BEGIN}`);
  });

  onPlatform('GIVEN a missing domain list THEN it fails, naming the file', () => {
    writeFileSync(join(dir, 'expand'), renderExpandScript(), { mode: 0o755 });
    const r = image().run(['bash', join(dir, 'expand'), join(dir, 'expand'), join(dir, 'nothing-here')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`cannot read domain list ${join(dir, 'nothing-here')}`);
  });

  testWith('shellcheck')('THEN shellcheck finds nothing in it', () => {
    writeFileSync(join(dir, 'expand.sh'), renderExpandScript());
    const r = run('shellcheck', ['-s', 'bash', join(dir, 'expand.sh')]);
    expect(r.stdout).toBe('');
  });
});

/** The files as the host has them after provisioning: each template expanded with domains.list. */
function expandedFromUserData(spec: ResolvedSpec): Record<string, string> {
  const byPath = new Map(renderHostFiles(spec).map((f) => [f.path, f.content]));
  const domains = byPath.get(DOMAINS_LIST)!.split('\n').filter(Boolean).map((line) => line.split(' ')[0]);
  const files: Record<string, string> = {};
  for (const { path } of EXPANDED_FILES) files[path] = expandTemplate(byPath.get(templatePath(path))!, domains);
  for (const d of [spec.primaryDomain, ...domains]) {
    for (const pattern of HOST_META_FILES) files[pattern.split(DOMAIN_PLACEHOLDER).join(d)] = byPath.get(templatePath(pattern))!.split(DOMAIN_PLACEHOLDER).join(d);
  }
  return files;
}

describe.each(representativeSpecs)('per-domain files of the %s spec', (_name, raw) => {
  const spec = resolveSpec(raw);

  test('THEN domains.list holds every domain but the primary, in order', () => {
    const list = renderHostFiles(spec).find((f) => f.path === DOMAINS_LIST)!.content;
    expect(list).toBe(spec.domains.slice(1).map((d) => (d.name.startsWith('xn--') ? `${d.name} ${xmppName(d.name)}\n` : `${d.name}\n`)).join(''));
  });

  test('THEN the templates and domains.list in user_data expand to exactly the rendered files, and to nothing else', () => {
    expect(expandedFromUserData(spec)).toEqual(renderExpandedFiles(spec));
  });

  test('THEN they are what the single-host renderers write', () => {
    expect(renderExpandedFiles(spec)).toEqual({
      [CERTIFICATES_LIST]: expandDomainTemplate(certificatesList(spec), spec),
      [PROSODY_CONFIG]: renderProsodyConfig(spec),
      ...renderNginxFiles(spec),
    });
  });

  // The host repeats the placeholder's block; the renderers promise that equals each domain's own.
  test.each([
    { name: 'certificates.list', file: () => certificatesList(spec) },
    { name: 'prosody.cfg.lua', file: () => prosodyConfig(spec) },
    { name: 'the nginx site', file: () => nginxSite(spec) },
  ])('THEN $name expands to each domain\'s own block, rendered for that domain', ({ file }) => {
    const f = file();
    const { head, between, tail } = f.shared;
    const [primary, ...further] = spec.domains;
    expect(expandDomainTemplate(f, spec)).toBe(`${head}${f.perDomain(primary)}${between}${further.map((d) => f.perDomain(d)).join('')}${tail}`);
  });

  test('THEN the host-meta documents expand to each domain\'s own', () => {
    const files = hostMetaFiles(spec);
    expect(expandDomainFiles(files, spec)).toEqual(Object.assign({}, ...spec.domains.map((d) => files.perDomain(d))));
  });

  test('THEN no expanded file still holds a placeholder or marker', () => {
    for (const [path, content] of Object.entries(renderExpandedFiles(spec))) {
      expect({ path, leftover: /@DOMAIN@|^@@@ /m.test(content) }).toEqual({ path, leftover: false });
    }
  });
});

describe('GIVEN several domains', () => {
  const spec = resolveSpec(fullSpec);
  const files = renderExpandedFiles(spec);

  test('THEN certificates.list has one lineage per domain with exactly its names, the TURN name on the primary only', () => {
    expect(files[CERTIFICATES_LIST]).toBe(spec.domains.map((d) => `${d.name} ${certificateNames(spec, d).join(' ')}\n`).join(''));
    expect(files[CERTIFICATES_LIST].match(/stun\.example\.net/g)).toHaveLength(1);
  });

  test('THEN each further domain gets its own VirtualHost and components in Prosody, and its own server block in nginx', () => {
    for (const domain of furtherDomains(spec)) {
      // Prosody knows the host by its XMPP name (Unicode for an internationalised domain), TLS and URLs by its DNS name.
      const xmpp = xmppName(domain);
      expect(files[PROSODY_CONFIG]).toContain(`VirtualHost "${xmpp}"\n\thttp_external_url = "https://${domain}/"\n`);
      expect(files[PROSODY_CONFIG]).toContain(`\thttp_host = "${domain}"\n\tc2s_direct_tls_host = "${domain}"\n\ts2s_direct_tls_host = "${domain}"\n`);
      expect(files[PROSODY_CONFIG]).toContain(`Component "share.xmpp.${xmpp}" "http_file_share"\n\tparent_host = "${xmpp}"\n\thttp_host = "share.xmpp.${domain}"\n\ts2s_direct_tls_host = "share.xmpp.${domain}"\n\thttp_external_url = "https://share.xmpp.${domain}/"\n`);
      expect(files[PROSODY_CONFIG]).toContain(`Component "groupchat.xmpp.${xmpp}" "muc"`);
      expect(files[NGINX_SITE]).toContain(`server_name ${domain} share.xmpp.${domain} groupchat.xmpp.${domain} proxy.xmpp.${domain} pubsub.xmpp.${domain};`);
      expect(files[NGINX_SITE]).toContain(`ssl_certificate /etc/xmpp-constructs/certs/${domain}/fullchain.pem;`);
    }
    // Only the primary answers handshakes without SNI.
    expect(files[NGINX_SITE].match(/^ *listen .*default_server;$/gm)).toHaveLength(4);
  });

  test('GIVEN one domain THEN its further-domain sections expand to nothing and its list is empty', () => {
    const single = resolveSpec(minimalSpec);
    expect(furtherDomains(single)).toEqual([]);
    expect(renderExpandedFiles(single)[PROSODY_CONFIG]).not.toContain('@DOMAIN@');
    expect(renderExpandedFiles(single)[PROSODY_CONFIG].match(/^VirtualHost /gm)).toHaveLength(1);
  });
});
