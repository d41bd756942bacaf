/**
 * The Spaces stand-in, driven by the real curl (Debian 12's 7.88, as on the droplet) with
 * --aws-sigv4, over TLS with a throwaway self-signed certificate, at the real host name
 * (<region>.digitaloceanspaces.com, pointed at 127.0.0.1 with --resolve).
 *
 * curl 7.88 sends no x-amz-content-sha256 header of its own, which S3 requires on every SigV4
 * request; given one, curl signs it and uses its value as the payload hash. So every request here
 * passes one, except the test that shows what happens without it.
 */
import { execFile, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SpacesStandin, startSpacesStandin } from './spaces-standin';
import { describeUnless, makeTempDir, missingCommands, removeDir } from './tools';

const REGION = 'ams3';
const HOST = `${REGION}.digitaloceanspaces.com`;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

const KEYS = {
  reader: { accessKey: 'DO00READER0000000000', secretKey: 'reader-secret/abcdefghijklmnopqrstuvwxyz01', grants: [{ bucket: 'config', permission: 'read' as const }] },
  writer: { accessKey: 'DO00WRITER0000000000', secretKey: 'writer-secret/abcdefghijklmnopqrstuvwxyz01', grants: [{ bucket: 'config', permission: 'readwrite' as const }] },
  admin: { accessKey: 'DO00ADMIN00000000000', secretKey: 'admin-secret/abcdefghijklmnopqrstuvwxyz012', grants: [{ bucket: 'backups', permission: 'fullaccess' as const }] },
  // Full access, but to another bucket only.
  elsewhere: { accessKey: 'DO00ELSEWHERE0000000', secretKey: 'elsewhere-secret/abcdefghijklmnopqrstuvwx', grants: [{ bucket: 'backups', permission: 'fullaccess' as const }] },
  // Granted a bucket that was never created.
  ghost: { accessKey: 'DO00GHOST00000000000', secretKey: 'ghost-secret/abcdefghijklmnopqrstuvwxyz0123', grants: [{ bucket: 'ghost', permission: 'read' as const }] },
};
type KeyName = keyof typeof KEYS;

interface CurlResult {
  readonly exit: number;
  readonly status: number;
  readonly body: string;
  readonly stderr: string;
}

describeUnless(missingCommands(['curl', 'openssl']), 'the Spaces stand-in, against the real curl --aws-sigv4', () => {
  let work: string;
  let keyPem: string;
  let certPem: string;
  let standin: SpacesStandin;

  beforeAll(async () => {
    work = makeTempDir('spaces');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST},DNS:*.${HOST}`,
      '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl req -x509 failed: ${r.stderr}`);
    keyPem = readFileSync(join(work, 'key.pem'), 'utf8');
    certPem = readFileSync(join(work, 'cert.pem'), 'utf8');
    standin = await startSpacesStandin({ host: '127.0.0.1', port: 0, tlsKeyPem: keyPem, tlsCertPem: certPem, region: REGION, keys: Object.values(KEYS) });
    standin.putObject('config', 'droplet/secrets.env', 'TURN_SECRET=s3cr3t\n');
    standin.putObject('backups', 'xmpp.tar.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
  });
  afterAll(async () => {
    await standin?.close();
    if (work !== undefined) removeDir(work);
  });

  /**
   * Run curl as the droplet does, against `target` on the stand-in at `port`. Asynchronous: the
   * stand-in answers on this process's event loop, which spawnSync would block.
   */
  function curl(
    target: string,
    opts: { key?: KeyName; secret?: string; region?: string; contentSha?: string | null; extra?: readonly string[]; port?: number } = {},
  ): Promise<CurlResult> {
    const port = opts.port ?? standin.port;
    const args = ['-sS', '--cacert', join(work, 'cert.pem'), '--resolve', `${HOST}:${port}:127.0.0.1`, '-w', '\n%{http_code}'];
    if (opts.key !== undefined) {
      const k = KEYS[opts.key];
      args.push('--aws-sigv4', `aws:amz:${opts.region ?? REGION}:s3`, '--user', `${k.accessKey}:${opts.secret ?? k.secretKey}`);
      if (opts.contentSha !== null) args.push('-H', `x-amz-content-sha256: ${opts.contentSha ?? EMPTY_SHA256}`);
    }
    args.push(...(opts.extra ?? []), `https://${HOST}:${port}${target}`);
    return new Promise((resolve) => {
      execFile('curl', args, { encoding: 'utf8', timeout: 20000 }, (error, stdout, stderr) => {
        const i = stdout.lastIndexOf('\n');
        resolve({
          exit: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          status: Number(stdout.slice(i + 1)),
          body: stdout.slice(0, i),
          stderr,
        });
      });
    });
  }

  const codeOf = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

  test('GET with a read key: the object, its ETag (quoted MD5) and Last-Modified', async () => {
    const r = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-f', '-D', join(work, 'get.headers')] });
    expect(r).toMatchObject({ exit: 0, status: 200, body: 'TURN_SECRET=s3cr3t\n' });
    const headers = readFileSync(join(work, 'get.headers'), 'utf8');
    const md5 = createHash('md5').update('TURN_SECRET=s3cr3t\n').digest('hex');
    expect(headers).toMatch(new RegExp(`^etag: "${md5}"\\r?$`, 'im'));
    expect(headers).toMatch(/^last-modified: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r?$/im);
    expect(standin.requests.at(-1)).toMatchObject({ method: 'GET', bucket: 'config', key: 'droplet/secrets.env', accessKey: KEYS.reader.accessKey, status: 200 });
  });

  // Each refusal: what S3 answers, and that curl -f turns it into a failed command (exit 22).
  test.each<{ name: string; target: string; opts: Parameters<typeof curl>[1]; status: number; code: string }>([
    { name: 'a wrong secret', target: '/config/droplet/secrets.env', opts: { key: 'reader', secret: 'not-the-secret' }, status: 403, code: 'SignatureDoesNotMatch' },
    { name: 'a bucket the key has no grant for', target: '/config/droplet/secrets.env', opts: { key: 'elsewhere' }, status: 403, code: 'AccessDenied' },
    { name: 'an anonymous request (the bucket is private)', target: '/config/droplet/secrets.env', opts: {}, status: 403, code: 'AccessDenied' },
    { name: 'an unknown access key', target: '/config/droplet/secrets.env', opts: { key: 'reader', extra: ['--user', 'DO00NOBODY0000000000:whatever'] }, status: 403, code: 'InvalidAccessKeyId' },
    { name: 'a signature for another region', target: '/config/droplet/secrets.env', opts: { key: 'reader', region: 'nyc3' }, status: 400, code: 'AuthorizationHeaderMalformed' },
    { name: 'a missing key (a read grant may list, so 404 rather than 403)', target: '/config/droplet/nothing-here', opts: { key: 'reader' }, status: 404, code: 'NoSuchKey' },
    // Exactly the droplet's command: curl 7.88 sends no x-amz-content-sha256, which S3 requires.
    { name: 'no x-amz-content-sha256 header', target: '/config/droplet/secrets.env', opts: { key: 'reader', contentSha: null }, status: 400, code: 'InvalidRequest' },
  ])('GET refused for $name: $status $code', async ({ target, opts, status, code }) => {
    const r = await curl(target, opts);
    expect({ status: r.status, code: codeOf(r.body) }).toEqual({ status, code });
    const failed = await curl(target, { ...opts, extra: [...(opts?.extra ?? []), '-f'] });
    expect(failed.exit).toBe(22);
  });

  test('a request signed more than 15 minutes from the server clock: 403 RequestTimeTooSkewed', async () => {
    const skewed = await startSpacesStandin({ host: '127.0.0.1', port: 0, tlsKeyPem: keyPem, tlsCertPem: certPem, region: REGION, keys: Object.values(KEYS),
      now: () => new Date(Date.now() + 16 * 60 * 1000) });
    try {
      skewed.putObject('config', 'a', 'a');
      const r = await curl('/config/a', { key: 'reader', port: skewed.port });
      expect({ status: r.status, code: codeOf(r.body) }).toEqual({ status: 403, code: 'RequestTimeTooSkewed' });
    } finally {
      await skewed.close();
    }
  });

  test('PUT with a read key: 403 AccessDenied, and nothing stored', async () => {
    writeFileSync(join(work, 'upload.txt'), 'from the reader\n');
    const r = await curl('/config/reader-upload.txt', { key: 'reader', contentSha: 'UNSIGNED-PAYLOAD', extra: ['-T', join(work, 'upload.txt')] });
    expect({ status: r.status, code: codeOf(r.body) }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(standin.getObject('config', 'reader-upload.txt')).toBeUndefined();
  });

  test.each<{ key: KeyName; bucket: string; contentSha: string }>([
    { key: 'writer', bucket: 'config', contentSha: 'UNSIGNED-PAYLOAD' },
    { key: 'admin', bucket: 'backups', contentSha: createHash('sha256').update('uploaded by admin\n').digest('hex') },
  ])('PUT with the $key key ($contentSha): stored, ETag answered, readable back', async ({ key, bucket, contentSha }) => {
    const content = `uploaded by ${key}\n`;
    writeFileSync(join(work, `${key}.txt`), content);
    const r = await curl(`/${bucket}/uploads/${key}.txt`, { key, contentSha, extra: ['-f', '-T', join(work, `${key}.txt`), '-D', join(work, `${key}.headers`)] });
    expect({ exit: r.exit, status: r.status }).toEqual({ exit: 0, status: 200 });
    const stored = standin.getObject(bucket, `uploads/${key}.txt`);
    expect(stored?.body.toString()).toBe(content);
    expect(readFileSync(join(work, `${key}.headers`), 'utf8')).toContain(`ETag: ${stored?.etag}`);
    expect((await curl(`/${bucket}/uploads/${key}.txt`, { key, extra: ['-f'] })).body).toBe(content);
  });

  test('PUT whose body does not match its signed x-amz-content-sha256: 400 XAmzContentSHA256Mismatch', async () => {
    writeFileSync(join(work, 'mismatch.txt'), 'not what was hashed\n');
    const r = await curl('/config/mismatch.txt', { key: 'writer', contentSha: EMPTY_SHA256, extra: ['-T', join(work, 'mismatch.txt')] });
    expect({ status: r.status, code: codeOf(r.body) }).toEqual({ status: 400, code: 'XAmzContentSHA256Mismatch' });
    expect(standin.getObject('config', 'mismatch.txt')).toBeUndefined();
  });

  test.each<{ name: string; target: string; key: KeyName; status: number; code: string }>([
    // The grant names a bucket nobody created: the key may know about it, so S3 says so.
    { name: 'a granted bucket that does not exist', target: '/ghost/x', key: 'ghost', status: 404, code: 'NoSuchBucket' },
    // No grant: a scoped key learns nothing about other buckets, existing or not.
    { name: 'a bucket that does not exist and is not granted', target: '/no-such-bucket/x', key: 'reader', status: 403, code: 'AccessDenied' },
  ])('GET of $name: $status $code', async ({ target, key, status, code }) => {
    const r = await curl(target, { key });
    expect({ status: r.status, code: codeOf(r.body) }).toEqual({ status, code });
  });

  test('HEAD: headers only, and 404 without a body', async () => {
    const ok = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-I'] });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^content-length: 19\r?$/im);
    const missing = await curl('/config/nope', { key: 'reader', extra: ['-I'] });
    expect(missing.status).toBe(404);
  });

  test('ETag round trip: --etag-save, then --etag-compare gets 304 and leaves the output file alone', async () => {
    const etagFile = join(work, 'etag');
    const out = join(work, 'secrets.env');
    const first = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-f', '--etag-save', etagFile, '-o', out] });
    expect({ exit: first.exit, status: first.status }).toEqual({ exit: 0, status: 200 });
    const etag = readFileSync(etagFile, 'utf8').trim();
    expect(etag).toBe(standin.getObject('config', 'droplet/secrets.env')?.etag);

    // A marker in the output file: a 304 must leave it as it is (curl writes no body).
    writeFileSync(out, 'kept from the first download\n');
    const second = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-f', '--etag-compare', etagFile, '--etag-save', etagFile, '-o', out] });
    expect({ exit: second.exit, status: second.status }).toEqual({ exit: 0, status: 304 });
    expect(standin.requests.at(-1)).toMatchObject({ ifNoneMatch: etag, status: 304 });
    expect(readFileSync(out, 'utf8')).toBe('kept from the first download\n');
    expect(readFileSync(etagFile, 'utf8').trim()).toBe(etag);

    // Once the object changes, the same command downloads it again.
    standin.putObject('config', 'droplet/secrets.env', 'TURN_SECRET=rotated\n');
    const third = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-f', '--etag-compare', etagFile, '--etag-save', etagFile, '-o', out] });
    expect({ exit: third.exit, status: third.status }).toEqual({ exit: 0, status: 200 });
    expect(readFileSync(out, 'utf8')).toBe('TURN_SECRET=rotated\n');
    expect(readFileSync(etagFile, 'utf8').trim()).toBe(standin.getObject('config', 'droplet/secrets.env')?.etag);
    standin.putObject('config', 'droplet/secrets.env', 'TURN_SECRET=s3cr3t\n');
  });

  test('--etag-compare with no saved ETag yet (curl sends If-None-Match: ""): a full download', async () => {
    const etagFile = join(work, 'fresh.etag');
    const out = join(work, 'fresh.env');
    const r = await curl('/config/droplet/secrets.env', { key: 'reader', extra: ['-f', '--etag-compare', etagFile, '--etag-save', etagFile, '-o', out] });
    expect({ exit: r.exit, status: r.status }).toEqual({ exit: 0, status: 200 });
    expect(standin.requests.at(-1)).toMatchObject({ ifNoneMatch: '""', status: 200 });
    expect(readFileSync(out, 'utf8')).toBe('TURN_SECRET=s3cr3t\n');
    expect(existsSync(etagFile)).toBe(true);
  });

  test('virtual-host style (<bucket>.<region>.digitaloceanspaces.com) names the same object', async () => {
    const k = KEYS.reader;
    const r = await new Promise<string>((resolve, reject) => {
      execFile('curl', ['-fsS', '--cacert', join(work, 'cert.pem'), '--resolve', `config.${HOST}:${standin.port}:127.0.0.1`,
        '--aws-sigv4', `aws:amz:${REGION}:s3`, '--user', `${k.accessKey}:${k.secretKey}`, '-H', `x-amz-content-sha256: ${EMPTY_SHA256}`,
        `https://config.${HOST}:${standin.port}/droplet/secrets.env`], { encoding: 'utf8' }, (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout)));
    });
    expect(r).toBe('TURN_SECRET=s3cr3t\n');
  });

  test('standalone: the process prints "listening <url>" and serves the objects from its config', async () => {
    const config = join(work, 'standin.json');
    const log = join(work, 'requests.jsonl');
    writeFileSync(join(work, 'object.bin'), 'from a file\n');
    writeFileSync(config, JSON.stringify({
      host: '127.0.0.1', port: 0, region: REGION, tlsKeyFile: join(work, 'key.pem'), tlsCertFile: join(work, 'cert.pem'),
      keys: [KEYS.reader], objects: [{ bucket: 'config', key: 'from-file', file: join(work, 'object.bin') }], requestLog: log,
    }));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'spaces-standin.ts'), '--config', config],
      { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^listening (\S+)$/m.exec(out);
          if (m !== null) resolve(m[1]);
        });
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => reject(new Error(`the stand-in exited (${code}) before listening: ${err}`)));
      });
      const port = Number(new URL(url).port);
      expect(url).toBe(`https://${HOST}:${port}`);
      const r = await curl('/config/from-file', { key: 'reader', port, extra: ['-f'] });
      expect(r.body).toBe('from a file\n');
      expect(JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!)).toMatchObject({ key: 'from-file', status: 200 });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60000);
});
