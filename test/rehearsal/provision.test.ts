/**
 * The droplet's own boot, for real: cloud-init's write_files modules and the provisioning script
 * run on the synthesized user_data inside the rehearsal namespaces.
 */
import { renderExpandedFiles, renderProsodyHost } from '../../lib/core/cloud-init';
import { templatePath } from '../../lib/core/expansion';
import { CERTIFICATES_LIST } from '../../lib/core/host-scripts';
import { TURN_SECRET_FILE, PROSODY_CONFIG, PROSODY_SECRETS_INCLUDE, NGINX_SITE, SERVICE_POLICY, TURN_USERDB, VOLUME_MOUNT } from '../../lib/core/paths';
import { PLATFORMS } from '../../lib/core/platforms';
import { resolveSpec } from '../../lib/core/validate';
import { PROSODY_TURN_SECRET_OPTION } from '../../lib/core/prosody';
import { dropletUserData, parseUserData, Rehearsal, rehearsalUnavailable, RunResult } from './harness';
import { exampleSpecOn, platformTitle, REHEARSED_PLATFORMS, synthesizeExampleOn } from './platforms';
import { describeUnless } from '../support/tools';
import { WEB_CLIENT_PACKAGE, WEB_CLIENT_SCRIPT } from '../../lib/core/web-client';
import { JOURNALD_RETENTION, PROSODY_LOGROTATE, renderJournaldRetention, renderProsodyLogrotate } from '../../lib/core/logs';

jest.setTimeout(240000);


/** Checksums of everything provisioning writes, to tell whether a second run changed anything. */
const STATE_PATHS = ['/etc/xmpp-constructs', '/etc/prosody', '/etc/nginx', '/etc/turnserver.conf', '/etc/coturn', '/etc/systemd/system', '/etc/fstab', '/usr/local/sbin', `${VOLUME_MOUNT}/secrets`, `${VOLUME_MOUNT}/self-signed`, '/etc/letsencrypt', '/var/lib/turn'];

for (const platform of REHEARSED_PLATFORMS) {
  /** On Debian 12 the droplet first has no route to the npm registry, where the web client comes from. */
  const registryAtFirstBoot = platform !== 'debian-12';
  describeUnless(rehearsalUnavailable(), `GIVEN the example stack on ${platformTitle(platform)} WHEN its droplet boots in the rehearsal${registryAtFirstBoot ? '' : ' with no route to the npm registry'}`, () => {
    let rehearsal: Rehearsal;
    let provision: RunResult;
    let userData: string;

    const checksums = (): string =>
      rehearsal.mustRun('checksum state', ['sh', '-c', `find ${STATE_PATHS.join(' ')} -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum`]).stdout;

    beforeAll(async () => {
      const stack = synthesizeExampleOn(platform);
      userData = dropletUserData(stack);
      ({ rehearsal, provision } = await Rehearsal.boot(stack, { npmRegistry: registryAtFirstBoot }));
      if (provision.status === 0) await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/5269', 'tcp/443', 'tcp/80', 'udp/3478', 'tcp/5349']);
    });
    afterAll(async () => {
      await rehearsal?.stop();
    });

    test('THEN provisioning runs every step and exits 0', () => {
      expect({ status: provision.status, stderr: provision.stderr }).toMatchObject({ status: 0 });
      for (const step of ['mounting the data volume', 'placing state on the volume', 'TURN shared secret', 'TURN listening addresses', 'configuration for every domain', 'certificates', 'starting services', 'done']) {
        expect(provision.stdout).toContain(`xmpp-constructs: ${step}`);
      }
    });

    test(`THEN the droplet runs ${platformTitle(platform)}: the base image and the Prosody it installed are that release's`, () => {
      const release = PLATFORMS[platform];
      expect(rehearsal.readFile('/etc/os-release')).toContain(`VERSION_CODENAME=${release.suite}`);
      const version = rehearsal.mustRun('Prosody\'s package version', ['dpkg-query', '-W', '-f', '${Version}', 'prosody']).stdout;
      expect(version).toMatch(platform === 'debian-13' ? /^13\./ : /^0\.12\./);
    });

    test('THEN cloud-init wrote every write_files entry at its real path, byte for byte (the first-boot guard, lifted by provisioning, is gone)', () => {
      for (const file of parseUserData(userData).write_files) {
        if (file.path === SERVICE_POLICY) {
          expect(rehearsal.run(['test', '-e', file.path]).status).not.toBe(0);
          continue;
        }
        expect({ path: file.path, content: rehearsal.readFile(file.path) }).toEqual({ path: file.path, content: file.content });
      }
    });

    test('THEN each file has the owner and mode the library renders, those user_data leaves unsaid (root:root, 0644) as cloud-init gives them', () => {
      const rendered = renderProsodyHost(resolveSpec(exampleSpecOn(platform))).files;
      const written = new Set(parseUserData(userData).write_files.map((f) => f.path));
      const expected = rendered.filter((f) => written.has(f.path) && f.path !== SERVICE_POLICY);
      const stat = rehearsal.mustRun('owners and modes', ['stat', '-c', '%n %U:%G %a', ...expected.map((f) => f.path)]).stdout.trim().split('\n');
      expect(stat).toEqual(expected.map((f) => `${f.path} ${f.owner} ${Number.parseInt(f.permissions, 8).toString(8)}`));
    });

    test('THEN the host expanded every per-domain file from its template exactly as the review files show it', () => {
      const expanded = renderExpandedFiles(resolveSpec(exampleSpecOn(platform)));
      expect(Object.keys(expanded)).toEqual(expect.arrayContaining([PROSODY_CONFIG, NGINX_SITE, CERTIFICATES_LIST]));
      for (const [path, content] of Object.entries(expanded)) {
        expect({ path, content: rehearsal.readFile(path) }).toEqual({ path, content });
      }
      expect(rehearsal.mustRun('config modes', ['stat', '-c', '%n %a %U:%G', PROSODY_CONFIG, NGINX_SITE]).stdout).toBe(`${PROSODY_CONFIG} 640 root:prosody\n${NGINX_SITE} 644 root:root\n`);
    });

    test('THEN Prosody\'s data and the certificates live on the volume', () => {
      const mounts = rehearsal.mustRun('mounts', ['findmnt', '-rn', '-o', 'TARGET']).stdout.split('\n');
      expect(mounts).toEqual(expect.arrayContaining(['/var/lib/prosody', '/etc/letsencrypt', VOLUME_MOUNT]));
      rehearsal.mustRun('write through the bind mount', ['sh', '-c', 'echo probe > /var/lib/prosody/.rehearsal-probe']);
      expect(rehearsal.readFile(`${VOLUME_MOUNT}/prosody/.rehearsal-probe`)).toBe('probe\n');
    });

    test('THEN the TURN secret was generated on the host, is in Prosody\'s include and coturn\'s database, and not in user_data', () => {
      const secret = rehearsal.readFile(TURN_SECRET_FILE).trim();
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(userData).not.toContain(secret);
      expect(rehearsal.readFile(PROSODY_SECRETS_INCLUDE)).toContain(`${PROSODY_TURN_SECRET_OPTION} = "${secret}"`);
      const db = rehearsal.mustRun('coturn secrets', ['turnadmin', '--show-secret', '--realm', 'turn.example.net', '--db', TURN_USERDB]).stdout;
      expect(db).toContain(`${secret}[turn.example.net]`);
      const mode = rehearsal.mustRun('secret mode', ['stat', '-c', '%a %U', TURN_SECRET_FILE]).stdout.trim();
      expect(mode).toBe('600 root');
    });

    test('THEN coturn was told the droplet\'s own addresses by the metadata service', () => {
      expect(rehearsal.readFile('/etc/xmpp-constructs/turn-addresses.env').trim()).toBe(
        'TURN_ADDRESS_ARGS="--listening-ip=203.0.113.10 --relay-ip=203.0.113.10 --listening-ip=2001:db8::10 --relay-ip=2001:db8::10"',
      );
    });

    test('THEN the daemons logged no error', () => {
      expect(rehearsal.run(['cat', '/var/log/prosody/prosody.err']).stdout).toBe('');
      expect(rehearsal.run(['cat', '/var/log/nginx/error.log']).stdout).not.toMatch(/\[(emerg|alert|crit|error)\]/);
      const coturn = rehearsal.journal('coturn');
      expect(coturn).toContain('Total General servers');
      expect(coturn).not.toMatch(/ERROR|CONFIG ERROR|Wrong address format/);
    });

    test('THEN Prosody\'s logs rotate daily and are kept 14 days: our logrotate file replaced the package\'s, and logrotate reads the whole configuration without an error', () => {
      expect(rehearsal.run(['cat', PROSODY_LOGROTATE]).stdout).toBe(renderProsodyLogrotate());
      expect(rehearsal.run(['cat', JOURNALD_RETENTION]).stdout).toBe(renderJournaldRetention());
      const r = rehearsal.run(['logrotate', '-d', '/etc/logrotate.conf']);
      const said = `${r.stdout}${r.stderr}`;
      expect({ status: r.status, errors: said.split('\n').filter((l) => /^error|duplicate/i.test(l)) }).toEqual({ status: 0, errors: [] });
      expect(said).toMatch(/rotating pattern: \/var\/log\/prosody\/prosody\.log \/var\/log\/prosody\/prosody\.err\s+after 1 days[^\n]*\(14 rotations\)/);
    });

    /**
     * What https://example.net/ answers, as a browser on the internet asks. Unverified: no certificate
     * has been issued in this file, so nginx presents the self-signed bootstrap one.
     */
    const webClientPage = (): { status: number; csp: string } => {
      const r = rehearsal.hostRun(['curl', '-sS', '--insecure', '-o', '/dev/null', '-D', '-', '-w', '%{http_code}', 'https://example.net/']);
      return { status: Number(r.stdout.slice(-3)), csp: /^content-security-policy: (.*)\r$/mi.exec(r.stdout)?.[1] ?? '' };
    };

    if (registryAtFirstBoot) {
      test(`THEN the web client, Converse.js ${WEB_CLIENT_PACKAGE.version}, was downloaded from the npm registry once, installed and served at https://example.net/ under its Content-Security-Policy`, () => {
        expect(provision.stdout).toContain(`xmpp-constructs: web client ${WEB_CLIENT_PACKAGE.version} installed`);
        expect(rehearsal.npmRegistryRequests()).toEqual([{ method: 'GET', path: `/converse.js/-/converse.js-${WEB_CLIENT_PACKAGE.version}.tgz`, status: 200 }]);
        expect(rehearsal.run(['readlink', '/var/www/xmpp-constructs-web/current']).stdout.trim()).toBe(WEB_CLIENT_PACKAGE.version);
        expect(webClientPage()).toEqual({ status: 200, csp: expect.stringMatching(/^default-src 'none'; script-src 'self' 'wasm-unsafe-eval';/) });
      });
    } else {
      test('THEN provisioning completes without the web client, saying so; https://example.net/ answers 404 while everything else runs, and the timer that retries is enabled', () => {
        expect(provision.status).toBe(0);
        expect(provision.stderr).toContain('xmpp-constructs: could not download the web client from https://registry.npmjs.org/converse.js/');
        expect(provision.stdout).toContain('xmpp-constructs: the web client is not installed yet; xmpp-constructs-web-client.timer retries every 15 minutes');
        expect(provision.stdout).toContain('xmpp-constructs: done');
        expect(rehearsal.run(['test', '-e', '/var/www/xmpp-constructs-web/current']).status).not.toBe(0);
        expect(webClientPage().status).toBe(404);
        expect(rehearsal.run(['test', '-L', '/etc/systemd/system/timers.target.wants/xmpp-constructs-web-client.timer']).status).toBe(0);
      });
    }

    test('WHEN provisioning runs a second time THEN it succeeds and changes nothing', async () => {
      const before = checksums();
      const again = rehearsal.provision();
      expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
      await rehearsal.waitForListeners(['tcp/5222', 'tcp/443', 'udp/3478']);
      expect(checksums()).toBe(before);
      expect(before.split('\n').length).toBeGreaterThan(15);
    });

    test('WHEN a step fails THEN provisioning stops with a non-zero exit naming the step', async () => {
      // The site is expanded from its template on every run, so the template is what gets broken.
      const template = templatePath(NGINX_SITE);
      const original = rehearsal.readFile(template);
      rehearsal.mustRun('break the nginx site\'s template', ['sh', '-c', `echo 'this is not nginx syntax' >> ${template}`]);
      try {
        const broken = rehearsal.provision();
        expect(broken.status).not.toBe(0);
        expect(broken.stderr).toContain('xmpp-constructs: FAILED: step "starting services"');
      } finally {
        rehearsal.mustRun('restore the template', ['sh', '-c', `cat > ${template}`], { input: original });
      }
    });

    test('WHEN a domain is no longer served THEN the next provisioning removes its host-meta documents', () => {
      rehearsal.mustRun('documents of a domain served before', ['sh', '-c', 'mkdir -p /var/www/host-meta/gone.example/.well-known && echo old > /var/www/host-meta/gone.example/.well-known/host-meta']);
      const again = rehearsal.provision();
      expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
      expect(rehearsal.run(['test', '-e', '/var/www/host-meta/gone.example']).status).not.toBe(0);
      expect(rehearsal.run(['test', '-s', '/var/www/host-meta/example.net/.well-known/host-meta']).status).toBe(0);
    });

    if (!registryAtFirstBoot) {
      test(`WHEN the registry answers and the timer's service runs (sudo ${WEB_CLIENT_SCRIPT}) THEN the pinned release is installed and served, with nothing restarted; a second run downloads nothing`, () => {
        rehearsal.startNpmRegistry();
        const nginxBefore = rehearsal.run(['cat', '/run/nginx.pid']).stdout;
        const run = rehearsal.run([WEB_CLIENT_SCRIPT]);
        expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: `xmpp-constructs: web client ${WEB_CLIENT_PACKAGE.version} installed\n`, stderr: '' });
        expect(webClientPage()).toEqual({ status: 200, csp: expect.stringMatching(/^default-src 'none';/) });
        expect(rehearsal.run(['cat', '/run/nginx.pid']).stdout).toBe(nginxBefore);
        expect(rehearsal.run([WEB_CLIENT_SCRIPT])).toMatchObject({ status: 0, stdout: '' });
        expect(rehearsal.npmRegistryRequests().length).toBe(1);
      });

      test('WHEN the registry serves other bytes under the pinned release\'s name (on a host that has not installed it) THEN the installer refuses them, installs nothing and leaves no partial download', () => {
        rehearsal.mustRun('forget the installed release', ['rm', '-rf', `/var/www/xmpp-constructs-web/${WEB_CLIENT_PACKAGE.version}`]);
        rehearsal.replaceNpmTarball(Buffer.from('not the release'));
        const run = rehearsal.run([WEB_CLIENT_SCRIPT]);
        expect(run.status).not.toBe(0);
        expect(run.stderr).toContain('is not the pinned release (its SHA-512 differs); not installed');
        expect(rehearsal.run(['sh', '-c', 'ls -A /var/www/xmpp-constructs-web']).stdout).toBe('current\n');
        expect(webClientPage().status).toBe(404);
      });
    }
  });
}
