/**
 * xmpp-doctor's off-host backup checks, without the network: how the host's status document is
 * read and judged (fresh, stale, failed, refused, never, missing, garbage), how a listing of the
 * bucket is read and judged, and where the key to read the bucket comes from.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { OFFSITE_FRESH_HOURS } from '../../lib/core/backup';
import { DoctorPlan } from '../../lib/core/doctor-plan';
import {
  BackupStatus, checkBackup, formatAge, judgeBackupStatus, judgeListingError, judgeSnapshots, LOOK_ON_THE_HOST, parseBackupStatus, parseListing,
  snapshotsOf, SpacesError, spacesCredentialsFrom,
} from '../../lib/doctor/backup-check';
import { parseCommandLine } from '../../lib/doctor/cli';
import { formatReport, summarize } from '../../lib/doctor/report';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';

const NOW = new Date('2026-12-03T12:00:00Z');
const hoursAgo = (h: number) => Math.floor(NOW.getTime() / 1000 - h * 3600);
const planned = { endpoint: 'https://fra1.digitaloceanspaces.com', region: 'fra1', bucket: 'example-backups', repositoryPrefix: 'xmpp-example-net', statusUrl: 'https://example.net/.well-known/xmpp-constructs/backup', freshHours: OFFSITE_FRESH_HOURS };
const status = (fields: Record<string, string | number>) => `${Object.entries(fields).map(([k, v]) => `${k} ${v}`.trimEnd()).join('\n')}\n`;
const credentials = { accessKeyId: 'DO00READONLY', secretAccessKey: 'not-a-real-secret', source: 'XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET' };

describe('parseBackupStatus', () => {
  test.each<[string, string, BackupStatus | undefined]>([
    ['a success', 'state ok\nlast-success 1700000000\nlast-attempt 1700000000\nsnapshot 4f2a9c1e\ndetail \n', { state: 'ok', lastSuccess: 1700000000, lastAttempt: 1700000000, snapshot: '4f2a9c1e', detail: '' }],
    ['a failure with its reason', 'state failed\nlast-success 1700000000\nlast-attempt 1700090000\nsnapshot -\ndetail Fatal: unable to open config file: Stat: 403 Forbidden\n',
      { state: 'failed', lastSuccess: 1700000000, lastAttempt: 1700090000, detail: 'Fatal: unable to open config file: Stat: 403 Forbidden' }],
    ['a refusal', 'state refused\nlast-success 0\nlast-attempt 1700090000\nsnapshot -\ndetail the repository holds another volume\'s backups\n',
      { state: 'refused', lastSuccess: 0, lastAttempt: 1700090000, detail: 'the repository holds another volume\'s backups' }],
    ['no backup yet', 'state never\nlast-success 0\nlast-attempt 0\nsnapshot -\ndetail\n', { state: 'never', lastSuccess: 0, lastAttempt: 0, detail: '' }],
    ['CRLF line ends and a key a later host adds', 'state ok\r\nlast-success 5\r\nlast-attempt 6\r\nsnapshot abc\r\nbytes 123\r\n', { state: 'ok', lastSuccess: 5, lastAttempt: 6, snapshot: 'abc', detail: '' }],
    ['a state the doctor does not know', 'state maybe\nlast-success 5\nlast-attempt 6\n', undefined],
    ['a time that is not a number', 'state ok\nlast-success yesterday\nlast-attempt 6\n', undefined],
    ['no times', 'state ok\n', undefined],
    ['an HTML page', '<html><body>Welcome to nginx!</body></html>', undefined],
    ['nothing', '', undefined],
  ])('GIVEN %s THEN it reads it', (_, text, expected) => {
    expect(parseBackupStatus(text)).toEqual(expected);
  });
});

describe('the host\'s document', () => {
  test('THEN the host script writes the keys the doctor reads, in its format, and its "never" reads as such', () => {
    const script = readFileSync(join(__dirname, '../../lib/host/backup.sh'), 'utf8');
    expect(script).toContain("printf 'state %s\\nlast-success %s\\nlast-attempt %s\\nsnapshot %s\\ndetail %s\\n'");
    const never = /printf '(state never[^']*)'/.exec(script)?.[1].replace(/\\n/g, '\n');
    expect(never && parseBackupStatus(never)).toEqual({ state: 'never', lastSuccess: 0, lastAttempt: 0, detail: 'no off-host backup yet' });
  });
});

describe('judgeBackupStatus', () => {
  test.each<[string, number, string, 'pass' | 'warn' | 'fail', RegExp, RegExp | undefined]>([
    ['fresh: a success 3 h ago', 200, status({ state: 'ok', 'last-success': hoursAgo(3), 'last-attempt': hoursAgo(3), snapshot: '4f2a9c1e', detail: '' }), 'pass',
      /^the last backup \(snapshot 4f2a9c1e\) succeeded 3 h ago$/, undefined],
    ['fresh: a success just under the limit', 200, status({ state: 'ok', 'last-success': hoursAgo(OFFSITE_FRESH_HOURS - 0.1), 'last-attempt': hoursAgo(1), snapshot: '-' }), 'pass', /^the last backup succeeded 25 h ago$/, undefined],
    ['stale: a success 30 h ago', 200, status({ state: 'ok', 'last-success': hoursAgo(30), 'last-attempt': hoursAgo(30), snapshot: '4f2a9c1e' }), 'fail',
      /succeeded 30 h ago \(more than 26 h\): the daily backup has stopped running/, /systemctl status xmpp-constructs-offsite-backup.*journalctl -u xmpp-constructs-offsite-backup/],
    ['stale: a success 4 days ago', 200, status({ state: 'ok', 'last-success': hoursAgo(100), 'last-attempt': hoursAgo(100), snapshot: 'x' }), 'fail', /succeeded 4 days ago/, /journalctl -u/],
    ['failed', 200, status({ state: 'failed', 'last-success': hoursAgo(27), 'last-attempt': hoursAgo(2), snapshot: '-', detail: 'Fatal: unable to open repository: 403 Forbidden' }), 'fail',
      /^the last backup \(2 h ago\) failed: Fatal: unable to open repository: 403 Forbidden; the last success was 27 h ago$/, /systemctl status xmpp-constructs-offsite-backup/],
    ['failed, with a success within the day', 200, status({ state: 'failed', 'last-success': hoursAgo(5), 'last-attempt': hoursAgo(1), snapshot: '-', detail: 'out of memory' }), 'fail', /failed: out of memory; the last success was 5 h ago/, /journalctl/],
    ['failed, never a success, no detail', 200, status({ state: 'failed', 'last-success': 0, 'last-attempt': hoursAgo(1), snapshot: '-', detail: '' }), 'fail', /^the last backup \(1 h ago\) failed; no backup has ever succeeded$/, /journalctl/],
    ['refused', 200, status({ state: 'refused', 'last-success': 0, 'last-attempt': hoursAgo(1), snapshot: '-', detail: 'the repository holds snapshots of volume 7c1d…, not of this one' }), 'fail',
      /refused to write: the repository holds snapshots of volume 7c1d…, not of this one/, /example-backups\/xmpp-example-net holds the backups of another data volume.*restore --from spaces.*offsite --new-history/],
    ['never', 200, status({ state: 'never', 'last-success': 0, 'last-attempt': 0, snapshot: '-', detail: '' }), 'warn', /no off-host backup yet/, /within a day of provisioning/],
    ['missing: a host of an earlier release', 404, '<html>404 Not Found</html>', 'warn', /no backup status \(HTTP 404\)/, /deploy the stack with this release/],
    ['an error page', 502, 'Bad Gateway', 'warn', /HTTP 502/, /nginx/],
    ['garbage', 200, '<html><body>Welcome to nginx!</body></html>', 'warn', /not a backup status \("<html><body>Welcome to nginx!/, /this release/],
    ['"ok" without a time', 200, status({ state: 'ok', 'last-success': 0, 'last-attempt': 0, snapshot: '-' }), 'warn', /names no time of success/, /this release/],
  ])('GIVEN %s (HTTP %i) THEN it judges it', (_, httpStatus, body, expected, detail, fix) => {
    const verdict = judgeBackupStatus(httpStatus, body, NOW, planned);
    expect(verdict.status).toBe(expected);
    expect(verdict.detail).toMatch(detail);
    if (fix) expect(verdict.fix).toMatch(fix);
    else expect(verdict.fix).toBeUndefined();
  });

  test('THEN a failure names the unit to look at on the host, by its name', () => {
    expect(LOOK_ON_THE_HOST).toBe('on the host, `systemctl status xmpp-constructs-offsite-backup` says when it last ran and how it ended, `journalctl -u xmpp-constructs-offsite-backup` shows restic\'s output (`sudo systemctl start xmpp-constructs-offsite-backup` runs it now)');
  });

  test.each([[0, 'just now'], [59, 'just now'], [60, '1 min ago'], [3599, '59 min ago'], [3600, '1 h ago'], [47 * 3600, '47 h ago'], [48 * 3600, '2 days ago']])('formatAge(%d) is %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});

const LISTING = (contents: string, more = '') => `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>example-backups</Name><Prefix>xmpp-example-net/snapshots/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>${more}${contents}</ListBucketResult>`;
const ID1 = 'a'.repeat(64);
const ID2 = '0123456789abcdef'.repeat(4);
const object = (key: string, lastModified: string) => `<Contents><Key>${key}</Key><LastModified>${lastModified}</LastModified><ETag>&quot;x&quot;</ETag><Size>300</Size><StorageClass>STANDARD</StorageClass></Contents>`;

describe('reading a listing', () => {
  test('GIVEN a last page THEN it reads the keys and their times, and that there is no more', () => {
    const page = parseListing(LISTING(object(`xmpp-example-net/snapshots/${ID1}`, '2026-12-03T02:00:00.000Z') + object(`xmpp-example-net/snapshots/${ID2}`, '2026-12-02T02:00:00.000Z'), '<IsTruncated>false</IsTruncated>'));
    expect(page).toEqual({
      objects: [{ key: `xmpp-example-net/snapshots/${ID1}`, lastModified: '2026-12-03T02:00:00.000Z' }, { key: `xmpp-example-net/snapshots/${ID2}`, lastModified: '2026-12-02T02:00:00.000Z' }],
      truncated: false,
    });
  });

  test('GIVEN a page with more after it THEN it reads the continuation token, unescaped', () => {
    const page = parseListing(LISTING(object(`p/snapshots/${ID1}`, '2026-12-03T02:00:00Z'), '<IsTruncated>true</IsTruncated><NextContinuationToken>1a/b+c=&amp;d</NextContinuationToken>'));
    expect(page).toMatchObject({ truncated: true, nextToken: '1a/b+c=&d' });
  });

  test('GIVEN something else than a listing THEN it says so', () => {
    expect(() => parseListing('<html>hello</html>')).toThrow(/not a ListObjectsV2 answer/);
  });

  test('GIVEN keys that are not snapshots, or times that are not times THEN only the snapshots count', () => {
    expect(snapshotsOf([
      { key: `p/snapshots/${ID1}`, lastModified: '2026-12-03T02:00:00.000Z' },
      { key: `p/snapshots/${ID1.slice(1)}`, lastModified: '2026-12-03T02:00:00.000Z' },
      { key: `p/snapshots/${ID1.toUpperCase()}`, lastModified: '2026-12-03T02:00:00.000Z' },
      { key: `p/snapshots/${ID1}.tmp`, lastModified: '2026-12-03T02:00:00.000Z' },
      { key: `p/snapshots/${ID2}`, lastModified: 'yesterday' },
    ])).toEqual([{ id: ID1, written: new Date('2026-12-03T02:00:00.000Z') }]);
  });
});

describe('judging the snapshots', () => {
  const written = (h: number) => new Date(NOW.getTime() - h * 3600 * 1000);
  test.each<[string, { id: string; written: Date }[], 'pass' | 'fail', RegExp]>([
    ['the newest 3 h old', [{ id: ID2, written: written(27) }, { id: ID1, written: written(3) }], 'pass', /^the newest of 2 snapshots, aaaaaaaa, was written 3 h ago$/],
    ['one, just written', [{ id: ID1, written: written(0) }], 'pass', /^the newest of 1 snapshot, aaaaaaaa, was written just now$/],
    ['one written "in the future" (the clocks differ)', [{ id: ID1, written: written(-0.5) }], 'pass', /written just now/],
    ['the newest 30 h old', [{ id: ID1, written: written(30) }, { id: ID2, written: written(54) }], 'fail', /aaaaaaaa, was written 30 h ago \(more than 26 h\): the daily backup has stopped reaching the bucket/],
    ['none', [], 'fail', /^no snapshot in example-backups\/xmpp-example-net$/],
  ])('GIVEN %s THEN it judges them', (_, snapshots, expected, detail) => {
    const verdict = judgeSnapshots(snapshots, NOW, planned);
    expect(verdict).toMatchObject({ status: expected });
    expect(verdict.detail).toMatch(detail);
    if (expected === 'fail') expect(verdict.fix).toContain('journalctl -u xmpp-constructs-offsite-backup');
  });

  test.each<[string, unknown, RegExp, RegExp]>([
    ['a key without read access', new SpacesError(403, 'AccessDenied', 'HTTP 403 AccessDenied: Access Denied'), /refused to list example-backups \(HTTP 403 AccessDenied: Access Denied\): the key may not read example-backups/,
      /give in XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET a Spaces key with read access to the bucket example-backups \(the repository password is not needed\)/],
    ['an unknown key', new SpacesError(403, 'InvalidAccessKeyId', 'HTTP 403 InvalidAccessKeyId'), /Spaces knows no such key/, /read access to the bucket example-backups/],
    ['a wrong secret', new SpacesError(403, 'SignatureDoesNotMatch', 'HTTP 403 SignatureDoesNotMatch'), /the secret does not belong to the key/, /read access/],
    ['a clock far off', new SpacesError(403, 'RequestTimeTooSkewed', 'HTTP 403 RequestTimeTooSkewed'), /clock is more than 15 minutes off/, /NTP/],
    ['no such bucket', new SpacesError(404, 'NoSuchBucket', 'HTTP 404 NoSuchBucket'), /has no bucket example-backups/, /offsiteBackups\.createBucket/],
    ['Spaces in trouble', new SpacesError(503, 'SlowDown', 'HTTP 503 SlowDown'), /failed: HTTP 503 SlowDown/, /try again later/],
    ['no connection', Object.assign(new Error('connect ECONNREFUSED 192.0.2.1:443'), { code: 'ECONNREFUSED' }), /failed: connect ECONNREFUSED/, /reaches https:\/\/fra1\.digitaloceanspaces\.com/],
  ])('GIVEN the listing fails with %s THEN it fails, naming the cause', (_, error, detail, fix) => {
    const verdict = judgeListingError(error, planned, credentials);
    expect(verdict.status).toBe('fail');
    expect(verdict.detail).toMatch(detail);
    expect(verdict.fix).toMatch(fix);
  });
});

describe('the key to read the bucket', () => {
  test.each<[string, NodeJS.ProcessEnv, string | undefined]>([
    ['the doctor\'s own pair', { XMPP_DOCTOR_SPACES_KEY: 'own', XMPP_DOCTOR_SPACES_SECRET: 's1' }, 'own from XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET'],
    ['the provider\'s pair', { SPACES_ACCESS_KEY_ID: 'provider', SPACES_SECRET_ACCESS_KEY: 's2' }, 'provider from SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY'],
    ['both pairs: the doctor\'s own wins', { XMPP_DOCTOR_SPACES_KEY: 'own', XMPP_DOCTOR_SPACES_SECRET: 's1', SPACES_ACCESS_KEY_ID: 'provider', SPACES_SECRET_ACCESS_KEY: 's2' }, 'own from XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET'],
    ['half the provider\'s pair', { SPACES_ACCESS_KEY_ID: 'provider' }, undefined],
    ['nothing', {}, undefined],
    ['empty values', { XMPP_DOCTOR_SPACES_KEY: '', XMPP_DOCTOR_SPACES_SECRET: '' }, undefined],
  ])('GIVEN %s THEN it finds that key, or none', (_, env, expected) => {
    const found = spacesCredentialsFrom(env);
    expect(found && `${found.accessKeyId} from ${found.source}`).toBe(expected);
  });

  test('GIVEN half the doctor\'s own pair THEN the command refuses to run, naming the missing half', () => {
    expect(() => parseCommandLine(['example.net'], { XMPP_DOCTOR_SPACES_KEY: 'own' })).toThrow(
      'XMPP_DOCTOR_SPACES_KEY is set but XMPP_DOCTOR_SPACES_SECRET is not. Fix: export both, the ID and the secret of a Spaces key that may read the backup bucket');
    expect(() => parseCommandLine(['example.net'], { XMPP_DOCTOR_SPACES_SECRET: 's' })).toThrow(/^XMPP_DOCTOR_SPACES_SECRET is set but XMPP_DOCTOR_SPACES_KEY is not/);
  });

  test('GIVEN the command line THEN backup is a group --only takes, and the key reaches the options', () => {
    const parsed = parseCommandLine(['--plan', 'x', '--only', 'backup'], { SPACES_ACCESS_KEY_ID: 'k', SPACES_SECRET_ACCESS_KEY: 's' });
    expect(parsed.options).toMatchObject({ only: ['backup'], spacesCredentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    expect(parseCommandLine(['--plan', 'x'], {}).options.spacesCredentials).toBeUndefined();
  });
});

describe('checkBackup', () => {
  const ctx: DoctorContext = {
    // No address: the status check warns without touching the network.
    resolver: { resolve4: async () => [], resolve6: async () => [] } as never,
    extraCa: [], timeoutMs: 1000, minValidDays: 14, now: () => NOW, limit: concurrencyLimit(2),
  };

  test('GIVEN a plan without offsiteBackups THEN there is nothing to check', async () => {
    expect(await checkBackup(ctx, {} as DoctorPlan, credentials)).toEqual([]);
  });

  test('GIVEN no key THEN the bucket is skipped with how to check it, and the report is not failed by it', async () => {
    const results = await checkBackup(ctx, { offsiteBackups: planned } as DoctorPlan, undefined);
    expect(results.map((r) => [r.id, r.status])).toEqual([['backup:example.net', 'warn'], ['backup:example-backups/xmpp-example-net', 'skip']]);
    expect(results[1].detail).toBe('no key to read the bucket: to check it, set XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET to a Spaces key with read access to example-backups (the repository password is not needed)');
    const report = summarize(results);
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toContain('Off-host backups\n  ! the host\'s last off-host backup succeeded less than 26 h ago: example.net has no address\n');
    expect(formatReport(report)).toContain('  - the newest snapshot in example-backups/xmpp-example-net is less than 26 h old: no key to read the bucket');
  });
});
