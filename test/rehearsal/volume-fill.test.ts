/**
 * A small data volume (a loop device with ext4, as provisioning formats it) filling up: the daily
 * backup keeps uploads out of its archives, warns in its log above 80% full, and refuses, writing
 * nothing, when the archive could leave the volume without room for Prosody.
 *
 * The volume is filled with files Prosody's user writes where Prosody keeps uploads and message
 * archives: they stand in for weeks of use, which real clients would take far too long to produce.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { BACKUP_DIR, BACKUP_SCRIPT } from '../../lib/core/backup';
import { VOLUME_MOUNT } from '../../lib/core/paths';
import { Rehearsal, rehearsalUnavailable, RunResult, synthesizeExample } from './harness';
import { describeUnless } from '../support/tools';

jest.setTimeout(300000);

const VOLUME_MIB = 192;
const UPLOADS = '/var/lib/prosody/upload%2eexample%2enet/http_file_share';
const HISTORY = '/var/lib/prosody/example%2enet/archive';

/** A loop device over a sparse file, or why there cannot be one here. */
function attachLoopDevice(): { device?: string; file: string; why?: string } {
  const dir = mkdtempSync('/var/tmp/xc-fill-');
  const file = join(dir, 'volume.img');
  spawnSync('truncate', ['-s', `${VOLUME_MIB}M`, file]);
  const r = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
  return r.status === 0 ? { device: r.stdout.trim(), file } : { file, why: `losetup failed: ${r.stderr.trim()}` };
}

const unavailable = rehearsalUnavailable();
const loop = unavailable === undefined ? attachLoopDevice() : undefined;

describeUnless(unavailable ?? loop?.why, `GIVEN a droplet whose data volume is a ${VOLUME_MIB} MiB ext4 disk`, () => {
  let droplet: Rehearsal | undefined;
  let roomy: RunResult;
  let full: RunResult & { listing: string; used: string };
  let refused: RunResult & { archivesBefore: string; archivesAfter: string };

  const archives = () => droplet!.run(['sh', '-c', `ls -1A ${BACKUP_DIR}`]).stdout;

  beforeAll(async () => {
    const booted = await Rehearsal.boot(synthesizeExample(), { blockDevice: loop!.device! });
    droplet = booted.rehearsal;
    if (booted.provision.status !== 0) throw new Error(`provisioning failed:\n${booted.provision.stdout}\n${booted.provision.stderr}\n${droplet.logTails()}`);

    roomy = droplet.run([BACKUP_SCRIPT, 'create'], { timeoutMs: 120000 });

    // Uploads fill the volume past 80%; they are not archived, so the archive still fits.
    droplet.mustRun('uploads fill the volume', ['runuser', '-u', 'prosody', '--', 'sh', '-c', `mkdir -p ${UPLOADS} && head -c 140M /dev/urandom > ${UPLOADS}/stand-in.bin`]);
    full = {
      ...droplet.run([BACKUP_SCRIPT, 'create'], { timeoutMs: 120000 }),
      used: droplet.mustRun('df', ['df', '-h', VOLUME_MOUNT]).stdout,
      listing: '',
    };
    const newest = droplet.mustRun('newest archive', ['sh', '-c', `ls -1 ${BACKUP_DIR}/xmpp-*.tar.gz | tail -n 1`]).stdout.trim();
    full.listing = droplet.mustRun('list the archive', ['tar', '-tzf', newest]).stdout;

    // The uploads expire; a long message history now leaves no room for an archive of it.
    droplet.mustRun('the uploads expire', ['rm', '-f', `${UPLOADS}/stand-in.bin`]);
    droplet.mustRun('a long history', ['runuser', '-u', 'prosody', '--', 'sh', '-c', `mkdir -p ${HISTORY} && head -c 120M /dev/urandom > ${HISTORY}/stand-in.list`]);
    const archivesBefore = archives();
    refused = { ...droplet.run([BACKUP_SCRIPT, 'create'], { timeoutMs: 120000 }), archivesBefore, archivesAfter: archives() };
  });

  afterAll(async () => {
    await droplet?.stop();
    if (loop?.device) spawnSync('losetup', ['-d', loop.device]);
    if (loop) rmSync(join(loop.file, '..'), { recursive: true, force: true });
  });

  test('WHEN there is room THEN the backup succeeds without a warning', () => {
    expect(`exit ${roomy.status}\n${roomy.stderr}`).toBe('exit 0\n');
  });

  test('WHEN uploads fill it past 80% THEN the backup still succeeds, leaves the uploads out, and warns in its log', () => {
    expect(full.status).toBe(0);
    expect(full.stderr).toMatch(/xmpp-constructs: WARNING: the data volume \/srv\/xmpp-data is (8|9)[0-9]% full \([0-9]+ MiB of [0-9]+ MiB\); grow droplet\.volumeSizeGib/);
    expect(full.listing).toContain('./prosody/example%2enet/');
    expect(full.listing).not.toContain('stand-in.bin');
  });

  test('WHEN the archive could leave too little room for Prosody THEN the backup refuses with a clear line and writes nothing', () => {
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/xmpp-constructs: FAILED: backup refused: the archive may take up to 1[2-3][0-9] MiB, and [0-9]+ MiB of the data volume are free; writing it could leave less than 10% \([0-9]+ MiB\) for Prosody/);
    expect(refused.archivesAfter).toBe(refused.archivesBefore);
    expect(refused.archivesAfter).not.toContain('.part');
  });
});
