/**
 * The data volume as a real block device (a loop device standing in for DigitalOcean's volume):
 * provisioning formats it only while it holds no filesystem; a replacement droplet waits for the
 * volume's by-id name to appear, as udev makes it while DigitalOcean attaches the volume, then mounts
 * the same filesystem with its data instead of formatting it; a droplet whose volume never appears
 * stops with a message and touches nothing.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { HOST_ENV } from '../../lib/core/host-scripts';
import { PROVISION_SCRIPT, TURN_SECRET_FILE, VOLUME_MOUNT } from '../../lib/core/paths';
import { Rehearsal, rehearsalUnavailable, RunResult, SynthesizedStack, synthesizeExample } from './harness';
import { describeUnless } from '../support/tools';

jest.setTimeout(240000);

const FORMATTING = 'xmpp-constructs: formatting the new, empty data volume';
/** Where udev would name the volume; /run because the rehearsal's /dev is this machine's. */
const BY_ID = '/run/disk/by-id/scsi-0DO_Volume_xmpp-data';
/** How long after provisioning has begun udev names the volume here. */
const LINK_APPEARS_AFTER_SECONDS = 3;
/** Where the stand-in for udev notes whether the name existed when provisioning began. */
const SEEN_AT_START = '/run/rehearsal/by-id-when-provisioning-began';

/** Point the droplet's host.env at another device path and wait time, as only the harness may. */
function setVolume(r: Rehearsal, device: string, waitSeconds?: number): void {
  r.mustRun('point the script at the volume', ['sed', '-i', `s|^VOLUME_DEVICE=.*|VOLUME_DEVICE='${device}'|`, HOST_ENV]);
  if (waitSeconds !== undefined) r.mustRun('shorten the wait', ['sed', '-i', `s|^VOLUME_WAIT_SECONDS=.*|VOLUME_WAIT_SECONDS='${waitSeconds}'|`, HOST_ENV]);
}

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

describeUnless(unavailable ?? loop?.why, 'GIVEN a new, empty block device as the data volume', () => {
  const device = loop?.device ?? '';
  let stack: SynthesizedStack;
  let first: { rehearsal: Rehearsal; provision: RunResult } | undefined;
  let second: { rehearsal: Rehearsal; provision: RunResult } | undefined;
  let missing: { rehearsal: Rehearsal; provision: RunResult } | undefined;
  let firstSecret: string;
  let mountSource: string;
  let secondMountSource: string;
  /** Whether the by-id name existed when the replacement's provisioning began: 'absent' or 'present'. */
  let byIdWhenProvisioningBegan: string;
  /** What the replacement found, read before it stops (one droplet at a time may mount the device). */
  let secondFound: { mark: string; secret: string; fstab: string };

  beforeAll(async () => {
    stack = synthesizeExample();
    first = await Rehearsal.boot(stack, { blockDevice: device });
    if (first.provision.status !== 0) throw new Error(`provisioning failed:\n${first.provision.stdout}\n${first.provision.stderr}\n${first.rehearsal.logTails()}`);
    mountSource = first.rehearsal.mustRun('mount source', ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', VOLUME_MOUNT]).stdout.trim();
    firstSecret = first.rehearsal.readFile(TURN_SECRET_FILE);
    first.rehearsal.mustRun('leave a mark', ['sh', '-c', 'echo "account data" > /var/lib/prosody/rehearsal-mark']);
    await first.rehearsal.stop();
    second = await Rehearsal.boot(stack, {
      blockDevice: device,
      beforeProvision: (r) => {
        setVolume(r, BY_ID);
        // Packages install first, which takes a while: udev's name appears only once provisioning
        // has begun, so provisioning must wait for it.
        r.mustRun('udev names the volume a little after provisioning begins', ['sh', '-c',
          `mkdir -p /run/rehearsal; setsid sh -c 'until pgrep -f "^/bin/bash ${PROVISION_SCRIPT}" >/dev/null; do sleep 0.1; done; ` +
          `if [ -e ${BY_ID} ]; then echo present; else echo absent; fi > ${SEEN_AT_START}; ` +
          `sleep ${LINK_APPEARS_AFTER_SECONDS}; mkdir -p ${BY_ID.replace(/\/[^/]*$/, '')}; ln -s ${device} ${BY_ID}' >/dev/null 2>&1 </dev/null &`]);
      },
    });
    byIdWhenProvisioningBegan = second.rehearsal.readFile(SEEN_AT_START).trim();
    if (second.provision.status === 0) {
      secondMountSource = second.rehearsal.mustRun('mount source', ['findmnt', '-n', '-o', 'SOURCE,FSTYPE', VOLUME_MOUNT]).stdout.trim();
      secondFound = { mark: second.rehearsal.readFile('/var/lib/prosody/rehearsal-mark'), secret: second.rehearsal.readFile(TURN_SECRET_FILE), fstab: second.rehearsal.readFile('/etc/fstab') };
    }
    await second.rehearsal.stop();
    missing = await Rehearsal.boot(stack, { blockDevice: device, beforeProvision: (r) => setVolume(r, '/run/disk/by-id/scsi-0DO_Volume_never-attached', 2) });
  });

  afterAll(async () => {
    await second?.rehearsal.stop();
    await missing?.rehearsal.stop();
    spawnSync('losetup', ['-d', device]);
    if (loop) rmSync(join(loop.file, '..'), { recursive: true, force: true });
  });

  test('THEN the first boot formats it as ext4 and mounts it as the data volume', () => {
    expect(first!.provision.stdout).toContain(FORMATTING);
    expect(mountSource).toBe(`${device} ext4`);
  });

  test('WHEN a replacement droplet boots on it THEN it waits for the by-id name, mounts it without formatting, and finds the data and secret', () => {
    expect({ status: second!.provision.status, stderr: second!.provision.stderr }).toMatchObject({ status: 0 });
    expect(second!.provision.stdout).toContain('xmpp-constructs: mounting the data volume');
    expect(second!.provision.stdout).not.toContain(FORMATTING);
    // Absent when provisioning began, yet provisioning mounted it: it waited for the name.
    expect(byIdWhenProvisioningBegan).toBe('absent');
    expect(secondMountSource).toBe(`${device} ext4`);
    expect(secondFound.mark).toBe('account data\n');
    expect(secondFound.secret).toBe(firstSecret);
  });

  test('THEN the volume is in fstab by its by-id name with nofail, so a boot without it does not hang', () => {
    expect(secondFound.fstab).toContain(`${BY_ID} ${VOLUME_MOUNT} auto defaults,nofail,x-systemd.device-timeout=300 0 2`);
  });

  test('WHEN the volume never appears THEN provisioning stops, names the device and the wait, and starts nothing', () => {
    expect(missing!.provision.status).not.toBe(0);
    expect(missing!.provision.stderr).toContain('data volume /run/disk/by-id/scsi-0DO_Volume_never-attached did not appear within 2 s; is it attached to this droplet?');
    expect(missing!.provision.stdout.trim().split('\n').pop()).toBe('xmpp-constructs: mounting the data volume');
    expect(missing!.rehearsal.run(['mountpoint', '-q', VOLUME_MOUNT]).status).not.toBe(0);
    expect(missing!.rehearsal.listeners().filter((l) => [5222, 443].includes(l.port))).toEqual([]);
  });
});
