/**
 * Let's Encrypt, rehearsed with real certbot against Pebble (Let's Encrypt's ACME test server):
 * issuance by webroot through nginx for the apex and every component name, the deploy hook that
 * hands the certificate to Prosody, coturn and nginx, no second request while the lineage is valid,
 * and renewal by the command Debian's certbot.timer runs, through the same hook.
 */
import { CERTS_SCRIPT, CERTIFICATES_LIST } from '../../lib/core/host-scripts';
import { TURN_CERT_DIR } from '../../lib/core/paths';
import { Rehearsal, rehearsalUnavailable } from './harness';
import { platformTitle, REHEARSED_PLATFORMS, synthesizeExampleOn } from './platforms';
import { describeUnless } from '../support/tools';

jest.setTimeout(240000);


/** Every TLS endpoint a client meets, with the name it asks for. */
const ENDPOINTS = [
  { what: 'XMPP client STARTTLS (5222)', port: 5222, name: 'example.net', starttls: ['-starttls', 'xmpp', '-xmpphost', 'example.net'] },
  { what: 'XMPP client direct TLS (5223)', port: 5223, name: 'example.net', starttls: [] },
  { what: 'group chat over server-to-server STARTTLS (5269)', port: 5269, name: 'conference.example.net', starttls: ['-starttls', 'xmpp-server', '-xmpphost', 'conference.example.net'] },
  { what: 'HTTPS for the domain (443)', port: 443, name: 'example.net', starttls: [] },
  { what: 'HTTPS for uploads (443)', port: 443, name: 'upload.example.net', starttls: [] },
  { what: 'TURN over TLS (5349)', port: 5349, name: 'turn.example.net', starttls: [] },
] as const;

for (const platform of REHEARSED_PLATFORMS) {
  describeUnless(rehearsalUnavailable(), `GIVEN the example droplet on ${platformTitle(platform)}, on its self-signed bootstrap certificate, with DNS pointing at it`, () => {
    let rehearsal: Rehearsal | undefined;
    let root: string;
    let ordersAfterIssue: number;

    function droplet(): Rehearsal {
      if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
      return rehearsal;
    }

    /** The serial of the certificate `endpoint` presents, after verifying its chain to Pebble's root and its name. */
    function servedSerial(endpoint: (typeof ENDPOINTS)[number]): string {
      const r = droplet().run(['sh', '-c',
        `openssl s_client -connect ${endpoint.name}:${endpoint.port} -servername ${endpoint.name} ${endpoint.starttls.join(' ')} ` +
        `-CAfile ${droplet().caFile} -verify_hostname ${endpoint.name} -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial`], { timeoutMs: 20000 });
      if (r.status !== 0) throw new Error(`${endpoint.what}: no verified certificate for ${endpoint.name}:\n${r.stdout}${r.stderr}`);
      return r.stdout.trim();
    }

    function liveSerial(): string {
      return droplet().mustRun('live certificate serial', ['openssl', 'x509', '-noout', '-serial', '-in', '/etc/letsencrypt/live/example.net/fullchain.pem']).stdout.trim();
    }

    beforeAll(async () => {
      const booted = await Rehearsal.boot(synthesizeExampleOn(platform));
      rehearsal = booted.rehearsal;
      if (booted.provision.status !== 0) throw new Error(`provisioning failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}`);
      await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/5269', 'tcp/443', 'tcp/80', 'tcp/5349']);
      root = rehearsal.issueCertificates();
      ordersAfterIssue = rehearsal.acmeOrders();
    });
    afterAll(async () => {
      await rehearsal?.stop();
    });

    test('THEN one order covered the apex and every component name, validated by webroot through nginx', () => {
      expect(ordersAfterIssue).toBe(1);
      const names = droplet().readFile(CERTIFICATES_LIST).trim().split(' ').slice(1);
      expect(names).toEqual(['example.net', 'upload.example.net', 'conference.example.net', 'turn.example.net']);
      const san = droplet().mustRun('SANs', ['openssl', 'x509', '-noout', '-ext', 'subjectAltName', '-in', '/etc/letsencrypt/live/example.net/fullchain.pem']).stdout;
      for (const n of names) expect(san).toContain(`DNS:${n}`);
      const renewal = droplet().readFile('/etc/letsencrypt/renewal/example.net.conf');
      expect(renewal).toContain('authenticator = webroot');
      // Renewals (certbot.timer) run the same hook as issuance.
      expect(renewal).toContain(`renew_hook = ${CERTS_SCRIPT} link`);
    });

    test('THEN every TLS endpoint serves the issued certificate, trusted through Pebble\'s root, for its own name', () => {
      expect(root).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const live = liveSerial();
      for (const endpoint of ENDPOINTS) expect({ endpoint: endpoint.what, serial: servedSerial(endpoint) }).toEqual({ endpoint: endpoint.what, serial: live });
    });

    test('THEN Prosody holds an imported copy it can read, and coturn a copy it can read', () => {
      const live = droplet().readFile('/etc/letsencrypt/live/example.net/fullchain.pem');
      expect(droplet().readFile('/etc/prosody/certs/example.net.crt')).toBe(live);
      expect(droplet().mustRun('Prosody reads its key', ['runuser', '-u', 'prosody', '--', 'openssl', 'pkey', '-noout', '-in', '/etc/prosody/certs/example.net.key']).status).toBe(0);
      expect(droplet().mustRun('coturn reads its copy', ['runuser', '-u', 'turnserver', '--', 'sh', '-c', `cat ${TURN_CERT_DIR}/fullchain.pem`]).stdout).toBe(live);
    });

    test('WHEN issuance runs again with the lineage valid THEN Let\'s Encrypt is asked for nothing', () => {
      droplet().mustRun('issuance again', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000, env: droplet().certbotEnv });
      expect(droplet().acmeOrders()).toBe(ordersAfterIssue);
    });

    test('WHEN certbot.timer renews THEN the same hook puts the new certificate on every endpoint', () => {
      const before = liveSerial();
      // Exactly the command Debian's certbot.service runs, made due now.
      const unit = droplet().readFile('/lib/systemd/system/certbot.service');
      const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
      expect(execStart).toMatch(/^\/usr\/bin\/certbot -q renew\b/);
      droplet().mustRun('certbot.timer\'s renewal', [...execStart.split(' '), '--force-renewal'], { timeoutMs: 120000, env: droplet().certbotEnv });
      const after = liveSerial();
      expect(after).not.toBe(before);
      expect(droplet().acmeOrders()).toBe(ordersAfterIssue + 1);
      for (const endpoint of ENDPOINTS) expect({ endpoint: endpoint.what, serial: servedSerial(endpoint) }).toEqual({ endpoint: endpoint.what, serial: after });
    });
  });
}
