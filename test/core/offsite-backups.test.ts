/**
 * Off-host backups (`offsiteBackups`): the section's validation (field, value, fix; the password never
 * shown), what it resolves to, what the droplet receives, and what cdktf synthesizes: the bucket, the
 * key granted only it, the key and password in user_data and nowhere a reviewer reads.
 */
import { execFileSync } from 'child_process';
import { TerraformVariable } from 'cdktf';
import { Testing } from 'cdktf';
import { XmppService, XmppStack } from '../../lib/cdktf';
import { BACKUP_ACCESS_KEY_PLACEHOLDER, OFFSITE_ENV, OFFSITE_PASSWORD, OFFSITE_SECRETS, resticRepository } from '../../lib/core/backup';
import { hostPackages, renderHostFiles } from '../../lib/core/cloud-init';
import { planAlerts } from '../../lib/core/alerts';
import { planService } from '../../lib/core/service-plan';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from '../../lib/core/resolve/offsite-backups';
import { OffsiteBackupsSpec, XmppServiceSpec } from '../../lib/core/spec';
import { checkBackupPassword, resolveSpec } from '../../lib/core/validate';
import { named, newStack, resources, synth } from '../cdktf/synth';
import { backedUpSpec, fullSpec, minimalSpec, validationErrorOf as errorOf } from '../support/specs';

const PASSWORD = 'correct horse battery staple 42';
const withBackups = (offsiteBackups: unknown, base: XmppServiceSpec = minimalSpec): XmppServiceSpec => ({ ...base, offsiteBackups: offsiteBackups as OffsiteBackupsSpec });

describe('checkBackupPassword', () => {
  test('accepts what `openssl rand -base64 32` makes, the command its fix and the README suggest', () => {
    const made = execFileSync('openssl', ['rand', '-base64', '32'], { encoding: 'utf8' }).trim();
    expect(made).toHaveLength(44);
    expect(checkBackupPassword(made)).toBeUndefined();
  });

  test.each([PASSWORD, 'x'.repeat(16), 'Zm9vYmFyYmF6cXV4cXV1eA=='])('accepts %j', (value) => {
    expect(checkBackupPassword(value)).toBeUndefined();
  });
  test.each([
    ['it is too short', 'short but sweet', /is 15 characters long; it must have at least 16/],
    ['it holds a line break', 'first line of it\nsecond line', /line break/],
    ['it ends with a space', 'sixteen characters and a space ', /begins or ends with whitespace/],
    ['it is copied from an example', 'change-me-change-me-please', /placeholder from an example/],
    ['it is not a string', 12345678901234567, /must be a string/],
  ])('fails when %s', (_why, value, problem) => {
    const p = checkBackupPassword(value);
    expect(p?.problem).toMatch(problem);
    expect(p?.fix).toMatch(/openssl rand -base64 32/);
  });
});

describe('GIVEN offsiteBackups WHEN resolved', () => {
  test('THEN the defaults: a bucket named after the droplet in its region, the droplet\'s folder in it, 7 daily, 4 weekly and 6 monthly', () => {
    expect(resolveSpec(withBackups({ password: PASSWORD })).offsiteBackups).toEqual({
      password: PASSWORD, bucket: 'xmpp-example-net-backups', createBucket: true, region: 'ams3', repositoryPrefix: 'xmpp-example-net', keep: { daily: 7, weekly: 4, monthly: 6 },
    });
  });

  test('THEN an existing bucket in another region, and a retention of its own, are taken as declared', () => {
    const resolved = resolveSpec(withBackups({ password: PASSWORD, bucket: 'family-backups', createBucket: false, spacesRegion: 'fra1', keep: { daily: 3, monthly: 0 } })).offsiteBackups!;
    expect(resolved).toMatchObject({ bucket: 'family-backups', createBucket: false, region: 'fra1', keep: { daily: 3, weekly: 4, monthly: 0 } });
    expect(resticRepository(resolved)).toBe('s3:https://fra1.digitaloceanspaces.com/family-backups/xmpp-example-net');
  });

  test('THEN without the section nothing changes: the spec resolves exactly as before', () => {
    expect('offsiteBackups' in resolveSpec(minimalSpec)).toBe(false);
  });

  test.each([
    ['a short password, never shown', { password: 'tooshort' }, /offsiteBackups\.password = "\(not shown: a password is a secret\)": is 8 characters long/],
    ['a region without Spaces', { password: PASSWORD, spacesRegion: 'nyc1' }, /offsiteBackups\.spacesRegion = "nyc1": not a region with Spaces\. Fix: use one of/],
    ['a droplet region without Spaces, followed by default', { password: PASSWORD }, /droplet\.region = "nyc1": the droplet's region has no Spaces, and the bucket's region follows it\. Fix: set offsiteBackups\.spacesRegion/],
    ['an invalid bucket name', { password: PASSWORD, bucket: 'Family_Backups' }, /offsiteBackups\.bucket = "Family_Backups": not a valid Spaces bucket name/],
    ['no daily snapshot kept', { password: PASSWORD, keep: { daily: 0 } }, /offsiteBackups\.keep\.daily = 0: must be a whole number from 1 to 366/],
    ['a createBucket that is not a boolean', { password: PASSWORD, createBucket: 'yes' }, /offsiteBackups\.createBucket = "yes": must be true or false/],
    ['a section that is not an object', 'daily', /offsiteBackups = "daily": must be an object/],
    ['a misspelled field', { password: PASSWORD, kep: { daily: 3 } }, /offsiteBackups\.kep/],
  ])('WHEN it has %s THEN synthesis fails naming the field, the value and the fix', (_why, section, message) => {
    const base = /droplet region/.test(_why) ? { ...minimalSpec, droplet: { region: 'nyc1' } } : minimalSpec;
    const error = errorOf(withBackups(section, base));
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('tooshort');
  });

  test('WHEN its bucket is the configuration channel\'s THEN synthesis fails: the droplet may only read that one', () => {
    expect(errorOf(withBackups({ password: PASSWORD, bucket: 'example-net-xmpp-config' }, fullSpec)).message).toMatch(/offsiteBackups\.bucket = "example-net-xmpp-config": is also configDelivery\.bucket/);
  });
});

describe('GIVEN offsiteBackups WHEN the droplet\'s files are rendered', () => {
  const spec = resolveSpec(backedUpSpec);
  const files = renderHostFiles(spec);
  const plan = planService(backedUpSpec, (_value: unknown): _value is never => false);

  test('THEN restic is installed, and the daily timer, its service and the repository\'s settings are written', () => {
    expect(hostPackages(spec)).toContain('restic');
    expect(hostPackages(resolveSpec(minimalSpec))).not.toContain('restic');
    const env = files.find((f) => f.path === OFFSITE_ENV)!;
    expect(env.content).toContain(`RESTIC_REPOSITORY='s3:https://ams3.digitaloceanspaces.com/xmpp-example-net-backups/xmpp-example-net'`);
    expect(env.content).toMatch(/KEEP_DAILY='14'\nKEEP_WEEKLY='4'\nKEEP_MONTHLY='6'/);
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['/etc/systemd/system/xmpp-constructs-offsite-backup.service', '/etc/systemd/system/xmpp-constructs-offsite-backup.timer']));
  });

  test('THEN the key and the password are in root-only files marked secret, in user_data but in no review file', () => {
    const secrets = files.find((f) => f.path === OFFSITE_SECRETS)!;
    expect(secrets).toMatchObject({ owner: 'root:root', permissions: '0600', sensitive: true });
    expect(secrets.content).toContain(BACKUP_ACCESS_KEY_PLACEHOLDER);
    // The password alone in its file, exactly: a deploy-time one is written as it is, quotes and all.
    expect(files.find((f) => f.path === OFFSITE_PASSWORD)).toMatchObject({ owner: 'root:root', permissions: '0600', sensitive: true, content: `${PASSWORD}\n` });
    expect(plan.host.rendered.userData).toContain(PASSWORD);
    expect(plan.host.rendered.reviewUserData).not.toContain(PASSWORD);
    expect(JSON.stringify(plan.reviewFiles())).not.toContain(PASSWORD);
  });

  test('THEN nginx serves the backup status, and the address the check watches answers 503 unless the fresh copy is there', () => {
    const site = Object.values(plan.nginxFiles).join('\n');
    expect(site).toMatch(/location = \/\.well-known\/xmpp-constructs\/backup \{\n\s+alias \/var\/www\/xmpp-constructs\/backup;/);
    expect(site).toMatch(/location = \/\.well-known\/xmpp-constructs\/backup-fresh \{\n\s+root \/var\/www\/xmpp-constructs\/fresh;\n\s+try_files \/backup =503;/);
    expect(Object.values(planService(minimalSpec, (_value: unknown): _value is never => false).nginxFiles).join('\n')).not.toContain('backup');
  });

  test('THEN with alerts a second uptime check watches that address, and alerts after an hour down', () => {
    expect(planAlerts(spec)!.backupCheck).toEqual({
      check: { name: 'xmpp-example-net backup', target: 'https://example.net/.well-known/xmpp-constructs/backup-fresh', type: 'https', regions: ['us_east', 'us_west', 'eu_west', 'se_asia'], enabled: true },
      alert: { name: 'xmpp-example-net: off-host backup failed or missed', type: 'down', period: '1h', notifications: [{ email: ['ops@example.net'] }] },
    });
    expect(planAlerts(resolveSpec({ ...minimalSpec, alerts: { emails: ['ops@example.net'] } }))!.backupCheck).toBeUndefined();
  });
});

describe('GIVEN offsiteBackups WHEN synthesized with cdktf', () => {
  function synthesized(spec: XmppServiceSpec, build?: (stack: ReturnType<typeof newStack>) => XmppServiceSpec) {
    const stack = newStack();
    new XmppService(stack, 'Xmpp', { spec: build ? build(stack) : spec, writeReviewFiles: false });
    return synth(stack);
  }

  test('THEN the stack creates the private bucket, protected like the volume, and a key that may read and write only it', () => {
    const out = synthesized(backedUpSpec);
    const bucket = named(out, 'digitalocean_spaces_bucket', 'BackupBucket');
    expect(bucket.body).toMatchObject({ name: 'xmpp-example-net-backups', region: 'ams3', acl: 'private', lifecycle: { prevent_destroy: true } });
    const key = named(out, 'digitalocean_spaces_key', 'BackupKey');
    expect(key.body.grant).toEqual([{ bucket: `\${digitalocean_spaces_bucket.${bucket.name}.name}`, permission: 'readwrite' }]);
    const userData = resources(out, 'digitalocean_droplet')[0].user_data as string;
    expect(userData).toContain(`AWS_ACCESS_KEY_ID='\${digitalocean_spaces_key.${key.name}.access_key}'`);
    expect(userData).toContain(`AWS_SECRET_ACCESS_KEY='\${digitalocean_spaces_key.${key.name}.secret_key}'`);
    expect(JSON.stringify(out.output ?? {})).not.toContain(PASSWORD);
  });

  test('WHEN the bucket exists already THEN the stack creates only the key, granted the bucket by name', () => {
    const out = synthesized(withBackups({ password: PASSWORD, bucket: 'family-backups', createBucket: false }));
    expect(resources(out, 'digitalocean_spaces_bucket')).toEqual([]);
    expect(named(out, 'digitalocean_spaces_key', 'BackupKey').body.grant).toEqual([{ bucket: 'family-backups', permission: 'readwrite' }]);
  });

  test('WHEN the password is a sensitive variable THEN user_data references it and the synthesized JSON holds no password', () => {
    const out = synthesized(minimalSpec, (stack) => withBackups({ password: new TerraformVariable(stack, 'backup_password', { type: 'string', sensitive: true }).stringValue }));
    const userData = resources(out, 'digitalocean_droplet')[0].user_data as string;
    // A literal block: whatever the variable holds, YAML takes the line as it is.
    expect(userData).toMatch(/path: \/etc\/xmpp-constructs\/offsite-backup\.password\n {2}content: \|\n {4}\$\{var\.backup_password\}\n/);
    expect(JSON.stringify(out)).not.toContain(DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER);
  });

  test('WHEN XmppStack is given the declaration as a function of its stack THEN the variable is the stack\'s own, and user_data references it', () => {
    const stack = new XmppStack(Testing.app(), 'xmpp', {
      spec: (self) => withBackups({ password: new TerraformVariable(self, 'backup_password', { type: 'string', sensitive: true }).stringValue }),
      writeReviewFiles: false,
    });
    const out = JSON.parse(Testing.synth(stack));
    expect(out.variable.backup_password).toEqual({ type: 'string', sensitive: true });
    expect(Object.values(out.resource.digitalocean_droplet as Record<string, { user_data: string }>)[0].user_data).toContain('${var.backup_password}');
  });
});
