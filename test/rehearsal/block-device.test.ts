/**
 * The data volume as a real block device (a loop device standing in for DigitalOcean's volume):
 * provisioning formats it only while it holds no filesystem, and a replacement droplet mounts the
 * same filesystem with its data instead of formatting it.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { TURN_SECRET_FILE, VOLUME_MOUNT } from '../../lib/core/paths';
import { Rehearsal, rehearsalUnavailable, RunResult, SynthesizedStack, synthesizeExample } from './harness';

jest.setTimeout(240000);

const FORMATTING = 'xmpp-constructs: formatting the new, empty data volume';

/** A loop device over a sparse file, or why there cannot be one here. */
function attachLoopDevice(): { device?: string; file: string; why?: string } {
  const dir = mkdtempSync('/var/tmp/xc-block-');
  const file = join(dir, 'volume.img');
  spawnSync('truncate', ['-s', '128M', file]);
  const r = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
  return r.status === 0 ? { device: r.stdout.trim(), file } : { file, why: `losetup failed: ${r.stderr.trim()}` };
}

const unavailable = rehearsalUnavailable();
const loop = unavailable === undefined ? attachLoopDevice() : undefined;
const skipWhy = unavailable ?? loop?.why;
if (skipWhy !== undefined) console.warn(`\n!!! block-device.test.ts: SKIPPED: ${skipWhy}. Formatting and mounting a real volume are NOT tested. !!!\n`);

(skipWhy === undefined ? describe : describe.skip)('GIVEN a new, empty block device as the data volume', () => {
  const device = loop?.device ?? '';
  let stack: SynthesizedStack;
  let first: { rehearsal: Rehearsal; provision: RunResult } | undefined;
  let second: { rehearsal: Rehearsal; provision: RunResult } | undefined;
  let firstSecret: string;
  let mountSource: string;

  beforeAll(async () => {
    stack = synthesizeExample();
    first = await Rehearsal.boot(stack, { blockDevice: device });
    if (first.provision.status !== 0) throw new Error(`provisioning failed:\n${first.provision.stdout}\n${first.provision.stderr}\n${first.rehearsal.logTails()}`);
    mountSource = first.rehearsal.mustRun('mount source', ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', VOLUME_MOUNT]).stdout.trim();
    firstSecret = first.rehearsal.readFile(TURN_SECRET_FILE);
    first.rehearsal.mustRun('leave a mark', ['sh', '-c', 'echo "account data" > /var/lib/prosody/rehearsal-mark']);
    await first.rehearsal.stop();
    second = await Rehearsal.boot(stack, { blockDevice: device });
  });

  afterAll(async () => {
    await second?.rehearsal.stop();
    spawnSync('losetup', ['-d', device]);
    if (loop) rmSync(join(loop.file, '..'), { recursive: true, force: true });
  });

  test('THEN the first boot formats it as ext4 and mounts it as the data volume', () => {
    expect(first!.provision.stdout).toContain(FORMATTING);
    expect(mountSource).toBe(`${device} ext4`);
  });

  test('WHEN a replacement droplet boots on it THEN it is mounted, not formatted, and holds the data and secret', () => {
    expect({ status: second!.provision.status, stderr: second!.provision.stderr }).toMatchObject({ status: 0 });
    expect(second!.provision.stdout).toContain('xmpp-constructs: mounting the data volume');
    expect(second!.provision.stdout).not.toContain(FORMATTING);
    expect(second!.rehearsal.readFile('/var/lib/prosody/rehearsal-mark')).toBe('account data\n');
    expect(second!.rehearsal.readFile(TURN_SECRET_FILE)).toBe(firstSecret);
  });

  test('THEN the volume is in fstab by its device name with nofail, so a boot without it does not hang', () => {
    const fstab = second!.rehearsal.readFile('/etc/fstab');
    expect(fstab).toContain(`${device} ${VOLUME_MOUNT} auto defaults,nofail,x-systemd.device-timeout=300 0 2`);
  });
});
