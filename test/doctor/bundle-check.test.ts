/**
 * xmpp-doctor's configuration bundle check, against a local HTTPS server that plays the host's
 * status document: it passes when the host runs the planned bundle, fails at once when the host
 * refused it, and with --wait-bundle waits until the host has fetched it.
 */
import { spawnSync } from 'child_process';
import { promises as dns } from 'dns';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import * as https from 'https';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import type { DoctorPlan } from '../../lib/core/doctor-plan';
import { checkBundle, parseBundleStatus } from '../../lib/doctor/bundle-check';
import { parseCommandLine } from '../../lib/doctor/cli';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

describe('parseBundleStatus', () => {
  test.each<[string, string, ReturnType<typeof parseBundleStatus>]>([
    ['an applied bundle', `applied ${OLD}\n`, { applied: OLD }],
    ['an applied and a refused one', `applied ${OLD}\nrefused ${NEW} prosodyctl check config failed: line 3\n`, { applied: OLD, refused: { sha256: NEW, reason: 'prosodyctl check config failed: line 3' } }],
    ['a first boot still under way', 'applied none\n', {}],
    ['something else entirely', '<html>404</html>', {}],
    ['a hash of the wrong length', `applied ${OLD}0\n`, {}],
  ])('GIVEN %s THEN it reads it', (_, text, expected) => {
    expect(parseBundleStatus(text)).toEqual(expected);
  });
});

describe('checkBundle against a host', () => {
  let work: string;
  let server: https.Server;
  let port: number;
  let status = `applied ${OLD}\n`;
  let requests = 0;
  // The status is the host's own; the name resolves to loopback without asking any DNS server.
  const resolver = { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] } as unknown as dns.Resolver;
  const ctx: DoctorContext = { resolver, extraCa: [], timeoutMs: 3000, minValidDays: 14, now: () => new Date(), limit: concurrencyLimit(4) };
  const plan = (): DoctorPlan => ({ configBundle: { sha256: NEW, statusUrl: `https://example.net:${port}/.well-known/xmpp-constructs/bundle` } }) as unknown as DoctorPlan;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xc-bundle-check-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=example.net', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl (installed by the test command) failed: ${r.stderr}`);
    server = https.createServer({ key: readFileSync(join(work, 'key.pem')), cert: readFileSync(join(work, 'cert.pem')) }, (req, res) => {
      requests += 1;
      if (req.url !== '/.well-known/xmpp-constructs/bundle' || req.headers.host !== `example.net:${port}`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(status);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests = 0;
  });

  test('GIVEN the host runs the planned bundle THEN it passes', async () => {
    status = `applied ${NEW}\n`;
    expect(await checkBundle(ctx, plan())).toEqual([expect.objectContaining({ group: 'bundle', status: 'pass', detail: 'applied on 127.0.0.1' })]);
  });

  test('GIVEN the host still runs the previous bundle and no wait THEN it fails once, naming both', async () => {
    status = `applied ${OLD}\n`;
    const [result] = await checkBundle(ctx, plan());
    expect(result).toMatchObject({ status: 'fail', title: `the host runs configuration bundle ${NEW.slice(0, 12)}`, detail: `127.0.0.1 runs ${OLD.slice(0, 12)}` });
    expect(result.fix).toMatch(/--wait-bundle/);
    expect(requests).toBe(1);
  });

  test('GIVEN a wait THEN it looks again until the host has fetched and applied the bundle', async () => {
    status = `applied ${OLD}\n`;
    const sleeps: number[] = [];
    const result = await checkBundle(ctx, plan(), {
      waitSeconds: 30,
      pollSeconds: 5,
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 3) status = `applied ${NEW}\n`;
      },
    });
    expect(result).toEqual([expect.objectContaining({ status: 'pass' })]);
    expect(requests).toBe(4);
    expect(sleeps).toEqual([5000, 5000, 5000]);
  });

  test('GIVEN the host refused the planned bundle THEN it fails at once with the host\'s reason, without waiting out the wait', async () => {
    status = `applied ${OLD}\nrefused ${NEW} nginx -t failed: unknown directive\n`;
    const [result] = await checkBundle(ctx, plan(), { waitSeconds: 600, sleep: async () => { throw new Error('must not wait'); } });
    expect(result).toMatchObject({ status: 'fail', detail: `127.0.0.1 refused it: nginx -t failed: unknown directive; it keeps running ${OLD.slice(0, 12)}` });
  });

  test('GIVEN an expected hash from the command line THEN it is the one checked', async () => {
    status = `applied ${OLD}\n`;
    expect(await checkBundle(ctx, plan(), { expected: OLD })).toEqual([expect.objectContaining({ status: 'pass' })]);
  });

  test('GIVEN a plan without a bundle (configuration in user_data) THEN there is nothing to check', async () => {
    expect(await checkBundle(ctx, {} as DoctorPlan)).toEqual([]);
    expect(requests).toBe(0);
  });

  test('GIVEN the command line THEN --bundle and --wait-bundle become options, a bad hash is refused naming the fix', () => {
    expect(parseCommandLine(['--plan', 'x', '--bundle', NEW, '--wait-bundle', '300'], {}).options).toMatchObject({ bundle: NEW, waitBundleSeconds: 300 });
    expect(parseCommandLine(['--plan', 'x'], {}).options).toMatchObject({ waitBundleSeconds: 0 });
    expect(() => parseCommandLine(['--plan', 'x', '--bundle', 'abc'], {})).toThrow(/--bundle abc: not a SHA-256 in hex\. Fix: give the stack's output/);
    expect(() => parseCommandLine(['--plan', 'x', '--only', 'bundle,tls'], {})).not.toThrow();
  });
});
