/**
 * xmpp-doctor's off-host backup checks against real servers on this machine: an S3 server (s3rver)
 * over HTTPS with a certificate of a throwaway CA, holding a restic repository's snapshot objects
 * among its other files and another service's repository, listed with the doctor's own signed
 * requests; and an HTTPS server playing the host's status document. Pages of a long listing come
 * from a few lines of server here (see below).
 *
 * s3rver checks that the key exists but not the Signature V4 itself, so every listing request is
 * also verified here as Spaces would verify it, with the Spaces stand-in's `authenticate`: a
 * signature the real Spaces would refuse fails these tests.
 */
import * as aws4 from 'aws4';
import { spawnSync } from 'child_process';
import { promises as dns } from 'dns';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { OFFSITE_FRESH_HOURS } from '../../lib/core/backup';
import { DoctorPlan } from '../../lib/core/doctor-plan';
import { BACKUP_STATUS_PATH } from '../../lib/core/paths';
import { checkBackup, listSnapshots, SpacesCredentials } from '../../lib/doctor/backup-check';
import { concurrencyLimit, DoctorContext } from '../../lib/doctor/net';
import { authenticate, SpacesKey } from '../support/spaces-standin';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer: https.Server;
  readonly store: { getResourcePath(bucket: string, key: string, resource: string): string };
}
// s3rver ships no types; these are the few members used here.
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void } };

const REGION = 'fra1';
const BUCKET = 'example-backups';
const PREFIX = 'xmpp-example-net';
const READ_KEY: SpacesCredentials = { accessKeyId: 'DO00DOCTORREADKEY01', secretAccessKey: 'doctor-read-secret-of-43-characters-0123456', source: 'XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET' };
const WRITE_KEY = { accessKeyId: 'DO00HOSTWRITEKEY001', secretAccessKey: 'host-write-secret-of-43-characters-01234567' };
const hex64 = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

describe('the off-host backups, against an S3 server and a host', () => {
  let work: string;
  let ca: string;
  let s3: S3rverInstance;
  let s3Port: number;
  let host: https.Server;
  let hostPort: number;
  let statusAnswer = { code: 200, body: '' };
  /** Each listing request as Spaces would judge its signature: the key it verified, or the error code. */
  let verified: { url: string; verdict: string }[] = [];

  const keys = new Map<string, SpacesKey>([[READ_KEY.accessKeyId, { accessKey: READ_KEY.accessKeyId, secretKey: READ_KEY.secretAccessKey, grants: [{ bucket: BUCKET, permission: 'read' }] }]]);
  const resolver = { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] } as unknown as dns.Resolver;
  const context = (now: Date, extraCa: readonly string[] = [ca]): DoctorContext => ({ resolver, extraCa, timeoutMs: 5000, minValidDays: 14, now: () => now, limit: concurrencyLimit(4) });
  const planned = (overrides: Partial<NonNullable<DoctorPlan['offsiteBackups']>> = {}): NonNullable<DoctorPlan['offsiteBackups']> => ({
    endpoint: `https://127.0.0.1:${s3Port}`,
    region: REGION,
    bucket: BUCKET,
    repositoryPrefix: PREFIX,
    statusUrl: `https://example.net:${hostPort}${BACKUP_STATUS_PATH}`,
    freshHours: OFFSITE_FRESH_HOURS,
    ...overrides,
  });

  const openssl = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl (installed by the test command) ${args[0]} failed: ${r.stderr}`);
  };

  /** PUT an object with a signed request, as restic on the host does, then date it `hoursAgo`. */
  async function putObject(key: string, hoursAgo: number, bucket = BUCKET): Promise<void> {
    const body = `object ${key}`;
    const signed = aws4.sign({ service: 's3', region: REGION, method: 'PUT', hostname: '127.0.0.1', port: s3Port, path: `/${bucket}/${key}`, body, headers: { 'Content-Type': 'application/octet-stream' } }, WRITE_KEY);
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ hostname: '127.0.0.1', port: s3Port, path: signed.path, method: 'PUT', headers: signed.headers, ca, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
    if (status !== 200) throw new Error(`PUT ${key}: HTTP ${status}`);
    // The object's LastModified is its file's time: restic's snapshot of that many hours ago.
    const when = new Date(Date.now() - hoursAgo * 3600 * 1000);
    utimesSync(s3.store.getResourcePath(bucket, key, 'object'), when, when);
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'xc-backup-spaces-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=throwaway test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', join(work, 'ca.key'), '-out', join(work, 'ca.pem')]);
    openssl(['req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', join(work, 'server.key'), '-out', join(work, 'server.csr')]);
    writeFileSync(join(work, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:example.net\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
    openssl(['x509', '-req', '-in', join(work, 'server.csr'), '-CA', join(work, 'ca.pem'), '-CAkey', join(work, 'ca.key'), '-CAcreateserial', '-days', '2',
      '-extfile', join(work, 'server.ext'), '-out', join(work, 'server.pem')]);
    ca = readFileSync(join(work, 'ca.pem'), 'utf8');
    const key = readFileSync(join(work, 'server.key'));
    const cert = readFileSync(join(work, 'server.pem'));

    DUMMY_ACCOUNT.createKeyPair(READ_KEY.accessKeyId, READ_KEY.secretAccessKey);
    DUMMY_ACCOUNT.createKeyPair(WRITE_KEY.accessKeyId, WRITE_KEY.secretAccessKey);
    mkdirSync(join(work, 's3'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, key, cert, silent: true, directory: join(work, 's3'), configureBuckets: [{ name: BUCKET }, { name: 'empty-bucket' }] });
    s3Port = (await s3.run()).port;
    // Before s3rver sees it: a listing (a GET without a body) is judged as Spaces would judge its signature.
    s3.httpServer.prependListener('request', (req: http.IncomingMessage) => {
      if (req.method !== 'GET') return;
      const [rawPath, rawQuery = ''] = (req.url ?? '').split('?');
      let verdict: string;
      try {
        verdict = authenticate(req, Buffer.alloc(0), rawPath, rawQuery, { region: REGION, keys, now: () => new Date() })?.accessKey ?? 'anonymous';
      } catch (error) {
        verdict = (error as { code?: string }).code ?? String(error);
      }
      verified.push({ url: req.url ?? '', verdict });
    });

    host = https.createServer({ key, cert }, (req, res) => {
      if (req.url !== BACKUP_STATUS_PATH || req.headers.host !== `example.net:${hostPort}`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(statusAnswer.code, { 'content-type': 'text/plain' }).end(statusAnswer.body);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostPort = (host.address() as AddressInfo).port;

    // The repository as restic leaves it: a config, keys, data packs, an index, five snapshots
    // (a day apart, the newest 3 h old), and a lock; and another service's newer snapshot beside it.
    await putObject(`${PREFIX}/config`, 200);
    await putObject(`${PREFIX}/keys/${hex64(0xee)}`, 200);
    await putObject(`${PREFIX}/data/ab/${hex64(0xab)}`, 3);
    await putObject(`${PREFIX}/index/${hex64(0xcd)}`, 3);
    for (let day = 0; day < 5; day++) await putObject(`${PREFIX}/snapshots/${hex64(day + 1)}`, 3 + 24 * (4 - day));
    await putObject(`${PREFIX}/locks/${hex64(0x10)}`, 0);
    await putObject(`other-droplet/snapshots/${hex64(0x99)}`, 0);
  });

  afterAll(async () => {
    await s3?.close();
    await new Promise((r) => host?.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  beforeEach(() => {
    verified = [];
  });

  test('GIVEN five snapshots THEN only this repository\'s count, and Spaces would accept the signature', async () => {
    const snapshots = await listSnapshots(context(new Date()), planned(), READ_KEY);
    expect(snapshots.map((s) => s.id).sort()).toEqual([1, 2, 3, 4, 5].map(hex64));
    const newest = snapshots.find((s) => s.id === hex64(5));
    expect(Math.round((Date.now() - (newest?.written.getTime() ?? 0)) / 3600000)).toBe(3);
    expect(verified).toEqual([{ url: `/${BUCKET}?list-type=2&prefix=${PREFIX}%2Fsnapshots%2F`, verdict: READ_KEY.accessKeyId }]);
  });

  test('GIVEN a wrong secret THEN s3rver lists anyway, and the check here sees what Spaces would answer', async () => {
    // What makes the other tests' signature checks worth having.
    await listSnapshots(context(new Date()), planned(), { ...READ_KEY, secretAccessKey: 'not-the-secret' });
    expect(verified.map((v) => v.verdict)).toEqual(['SignatureDoesNotMatch']);
  });

  /*
   * s3rver's continuation tokens are DES-encrypted, which OpenSSL 3 no longer offers (it answers
   * 500), so the pages are served here by a few lines: two keys a page, and tokens with the
   * characters base64 tokens of the real Spaces hold, which the request must encode and sign alike.
   */
  test('GIVEN more snapshots than a page holds THEN every page is followed, each request signed as Spaces would accept it', async () => {
    const keys5 = [1, 2, 3, 4, 5].map((n) => `${PREFIX}/snapshots/${hex64(n)}`);
    const tokens = ['', 'b2s+Mg/x=', 'b2s+NA/y=='];
    const pages: { url: string; verdict: string; token: string }[] = [];
    const pager = https.createServer({ key: readFileSync(join(work, 'server.key')), cert: readFileSync(join(work, 'server.pem')) }, (req, res) => {
      const [rawPath, rawQuery = ''] = (req.url ?? '').split('?');
      let verdict: string;
      try {
        verdict = authenticate(req, Buffer.alloc(0), rawPath, rawQuery, { region: REGION, keys, now: () => new Date() })?.accessKey ?? 'anonymous';
      } catch (error) {
        verdict = (error as { code?: string }).code ?? String(error);
      }
      const query = new URLSearchParams(rawQuery);
      const token = query.get('continuation-token') ?? '';
      pages.push({ url: req.url ?? '', verdict, token });
      const page = tokens.indexOf(token);
      if (rawPath !== `/${BUCKET}` || query.get('list-type') !== '2' || query.get('prefix') !== `${PREFIX}/snapshots/` || page < 0) {
        res.writeHead(400).end('<Error><Code>InvalidArgument</Code></Error>');
        return;
      }
      const more = page < tokens.length - 1;
      const contents = keys5.slice(page * 2, page * 2 + 2).map((key, i) => `<Contents><Key>${key}</Key><LastModified>2026-12-0${page + 1}T0${i}:00:00.000Z</LastModified></Contents>`).join('');
      res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name>${contents}<IsTruncated>${more}</IsTruncated>${more ? `<NextContinuationToken>${tokens[page + 1]}</NextContinuationToken>` : ''}</ListBucketResult>`);
    });
    await new Promise<void>((resolve) => pager.listen(0, '127.0.0.1', resolve));
    try {
      const snapshots = await listSnapshots(context(new Date()), planned({ endpoint: `https://127.0.0.1:${(pager.address() as AddressInfo).port}` }), READ_KEY);
      expect(snapshots.map((s) => s.id)).toEqual([1, 2, 3, 4, 5].map(hex64));
      expect(snapshots[4].written).toEqual(new Date('2026-12-03T00:00:00.000Z'));
      expect(pages.map((p) => [p.token, p.verdict])).toEqual(tokens.map((t) => [t, READ_KEY.accessKeyId]));
      expect(pages[1].url).toContain('continuation-token=b2s%2BMg%2Fx%3D');
    } finally {
      await new Promise((r) => pager.close(r));
    }
  });

  test('GIVEN the newest snapshot 3 h old and the host saying so THEN both checks pass', async () => {
    const now = new Date();
    statusAnswer = { code: 200, body: `state ok\nlast-success ${Math.floor(now.getTime() / 1000) - 3 * 3600}\nlast-attempt ${Math.floor(now.getTime() / 1000) - 3 * 3600}\nsnapshot ${hex64(5).slice(0, 8)}\ndetail \n` };
    const results = await checkBackup(context(now), { offsiteBackups: planned() } as DoctorPlan, READ_KEY);
    expect(results.map((r) => [r.id, r.status, r.detail])).toEqual([
      [`backup:example.net:${hostPort}`, 'pass', 'the last backup (snapshot 05050505) succeeded 3 h ago'],
      [`backup:${BUCKET}/${PREFIX}`, 'pass', 'the newest of 5 snapshots, 05050505, was written 3 h ago'],
    ]);
    expect(verified.map((v) => v.verdict)).toEqual([READ_KEY.accessKeyId]);
  });

  test('GIVEN the host refused to write, and a day and more later THEN both fail: the host\'s with its reason, the bucket\'s with the snapshot\'s age', async () => {
    const now = new Date(Date.now() + 24 * 3600 * 1000);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    statusAnswer = { code: 200, body: `state refused\nlast-success ${nowSeconds - 27 * 3600}\nlast-attempt ${nowSeconds - 3600}\nsnapshot -\ndetail the repository holds the backups of volume 3f9c0a12, not of this one\n` };
    const [hostSays, bucketHolds] = await checkBackup(context(now), { offsiteBackups: planned() } as DoctorPlan, READ_KEY);
    expect(hostSays).toMatchObject({ group: 'backup', status: 'fail' });
    expect(hostSays.detail).toBe('the last backup (1 h ago) refused to write: the repository holds the backups of volume 3f9c0a12, not of this one; the last success was 27 h ago');
    expect(hostSays.fix).toMatch(/restore --from spaces/);
    expect(bucketHolds).toMatchObject({ status: 'fail', detail: 'the newest of 5 snapshots, 05050505, was written 27 h ago (more than 26 h): the daily backup has stopped reaching the bucket' });
  });

  test('GIVEN a host of an earlier release THEN its check warns, and the bucket still tells', async () => {
    statusAnswer = { code: 404, body: 'not found' };
    const [hostSays, bucketHolds] = await checkBackup(context(new Date()), { offsiteBackups: planned() } as DoctorPlan, READ_KEY);
    expect(hostSays).toMatchObject({ status: 'warn', detail: 'the host publishes no backup status (HTTP 404)' });
    expect(bucketHolds.status).toBe('pass');
  });

  test('GIVEN a repository with no snapshot yet THEN the bucket\'s check fails', async () => {
    const [, bucketHolds] = await checkBackup(context(new Date()), { offsiteBackups: planned({ repositoryPrefix: 'new-droplet' }) } as DoctorPlan, READ_KEY);
    expect(bucketHolds).toMatchObject({ id: `backup:${BUCKET}/new-droplet`, status: 'fail', detail: `no snapshot in ${BUCKET}/new-droplet` });
  });

  test('GIVEN a key Spaces does not know THEN the failure names the key and what it needs', async () => {
    const unknown = { ...READ_KEY, accessKeyId: 'DO00NOSUCHKEY000000' };
    const [, bucketHolds] = await checkBackup(context(new Date()), { offsiteBackups: planned() } as DoctorPlan, unknown);
    expect(bucketHolds.status).toBe('fail');
    expect(bucketHolds.detail).toMatch(/refused to list example-backups \(HTTP 403 InvalidAccessKeyId: .*\): Spaces knows no such key/);
    expect(bucketHolds.fix).toBe('give in XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET a Spaces key with read access to the bucket example-backups (the repository password is not needed)');
  });

  test('GIVEN a bucket that does not exist THEN the failure says so', async () => {
    const [, bucketHolds] = await checkBackup(context(new Date()), { offsiteBackups: planned({ bucket: 'no-such-bucket' }) } as DoctorPlan, READ_KEY);
    expect(bucketHolds).toMatchObject({ status: 'fail' });
    expect(bucketHolds.detail).toMatch(/has no bucket no-such-bucket \(HTTP 404 NoSuchBucket/);
  });

  test('GIVEN the endpoint\'s CA not trusted (no --ca-file) THEN nothing is sent to it and the listing fails on the certificate', async () => {
    const [, bucketHolds] = await checkBackup(context(new Date(), []), { offsiteBackups: planned() } as DoctorPlan, READ_KEY);
    expect(bucketHolds.status).toBe('fail');
    expect(bucketHolds.detail).toMatch(/certificate/i);
    expect(verified).toEqual([]);
  });
});
