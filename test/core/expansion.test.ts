import { writeFileSync } from 'fs';
import { join } from 'path';
import { renderExpandedFiles, renderHostFiles } from '../../lib/core/cloud-init';
import {
  DOMAIN_PLACEHOLDER,
  DOMAINS_LIST,
  EACH_DOMAIN_BEGIN,
  EACH_DOMAIN_END,
  eachDomainSection,
  expandTemplate,
  furtherDomains,
  renderExpandScript,
  templatePath,
} from '../../lib/core/expansion';
import { CERTIFICATES_LIST, EXPANDED_FILES, HOST_META_FILES } from '../../lib/core/host-scripts';
import { NGINX_SITE, PROSODY_CONFIG } from '../../lib/core/paths';
import { certificateNames, ResolvedSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { platformToolsForFile, platformUnavailable } from '../support/platform';
import { fullSpec, minimalSpec, representativeSpecs } from '../support/specs';
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
/** The platform's image, opened by the first test that needs it (one per file), closed after the file. */
const image = platformToolsForFile();

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

/** Runs the host's expander on `template` with `domains` as domains.list, with the platform's bash. */
function expandOnHost(dir: string, template: string, domains: readonly string[]): RunResult {
  const script = join(dir, 'expand');
  writeFileSync(script, renderExpandScript(), { mode: 0o755 });
  writeFileSync(join(dir, 'template'), template);
  writeFileSync(join(dir, 'domains.list'), domains.map((d) => `${d}\n`).join(''));
  return image().run(['bash', script, join(dir, 'template'), join(dir, 'domains.list')]);
}

const thousand = Array.from({ length: 1000 }, (_, i) => `customer-${i}.example`);

describe('the host\'s expander (awk, as on the droplet)', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('expand');
  });
  afterAll(() => removeDir(dir));

  const specTemplates = representativeSpecs.flatMap(([name, raw]) =>
    renderHostFiles(resolveSpec(raw))
      .filter((f) => f.path.startsWith(templatePath('/')) && f.content.includes(EACH_DOMAIN_BEGIN))
      .map((f) => ({ name: `${name} spec's ${f.path}`, template: f.content })),
  );

  onPlatform.each([
    { name: 'a section between head and tail', template: `head\n${section('v "@DOMAIN@" @DOMAIN@\n\n')}tail\n` },
    { name: 'two sections', template: `${section('1 @DOMAIN@\n')}mid\n${section('2 @DOMAIN@\n')}` },
    ...specTemplates,
  ])('GIVEN $name THEN it writes byte for byte what expandTemplate does, for 0, 3 and 1,000 domains', ({ template }) => {
    for (const domains of [[], ['a.example', 'b-c.example', 'xn--bcher-kva.example'], thousand]) {
      const r = expandOnHost(dir, template, domains);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toBe(expandTemplate(template, domains));
    }
  });

  onPlatform('GIVEN an unterminated section THEN it fails, naming it', () => {
    const r = expandOnHost(dir, `${EACH_DOMAIN_BEGIN}\nx\n`, ['a.example']);
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
  const domains = byPath.get(DOMAINS_LIST)!.split('\n').filter(Boolean);
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
    expect(list).toBe(spec.domains.slice(1).map((d) => `${d.name}\n`).join(''));
  });

  test('THEN the templates and domains.list in user_data expand to exactly the rendered files, and to nothing else', () => {
    expect(expandedFromUserData(spec)).toEqual(renderExpandedFiles(spec));
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
      expect(files[PROSODY_CONFIG]).toContain(`VirtualHost "${domain}"\n\thttp_external_url = "https://${domain}/"\n`);
      expect(files[PROSODY_CONFIG]).toContain(`Component "share.xmpp.${domain}" "http_file_share"\n\thttp_external_url = "https://share.xmpp.${domain}/"\n`);
      expect(files[PROSODY_CONFIG]).toContain(`Component "groupchat.xmpp.${domain}" "muc"`);
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
