/**
 * The in-place configuration channel (`configDelivery.channel: "spaces"`), in the core: the bundle's
 * archive as GNU tar reads it, the bootstrap user_data that configuration changes leave alone, and
 * the validation of the channel's fields.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { HostFile, REDACTED, renderProsodyHost, SPACES_ACCESS_KEY_PLACEHOLDER, SPACES_SECRET_KEY_PLACEHOLDER } from '../../lib/core/cloud-init';
import { BUNDLE_FORMAT_LINE, BUNDLE_OBJECT_KEY, renderConfigBundle, tarArchive } from '../../lib/core/config-bundle';
import { APPLY_SCRIPT, CONFIG_SOURCE, FETCH_SCRIPT, PROVISION_SCRIPT, SERVICE_POLICY } from '../../lib/core/paths';
import { SUPPLIED_TURN_SECRET } from '../../lib/core/host-scripts';
import { planService } from '../../lib/core/service-plan';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { minimalSpec, validationErrorOf } from '../support/specs';

const SPACES: XmppServiceSpec = { ...minimalSpec, configDelivery: { channel: 'spaces' } };
const noDeployTime = (_value: unknown): _value is never => false;
const plan = (spec: XmppServiceSpec) => planService(spec, noDeployTime);

function tar(args: string[], input?: Buffer): string {
  const r = spawnSync('tar', args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('GIVEN the bundle archive', () => {
  const file = (path: string, content: string, extra: Partial<HostFile> = {}): HostFile => ({ path, content, owner: 'root:root', permissions: '0644', defer: false, ...extra });

  it('THEN GNU tar lists and extracts every entry with its exact content, paths of any length included', () => {
    const long = `/etc/xmpp-constructs/templates/var/www/host-meta/@DOMAIN@/.well-known/${'deep/'.repeat(20)}host-meta.json`;
    const entries: [string, Buffer][] = [
      ['MANIFEST', Buffer.from('m\n')],
      [`root${long}`, Buffer.from('{"links":[]}\n')],
      ['root/empty', Buffer.alloc(0)],
      ['root/block', Buffer.alloc(512, 'x')],
      ['root/utf8', Buffer.from('Bücher ✓\n')],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'xc-tar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), tarArchive(entries));
      expect(tar(['-tf', join(dir, 'a.tar')]).trim().split('\n')).toEqual(entries.map(([p]) => p));
      tar(['-xf', join(dir, 'a.tar'), '-C', dir]);
      for (const [path, body] of entries) expect(readFileSync(join(dir, path))).toEqual(body);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('THEN the bundle is byte-for-byte deterministic, named by the SHA-256 sha256sum prints, and changes with any file', () => {
    const files = [file('/etc/a', 'one\n'), file('/usr/local/sbin/b', '#!/bin/sh\n', { permissions: '0755' })];
    const bundle = renderConfigBundle(files);
    expect(renderConfigBundle(files)).toEqual(bundle);
    const archive = Buffer.from(bundle.archiveBase64, 'base64');
    expect(createHash('sha256').update(archive).digest('hex')).toBe(bundle.sha256);
    expect(renderConfigBundle([files[0], { ...files[1], content: '#!/bin/sh\n:\n' }]).sha256).not.toBe(bundle.sha256);
    expect(renderConfigBundle([files[0], { ...files[1], permissions: '0700' }]).sha256).not.toBe(bundle.sha256);
    // MANIFEST first: its format line, then mode, owner and path per file, in order.
    expect(tar(['-xzOf', '-', 'MANIFEST'], archive)).toBe(`${BUNDLE_FORMAT_LINE}\n0644 root:root /etc/a\n0755 root:root /usr/local/sbin/b\n`);
    expect(tar(['-xzOf', '-', 'root/etc/a'], archive)).toBe('one\n');
  });

  it.each([
    ['a secret', file('/etc/s', 'x', { sensitive: true }), /holds a secret/],
    ['a relative path', file('etc/a', 'x'), /unexpected path/],
    ['a path leaving the root', file('/etc/../../a', 'x'), /unexpected path/],
    ['a path with a space', file('/etc/a b', 'x'), /unexpected path/],
  ])('THEN it refuses %s', (_, bad, message) => {
    expect(() => renderConfigBundle([bad])).toThrow(message);
  });
});

describe('GIVEN configDelivery "spaces"', () => {
  const base = plan(SPACES);
  const bundle = base.host.rendered.bundle!;
  const document = parse(base.host.rendered.userData.replace(/^#cloud-config\n/, '')) as { write_files: { path: string }[]; runcmd: string[][] };

  it('THEN user_data is the bootstrap: the guard, the fetch script, where the bundle is, and nothing the bundle carries', () => {
    const paths = document.write_files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([SERVICE_POLICY, FETCH_SCRIPT, CONFIG_SOURCE]));
    for (const f of bundle.files) expect(paths).not.toContain(f.path);
    expect(bundle.files.map((f) => f.path)).toEqual(expect.arrayContaining([PROVISION_SCRIPT, APPLY_SCRIPT]));
    expect(document.runcmd).toEqual([[FETCH_SCRIPT, 'first-boot']]);
    expect(base.host.rendered.userData).toContain(SPACES_ACCESS_KEY_PLACEHOLDER);
    expect(base.host.rendered.userData).toContain(SPACES_SECRET_KEY_PLACEHOLDER);
    // Reviewers see neither placeholder nor key: the whole file is redacted.
    expect(base.host.rendered.reviewUserData).not.toContain(SPACES_SECRET_KEY_PLACEHOLDER);
    expect(base.host.rendered.reviewUserData).toContain(REDACTED);
  });

  it('THEN the plan has the bucket, the read-only key and the object, in the bucket\'s region', () => {
    expect(base.host.configChannel).toEqual({
      bucket: { name: 'xmpp-example-net-config', region: 'ams3', acl: 'private' },
      readKey: { name: 'xmpp-example-net-config-read', grant: { bucket: 'xmpp-example-net-config', permission: 'read' } },
      object: { bucket: 'xmpp-example-net-config', region: 'ams3', key: BUNDLE_OBJECT_KEY, contentBase64: bundle.archiveBase64, contentType: 'application/gzip', acl: 'private' },
      bundleSha256: bundle.sha256,
    });
    const review = base.reviewFiles();
    expect(review['config-bundle.txt']).toContain(`sha256 ${bundle.sha256}\n${BUNDLE_FORMAT_LINE}\n`);
    expect(JSON.parse(review['doctor-plan.json']).configBundle).toEqual({ sha256: bundle.sha256, statusUrl: 'https://example.net/.well-known/xmpp-constructs/bundle' });
    expect(plan(minimalSpec).host.configChannel).toBeUndefined();
  });

  // Changes that must reach the droplet in place: the bundle changes, user_data does not.
  it.each<[string, XmppServiceSpec]>([
    ['a new domain', { ...SPACES, domains: ['example.net', 'example.org'] }],
    ['a hundred new domains', { ...SPACES, domains: ['example.net', ...Array.from({ length: 100 }, (_, i) => `customer${i}.example`)], droplet: { size: 's-4vcpu-8gb' } }],
    ['an upload limit', { ...SPACES, components: { fileShare: { fileSizeLimitBytes: 50 * 1024 * 1024 } } }],
    ['a contact address', { ...SPACES, contacts: { abuse: ['mailto:abuse@example.net'] } }],
    ['the archive retention of group chats', { ...SPACES, components: { groupChat: { archiveExpireAfterSeconds: 86400 } } }],
    ['the room creation policy', { ...SPACES, components: { groupChat: { roomCreation: 'admin' } } }],
    ['registration', { ...SPACES, registration: 'closed' }],
    ['a TURN limit', { ...SPACES, calls: { userQuota: 4 } }],
    ['web transports', { ...SPACES, web: { bosh: false } }],
    ['the ACME contact', { ...SPACES, acme: { email: 'ops@example.net' } }],
  ])('WHEN %s changes THEN only the bundle changes', (_, changed) => {
    const after = plan(changed);
    expect(after.host.rendered.userData).toBe(base.host.rendered.userData);
    expect(after.host.rendered.bundle!.sha256).not.toBe(bundle.sha256);
  });

  it('WHEN only a DNS TTL changes THEN neither user_data nor the bundle changes: records change at DigitalOcean alone', () => {
    const after = plan({ ...SPACES, dns: { ttlSeconds: 600 } });
    expect(after.host.rendered.userData).toBe(base.host.rendered.userData);
    expect(after.host.rendered.bundle!.sha256).toBe(bundle.sha256);
    expect(after.dns.records.map((r) => r.ttlSeconds)).toContain(600);
  });

  // What needs another machine (or another key): user_data changes, and the droplet is replaced.
  it.each<[string, XmppServiceSpec]>([
    ['calls move off the host (coturn is no longer installed)', { ...SPACES, calls: { enabled: false } }],
    ['the bucket', { ...SPACES, configDelivery: { channel: 'spaces', bucket: 'another-bucket' } }],
    ['the bucket\'s region', { ...SPACES, configDelivery: { channel: 'spaces', spacesRegion: 'fra1' } }],
  ])('WHEN %s changes THEN user_data changes', (_, changed) => {
    expect(plan(changed).host.rendered.userData).not.toBe(base.host.rendered.userData);
  });

  it('THEN a supplied TURN secret stays in user_data and never enters the bundle', () => {
    const secret = 'a-turn-secret-of-at-least-thirty-two-characters';
    const withSecret = plan({ ...SPACES, calls: { sharedSecret: secret } });
    expect(withSecret.host.rendered.userData).toContain(secret);
    expect(withSecret.host.rendered.bundle!.files.map((f) => f.path)).not.toContain(SUPPLIED_TURN_SECRET);
    expect(Buffer.from(withSecret.host.rendered.bundle!.archiveBase64, 'base64').toString('latin1')).not.toContain(secret);
    expect(withSecret.host.rendered.reviewUserData).not.toContain(secret);
  });

  it('THEN "user-data" (the default) renders exactly as before: every file in user_data, no bundle', () => {
    const replaced = plan(minimalSpec);
    expect(replaced.host.rendered.bundle).toBeUndefined();
    expect(replaced.host.rendered.userData).toContain(PROVISION_SCRIPT);
    expect(renderProsodyHost(resolveSpec({ ...minimalSpec, configDelivery: { channel: 'user-data' } })).userData).toBe(replaced.host.rendered.userData);
  });
});

describe('GIVEN a configDelivery declaration', () => {
  it.each<[string, unknown, RegExp]>([
    ['an unknown channel', { channel: 'ssh' }, /configDelivery\.channel = "ssh": must be one of "user-data", "spaces"\. Fix: use "spaces"/],
    ['a region without Spaces', { channel: 'spaces', spacesRegion: 'nyc1' }, /configDelivery\.spacesRegion = "nyc1": not a region with Spaces\. Fix: use one of "ams3"/],
    ['a bucket name with capitals', { channel: 'spaces', bucket: 'My_Bucket' }, /configDelivery\.bucket = "My_Bucket": not a valid Spaces bucket name/],
    ['a bucket without the Spaces channel', { bucket: 'xmpp-config' }, /configDelivery\.bucket = "xmpp-config": is used only with configDelivery\.channel "spaces"\. Fix: remove it, or set configDelivery\.channel to "spaces"/],
  ])('WHEN it has %s THEN synthesis fails naming the field, the value and the fix', (_, configDelivery, message) => {
    expect(validationErrorOf({ ...minimalSpec, configDelivery }).message).toMatch(message);
  });

  it('WHEN the droplet\'s region has no Spaces and no spacesRegion is given THEN the message says to set one', () => {
    expect(validationErrorOf({ ...minimalSpec, droplet: { region: 'nyc1' }, configDelivery: { channel: 'spaces' } }).message).toMatch(
      /droplet\.region = "nyc1": the droplet's region has no Spaces, and the bucket's region follows it\. Fix: set configDelivery\.spacesRegion/,
    );
    expect(resolveSpec({ ...minimalSpec, droplet: { region: 'nyc1' }, configDelivery: { channel: 'spaces', spacesRegion: 'nyc3' } }).configDelivery).toEqual({ channel: 'spaces', region: 'nyc3', bucket: 'xmpp-example-net-config' });
  });

  it('WHEN the droplet name is long THEN the default bucket name stays within 63 characters', () => {
    const name = `x${'a'.repeat(58)}`;
    const resolved = resolveSpec({ ...minimalSpec, droplet: { name }, configDelivery: { channel: 'spaces' } }).configDelivery;
    expect(resolved.channel === 'spaces' && resolved.bucket.length).toBeLessThanOrEqual(63);
  });
});
