/**
 * Replacing the droplet loses nothing and re-issues nothing; a backup restores onto an empty volume.
 *
 * One volume directory outlives three droplets: the first makes accounts, a roster entry, archived
 * messages, a persistent room and an upload; the second boots from a *changed* user_data (as any
 * merged config change would replace it) onto the same volume; the third starts on an empty volume
 * and is restored from the second's backup.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { XmppService } from '../../lib/cdktf';
import { BACKUP_DIR, BACKUP_SCRIPT } from '../../lib/core/backup';
import { CERTS_SCRIPT } from '../../lib/core/host-scripts';
import { TURN_SECRET_FILE } from '../../lib/core/paths';
import { resolveSpec } from '../../lib/core/validate';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { newStack, synth } from '../cdktf/synth';
import { dropletUserData, Rehearsal, rehearsalUnavailable, SynthesizedStack } from './harness';
import { platformTitle, REHEARSED_PLATFORMS, specOn, synthesizeExampleOn } from './platforms';
import { describeUnless } from '../support/tools';
import type { Seeded, State } from './clients/durability';
import { bootRecorded, certbotRequests, checksums, keptOnHost } from './host-state';

jest.setTimeout(300000);

const SPEC = resolveSpec(exampleSpec);
const DOMAIN = SPEC.primaryDomain;
const UPLOAD_HOST = SPEC.domains[0].components.find((c) => c.kind === 'fileShare')!.host;
const ALICE = { jid: `alice@${DOMAIN}`, password: 'alice has a long passphrase' };
const BOB = { jid: `bob@${DOMAIN}`, password: 'bob has another one' };
const ROOM = 'family';
const LISTENERS = ['tcp/5222', 'tcp/5223', 'tcp/443', 'udp/3478'];


async function boot(stack: SynthesizedStack, volume: string, ca?: string): Promise<Rehearsal> {
  return (await bootRecorded(stack, { volume }, LISTENERS, ca)).rehearsal;
}

for (const platform of REHEARSED_PLATFORMS) {
  describeUnless(rehearsalUnavailable(), `GIVEN a droplet on ${platformTitle(platform)} with users, history, a room, an upload and certificates on its volume`, () => {
    const volume = mkdtempSync('/var/tmp/xc-volume-');
    const restoredVolume = mkdtempSync('/var/tmp/xc-volume-');
    let first: Rehearsal | undefined;
    let replacement: Rehearsal | undefined;
    let restored: Rehearsal | undefined;
    let ca: string;
    let seeded: Seeded;
    let upload: { url: string; sha256: string };
    let before: Record<string, string>;
    let firstBootRequests: string[];
    let dnsNotYet: { output: string; requests: string[] };
    let backedOff: { output: string; requests: string[] };
    let changedStack: SynthesizedStack;
    let originalUserData: string;

    beforeAll(async () => {
      const stack = synthesizeExampleOn(platform);
      originalUserData = dropletUserData(stack);
      first = await boot(stack, volume);
      first.mustRun('requests fail for now', ['touch', '/run/rehearsal/certbot.fail']);
      // DNS not yet pointing here (one name resolves elsewhere): no request, only a later attempt.
      first.mustRun('a name resolves elsewhere', ['sh', '-c', 'cp /etc/hosts /etc/hosts.orig && echo "198.51.100.99 upload.example.net" >> /etc/hosts']);
      dnsNotYet = { output: first.mustRun('issuance before DNS points here', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 }).stdout, requests: certbotRequests(first) };
      first.mustRun('DNS has propagated', ['sh', '-c', 'mv /etc/hosts.orig /etc/hosts && rm -f /var/lib/xmpp-constructs/*.tries /var/lib/xmpp-constructs/*.next']);
      // With no certificate yet and DNS pointing here, issuance asks Let's Encrypt: the control case.
      first.mustRun('certificate issuance on first boot', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 });
      firstBootRequests = certbotRequests(first);
      // That request failed (the recorder failed it): the next attempt waits.
      backedOff = { output: first.mustRun('issuance right after a failure', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 }).stdout, requests: certbotRequests(first) };
      // The retry is due and Let's Encrypt (Pebble) answers: the real issuance, through the recorder.
      first.mustRun('requests go through', ['sh', '-c', 'rm -f /run/rehearsal/certbot.fail /var/lib/xmpp-constructs/*.tries /var/lib/xmpp-constructs/*.next']);
      ca = first.issueCertificates();
      first.addUser(ALICE.jid, ALICE.password);
      first.addUser(BOB.jid, BOB.password);
      seeded = first.client<Seeded>('seedState', { owner: ALICE, friend: BOB, room: ROOM });
      const roundTrip = first.client<{ slot: { get: string }; sentSha256: string; get: { status: number } }>('fileShareRoundTrip', {
        ...ALICE, service: UPLOAD_HOST, sizeBytes: 200_000, filename: 'family photo.jpg', origin: 'https://webchat.example.org',
      });
      if (roundTrip.get.status !== 200) throw new Error(`the upload failed: ${JSON.stringify(roundTrip)}`);
      upload = { url: roundTrip.slot.get, sha256: roundTrip.sentSha256 };
      before = keptOnHost(first);
      await first.stop();
      first = undefined;

      // Any config change replaces the droplet: here, a longer DNS TTL and one more contact address.
      const changed = newStack();
      new XmppService(changed, 'Xmpp', { spec: specOn({ ...exampleSpec, dns: { ttlSeconds: 900 }, contacts: { ...exampleSpec.contacts, security: ['mailto:security@example.net'] } }, platform), writeReviewFiles: false });
      changedStack = synth(changed) as SynthesizedStack;
      replacement = await boot(changedStack, volume, ca);
    });

    /**
     * Both users log in with their old passwords; Alice finds her roster, archive and room, and her
     * upload where the volume itself was kept (archives leave uploads out: it is gone after a restore).
     */
    function expectEverythingKept(droplet: Rehearsal, uploadKept = true): void {
      const state = droplet.client<State>('readState', { owner: ALICE, friend: BOB, room: seeded.room, uploadUrl: upload.url });
      expect(state.roster).toEqual([{ jid: BOB.jid, name: 'Friend', groups: ['Family'] }]);
      expect(state.archive).toContain(seeded.messageBody);
      expect(state.roomFeatures).toContain('muc_persistent');
      expect(state.roomName).toBe(seeded.roomName);
      expect(state.roomArchive).toContain(seeded.roomBody);
      if (uploadKept) expect(state.upload).toEqual({ status: 200, sha256: upload.sha256 });
      else expect(state.upload?.status).toBe(404);
      expect(droplet.client<{ loggedIn: boolean }>('canLogIn', BOB)).toMatchObject({ loggedIn: true });
    }

    afterAll(async () => {
      for (const r of [first, replacement, restored]) await r?.stop();
      rmSync(volume, { recursive: true, force: true });
      rmSync(restoredVolume, { recursive: true, force: true });
    });

    test('GIVEN the first boot before DNS points here THEN issuance asks Let\'s Encrypt for nothing and schedules a retry', () => {
      expect(dnsNotYet.requests).toEqual([]);
      expect(dnsNotYet.output).toContain('upload.example.net does not resolve here yet');
      expect(dnsNotYet.output).toContain('certificate for example.net not issued yet; next attempt in 5 min');
    });

    test('GIVEN the first boot without a certificate THEN issuance did ask Let\'s Encrypt, by webroot, for the apex and every component name (the case the replacement must avoid)', () => {
      expect(firstBootRequests).toHaveLength(1);
      expect(firstBootRequests[0]).toMatch(/^certonly .*--webroot -w \/var\/www\/acme --cert-name example\.net -d example\.net -d upload\.example\.net -d conference\.example\.net -d turn\.example\.net --deploy-hook \/usr\/local\/sbin\/xmpp-constructs-certs link$/);
    });

    test('GIVEN a failed request THEN the next run backs off instead of asking again', () => {
      expect(backedOff.requests).toEqual(firstBootRequests);
    });

    describe('WHEN the droplet is replaced by one with a changed user_data, on the same volume', () => {
      test('THEN the replacement really booted from different user_data', () => {
        expect(dropletUserData(changedStack)).not.toBe(originalUserData);
        expect(replacement!.readFile('/etc/prosody/prosody.cfg.lua')).toContain('mailto:security@example.net');
      });

      test('THEN the secrets and certificates are the very same files', () => {
        expect(Object.keys(before).length).toBeGreaterThanOrEqual(4);
        expect(keptOnHost(replacement!)).toEqual(before);
      });

      test('THEN certificate issuance finds valid certificates and asks Let\'s Encrypt for nothing', () => {
        replacement!.mustRun('certificate issuance after replacement', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 });
        expect(certbotRequests(replacement!)).toEqual([]);
      });

      test('THEN both users log in with their old passwords and find their roster, archive, room and upload', () => {
        expectEverythingKept(replacement!);
      });

      test('WHEN provisioning runs again on the live host THEN it succeeds and changes nothing', async () => {
        const sums = checksums(replacement!);
        const again = replacement!.provision();
        expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
        await replacement!.waitForListeners(LISTENERS);
        expect(checksums(replacement!)).toBe(sums);
        expect(sums.split('\n').length).toBeGreaterThan(15);
      });
    });

    describe('WHEN a backup of it is restored onto a droplet with an empty volume', () => {
      let restoreRun: { status: number | null; stdout: string; stderr: string };
      let freshSecret: string;
      let archiveEntries: string[];
      let archiveMode: string;
      let liveBackup: { code: number | null; output: string; sentDuringBackup: number; uploadsDuringBackup: number[]; parts?: string[] };

      beforeAll(async () => {
        // The backup is taken while Alice writes to Bob (Prosody appends to both message archives)
        // and uploads files, as on any live server. A history of some size first, so that tar is
        // still reading the archives when the next messages are appended to them.
        const writer = await replacement!.openSession({ ...ALICE, resource: 'writer' });
        const filler = 'x'.repeat(2000);
        for (let i = 0; i < 200; i++) await writer.send(BOB.jid, `history ${i} ${filler}`);
        let writing = true;
        let sentDuringBackup = 0;
        const messages = (async () => {
          while (writing) {
            await writer.send(BOB.jid, `during the backup ${sentDuringBackup} ${filler}`);
            sentDuringBackup++;
          }
        })();
        const uploads = (async () => {
          const results: number[] = [];
          while (writing) {
            const r = await replacement!.clientAsync<{ get: { status: number } }>('fileShareRoundTrip', {
              ...ALICE, service: UPLOAD_HOST, sizeBytes: 500_000, filename: `during backup ${results.length}.jpg`, origin: 'https://webchat.example.org',
            });
            results.push(r.get.status);
          }
          return results;
        })();
        const [backupRun] = await replacement!.runMany([{ name: 'backup', args: [BACKUP_SCRIPT, 'create'] }], 120000);
        writing = false;
        await messages;
        liveBackup = { code: backupRun.code, output: backupRun.output, sentDuringBackup, uploadsDuringBackup: await uploads };
        await writer.stop();
        liveBackup.parts = readdirSync(join(volume, 'backups')).filter((n) => n.endsWith('.part'));
        if (backupRun.code !== 0) throw new Error(`the backup failed (exit ${backupRun.code}):\n${backupRun.output}`);
        const created = backupRun.output.trim().split('\n').filter((l) => l.startsWith(`${BACKUP_DIR}/`)).pop()!;
        expect(created.startsWith(`${BACKUP_DIR}/xmpp-`)).toBe(true);
        const archive = readFileSync(join(volume, 'backups', created.slice(BACKUP_DIR.length + 1)));
        archiveEntries = replacement!.mustRun('list the archive', ['tar', '-tzf', created]).stdout.split('\n').filter(Boolean);
        archiveMode = replacement!.mustRun('archive mode', ['stat', '-c', '%a %U', created]).stdout.trim();
        await replacement!.stop();
        replacement = undefined;

        restored = await boot(changedStack, restoredVolume, ca);
        freshSecret = restored.readFile(TURN_SECRET_FILE);
        const inside = restored.exchangeFile('backup.tar.gz', archive);
        restoreRun = restored.run([BACKUP_SCRIPT, 'restore', inside], { timeoutMs: 180000 });
        if (restoreRun.status === 0) await restored.waitForListeners(LISTENERS);
      });

      test('THEN the backup, taken while messages and uploads were written, succeeded and left no partial file', () => {
        expect({ code: liveBackup.code, parts: liveBackup.parts }).toEqual({ code: 0, parts: [] });
        expect(liveBackup.sentDuringBackup).toBeGreaterThan(0);
        expect(liveBackup.uploadsDuringBackup.length).toBeGreaterThan(0);
        expect(liveBackup.uploadsDuringBackup.every((status) => status === 200)).toBe(true);
        // When tar did catch a store changing, the log says so rather than failing.
        if (/file changed as we read it|File removed before we read it/.test(liveBackup.output)) expect(liveBackup.output).toContain('files changed while they were archived');
      });

      test('THEN the restore succeeds and keeps the empty volume\'s own state aside, not deleted', () => {
        expect(`exit ${restoreRun.status}\n${restoreRun.stdout}\n${restoreRun.stderr}`).toMatch(/^exit 0\n/);
        const aside = readdirSync(restoredVolume).filter((n) => n.startsWith('pre-restore-'));
        expect(aside).toHaveLength(1);
        expect(readFileSync(join(restoredVolume, aside[0], 'secrets', 'turn-shared-secret'), 'utf8')).toBe(freshSecret);
      });

      test('THEN the secrets and certificates are the backed-up ones', () => {
        expect(freshSecret).not.toBe(restored!.readFile(TURN_SECRET_FILE));
        expect(keptOnHost(restored!)).toEqual(before);
      });

      test('THEN certificate issuance asks Let\'s Encrypt for nothing', () => {
        restored!.mustRun('certificate issuance after restore', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000 });
        expect(certbotRequests(restored!)).toEqual([]);
      });

      test('THEN the users log in with their old passwords and find everything but the upload, which archives leave out', () => {
        expectEverythingKept(restored!, false);
      });

      test('THEN the archive holds the whole state but no archives, and only root may read it', () => {
        expect(archiveEntries).toEqual(expect.arrayContaining(['./prosody/', './letsencrypt/', './secrets/', './secrets/turn-shared-secret']));
        expect(archiveEntries.filter((e) => e.startsWith('./backups') || e.startsWith('./lost+found'))).toEqual([]);
        expect(archiveEntries.filter((e) => /^\.\/prosody\/[^/]+\/(http_file_share\/|uploads\.|upload_stats\.)/.test(e))).toEqual([]);
        expect(archiveMode).toBe('600 root');
      });
    });
  });
}
