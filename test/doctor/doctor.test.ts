/**
 * xmpp-doctor's pure parts (arguments, plans, verdicts, output) and its TLS client against a local
 * XMPP-like server on loopback. The whole doctor against a live service is
 * test/rehearsal/doctor.test.ts.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { promises as dns } from 'dns';
import * as tls from 'tls';
import { DOCTOR_PLAN_FILE, planDoctorChecks, PlannedTlsEndpoint, renderDoctorPlan } from '../../lib/core/doctor-plan';
import { resolveSpec } from '../../lib/core/validate';
import { main, parseCommandLine } from '../../lib/doctor/cli';
import { zoneLine } from '../../lib/doctor/dns-checks';
import { linksInHostMeta } from '../../lib/doctor/http-checks';
import { defaultDoctorPlan, loadDoctorPlan, narrowPlan } from '../../lib/doctor/index';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';
import { formatReport, summarize } from '../../lib/doctor/report';
import { handshake, judgeCertificate } from '../../lib/doctor/tls-checks';
import { fullSpec, minimalSpec } from '../support/specs';

const work = mkdtempSync(join(tmpdir(), 'xc-doctor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, env, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

describe('the command line', () => {
  test.each([
    [['--timeout', 'soon', 'example.net'], /--timeout soon: not a number/],
    [['--parallel', '0', 'example.net'], /--parallel 0: not a number ≥ 1/],
    [['--only', 'dns,smtp', 'example.net'], /--only dns,smtp: "smtp" is not a group. Fix: choose from dns,tls,http,ports,turn/],
    [['--address', 'publicIp=192.0.2.1', 'example.net'], /--address publicIp=192.0.2.1: expected SOURCE=IP/],
    [['--account', 'alice', 'example.net'], /--account alice: not a bare JID/],
    [['--account', 'alice@example.net', 'example.net'], /XMPP_DOCTOR_PASSWORD is not set. Fix:/],
    [['--ca-file', '/nonexistent/ca.pem', 'example.net'], /--ca-file \/nonexistent\/ca.pem: .*Fix: give a readable PEM file/],
    [['--frobnicate'], /Unknown option '--frobnicate'.*Fix: see xmpp-doctor --help/],
    [[], /no domain and no --plan. Fix:/],
    [['--plan', '/nonexistent'], /--plan \/nonexistent: no such file or directory. Fix: synthesize first/],
    [['bad..domain'], /bad\.\.domain: /],
  ])('GIVEN %j THEN it exits 2 naming the argument and the fix, without a stack trace', async (argv, expected) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(expected);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  test('GIVEN --help THEN the usage, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: xmpp-doctor/);
  });

  test('GIVEN an account THEN the password comes from the environment, never argv', () => {
    const parsed = parseCommandLine(['--account', 'alice@example.net', 'example.net'], { XMPP_DOCTOR_PASSWORD: 's3cret' });
    expect(parsed.options.account).toEqual({ jid: 'alice@example.net', password: 's3cret' });
  });

  test('GIVEN addresses, resolvers and limits THEN they become options', () => {
    const parsed = parseCommandLine(['--address', 'reservedIpv4=192.0.2.1', '--resolver', '127.0.0.1:5353', '--timeout', '2', '--min-days', '30', '--only', 'dns,tls', 'example.net'], {});
    expect(parsed.options).toMatchObject({ addresses: { reservedIpv4: '192.0.2.1' }, resolvers: ['127.0.0.1:5353'], timeoutMs: 2000, minValidDays: 30, only: ['dns', 'tls'] });
    expect(parsed.domains).toEqual(['example.net']);
  });
});

describe('plans', () => {
  test('GIVEN a directory with one doctor-plan.json below it THEN that plan is loaded', () => {
    const dir = join(work, 'stack', 'review', 'Xmpp');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, DOCTOR_PLAN_FILE), renderDoctorPlan(resolveSpec(minimalSpec)));
    expect(loadDoctorPlan(join(work, 'stack')).domains).toEqual(['example.net']);
  });

  test.each([
    ['not JSON', '{', /is not JSON/],
    ['another format', '{"format":"something-else"}', /is not a doctor plan of format xmpp-constructs\/doctor-plan@1 \(format: "something-else"\). Fix: synthesize again/],
  ])('GIVEN a plan file that is %s THEN it is refused with the fix', (_, text, expected) => {
    const path = join(work, `plan-${text.length}.json`);
    writeFileSync(path, text);
    expect(() => loadDoctorPlan(path)).toThrow(expected);
  });

  test('GIVEN two plans below a directory THEN it asks for one', () => {
    for (const d of ['a', 'b']) {
      spawnSync('mkdir', ['-p', join(work, 'two', d)]);
      writeFileSync(join(work, 'two', d, DOCTOR_PLAN_FILE), renderDoctorPlan(resolveSpec(minimalSpec)));
    }
    expect(() => loadDoctorPlan(join(work, 'two'))).toThrow(/2 plans below it .*Fix: give one of them/);
  });

  test('GIVEN only a domain THEN the plan is the library\'s defaults for it', () => {
    expect(defaultDoctorPlan(['example.net'])).toEqual(planDoctorChecks(resolveSpec(minimalSpec)));
  });

  test('GIVEN domains of a plan THEN it narrows to their names; a domain not in the plan is refused', () => {
    const plan = planDoctorChecks(resolveSpec(fullSpec));
    const narrowed = narrowPlan(plan, ['example.org']);
    expect(narrowed.domains).toEqual(['example.org']);
    expect(narrowed.records.every((r) => r.name === 'example.org' || r.name.endsWith('.example.org'))).toBe(true);
    expect(narrowed.tlsEndpoints.every((e) => e.certificate === 'example.org')).toBe(true);
    expect(narrowed.turn).toBeUndefined();
    expect(() => narrowPlan(plan, ['example.com'])).toThrow(/example.com: not in the plan.*Fix:/);
  });
});

describe('verdicts', () => {
  const endpoint: PlannedTlsEndpoint = { name: 'example.net', port: 5222, mode: 'xmpp-client-starttls', certificate: 'example.net', purpose: 'XMPP clients' };
  const lineage = ['example.net', 'upload.example.net', 'conference.example.net'];
  const now = new Date('2026-11-21T00:00:00Z');
  const cert = (san: string, validTo: string) => ({ subject: { CN: 'example.net' }, subjectaltname: san, valid_to: validTo }) as unknown as tls.PeerCertificate;
  const good = 'DNS:example.net, DNS:upload.example.net, DNS:conference.example.net';

  test.each([
    ['a trusted certificate for every name, 60 days left', true, good, 'Jan 20 00:00:00 2027 GMT', []],
    ['a certificate lacking the group chat name', true, 'DNS:example.net, DNS:upload.example.net', 'Jan 20 00:00:00 2027 GMT', [/lacks conference\.example\.net/]],
    ['a certificate for another name only', true, 'DNS:other.example', 'Jan 20 00:00:00 2027 GMT', [/not valid for example\.net/, /lacks upload\.example\.net, conference\.example\.net/]],
    ['a wildcard covering the components', true, 'DNS:example.net, DNS:*.example.net', 'Jan 20 00:00:00 2027 GMT', []],
    ['a certificate expiring in 5 days', true, good, 'Nov 26 12:00:00 2026 GMT', [/expires in 5 days/]],
    ['an expired certificate', true, good, 'Nov 01 00:00:00 2026 GMT', [/expired on 2026-11-01/]],
    ['an untrusted chain', false, good, 'Jan 20 00:00:00 2027 GMT', [/chain is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)/]],
  ])('GIVEN %s THEN the verdict names each of its problems', (_, authorized, san, validTo, expected) => {
    const verdict = judgeCertificate({ authorized, authorizationError: authorized ? undefined : 'SELF_SIGNED_CERT_IN_CHAIN', certificate: cert(san, validTo), protocol: 'TLSv1.3' }, endpoint, lineage, now, 14);
    expect(verdict.problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(verdict.problems[i]).toMatch(pattern));
    expect(verdict.fixes.length > 0).toBe(expected.length > 0);
  });

  test.each([
    ['xml', '<?xml version="1.0"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://example.net/xmpp-websocket"/>\n</XRD>\n'],
    ['json', '{"links":[{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://example.net/xmpp-websocket"}]}'],
  ] as const)('GIVEN a %s host-meta THEN its links are read', (kind, body) => {
    expect(linksInHostMeta(body, kind)).toEqual(['urn:xmpp:alt-connections:websocket wss://example.net/xmpp-websocket']);
  });

  test.each([
    [{ name: '_xmpp-client._tcp.example.net', type: 'SRV', value: 'example.net', port: 5222, priority: 0, weight: 5 }, '_xmpp-client._tcp.example.net. IN SRV 0 5 5222 example.net.'],
    [{ name: '_xmpp-server._tcp.example.net', type: 'SRV', value: '.', port: 0, priority: 0, weight: 0 }, '_xmpp-server._tcp.example.net. IN SRV 0 0 0 .'],
    [{ name: 'upload.example.net', type: 'CNAME', value: 'example.net' }, 'upload.example.net. IN CNAME example.net.'],
    [{ name: 'example.net', type: 'CAA', value: 'letsencrypt.org', tag: 'issue' }, 'example.net. IN CAA 0 issue "letsencrypt.org"'],
    [{ name: 'example.net', type: 'A', value: { address: 'reservedIpv4' } }, 'example.net. IN A <reservedIpv4>'],
  ] as const)('GIVEN the planned record %j THEN the fix publishes %s', (record, line) => {
    expect(zoneLine(record)).toBe(line);
  });

  test('GIVEN results THEN the checklist shows each failure with its fix, and the report fails', () => {
    const report = summarize([
      { id: 'a', group: 'dns', title: 'example.net A', status: 'pass', detail: '192.0.2.1' },
      { id: 'b', group: 'ports', title: 'tcp 5280 closed', status: 'fail', detail: 'something answers', fix: 'close it' },
      { id: 'c', group: 'turn', title: 'a TURN relay', status: 'skip', detail: 'needs an account' },
    ]);
    expect(report.ok).toBe(false);
    expect(report.counts).toEqual({ pass: 1, warn: 0, fail: 1, skip: 1 });
    expect(formatReport(report)).toBe([
      'DNS records', '  ✔ example.net A: 192.0.2.1', '',
      'Ports', '  ✘ tcp 5280 closed: something answers', '      fix: close it', '',
      'Audio and video calls (STUN/TURN)', '  - a TURN relay: needs an account', '',
      'FAILED: 1 passed, 1 failed, 0 warnings, 1 skipped', '',
    ].join('\n'));
  });
});

describe('concurrencyLimit', () => {
  test('GIVEN forty operations and a limit of three THEN never more than three run, all finish, in order asked', async () => {
    const limit = concurrencyLimit(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => limit(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1 + (i % 3)));
      running--;
      return i * 2;
    })));
    expect(most).toBe(3);
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(started).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  test('GIVEN failing operations THEN their slots are freed and the failures reach the callers', async () => {
    const limit = concurrencyLimit(1);
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => limit(async () => {
      if (n !== 3) throw new Error(`failure ${n}`);
      return n;
    })));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  test.each([0, -1, 1.5])('GIVEN a limit of %p THEN it is refused', (max) => {
    expect(() => concurrencyLimit(max)).toThrow(/not a positive integer/);
  });
});

describe('the TLS client, against a local server', () => {
  let key: string;
  let certPem: string;
  const servers: net.Server[] = [];
  const ctx = (extraCa: string[]): DoctorContext => ({ resolver: new dns.Resolver(), extraCa, timeoutMs: 3000, minValidDays: 14, now: () => new Date(), limit: concurrencyLimit(4) });

  beforeAll(() => {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', '/CN=example.net',
      '-addext', 'subjectAltName=DNS:example.net,DNS:upload.example.net', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl (installed by the test command) failed: ${r.stderr}`);
    key = readFileSync(join(work, 'key.pem'), 'utf8');
    certPem = readFileSync(join(work, 'cert.pem'), 'utf8');
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  /** A server speaking just enough XMPP: stream features with (or without) STARTTLS, then TLS. */
  function xmppServer(offerStartTls: boolean): Promise<number> {
    const context = tls.createSecureContext({ key, cert: certPem });
    const server = net.createServer((socket) => {
      let buffer = '';
      socket.on('error', () => undefined);
      socket.on('data', function onData(data) {
        buffer += data.toString();
        if (buffer.includes('<stream:stream') && !buffer.includes('<starttls')) {
          socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.net' version='1.0'><stream:features>${offerStartTls ? "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" : ''}<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`);
        } else if (buffer.includes('<starttls')) {
          socket.off('data', onData);
          socket.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
          const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
          secure.on('error', () => undefined);
        }
      });
    });
    servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  }

  const endpointAt = (port: number): PlannedTlsEndpoint => ({ name: 'example.net', port, mode: 'xmpp-client-starttls', certificate: 'example.net', purpose: 'XMPP clients' });

  test('GIVEN STARTTLS offered THEN the handshake shows the certificate; trusted only with the CA given', async () => {
    const port = await xmppServer(true);
    const untrusted = await handshake(ctx([]), endpointAt(port), '127.0.0.1');
    expect(untrusted.authorized).toBe(false);
    expect(untrusted.certificate.subjectaltname).toBe('DNS:example.net, DNS:upload.example.net');
    const trusted = await handshake(ctx([certPem]), endpointAt(port), '127.0.0.1');
    expect(trusted.authorized).toBe(true);
    const verdict = judgeCertificate(trusted, endpointAt(port), ['example.net', 'upload.example.net', 'conference.example.net'], new Date(), 14);
    expect(verdict.problems).toEqual(['it lacks conference.example.net']);
  });

  test('GIVEN no STARTTLS offered THEN it says so', async () => {
    const port = await xmppServer(false);
    await expect(handshake(ctx([]), endpointAt(port), '127.0.0.1')).rejects.toThrow('the server does not offer STARTTLS');
  });

  test('GIVEN nothing listening THEN the handshake fails, refused', async () => {
    const server = await new Promise<net.Server>((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => resolve(s)); });
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    await expect(handshake(ctx([]), endpointAt(port), '127.0.0.1')).rejects.toThrow(/ECONNREFUSED/);
  });
});
