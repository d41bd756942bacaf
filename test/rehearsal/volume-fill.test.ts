/**
 * A small data volume (a loop device with ext4, as provisioning formats it) filling up: the daily
 * backup keeps uploads out of its archives, warns in its log above 80% full, and refuses, writing
 * nothing, when the archive could leave the volume without room for Prosody. xmpp-doctor, reading
 * what the host publishes over HTTPS, passes, warns above 80% and fails from 90%.
 *
 * The volume is filled with files Prosody's user writes where Prosody keeps uploads and message
 * archives: they stand in for weeks of use, which real clients would take far too long to produce.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { BACKUP_DIR, BACKUP_SCRIPT } from '../../lib/core/backup';
import { DOCTOR_PLAN_FILE } from '../../lib/core/doctor-plan';
import { VOLUME_MOUNT } from '../../lib/core/paths';
import type { CheckResult } from '../../lib/doctor/report';
import { Rehearsal, rehearsalUnavailable, RunResult, synthesizeExampleWithPlan } from './harness';
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
  /** What xmpp-doctor said of the volume at each stage, and what df said on the host. */
  const doctorSaid: { [stage: string]: { checks: CheckResult[]; df: number } } = {};

  const archives = () => droplet!.run(['sh', '-c', `ls -1A ${BACKUP_DIR}`]).stdout;
  const usedPercent = () => Number(droplet!.mustRun('df', ['sh', '-c', `df -B1 --output=used,avail ${VOLUME_MOUNT} | awk 'NR == 2 { printf "%d", ($1 * 100 + $1 + $2 - 1) / ($1 + $2) }'`]).stdout);
  let planPath: string;
  const askDoctor = (stage: string) => {
    const { report } = droplet!.doctor(['--plan', planPath, '--only', 'volume', '--timeout', '5']);
    doctorSaid[stage] = { checks: (report?.checks ?? []).filter((c: CheckResult) => c.group === 'volume'), df: usedPercent() };
  };

  beforeAll(async () => {
    const { stack, plan } = synthesizeExampleWithPlan();
    const booted = await Rehearsal.boot(stack, { blockDevice: loop!.device! });
    droplet = booted.rehearsal;
    if (booted.provision.status !== 0) throw new Error(`provisioning failed:\n${booted.provision.stdout}\n${booted.provision.stderr}\n${droplet.logTails()}`);
    droplet.issueCertificates();
    planPath = droplet.exchangeFile(DOCTOR_PLAN_FILE, plan);

    // Provisioning published the first figure.
    askDoctor('provisioned');
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
    // The backup published the figure it warned about.
    askDoctor('past 80%');

    // The uploads expire; a long message history now leaves no room for an archive of it.
    droplet.mustRun('the uploads expire', ['rm', '-f', `${UPLOADS}/stand-in.bin`]);
    droplet.mustRun('a long history', ['runuser', '-u', 'prosody', '--', 'sh', '-c', `mkdir -p ${HISTORY} && head -c 120M /dev/urandom > ${HISTORY}/stand-in.list`]);
    const archivesBefore = archives();
    refused = { ...droplet.run([BACKUP_SCRIPT, 'create'], { timeoutMs: 120000 }), archivesBefore, archivesAfter: archives() };

    // More uploads take it to 93%; the timer's command (every 10 minutes on the droplet) publishes it.
    droplet.mustRun('uploads fill it to 93%', ['runuser', '-u', 'prosody', '--', 'sh', '-c',
      `set -- $(df -B1 --output=used,avail ${VOLUME_MOUNT} | tail -n 1); head -c $(( ($1 + $2) * 93 / 100 - $1 )) /dev/urandom > ${UPLOADS}/more.bin`]);
    droplet.mustRun('what xmpp-constructs-volume-status.service runs', [BACKUP_SCRIPT, 'status']);
    askDoctor('past 90%');
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

  test('WHEN provisioning has run THEN xmpp-doctor, reading the host over HTTPS, finds the volume\'s use as df has it, measured minutes ago at most, and passes', () => {
    const { checks, df } = doctorSaid.provisioned;
    // One check for each address of the primary domain (its reserved IPv4 and IPv6).
    expect(checks).toHaveLength(2);
    for (const check of checks) expect(check).toMatchObject({ status: 'pass', detail: expect.stringMatching(new RegExp(`^\\S+: ${df}% used, measured (just now|[1-9] min ago)$`)) });
  });

  test('WHEN uploads fill it past 80% THEN xmpp-doctor warns, naming the figure and the fix', () => {
    const { checks, df } = doctorSaid['past 80%'];
    expect(df).toBeGreaterThanOrEqual(80);
    expect(df).toBeLessThan(90);
    expect(checks).toHaveLength(2);
    for (const check of checks) expect(check).toMatchObject({ status: 'warn', detail: expect.stringMatching(new RegExp(`^\\S+: ${df}% used, measured`)), fix: expect.stringContaining('grow droplet.volumeSizeGib') });
  });

  test('WHEN it is 90% full or more THEN xmpp-doctor fails: the daily backup now refuses to run', () => {
    const { checks, df } = doctorSaid['past 90%'];
    expect(df).toBeGreaterThanOrEqual(90);
    expect(checks).toHaveLength(2);
    for (const check of checks) expect(check).toMatchObject({ status: 'fail', detail: expect.stringMatching(new RegExp(`^\\S+: ${df}% used, measured just now: the daily backup refuses to run`)) });
  });
});
