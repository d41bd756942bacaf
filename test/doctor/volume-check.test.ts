/**
 * xmpp-doctor's data volume check, against a local HTTPS server that plays the host's status
 * document: it passes below the warning threshold, warns from it, fails from the point where the
 * daily backup refuses, and warns when the figure is stale or cannot be read.
 */
import { spawnSync } from 'child_process';
import { promises as dns } from 'dns';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import * as https from 'https';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { STATUS_INTERVAL_MINUTES, VOLUME_FILL } from '../../lib/core/backup';
import { DoctorPlan, planDoctorChecks } from '../../lib/core/doctor-plan';
import { VOLUME_STATUS_FILE, VOLUME_STATUS_PATH } from '../../lib/core/paths';
import { resolveSpec } from '../../lib/core/validate';
import { parseCommandLine } from '../../lib/doctor/cli';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';
import { checkVolume, parseVolumeStatus } from '../../lib/doctor/volume-check';
import { minimalSpec } from '../support/specs';

const NOW = new Date('2026-12-03T12:00:00Z');
const epoch = (minutesAgo: number) => Math.floor(NOW.getTime() / 1000) - minutesAgo * 60;

describe('parseVolumeStatus', () => {
  test.each<[string, string, ReturnType<typeof parseVolumeStatus>]>([
    ['what the host writes', `used-percent 42\nupdated ${epoch(3)}\n`, { usedPercent: 42, updated: epoch(3) }],
    ['a full volume', 'used-percent 100\nupdated 1\n', { usedPercent: 100, updated: 1 }],
    ['a figure without a time', 'used-percent 7\n', { usedPercent: 7 }],
    ['a figure above 100', 'used-percent 101\n', {}],
    ['an HTML page', '<html>404</html>', {}],
  ])('GIVEN %s THEN it reads it', (_, text, expected) => {
    expect(parseVolumeStatus(text)).toEqual(expected);
  });
});

describe('the plan', () => {
  test('GIVEN any spec THEN the doctor plan names the primary domain\'s status URL and the thresholds the backup script uses', () => {
    const plan = planDoctorChecks(resolveSpec({ ...minimalSpec, domains: ['example.net', 'example.org'] }));
    expect(plan.volume).toEqual({
      statusUrl: `https://example.net${VOLUME_STATUS_PATH}`,
      warnPercent: VOLUME_FILL.warnPercent,
      failPercent: 100 - VOLUME_FILL.keepFreePercent,
      staleAfterMinutes: 3 * STATUS_INTERVAL_MINUTES,
    });
    // The host script's own figures are the same.
    const script = readFileSync(join(__dirname, '../../lib/host/backup.sh'), 'utf8');
    expect(script).toContain(`KEEP_FREE_PERCENT=${VOLUME_FILL.keepFreePercent} WARN_FULL_PERCENT=${VOLUME_FILL.warnPercent} VOLUME_STATUS=${VOLUME_STATUS_FILE}`);
  });
});

describe('checkVolume against a host', () => {
  let work: string;
  let server: https.Server;
  let port: number;
  let answer = { code: 200, body: '' };
  const resolver = { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] } as unknown as dns.Resolver;
  const ctx: DoctorContext = { resolver, extraCa: [], timeoutMs: 3000, minValidDays: 14, now: () => NOW, limit: concurrencyLimit(4) };
  const plan = (): DoctorPlan => ({ volume: { statusUrl: `https://example.net:${port}${VOLUME_STATUS_PATH}`, warnPercent: 80, failPercent: 90, staleAfterMinutes: 30 } }) as unknown as DoctorPlan;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xc-volume-check-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=example.net', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl (installed by the test command) failed: ${r.stderr}`);
    server = https.createServer({ key: readFileSync(join(work, 'key.pem')), cert: readFileSync(join(work, 'cert.pem')) }, (req, res) => {
      if (req.url !== VOLUME_STATUS_PATH || req.headers.host !== `example.net:${port}`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(answer.code, { 'content-type': 'text/plain' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  test.each<[string, number, string, string, RegExp | undefined]>([
    ['half full, measured 3 min ago', 50, `updated ${epoch(3)}`, 'pass', undefined],
    ['79%, just measured', 79, `updated ${epoch(0)}`, 'pass', undefined],
    ['80% full', 80, `updated ${epoch(3)}`, 'warn', /grow droplet\.volumeSizeGib/],
    ['89% full', 89, `updated ${epoch(3)}`, 'warn', /grow droplet\.volumeSizeGib/],
    ['90% full', 90, `updated ${epoch(3)}`, 'fail', /grow droplet\.volumeSizeGib/],
    ['half full, but measured an hour ago', 50, `updated ${epoch(60)}`, 'warn', /xmpp-constructs-volume-status\.timer/],
    ['half full, with no time', 50, '', 'warn', /xmpp-constructs-volume-status\.timer/],
  ])('GIVEN the host says %s THEN it reports %s… ', async (_, used, updated, status, fix) => {
    answer = { code: 200, body: `used-percent ${used}\n${updated}\n` };
    const [result, ...more] = await checkVolume(ctx, plan());
    expect(more).toEqual([]);
    expect(result).toMatchObject({ id: `volume:example.net:${port}`, group: 'volume', title: 'the data volume is less than 80% full', status });
    expect(result.detail).toMatch(new RegExp(`^${used}% used`));
    if (fix) expect(result.fix).toMatch(fix);
    else expect(result.fix).toBeUndefined();
  });

  test('GIVEN 93% THEN the failure says why it matters: the backup refuses, and Prosody stops writing when full', async () => {
    answer = { code: 200, body: `used-percent 93\nupdated ${epoch(2)}\n` };
    const [result] = await checkVolume(ctx, plan());
    expect(result.detail).toBe('93% used, measured 2 min ago: the daily backup refuses to run, and Prosody stops writing when it is full');
  });

  test('GIVEN a host that publishes nothing (404, an earlier release) THEN it warns, naming the answer', async () => {
    answer = { code: 404, body: 'not found' };
    const [result] = await checkVolume(ctx, plan());
    expect(result).toMatchObject({ status: 'warn', detail: `127.0.0.1 answered ${VOLUME_STATUS_PATH} with HTTP 404` });
  });

  test('GIVEN a plan of an earlier release, without the volume THEN there is nothing to check', async () => {
    expect(await checkVolume(ctx, {} as DoctorPlan)).toEqual([]);
  });

  test('GIVEN the command line THEN volume is a group --only takes', () => {
    expect(parseCommandLine(['--plan', 'x', '--only', 'volume'], {}).options).toMatchObject({ only: ['volume'] });
  });
});
