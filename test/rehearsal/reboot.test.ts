/**
 * Reboots, rehearsed on the example droplet with its data volume on a real block device (a loop
 * device standing in for DigitalOcean's volume, named under by-id as udev names it).
 *
 * Each reboot stops every service, unmounts the volume and its bind mounts, and then starts the
 * services the packages enabled (prosody, nginx, coturn) all at once, as systemd starts them at
 * boot, and the timers' services: without provisioning, from what the droplet keeps on its disks.
 * - the volume present: everything comes back, with its data;
 * - the volume late: the services that keep state on it wait for it, then come back;
 * - the volume missing: none of them starts, and nothing is written to the root disk.
 *
 * What this proves and what not: systemd here is the rehearsal's stand-in (bin/systemctl), which
 * honours RequiresMountsFor= against /etc/fstab the way systemd's fstab generator and mount units
 * do (the mounts under each path, their x-systemd.requires-mounts-for=, a bind mount's source, the
 * device timeout). That the platform's real systemd reads the droplet's drop-ins and fstab lines
 * that way (units accepted, mount units generated with those dependencies, nofail) is checked in
 * test/core/volume-units.test.ts with its own systemd-analyze and fstab generator. Not rehearsed:
 * a real systemd's boot transaction (targets, timers firing by themselves, Restart=), and what
 * else a reboot resets (/run, /tmp, addresses).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { HOST_ENV } from '../../lib/core/host-scripts';
import { VOLUME_MOUNT } from '../../lib/core/paths';
import { volumeDropinPath } from '../../lib/core/volume-units';
import { describeUnless } from '../support/tools';
import { BootResult, Rehearsal, rehearsalUnavailable } from './harness';
import { exampleSpecOn, REHEARSED_PLATFORMS, synthesizeSpec } from './platforms';

jest.setTimeout(600000);

/** Where udev would name the volume; /run because the rehearsal's /dev is this machine's. */
const BY_ID = '/run/disk/by-id/scsi-0DO_Volume_xmpp-data';
/** The services the packages enable, which systemd starts at boot. */
const BOOT_UNITS = ['prosody.service', 'nginx.service', 'coturn.service'] as const;
/** The services systemd's timers start after boot: certificate issuance, certbot's renewal, the backup. */
const TIMER_UNITS = ['xmpp-constructs-certificates.service', 'certbot.service', 'xmpp-constructs-backup.service'] as const;
/** Where the services would write if they ran without the volume: the root disk's directories under the mounts. */
const UNDER_MOUNTS = ['/var/lib/prosody', '/etc/letsencrypt', VOLUME_MOUNT];
/** How long the volume stays away in the "late" reboot. */
const LATE_SECONDS = 8;
const ALICE = { jid: 'alice@example.net', password: 'alice reboot pass' };

/** A loop device over a sparse file, or why there cannot be one here. */
function attachLoopDevice(): { device?: string; file: string; why?: string } {
  const dir = mkdtempSync('/var/tmp/xc-reboot-');
  const file = join(dir, 'volume.img');
  spawnSync('truncate', ['-s', '128M', file]);
  const r = spawnSync('losetup', ['--find', '--show', file], { encoding: 'utf8' });
  return r.status === 0 ? { device: r.stdout.trim(), file } : { file, why: `losetup failed: ${r.stderr.trim()}` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const unavailable = rehearsalUnavailable();

describe.each(REHEARSED_PLATFORMS)('on %s', (platform) => {
  describeUnless(unavailable, 'GIVEN the example droplet, provisioned on its volume, with certificates and an account', () => {
    // A volume of its own on each platform (a Prosody release's data is not handed to another here),
    // attached only when these tests run.
    let loop: ReturnType<typeof attachLoopDevice> | undefined;
    let device = '';
    let boot: BootResult | undefined;
    const droplet = (): Rehearsal => {
      if (!boot) throw new Error('the rehearsal did not boot (see the beforeAll error)');
      return boot.rehearsal;
    };

    const attach = () => droplet().mustRun('udev names the volume', ['sh', '-c', `mkdir -p ${BY_ID.replace(/\/[^/]*$/, '')} && ln -sfn ${device} ${BY_ID}`]);
    const detach = () => droplet().mustRun('the volume is not there (yet)', ['rm', '-f', BY_ID]);

    /** Shut down: every service stopped, the bind mounts and the volume unmounted. */
    function shutDown(): void {
      droplet().mustRun('stop the services', ['systemctl', 'stop', ...BOOT_UNITS]);
      droplet().mustRun('unmount the volume', ['sh', '-c', `for m in /etc/letsencrypt /var/lib/prosody ${VOLUME_MOUNT}; do if mountpoint -q $m; then umount $m; fi; done`]);
    }

    /** Every file on the root disk under the mount points (the volume unmounted), with its size and time. */
    function rootDisk(): string {
      return droplet().mustRun('list the root disk under the mount points', ['sh', '-c', `find ${UNDER_MOUNTS.join(' ')} -printf '%y %p %s %T@\\n' | sort`]).stdout;
    }

    /** Start the enabled services at once, as systemd does at boot; resolves when every start has returned. */
    function bootServices(timeoutMs: number) {
      return droplet().runMany(BOOT_UNITS.map((unit) => ({ name: unit, args: ['systemctl', 'start', unit] })), timeoutMs);
    }

    const active = (unit: string) => droplet().run(['systemctl', 'is-active', '--quiet', unit]).status === 0;
    const serving = () => droplet().listeners().filter((l) => [5222, 443].includes(l.port) && l.protocol === 'tcp').map((l) => l.port);

    beforeAll(async () => {
      loop = attachLoopDevice();
      if (loop.device === undefined) throw new Error(`no loop device for the volume: ${loop.why}`);
      device = loop.device;
      boot = await Rehearsal.boot(synthesizeSpec(exampleSpecOn(platform)), {
        blockDevice: device,
        beforeProvision: (r) => {
          r.mustRun('point the script at the by-id name', ['sed', '-i', `s|^VOLUME_DEVICE=.*|VOLUME_DEVICE='${BY_ID}'|`, HOST_ENV]);
          r.mustRun('udev names the volume', ['sh', '-c', `mkdir -p ${BY_ID.replace(/\/[^/]*$/, '')} && ln -sfn ${device} ${BY_ID}`]);
        },
      });
      if (boot.provision.status !== 0) throw new Error(`provisioning failed:\n${boot.provision.stdout}\n${boot.provision.stderr}\n${boot.rehearsal.logTails()}`);
      droplet().issueCertificates();
      droplet().addUser(ALICE.jid, ALICE.password);
    });

    afterAll(async () => {
      await boot?.rehearsal.stop();
      if (device) spawnSync('losetup', ['-d', device]);
      if (loop) rmSync(join(loop.file, '..'), { recursive: true, force: true });
    });

    test('THEN the packages enabled prosody, nginx and coturn, which systemd starts at every boot', () => {
      const enabled = droplet().run(['ls', '/etc/systemd/system/multi-user.target.wants/']).stdout.split('\n');
      expect(enabled).toEqual(expect.arrayContaining(BOOT_UNITS.map(String)));
    });

    describe('WHEN it reboots with the volume present', () => {
      let starts: Awaited<ReturnType<typeof bootServices>>;
      beforeAll(async () => {
        shutDown();
        starts = await bootServices(120000);
        await droplet().waitForListeners(['tcp/5222', 'tcp/443', 'udp/3478'], 60000);
        droplet().waitForProsodyShell();
      });

      test('THEN every service starts, the volume and its bind mounts mounted first', () => {
        expect(starts.map((s) => ({ unit: s.name, code: s.code }))).toEqual(BOOT_UNITS.map((unit) => ({ unit, code: 0 })));
        for (const unit of BOOT_UNITS) expect({ unit, active: active(unit) }).toEqual({ unit, active: true });
        for (const m of [VOLUME_MOUNT, '/var/lib/prosody', '/etc/letsencrypt']) expect({ m, mounted: droplet().run(['mountpoint', '-q', m]).status }).toEqual({ m, mounted: 0 });
      });

      test('THEN the account made before the reboot logs in, over the Let\'s Encrypt certificate kept on the volume', () => {
        expect(droplet().client<{ loggedIn: boolean }>('canLogIn', ALICE)).toMatchObject({ loggedIn: true });
      });
    });

    describe(`WHEN it reboots and the volume appears only ${LATE_SECONDS} s later`, () => {
      let before: string;
      let during: { prosody: boolean; nginx: boolean; serving: number[]; rootDisk: string };
      let starts: Awaited<ReturnType<typeof bootServices>>;
      beforeAll(async () => {
        shutDown();
        detach();
        before = rootDisk();
        const pending = bootServices(180000);
        await sleep(LATE_SECONDS * 1000);
        during = { prosody: active('prosody'), nginx: active('nginx'), serving: serving(), rootDisk: rootDisk() };
        attach();
        starts = await pending;
        await droplet().waitForListeners(['tcp/5222', 'tcp/443'], 60000);
        droplet().waitForProsodyShell();
      });

      test('THEN Prosody and nginx wait: neither runs nor listens, and nothing is written to the root disk meanwhile', () => {
        expect(during).toEqual({ prosody: false, nginx: false, serving: [], rootDisk: before });
      });

      test('THEN once it appears, every service starts on it and the account logs in', () => {
        expect(starts.map((s) => ({ unit: s.name, code: s.code }))).toEqual(BOOT_UNITS.map((unit) => ({ unit, code: 0 })));
        for (const unit of BOOT_UNITS) expect({ unit, active: active(unit) }).toEqual({ unit, active: true });
        expect(droplet().client<{ loggedIn: boolean }>('canLogIn', ALICE)).toMatchObject({ loggedIn: true });
      });
    });

    describe('WHEN it reboots and the volume never appears', () => {
      let before: string;
      let starts: Awaited<ReturnType<typeof bootServices>>;
      let timers: { unit: string; status: number | null; stderr: string }[];
      let after: string;
      beforeAll(async () => {
        shutDown();
        detach();
        // Only the wait is shortened (300 s on a droplet): systemd gives up on the device after it.
        droplet().mustRun('shorten the device timeout', ['sed', '-i', 's/x-systemd.device-timeout=[0-9]*/x-systemd.device-timeout=3/', '/etc/fstab']);
        before = rootDisk();
        starts = await bootServices(120000);
        timers = TIMER_UNITS.map((unit) => {
          const r = droplet().run(['systemctl', 'start', unit], { timeoutMs: 60000 });
          return { unit, status: r.status, stderr: r.stderr };
        });
        after = rootDisk();
      });

      test('THEN Prosody and nginx do not start: their dependency on the volume failed', () => {
        const byUnit = Object.fromEntries(starts.map((s) => [s.name, s]));
        for (const unit of ['prosody.service', 'nginx.service']) {
          expect({ unit, code: byUnit[unit].code }).toEqual({ unit, code: 1 });
          expect(byUnit[unit].output).toContain(`Dependency failed for ${unit}`);
          expect({ unit, active: active(unit) }).toEqual({ unit, active: false });
        }
        expect(serving()).toEqual([]);
      });

      test('THEN coturn, which keeps nothing on the volume, runs', () => {
        expect(active('coturn')).toBe(true);
      });

      test('THEN the certificate, renewal and backup jobs do not run either', () => {
        expect(timers.map((t) => ({ unit: t.unit, status: t.status, failed: t.stderr.includes(`Dependency failed for ${t.unit}`) })))
          .toEqual(TIMER_UNITS.map((unit) => ({ unit, status: 1, failed: true })));
      });

      test('THEN nothing was written to the root disk where the volume belongs', () => {
        expect(after).toBe(before);
      });

      describe('WHEN (control) the drop-ins are taken away and it reboots again without the volume', () => {
        let control: string;
        beforeAll(async () => {
          droplet().mustRun('remove the drop-ins', ['rm', '-f', volumeDropinPath('prosody.service'), volumeDropinPath('nginx.service')]);
          shutDown();
          await bootServices(120000);
          await sleep(3000);
          control = rootDisk();
        });

        test('THEN Prosody starts on the root disk\'s empty /var/lib/prosody and writes there: what the drop-ins prevent', () => {
          expect(active('prosody')).toBe(true);
          expect(control).not.toBe(before);
          const added = control.split('\n').filter((l) => !before.split('\n').includes(l) && l.includes(' /var/lib/prosody/'));
          expect(added.length).toBeGreaterThan(0);
        });
      });
    });
  });
});
