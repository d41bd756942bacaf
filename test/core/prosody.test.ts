import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { execFileSync } from 'child_process';
import { PROSODY_CERTS_DIR, PROSODY_SECRETS_INCLUDE } from '../../lib/core/paths';
import { prosodyDuration, prosodyHostModules, renderProsodyConfig, renderProsodySecretsInclude } from '../../lib/core/prosody';
import { certificateNames, ResolvedSpec } from '../../lib/core/spec';
import { estimateProsodyMemoryMiB, resolveSpec } from '../../lib/core/validate';
import { platformToolsForFile, platformUnavailable } from '../support/platform';
import { closedSpec, fullSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { describeUnless, makeSelfSignedCert, makeTempDir, readOrEmpty, removeDir, run, RunResult, stopProcess, waitFor } from '../support/tools';

// ---------------------------------------------------------------------------------------------
// The real Prosody is the droplet platform's: prosody 0.12 and prosody-modules as the droplet
// installs them, run inside a throwaway root of the platform's image (test/support/platform.ts),
// never whatever this machine has. The prosody user exists only there, so chown and runuser run
// there too. The test's temp dirs are at the same paths inside, and the network is this machine's,
// so the test reads Prosody's log and socket and reaches its ports as before.
// ---------------------------------------------------------------------------------------------

/** Why the platform's image cannot be used here, if it cannot: the real-Prosody blocks then fail under CI and are skipped loudly elsewhere. */
const platformMissing = platformUnavailable();
/** The platform's image, opened by the first test that needs it (one per file), closed after the file. */
const image = platformToolsForFile();

/** Runs `args` inside the image as the prosody user. */
function asProsody(args: readonly string[]): RunResult {
  return image().run(['runuser', '-u', 'prosody', '--', ...args]);
}

/** Hands `dir` to the prosody user, by the image's user database. */
function chownToProsody(dir: string): void {
  const r = image().run(['chown', '-R', 'prosody:prosody', dir]);
  if (r.status !== 0) throw new Error(`chown -R prosody:prosody ${dir} failed inside the image (${r.status}): ${r.stderr}`);
}

const minimal = resolveSpec(minimalSpec);
const full = resolveSpec(fullSpec);
const closed = resolveSpec(closedSpec);

describe('renderProsodyConfig', () => {
  test('GIVEN any spec THEN HTTP listens on loopback only and no HTTPS port is opened', () => {
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain('http_interfaces = { "127.0.0.1", "::1" }');
    expect(cfg).toContain('https_ports = {}');
    expect(cfg).not.toMatch(/http_interfaces = \{ "\*"/);
    expect(cfg).not.toMatch(/consider_(bosh|websocket)_secure/);
  });

  test('GIVEN any spec THEN no deprecated or obsolete option of 0.12 appears', () => {
    for (const spec of [minimal, full, closed]) {
      const cfg = renderProsodyConfig(spec);
      expect(cfg).not.toMatch(/^\s*(daemonize|cross_domain_bosh|cross_domain_websocket|legacy_ssl_ports|legacy_ssl_ssl)\b/m);
      expect(cfg).not.toMatch(/"(turncredentials|http_upload|http_altconnect|csi_battery_saver|throttle_presence)"/);
    }
  });

  test('GIVEN the default spec THEN every compliance feature has its provider loaded', () => {
    const modules = prosodyHostModules(minimal);
    for (const m of ['disco', 'roster', 'pep', 'carbons', 'blocklist', 'smacks', 'mam', 'csi_simple', 'cloud_notify', 'vcard_legacy', 'vcard4', 'bookmarks', 'server_contact_info', 'external_services', 'invites', 'invites_register', 'bosh', 'websocket']) {
      expect(modules).toContain(m);
    }
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain('Component "upload.example.net" "http_file_share"');
    expect(cfg).toContain('Component "conference.example.net" "muc"');
    expect(cfg).toContain('modules_enabled = { "muc_mam", "vcard_muc" }');
    expect(cfg).toContain('c2s_direct_tls_ports = { 5223 }');
  });

  test('GIVEN csi_simple THEN neither csi_battery_saver nor throttle_presence is loaded with it', () => {
    const modules = prosodyHostModules(full);
    expect(modules).toContain('csi_simple');
    expect(modules).not.toContain('csi_battery_saver');
    expect(modules).not.toContain('throttle_presence');
  });

  test('GIVEN calls THEN the TURN secret comes from an include, never from this file', () => {
    const cfg = renderProsodyConfig(minimal);
    expect(cfg).toContain(`Include "${PROSODY_SECRETS_INCLUDE}"`);
    expect(cfg).not.toMatch(/external_service_secret/);
    expect(cfg).toContain('external_service_host = "turn.example.net"');
    expect(cfg).toContain('{ type = "turns", transport = "tcp", port = 5349, secret = true, algorithm = "turn", ttl = 86400 };');
    expect(cfg).toContain('{ type = "turn", transport = "tcp", port = 3478, secret = true, algorithm = "turn", ttl = 86400 };');
    const withSecret = resolveSpec({ ...minimalSpec, calls: { sharedSecret: 's'.repeat(40) } });
    expect(renderProsodyConfig(withSecret)).not.toContain('s'.repeat(40));
  });

  test('GIVEN a closed, private server THEN no registration, federation, web or TURN is configured', () => {
    const cfg = renderProsodyConfig(closed);
    expect(cfg).toContain('allow_registration = false');
    expect(cfg).toContain('modules_disabled = { "s2s" }');
    expect(cfg).not.toMatch(/"(invites|bosh|websocket|external_services|dialback)"/);
    expect(cfg).not.toContain('Component');
    expect(cfg).not.toContain('Include');
  });

  test('GIVEN the full spec THEN limits, names and room policy follow it', () => {
    const cfg = renderProsodyConfig(full);
    expect(cfg).toContain('Component "share.xmpp.example.org" "http_file_share"');
    expect(cfg).toContain('http_file_share_size_limit = 52428800');
    expect(cfg).toContain('http_file_share_daily_quota = 209715200');
    expect(cfg).toContain('http_file_share_global_quota = 5368709120');
    expect(cfg).toContain('restrict_room_creation = "admin"');
    expect(cfg).toContain('muc_log_expires_after = "30d"');
    expect(cfg).toContain('s2s_direct_tls_ports = { 5270 }');
    expect(cfg).toContain('proxy65_address = "proxy.xmpp.example.net"');
    expect(cfg).toContain('VirtualHost "xn--bcher-kva.example"');
    expect(cfg).toContain('feedback = { "https://example.net/feedback?from=xmpp&lang=de" }');
  });

  test.each([[86400, '1d'], [604800, '7d'], [3600, '3600']])('prosodyDuration(%d) is %s', (s, d) => {
    expect(prosodyDuration(s)).toBe(d);
  });

  test('GIVEN the same spec THEN the output is byte-identical', () => {
    expect(renderProsodyConfig(full)).toBe(renderProsodyConfig(resolveSpec(fullSpec)));
  });
});

/**
 * The rendered file with only its absolute host paths moved into `dir`, so the real Prosody can
 * load it without touching this machine's /etc and /var. Nothing else is changed.
 */
function harnessConfig(spec: ResolvedSpec, dir: string, portBase: number): string {
  const cfg = renderProsodyConfig(spec)
    .replaceAll(PROSODY_SECRETS_INCLUDE, join(dir, 'secrets.cfg.lua'))
    .replaceAll(`"${PROSODY_CERTS_DIR}"`, `"${join(dir, 'certs')}"`)
    .replace(/^pidfile = .*$/m, `pidfile = "${join(dir, 'prosody.pid')}"`)
    .replace(/^log = .*$/m, `log = { debug = "${join(dir, 'prosody.log')}" }`)
    .replace(/^c2s_ports = .*$/m, `c2s_ports = { ${portBase + 1} }`)
    .replace(/^c2s_direct_tls_ports = .*$/m, `c2s_direct_tls_ports = { ${portBase + 2} }`)
    .replace(/^s2s_ports = .*$/m, `s2s_ports = { ${portBase + 3} }`)
    .replace(/^s2s_direct_tls_ports = .*$/m, `s2s_direct_tls_ports = { ${portBase + 4} }`)
    .replace(/^proxy65_ports = .*$/m, `proxy65_ports = { ${portBase + 5} }`)
    .replace(/^http_ports = .*$/m, `http_ports = { ${portBase + 6} }`);
  return `data_path = "${join(dir, 'data')}"\n${cfg}`;
}

for (const [name, input] of representativeSpecs) describeUnless(platformMissing, `the real Prosody 0.12 on the ${name} spec`, () => {
  const spec = resolveSpec(input);
  let dir: string;

  beforeAll(() => {
    dir = makeTempDir('prosody');
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
    for (const domain of spec.domains) {
      const certDir = join(dir, 'certs', domain.name);
      mkdirSync(certDir);
      makeSelfSignedCert(certDir, certificateNames(spec, domain));
    }
    writeFileSync(join(dir, 'prosody.cfg.lua'), renderProsodyConfig(spec).replaceAll(PROSODY_SECRETS_INCLUDE, join(dir, 'secrets.cfg.lua')));
    writeFileSync(join(dir, 'run.cfg.lua'), harnessConfig(spec, dir, 25000 + 10 * representativeSpecs.findIndex(([, s]) => s === input)));
    chownToProsody(dir);
  });
  afterAll(() => { if (!process.env.KEEP_TMP) removeDir(dir); });

  test('prosodyctl check config reports no problem and no warning', () => {
    const r = asProsody(['prosodyctl', '--config', join(dir, 'prosody.cfg.lua'), 'check', 'config']);
    expect(r.stdout + r.stderr).toContain('All checks passed, congratulations!');
    expect(r.stdout + r.stderr).not.toMatch(/warn|deprecated|unknown|problem/i);
    expect(r.status).toBe(0);
  });

  test('Prosody starts on it, every host loads its planned modules and admins, each domain holds its contacts, without an error', async () => {
    const log = join(dir, 'prosody.log');
    const config = join(dir, 'run.cfg.lua');
    const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
    /** The modules a running host has loaded, as Prosody's admin shell lists them. */
    const loadedModules = (host: string): string[] => {
      const r = asProsody(['prosodyctl', '--config', config, 'shell', `module:list(${JSON.stringify(host)})`]);
      return r.stdout.split('\n').filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim());
    };
    try {
      await waitFor(() => /Activated service 'c2s'/.test(readOrEmpty(log)) && existsSync(join(dir, 'data', 'prosody.sock')), 15000, () => readOrEmpty(log).slice(-3000));
      for (const domain of spec.domains) {
        const loaded = loadedModules(domain.name);
        // posix and admin_shell are global modules: they load once, not per host.
        const missing = prosodyHostModules(spec).filter((m) => !['posix', 'admin_shell'].includes(m) && !loaded.includes(m));
        expect({ host: domain.name, missing }).toEqual({ host: domain.name, missing: [] });
        for (const component of domain.components) {
          const expected = { fileShare: ['http_file_share'], groupChat: ['muc', 'muc_mam', 'vcard_muc'], proxy65: ['proxy65'], pubsub: ['pubsub'] }[component.kind];
          const loadedHere = loadedModules(component.host);
          expect({ host: component.host, missing: expected.filter((m) => !loadedHere.includes(m)) }).toEqual({ host: component.host, missing: [] });
        }
      }
      // A domain's own admins administer it (and its group chat and pubsub) and nothing else; the
      // service-wide admins administer everything. Asked of the running server, not of the file.
      const shell = (lua: string): string => {
        // The admin shell gives up on a busy server; ask again (CI runs suites in parallel).
        for (let attempt = 0; attempt < 20; attempt++) {
          const answer = asProsody(['prosodyctl', '--config', config, 'shell', `>${lua}`]).stdout.trim().replace(/^Result: /, '');
          if (answer !== '') return answer;
          run('sleep', ['0.5']);
        }
        throw new Error(`no answer from the admin shell to ${lua}`);
      };
      const everyAdmin = [...spec.admins, ...spec.domains.flatMap((d) => d.admins)];
      const asked: string[] = [];
      const expected: string[] = [];
      for (const domain of spec.domains) {
        const moderated = new Set(domain.components.filter((c) => c.kind === 'groupChat' || c.kind === 'pubsub').map((c) => c.host));
        for (const host of [domain.name, ...domain.components.map((c) => c.host)]) {
          for (const jid of everyAdmin) {
            const admin = shell(`require"core.usermanager".is_admin(${JSON.stringify(jid)}, ${JSON.stringify(host)}) == true`);
            asked.push(`${jid} on ${host}: ${admin}`);
            const own = domain.admins.includes(jid) && (host === domain.name || moderated.has(host));
            expected.push(`${jid} on ${host}: ${spec.admins.includes(jid) || own}`);
          }
        }
        // contact_info as the running server holds it for the host (server_contact_info reads this).
        const contacts = JSON.parse(shell(`require"util.json".encode(require"core.configmanager".get(${JSON.stringify(domain.name)}, "contact_info"))`));
        const published = Object.fromEntries(Object.entries(domain.contacts).filter(([, uris]) => uris.length > 0));
        expect({ host: domain.name, contacts }).toEqual({ host: domain.name, contacts: published });
      }
      expect(asked).toEqual(expected);
      if (spec.domains.some((d) => d.admins.length > 0)) expect(expected.some((e) => e.endsWith('true')) && expected.some((e) => e.endsWith('false'))).toBe(true);
      const problems = readOrEmpty(log).split('\n').filter((l) => /\t(error|warn)\t/.test(l));
      expect(problems).toEqual([]);
    } finally {
      await stopProcess(child);
    }
  });
});

/**
 * A host serving hundreds of domains: the expanded configuration (the template repeated for every
 * line of domains.list) loads in the real Prosody, every domain and component is a running host,
 * and the server's memory stays within what `estimateProsodyMemoryMiB` (the droplet size check)
 * assumes. Logged at info, as on the host: at debug, 0.12's certmanager logs its whole
 * certificate index on every lookup, which alone takes minutes with hundreds of certificates.
 */
describeUnless(platformMissing, 'the real Prosody 0.12 serving hundreds of domains', () => {
  const DOMAINS = 200;
  const spec = resolveSpec({
    ...minimalSpec,
    domains: Array.from({ length: DOMAINS }, (_, i) => (i === 0 ? 'example.net' : `customer-${String(i).padStart(4, '0')}.example`)),
  });
  let dir: string;

  beforeAll(() => {
    dir = makeTempDir('prosody-many');
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'secrets.cfg.lua'), renderProsodySecretsInclude('0123456789abcdef'.repeat(4)));
    // A certificate per domain, as certbot leaves them; one key for all keeps this quick.
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    for (const domain of spec.domains) {
      const certDir = join(dir, 'certs', domain.name);
      mkdirSync(certDir);
      execFileSync('openssl', ['req', '-x509', '-key', key, '-days', '2', '-subj', `/CN=${domain.name}`,
        '-addext', `subjectAltName=${certificateNames(spec, domain).map((n) => `DNS:${n}`).join(',')}`, '-out', join(certDir, 'fullchain.pem')], { stdio: 'ignore' });
      copyFileSync(key, join(certDir, 'privkey.pem'));
    }
    writeFileSync(join(dir, 'run.cfg.lua'), harnessConfig(spec, dir, 25500).replace(/^log = \{ debug = /m, 'log = { info = '));
    chownToProsody(dir);
    // 200 certificates from openssl: seconds on a quiet machine, much longer on a busy one.
  }, 300000);
  afterAll(() => { if (!process.env.KEEP_TMP) removeDir(dir); });

  test(`Prosody starts with ${DOMAINS} VirtualHosts and their components, all running, within the memory the size check assumes`, async () => {
    const log = join(dir, 'prosody.log');
    const config = join(dir, 'run.cfg.lua');
    const child = image().start(['runuser', '-u', 'prosody', '--', 'prosody', '-F', '--config', config]);
    // The admin shell gives up on a busy server; ask again until it answers (CI runs suites in parallel).
    const shell = async (lua: string): Promise<string> => {
      let answer = '';
      await waitFor(() => {
        answer = asProsody(['prosodyctl', '--config', config, 'shell', `>${lua}`]).stdout.trim().replace(/^Result: /, '');
        return answer !== '';
      }, 120000, () => `no answer from the admin shell to ${lua}`);
      return answer;
    };
    const last = spec.domains[DOMAINS - 1].components.at(-1)!.host;
    try {
      // Hosts are set up in order; the last component's certificate is the last thing loaded.
      await waitFor(() => readOrEmpty(log).includes(`${last}:tls\tinfo\tCertificates loaded`) && existsSync(join(dir, 'data', 'prosody.sock')), 300000, () => readOrEmpty(log).slice(-2000));
      const planned = spec.domains.flatMap((d) => [d.name, ...d.components.map((c) => c.host)]).sort();
      const running = JSON.parse(await shell('require"util.json".encode(require"util.array".collect(require"util.iterators".keys(hosts)):sort())'));
      expect(running).toEqual(planned);
      expect(JSON.parse(await shell(`require"util.json".encode(require"util.array".collect(require"util.iterators".keys(hosts[${JSON.stringify(spec.domains[DOMAINS - 1].name)}].modules)))`))).toEqual(expect.arrayContaining(['mam', 'smacks', 'invites']));
      const pid = Number(readOrEmpty(join(dir, 'prosody.pid')).trim());
      const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(readOrEmpty(`/proc/${pid}/status`))?.[1]) / 1024;
      console.log(`Prosody with ${DOMAINS} domains (${planned.length} hosts): ${rssMiB.toFixed(0)} MiB resident; estimated ${estimateProsodyMemoryMiB(spec)} MiB`);
      expect(rssMiB).toBeGreaterThan(0);
      expect(rssMiB).toBeLessThanOrEqual(estimateProsodyMemoryMiB(spec));
      const problems = readOrEmpty(log).split('\n').filter((l) => /\t(error|warn)\t/.test(l));
      expect(problems.slice(0, 5)).toEqual([]);
    } finally {
      await stopProcess(child);
    }
    // As long as its own waits allow (5 minutes for the hosts, 2 for the admin shell), not jest's 60 s.
  }, 480000);
});
