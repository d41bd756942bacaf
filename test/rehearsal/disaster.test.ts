/**
 * The disaster drill: a droplet backs its volume up to Spaces (restic, into a real S3 server over
 * TLS) while a user writes, then its droplet and its volume are both lost. The same declaration is
 * deployed again onto a new, empty volume, and one command on the host brings everything back:
 * accounts with their passwords, rosters, the message archive, a persistent room with its history,
 * the upload, the TURN secret and the certificates. The backup uptime check's address answers 200
 * only while the newest backup is fresh, and 503 as soon as one fails or is refused.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import { join } from 'path';
import { BACKUP_SCRIPT, OFFSITE_PASSWORD } from '../../lib/core/backup';
import { CERTS_SCRIPT } from '../../lib/core/host-scripts';
import { BACKUP_FRESH_PATH, BACKUP_STATUS_FILE, TURN_SECRET_FILE, VOLUME_MOUNT } from '../../lib/core/paths';
import { DOCTOR_PLAN_FILE, renderDoctorPlan } from '../../lib/core/doctor-plan';
import { resolveSpec } from '../../lib/core/validate';
import type { CheckResult } from '../../lib/doctor/report';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { describeUnless } from '../support/tools';
import { Rehearsal, rehearsalUnavailable, SynthesizedStack } from './harness';
import { platformTitle, REHEARSED_PLATFORMS, specOn, synthesizeSpec } from './platforms';
import type { Seeded, State } from './clients/durability';
import { bootRecorded, certbotRequests, keptOnHost } from './host-state';

jest.setTimeout(300000);

const PASSWORD = 'drill: keep me in the sealed envelope 7f3a';
const DOMAIN = resolveSpec(exampleSpec).primaryDomain;
const UPLOAD_HOST = resolveSpec(exampleSpec).domains[0].components.find((c) => c.kind === 'fileShare')!.host;
const ALICE = { jid: `alice@${DOMAIN}`, password: 'alice has a long passphrase' };
const BOB = { jid: `bob@${DOMAIN}`, password: 'bob has another one' };
const LISTENERS = ['tcp/5222', 'tcp/5223', 'tcp/443', 'udp/3478'];
const FRESH_URL = `https://${DOMAIN}${BACKUP_FRESH_PATH}`;

async function boot(stack: SynthesizedStack, objectStore: string, ca?: string): Promise<Rehearsal> {
  return (await bootRecorded(stack, { objectStore }, LISTENERS, ca)).rehearsal;
}

const OFFSITE_UNIT = 'xmpp-constructs-offsite-backup.service';

/**
 * The off-host backup provisioning queued (`systemctl start --no-block`), which systemd would run
 * right after: whether it was queued, and its run's exit status. Only that job: the certificates
 * service's, also queued, would ask Let's Encrypt, which the drill shows a restored droplet never does.
 */
function runQueuedBackup(r: Rehearsal): { queued: boolean; status: number | null } {
  const queued = r.queuedJobs().includes(OFFSITE_UNIT);
  r.mustRun('take the backup out of the queue', ['sed', '-i', `/^${OFFSITE_UNIT.replace(/\./g, '\\.')}$/d`, '/run/rehearsal/queued-jobs']);
  return { queued, status: r.run(['systemctl', 'start', OFFSITE_UNIT], { timeoutMs: 180000 }).status };
}

/**
 * The HTTP status of the backup check's address, requested from the internet's side as DigitalOcean's
 * checker would. `selfSigned`: before the restore the new droplet serves its self-signed stand-in
 * certificate (its own are in the backup), which the checker would also report as down; the status
 * code is what this asks for.
 */
function freshStatus(r: Rehearsal, selfSigned = false): string {
  const trust = selfSigned ? ['--insecure'] : ['--cacert', r.caFile];
  return r.hostMustRun('request the backup check\'s address', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', ...trust, FRESH_URL], { timeoutMs: 30000 }).stdout;
}

/** The `key value` lines of the published backup status. */
function backupStatus(r: Rehearsal): Record<string, string> {
  return Object.fromEntries(r.readFile(BACKUP_STATUS_FILE).trim().split('\n').map((line) => {
    const i = line.indexOf(' ');
    return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)];
  }));
}

/** The snapshot objects restic wrote into the bucket (s3rver keeps one file per object). */
function snapshotObjects(objectStore: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (/\/snapshots$/.test(dir) && /^[0-9a-f]{64}\._S3rver_object$/.test(entry.name)) found.push(entry.name.slice(0, 64));
    }
  };
  if (existsSync(objectStore)) walk(objectStore);
  return found.sort();
}

for (const platform of REHEARSED_PLATFORMS) {
  describeUnless(rehearsalUnavailable(), `GIVEN a droplet on ${platformTitle(platform)} backing its volume up to Spaces, WHEN its droplet and its volume are both lost and the same declaration is deployed again`, () => {
    let objectStore: string;
    const spec = specOn({ ...exampleSpec, offsiteBackups: { password: PASSWORD }, alerts: { emails: ['ops@example.net'] } }, platform);
    const stack = synthesizeSpec(spec);
    let first: Rehearsal | undefined;
    let second: Rehearsal | undefined;
    let ca: string;
    let seeded: Seeded;
    let upload: { url: string; sha256: string };
    let before: Record<string, string>;
    let backupKey: { accessKey: string; secretKey: string };
    let firstBackup: { queued: boolean; status: number | null; fresh: string };
    let liveBackup: { code: number | null; output: string; sentBefore: number; sentDuring: number; fresh: string; status: Record<string, string> };
    let snapshotsBeforeLoss: string[];
    let requests: { method: string; accessKey?: string; status: number }[];
    let volumeId: string;
    let refused: { queued: boolean; run: number | null; status: Record<string, string>; fresh: string; snapshots: string[]; secret: string };
    let restoreRun: { status: number | null; stdout: string; stderr: string };

    beforeAll(async () => {
      objectStore = mkdtempSync('/var/tmp/xc-objects-');
      first = await boot(stack, objectStore);
      backupKey = first.backupKey;
      ca = first.issueCertificates();
      // Provisioning queued the first backup, which systemd would run right after: the repository is created.
      firstBackup = { ...runQueuedBackup(first), fresh: freshStatus(first) };
      first.addUser(ALICE.jid, ALICE.password);
      first.addUser(BOB.jid, BOB.password);
      seeded = first.client<Seeded>('seedState', { owner: ALICE, friend: BOB, room: 'family' });
      const roundTrip = first.client<{ slot: { get: string }; sentSha256: string; get: { status: number } }>('fileShareRoundTrip', {
        ...ALICE, service: UPLOAD_HOST, sizeBytes: 200_000, filename: 'family photo.jpg', origin: 'https://webchat.example.org',
      });
      if (roundTrip.get.status !== 200) throw new Error(`the upload failed: ${JSON.stringify(roundTrip)}`);
      upload = { url: roundTrip.slot.get, sha256: roundTrip.sentSha256 };
      before = keptOnHost(first);

      // The daily backup, taken while Alice writes to Bob: Prosody appends to both archives meanwhile.
      const writer = await first.openSession({ ...ALICE, resource: 'writer' });
      const filler = 'x'.repeat(2000);
      let sentBefore = 0;
      for (; sentBefore < 200; sentBefore++) await writer.send(BOB.jid, `before the backup ${sentBefore} ${filler}`);
      // Prosody reads a client at 64 kB/s (mod_limits): wait until the history is in the archive.
      for (let i = 0; i < 60; i++) {
        const { bodies } = first.client<{ bodies: string[] }>('wholeArchive', { owner: ALICE, with: BOB.jid }, 60000);
        if (bodies.filter((b) => b.startsWith('before the backup ')).length === sentBefore) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      let writing = true;
      let sentDuring = 0;
      const messages = (async () => {
        while (writing) await writer.send(BOB.jid, `during the backup ${sentDuring++} ${filler}`);
      })();
      const [run] = await first.runMany([{ name: 'offsite backup', args: [BACKUP_SCRIPT, 'offsite'] }], 180000);
      writing = false;
      await messages;
      await writer.stop();
      liveBackup = { code: run.code, output: run.output, sentBefore, sentDuring, fresh: freshStatus(first), status: backupStatus(first) };
      if (run.code !== 0) throw new Error(`the off-host backup failed (exit ${run.code}):\n${run.output}\nthe bucket's last requests:\n${first.spacesRequests().slice(-8).map((r) => JSON.stringify(r)).join('\n')}`);
      snapshotsBeforeLoss = snapshotObjects(objectStore);
      requests = first.spacesRequests();
      volumeId = first.readFile(`${VOLUME_MOUNT}/.volume-id`);

      // The disaster: the droplet and its volume are gone (stop() removes both); the bucket stays.
      await first.stop();
      first = undefined;

      second = await boot(stack, objectStore, ca);
      const secret = second.readFile(TURN_SECRET_FILE);
      const queued = runQueuedBackup(second);
      refused = { queued: queued.queued, run: queued.status, status: backupStatus(second), fresh: freshStatus(second, true), snapshots: snapshotObjects(objectStore), secret };
      restoreRun = second.run([BACKUP_SCRIPT, 'restore', '--from', 'spaces'], { timeoutMs: 300000 });
      if (restoreRun.status === 0) await second.waitForListeners(LISTENERS);
    });

    afterAll(async () => {
      for (const r of [first, second]) await r?.stop();
      if (objectStore !== undefined) rmSync(objectStore, { recursive: true, force: true });
    });

    test('THEN the first boot made its first backup at once, and the backup check\'s address answers 200', () => {
      expect(firstBackup).toEqual({ queued: true, status: 0, fresh: '200' });
    });

    test('THEN the backup taken while messages were written succeeded, and every request to the bucket was signed with the stack\'s backup key', () => {
      expect({ code: liveBackup.code, fresh: liveBackup.fresh, state: liveBackup.status.state }).toEqual({ code: 0, fresh: '200', state: 'ok' });
      expect(liveBackup.sentDuring).toBeGreaterThan(0);
      expect(liveBackup.output).toMatch(/off-host backup done: snapshot [0-9a-f]{8}/);
      // One a day is kept: the first boot's, of the same day, is forgotten once the second is made.
      expect(snapshotsBeforeLoss.length).toBeGreaterThanOrEqual(1);
      expect(requests.length).toBeGreaterThan(10);
      expect(requests.filter((r) => r.accessKey !== backupKey.accessKey)).toEqual([]);
      // 404: restic asking for the repository's config before creating it, and nothing else failed.
      expect(requests.filter((r) => r.status >= 400 && r.status !== 404)).toEqual([]);
    });

    test('THEN the new droplet\'s first backup refuses to add its empty volume, forgets nothing, and the backup check answers 503', () => {
      expect({ queued: refused.queued, run: refused.run }).toEqual({ queued: true, run: 1 });
      expect(refused.status.state).toBe('refused');
      expect(refused.status.detail).toContain('xmpp-constructs-backup restore --from spaces');
      expect(refused.fresh).toBe('503');
      expect(refused.snapshots).toEqual(snapshotsBeforeLoss);
    });

    test('THEN the restore says what it replaces, succeeds, and keeps the new volume\'s own state aside', () => {
      expect(`exit ${restoreRun.status}\n${restoreRun.stdout}\n${restoreRun.stderr}`).toMatch(/^exit 0\n/);
      expect(restoreRun.stdout).toMatch(/restoring snapshot [0-9a-f]{8}, taken /);
      expect(restoreRun.stdout).toContain('accounts and their passwords, rosters');
      expect(restoreRun.stdout).toMatch(/the state before the restore is kept in \/srv\/xmpp-data\/pre-restore-/);
      const aside = second!.run(['sh', '-c', `cat ${VOLUME_MOUNT}/pre-restore-*/secrets/turn-shared-secret`]).stdout;
      expect(aside).toBe(refused.secret);
    });

    test('THEN the TURN secret and the certificates are the lost droplet\'s, and Let\'s Encrypt is asked for nothing', () => {
      expect(keptOnHost(second!)).toEqual(before);
      second!.mustRun('certificate issuance after the restore', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 });
      expect(certbotRequests(second!)).toEqual([]);
    });

    test('THEN both users log in with their old passwords and find their roster, archive, room with its history, and the upload', () => {
      const state = second!.client<State>('readState', { owner: ALICE, friend: BOB, room: seeded.room, uploadUrl: upload.url });
      expect(state.roster).toEqual([{ jid: BOB.jid, name: 'Friend', groups: ['Family'] }]);
      expect(state.archive).toContain(seeded.messageBody);
      expect(state.roomFeatures).toContain('muc_persistent');
      expect(state.roomName).toBe(seeded.roomName);
      expect(state.roomArchive).toContain(seeded.roomBody);
      expect(state.upload).toEqual({ status: 200, sha256: upload.sha256 });
      expect(second!.client<{ loggedIn: boolean }>('canLogIn', BOB)).toMatchObject({ loggedIn: true });
    });

    test('THEN the archive written during the backup restores consistently: every message sent before it, in order, and those during it a whole prefix', () => {
      const { bodies } = second!.client<{ bodies: string[] }>('wholeArchive', { owner: ALICE, with: BOB.jid }, 120000);
      const numbers = (prefix: string) => bodies.filter((b) => b.startsWith(prefix)).map((b) => Number(b.slice(prefix.length).split(' ')[0]));
      expect(numbers('before the backup ')).toEqual([...Array(liveBackup.sentBefore).keys()]);
      const during = numbers('during the backup ');
      expect(during).toEqual([...Array(during.length).keys()]);
      expect(during.length).toBeLessThanOrEqual(liveBackup.sentDuring);
      expect(second!.readFile('/var/log/prosody/prosody.err')).not.toMatch(/Error reading storage|Unable to load|Failed to load/);
    });

    describe('WHEN the restored droplet backs up again', () => {
      let again: { status: number | null; stdout: string; stderr: string };
      let fresh: string;
      beforeAll(() => {
        again = second!.run([BACKUP_SCRIPT, 'offsite'], { timeoutMs: 180000 });
        fresh = freshStatus(second!);
      });

      test('THEN xmpp-doctor, given a key that may read the bucket, finds the newest snapshot fresh, and the host\'s status ok', () => {
        const plan = second!.exchangeFile(DOCTOR_PLAN_FILE, renderDoctorPlan(resolveSpec(spec)));
        const key = second!.backupKey;
        const { report } = second!.doctor(['--plan', plan, '--only', 'backup', '--ca-file', second!.spacesCaFile, '--timeout', '10'], { XMPP_DOCTOR_SPACES_KEY: key.accessKey, XMPP_DOCTOR_SPACES_SECRET: key.secretKey });
        const checks = report.checks as CheckResult[];
        expect(checks.map((c) => [c.status, c.title, c.detail])).toEqual(checks.map((c) => ['pass', c.title, c.detail]));
        expect(checks.length).toBeGreaterThanOrEqual(2);
      });

      test('THEN it continues the lost volume\'s history, and the backup check answers 200 again', () => {
        expect(`exit ${again.status}\n${again.stdout}\n${again.stderr}`).toMatch(/^exit 0\n/);
        // The restore brought the lost volume's identity back: the new snapshot is tagged with it.
        expect(second!.readFile(`${VOLUME_MOUNT}/.volume-id`)).toBe(volumeId);
        const listed = second!.mustRun('list the snapshots', [BACKUP_SCRIPT, 'snapshots']).stdout;
        expect(listed).toContain(`volume-${volumeId}`);
        expect(listed).toContain(backupStatus(second!).snapshot);
        expect(fresh).toBe('200');
        expect(backupStatus(second!).state).toBe('ok');
      });

      test('WHEN a backup fails (the password was changed) THEN the status says why and the backup check answers 503, the alert the stack watches for', () => {
        second!.mustRun('deploy a different password', ['sh', '-c', `printf %s 'a different password than the repository was made with' > ${OFFSITE_PASSWORD}`]);
        const failed = second!.run([BACKUP_SCRIPT, 'offsite'], { timeoutMs: 180000 });
        expect(failed.status).not.toBe(0);
        const status = backupStatus(second!);
        expect(status.state).toBe('failed');
        expect(status.detail).toContain('does not open with offsiteBackups.password');
        expect(status.detail).not.toContain(PASSWORD);
        expect(freshStatus(second!)).toBe('503');
        const checks = Object.values(stack.resource.digitalocean_uptime_check ?? {}).map((c) => c.target);
        expect(checks).toContain(FRESH_URL);
      });
    });
  });
}
