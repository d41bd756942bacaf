/**
 * xmpp-doctor against the rehearsal: the example droplet with Let's Encrypt (Pebble) certificates
 * and DNS pointing at it is all green, with a TURN relay allocated from the credentials Prosody
 * issues. Then one fault at a time, each a common real failure, and each must be named with its
 * fix; where the fix is a command on the host, that command is run and the doctor is green again.
 */
import { DOCTOR_PLAN_FILE } from '../../lib/core/doctor-plan';
import { CERTS_SCRIPT } from '../../lib/core/host-scripts';
import { ACME_WEBROOT, PROVISION_SCRIPT, TURN_USERDB } from '../../lib/core/paths';
import type { CheckResult, DoctorReport } from '../../lib/doctor/report';
import { DROPLET, Rehearsal, rehearsalUnavailable, synthesizeExampleWithPlan } from './harness';
import { describeUnless } from '../support/tools';

jest.setTimeout(300000);

const ALICE = { jid: 'alice@example.net', password: 'alice checks the calls' };

const failures = (report: DoctorReport): CheckResult[] => report.checks.filter((c) => c.status === 'fail');

describeUnless(rehearsalUnavailable(), 'GIVEN the example droplet, deployed and issued its certificates', () => {
  let rehearsal: Rehearsal | undefined;
  let planPath: string;

  function droplet(): Rehearsal {
    if (!rehearsal) throw new Error('the rehearsal did not boot (see the beforeAll error)');
    return rehearsal;
  }

  /** The doctor as an operator runs it after deploy: the stack's plan, the known addresses, an account. */
  function doctor(extra: readonly string[] = []): { status: number | null; report: DoctorReport } {
    const { status, report } = droplet().doctor(
      ['--plan', planPath, '--address', `reservedIpv4=${DROPLET.reserved4}`, '--address', `reservedIpv6=${DROPLET.reserved6}`, '--address', `dropletIpv6=${DROPLET.public6}`, '--account', ALICE.jid, '--timeout', '3', ...extra],
      { XMPP_DOCTOR_PASSWORD: ALICE.password },
    );
    return { status, report };
  }

  /** Poll `check` until it holds: daemons take a moment to pick up a change. */
  async function until(what: string, check: () => boolean, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${droplet().logTails()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    const { stack, plan } = synthesizeExampleWithPlan();
    const booted = await Rehearsal.boot(stack);
    rehearsal = booted.rehearsal;
    if (booted.provision.status !== 0) throw new Error(`provisioning failed (exit ${booted.provision.status}):\n${booted.provision.stdout}\n${booted.provision.stderr}`);
    await rehearsal.waitForListeners(['tcp/5222', 'tcp/5223', 'tcp/5269', 'tcp/443', 'tcp/80', 'tcp/5349', 'udp/3478']);
    rehearsal.issueCertificates();
    rehearsal.addUser(ALICE.jid, ALICE.password);
    planPath = rehearsal.exchangeFile(DOCTOR_PLAN_FILE, plan);
  });
  afterAll(async () => {
    await rehearsal?.stop();
  });

  test('THEN every check passes, exit 0, with a TURN relay allocated from the credentials Prosody issues', () => {
    const { status, report } = doctor();
    expect(failures(report)).toEqual([]);
    expect(report.counts.skip).toBe(0);
    expect(status).toBe(0);
    const passed = (prefix: string) => report.checks.filter((c) => c.id.startsWith(prefix) && c.status === 'pass').map((c) => c.id);
    // Every group ran, on IPv4 and IPv6 where the name has both.
    expect(passed('dns:_xmpp-client._tcp.example.net/SRV')).toHaveLength(1);
    expect(passed('dns:example.net/CAA/issue')).toHaveLength(1);
    expect(passed('tls:example.net:5222@')).toEqual([`tls:example.net:5222@${DROPLET.reserved4}`, `tls:example.net:5222@${DROPLET.reserved6}`]);
    expect(passed('tls:conference.example.net:5269@')).toHaveLength(2);
    expect(passed('tls:turn.example.net:5349@')).toHaveLength(2);
    expect(passed('http:example.net/.well-known/host-meta.json@')).toHaveLength(2);
    expect(passed('ports:closed:example.net:5280@')).toHaveLength(2);
    expect(passed('turn:stun:')).toHaveLength(2);
    expect(passed('turn:allocate:')).toHaveLength(2);
  });

  test('WHEN the _xmpp-client SRV record is missing THEN that record fails, naming the record to publish, exit 1', async () => {
    const original = droplet().zoneFile('example.net');
    const broken = original.split('\n').filter((l) => !l.startsWith('_xmpp-client._tcp')).join('\n');
    expect(broken).not.toBe(original);
    // What a resolver inside the droplet's network sees (the rehearsal's DNS), as a client would ask.
    const srv = () => droplet().hostRun(['node', '-e', "require('dns').promises.resolveSrv('_xmpp-client._tcp.example.net').then((r) => console.log(JSON.stringify(r)), (e) => console.log(e.code))"]).stdout.trim();
    droplet().replaceZoneFile('example.net', broken);
    try {
      await until('the SRV record is gone', () => srv() === 'ENOTFOUND');
      const { status, report } = doctor(['--only', 'dns']);
      expect(status).toBe(1);
      expect(failures(report)).toEqual([expect.objectContaining({
        id: 'dns:_xmpp-client._tcp.example.net/SRV',
        detail: 'no such record',
        fix: expect.stringContaining('_xmpp-client._tcp.example.net. IN SRV 0 5 5222 example.net.'),
      })]);
    } finally {
      droplet().replaceZoneFile('example.net', original);
      await until('the SRV record is back', () => srv().startsWith('[{'));
    }
  });

  test('WHEN Prosody\'s internal HTTP port 5280 answers from outside THEN the doctor names it at each address, exit 1', async () => {
    const config = '/etc/prosody/prosody.cfg.lua';
    const original = droplet().readFile(config);
    expect(original).toMatch(/^http_interfaces = \{ "127\.0\.0\.1", "::1" \}$/m);
    const exposed = (): boolean => droplet().listeners().some((l) => l.protocol === 'tcp' && l.port === 5280 && ['*', '0.0.0.0', '::'].includes(l.address));
    droplet().mustRun('expose 5280', ['sed', '-i', 's/^http_interfaces = .*/http_interfaces = { "*", "::" }/', config]);
    droplet().mustRun('restart Prosody', ['systemctl', 'restart', 'prosody']);
    try {
      await until('Prosody listens on every address', exposed);
      const { status, report } = doctor(['--only', 'ports']);
      expect(status).toBe(1);
      expect(failures(report).map((c) => c.id).sort()).toEqual([`ports:closed:example.net:5280@${DROPLET.reserved6}`, `ports:closed:example.net:5280@${DROPLET.reserved4}`].sort());
      expect(failures(report)[0].fix).toContain('http_interfaces');
    } finally {
      droplet().mustRun('restore the config', ['sh', '-c', `cat > ${config}`], { input: original });
      droplet().mustRun('restart Prosody', ['systemctl', 'restart', 'prosody']);
      await until('Prosody listens on loopback only', () => !exposed());
    }
  });

  test('WHEN coturn holds another shared secret than Prosody THEN the relay is refused and the doctor names the mismatch; provisioning again (its fix) mends it', async () => {
    droplet().mustRun('give coturn another secret', ['sh', '-c',
      `turnadmin --delete-secret "" --realm turn.example.net --db ${TURN_USERDB} >/dev/null && turnadmin --set-secret not-the-one-prosody-has --realm turn.example.net --db ${TURN_USERDB} >/dev/null`]);
    const broken = doctor(['--only', 'turn']);
    expect(broken.status).toBe(1);
    const failed = failures(broken.report);
    expect(failed.map((c) => c.id).sort()).toEqual([`turn:allocate:turn.example.net:3478@${DROPLET.public4}`, `turn:allocate:turn.example.net:3478@${DROPLET.public6}`].sort());
    for (const c of failed) {
      expect(c.detail).toMatch(/different shared secrets/);
      expect(c.fix).toContain(PROVISION_SCRIPT);
    }

    droplet().mustRun('the fix the doctor names', [PROVISION_SCRIPT], { timeoutMs: 120000 });
    await droplet().waitForListeners(['udp/3478', 'tcp/5222']);
    const mended = doctor(['--only', 'turn']);
    expect(failures(mended.report)).toEqual([]);
    expect(mended.status).toBe(0);
  });

  test('WHEN the certificate lacks the group chat name THEN every endpoint serving it names the missing name; the certs script (its fix) mends it', async () => {
    droplet().mustRun('a certificate without conference.example.net', ['certbot', 'certonly', '--non-interactive', '--agree-tos', '--email', 'hostmaster@example.net',
      '--webroot', '-w', ACME_WEBROOT, '--cert-name', 'example.net', '-d', 'example.net', '-d', 'upload.example.net', '-d', 'turn.example.net',
      '--force-renewal', '--deploy-hook', `${CERTS_SCRIPT} link`], { timeoutMs: 120000, env: droplet().certbotEnv });
    const broken = doctor(['--only', 'tls']);
    expect(broken.status).toBe(1);
    const failed = failures(broken.report);
    // Every endpoint serving the lineage: 5222, 5223, 5269 (twice), 443 (twice), 5349, each at two addresses.
    expect(failed.length).toBeGreaterThanOrEqual(12);
    for (const c of failed) expect(c.detail).toMatch(/conference\.example\.net/);
    expect(failed.find((c) => c.id === `tls:conference.example.net:5269@${DROPLET.reserved4}`)?.detail).toMatch(/not valid for conference\.example\.net/);
    expect(failed.find((c) => c.id === `tls:example.net:5222@${DROPLET.reserved4}`)?.detail).toMatch(/lacks conference\.example\.net/);
    expect(failed[0].fix).toContain(`${CERTS_SCRIPT} issue`);

    droplet().mustRun('the fix the doctor names', [CERTS_SCRIPT, 'issue'], { timeoutMs: 120000, env: droplet().certbotEnv });
    const mended = doctor();
    expect(failures(mended.report)).toEqual([]);
    expect(mended.status).toBe(0);
  });
});
