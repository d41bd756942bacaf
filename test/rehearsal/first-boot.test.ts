/**
 * First boot, watched from the internet. On a droplet, cloud-init installs the packages before it
 * writes the deferred files and runs the provisioning script, and Debian's maintainer scripts
 * start each daemon on install with Debian's own configuration: coturn's sets no authentication
 * option (an open relay, to 169.254.169.254 and into the VPC), nginx's default site answers on
 * port 80 and Prosody's default configuration listens publicly on 5222 and 5269.
 *
 * Each droplet here boots from its platform's bare image while a client on its network, as anyone
 * on the internet could be, tries an unauthenticated TURN allocation on every public address and
 * lists the listening sockets, over and over, from the first package install to the end of
 * provisioning. The user_data's first-boot guard (policy-rc.d, written before the packages
 * install) must keep every one of those daemons down until provisioning has configured it.
 *
 * The same watch on user_data without the guard shows the open relay and the default listeners:
 * the watch sees what it is there to catch.
 */
import { parse, stringify } from 'yaml';
import { HOST_ENV } from '../../lib/core/host-scripts';
import { SERVICE_POLICY } from '../../lib/core/paths';
import { XmppService } from '../../lib/cdktf';
import { dedicatedTurnSpec } from '../support/specs';
import { describeUnless } from '../support/tools';
import { newStack, synth } from '../cdktf/synth';
import { BootResult, FirstBootWatch, Rehearsal, rehearsalUnavailable, SynthesizedStack, synthesizeExample } from './harness';
import { exampleSpecOn, REHEARSED_PLATFORMS, synthesizeSpec } from './platforms';

jest.setTimeout(300000);

/** Loopback: what no one outside the droplet can reach. */
function isPublic(address: string): boolean {
  return !/^127\./.test(address) && address !== '::1';
}

/** The moment the provisioning script announced `step`, from the final stage's output. */
function stepTime(boot: BootResult, step: string): number {
  const line = boot.timeline.find((l) => l.line === `xmpp-constructs: ${step}`);
  if (line === undefined) throw new Error(`provisioning never announced "${step}":\n${boot.provision.stdout}\n${boot.provision.stderr}`);
  return line.t;
}

/** Every public listening socket the watch saw before `until`, as "process proto address:port". */
function publicListenersBefore(watch: FirstBootWatch, until: number): string[] {
  const seen = watch.listeners.filter((s) => s.t < until).flatMap((s) => s.sockets.filter((k) => isPublic(k.address)));
  return [...new Set(seen.map((k) => `${k.process} ${k.protocol} ${k.address}:${k.port}`))].sort();
}

function outcomes(watch: FirstBootWatch, from = 0, until = Infinity): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of watch.allocations) if (a.t >= from && a.t < until) counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
  return counts;
}

/** The user_data as it was before the first-boot guard: the same document without policy-rc.d. */
function withoutGuard(userData: string): string {
  const document = parse(userData);
  document.write_files = document.write_files.filter((f: { path: string }) => f.path !== SERVICE_POLICY);
  return `#cloud-config\n${stringify(document, { lineWidth: 0, blockQuote: 'literal' })}`;
}

async function bootWatched(stack: SynthesizedStack, options: Parameters<typeof Rehearsal.boot>[1] = {}): Promise<BootResult> {
  return Rehearsal.boot(stack, { ...options, watchFirstBoot: true });
}

describeUnless(rehearsalUnavailable(), 'GIVEN the example droplet booting from its bare image WHILE a client on its network tries unauthenticated TURN allocations and lists its sockets', () => {
  let boot: BootResult | undefined;
  const booted = (): BootResult => {
    if (!boot) throw new Error('the rehearsal did not boot (see the beforeAll error)');
    return boot;
  };

  beforeAll(async () => {
    boot = await bootWatched(synthesizeExample());
  });
  afterAll(async () => {
    await boot?.rehearsal.stop();
  });

  test('THEN provisioning succeeds', () => {
    expect({ status: booted().provision.status, stderr: booted().provision.stderr }).toMatchObject({ status: 0 });
  });

  test('THEN the packages asked to start prosody, nginx and coturn, and the guard refused every one', () => {
    const output = booted().provision.stdout + booted().provision.stderr;
    for (const unit of ['prosody', 'nginx', 'coturn']) expect(output).toMatch(new RegExp(`policy-rc.d (returned 101, not running 'start ${unit}.service'|denied execution of start)`));
    expect(output).toContain("not running 'start coturn.service'");
    expect(output).toContain("not running 'start prosody.service'");
  });

  test('THEN the watch probed all through package installation and provisioning, and at the end met coturn asking for credentials', () => {
    const { start } = booted().finalStage;
    const servicesStart = stepTime(booted(), 'starting services');
    expect(outcomes(booted().firstBoot!, start, servicesStart).unreachable).toBeGreaterThanOrEqual(10);
    // After provisioning, coturn answers: the watch's allocation reaches a live server, which refuses it.
    const last = booted().firstBoot!.allocations.filter((a) => a.address === '203.0.113.10').slice(-1)[0];
    expect(last).toMatchObject({ outcome: 'refused' });
  });

  test('THEN no allocation without valid credentials ever succeeded', () => {
    expect(outcomes(booted().firstBoot!)['open-relay'] ?? 0).toBe(0);
  });

  test('THEN nothing listened publicly before provisioning started the services it had configured', () => {
    expect(publicListenersBefore(booted().firstBoot!, stepTime(booted(), 'starting services'))).toEqual([]);
  });

  test('THEN provisioning lifted the guard once the services were configured', () => {
    expect(booted().rehearsal.run(['test', '-e', SERVICE_POLICY]).status).not.toBe(0);
  });
});

describeUnless(rehearsalUnavailable(), 'GIVEN the same user_data without the first-boot guard, as it was before (the watch can see what it guards against)', () => {
  let boot: BootResult | undefined;
  beforeAll(async () => {
    boot = await bootWatched(synthesizeExample(), { transformUserData: withoutGuard });
  });
  afterAll(async () => {
    await boot?.rehearsal.stop();
  });

  test('THEN coturn, started on Debian\'s configuration, relays for anyone before provisioning', () => {
    const servicesStart = stepTime(boot!, 'starting services');
    expect(outcomes(boot!.firstBoot!, boot!.finalStage.start, servicesStart)['open-relay']).toBeGreaterThan(0);
  });

  test('THEN Prosody, nginx and coturn listened publicly on their default configurations', () => {
    const early = publicListenersBefore(boot!.firstBoot!, stepTime(boot!, 'starting services'));
    expect(early).toEqual(expect.arrayContaining([expect.stringMatching(/^turnserver udp .*:3478$/), expect.stringMatching(/^nginx tcp .*:80$/), expect.stringMatching(/ tcp .*:5222$/)]));
  });
});

describeUnless(rehearsalUnavailable(), 'GIVEN a droplet whose data volume never appears, so provisioning fails at its first step', () => {
  let boot: BootResult | undefined;
  beforeAll(async () => {
    boot = await bootWatched(synthesizeExample(), {
      blockDevice: '/dev/disk/by-id/scsi-0DO_Volume_never-attached',
      beforeProvision: (r) => r.mustRun('wait only briefly', ['sed', '-i', 's/^VOLUME_WAIT_SECONDS=.*/VOLUME_WAIT_SECONDS=2/', HOST_ENV]),
    });
  });
  afterAll(async () => {
    await boot?.rehearsal.stop();
  });

  test('THEN provisioning fails and says the volume did not appear', () => {
    expect(boot!.provision.status).not.toBe(0);
    expect(boot!.provision.stderr).toContain('did not appear within 2 s');
  });

  test('THEN none of prosody, nginx and coturn is running, and nothing ever listened publicly', () => {
    const processes = boot!.rehearsal.run(['ps', '-eo', 'comm=']).stdout.split('\n');
    expect(processes.filter((p) => /^(prosody|lua5\.\d|nginx|turnserver)$/.test(p))).toEqual([]);
    expect(publicListenersBefore(boot!.firstBoot!, Infinity)).toEqual([]);
    expect(outcomes(boot!.firstBoot!)['open-relay'] ?? 0).toBe(0);
  });

  test('THEN the guard stays, so a later apt run starts none of them either', () => {
    expect(boot!.rehearsal.run(['test', '-x', SERVICE_POLICY]).status).toBe(0);
  });

  test('WHEN the droplet reboots and systemd starts the units the packages enabled THEN none of them starts while the guard is in place', () => {
    const r = boot!.rehearsal;
    const enabled = r.run(['sh', '-c', 'ls /etc/systemd/system/multi-user.target.wants/']).stdout.split('\n');
    expect(enabled).toEqual(expect.arrayContaining(['prosody.service', 'nginx.service', 'coturn.service']));
    r.mustRun('systemd starts the enabled services at boot', ['systemctl', 'start', 'prosody.service', 'nginx.service', 'coturn.service']);
    for (const unit of ['prosody', 'nginx', 'coturn']) expect({ unit, active: r.run(['systemctl', 'is-active', '--quiet', unit]).status }).toEqual({ unit, active: 3 });
    expect(r.listeners().filter((l) => isPublic(l.address))).toEqual([]);
  });
});

describeUnless(rehearsalUnavailable(), 'GIVEN the dedicated TURN droplet of a stack with calls on a droplet of their own, booting WHILE the watch runs', () => {
  let boot: BootResult | undefined;
  beforeAll(async () => {
    const app = newStack();
    new XmppService(app, 'Xmpp', { spec: dedicatedTurnSpec, writeReviewFiles: false });
    boot = await bootWatched(synth(app) as SynthesizedStack, { droplet: 'turn' });
  });
  afterAll(async () => {
    await boot?.rehearsal.stop();
  });

  test('THEN its provisioning succeeds', () => {
    expect({ status: boot!.provision.status, stderr: boot!.provision.stderr }).toMatchObject({ status: 0 });
  });

  test('THEN no allocation without valid credentials ever succeeded, and at the end coturn asks for credentials', () => {
    expect(outcomes(boot!.firstBoot!)['open-relay'] ?? 0).toBe(0);
    expect(outcomes(boot!.firstBoot!, boot!.finalStage.start, stepTime(boot!, 'starting coturn')).unreachable).toBeGreaterThanOrEqual(10);
    expect(boot!.firstBoot!.allocations.filter((a) => a.address === '203.0.113.10').slice(-1)[0]).toMatchObject({ outcome: 'refused' });
  });

  test('THEN nothing listened publicly before provisioning started coturn on its configuration', () => {
    expect(publicListenersBefore(boot!.firstBoot!, stepTime(boot!, 'starting coturn'))).toEqual([]);
  });
});

/**
 * How long another process holds apt's locks at first boot at most. It lets go earlier: a few
 * seconds after provisioning has started waiting for them, once cloud-init has given up (after its
 * 30 s waits), so that each rehearsal waits for what it proves and no longer.
 */
const APT_LOCK_HELD_SECONDS = 600;
const WAITED_BY_PROVISIONING_SECONDS = 5;

/**
 * Hold apt's and dpkg's locks the way apt does (fcntl record locks on the lists, frontend and dpkg
 * lock files), from before cloud-init's config and final stages, as apt's daily jobs or
 * unattended-upgrades would on a droplet.
 */
function holdAptLock(r: Rehearsal): void {
  const holder = `import fcntl, os, time
files = [open(p, 'a') for p in ('/var/lib/apt/lists/lock', '/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock')]
for f in files: fcntl.lockf(f, fcntl.LOCK_EX)
open('/run/rehearsal-apt-lock-held', 'w').close()
log, deadline = '/var/log/cloud-init-output.log', time.time() + ${APT_LOCK_HELD_SECONDS}
while time.time() < deadline:
    if os.path.exists(log) and "s for apt's lock" in open(log, errors='replace').read(): break
    time.sleep(1)
time.sleep(${WAITED_BY_PROVISIONING_SECONDS})`;
  r.mustRun('another process takes apt\'s lock', ['sh', '-c', `setsid python3 -c "$1" >/dev/null 2>&1 </dev/null & for i in $(seq 1 100); do [ -e /run/rehearsal-apt-lock-held ] && exit 0; sleep 0.1; done; exit 1`, 'sh', holder]);
}

/** What a droplet booted with apt's lock held must show: provisioning did the install, every service runs on its files. */
function expectInstalledDespiteTheLock(booted: () => BootResult, units: readonly string[], first: string): void {
  test('THEN cloud-init gave up on the lock, as it does after 30 s', () => {
    expect(booted().rehearsal.run(['cat', '/var/log/cloud-init.log']).stdout).toMatch(/Could not get apt lock/i);
  });

  test('THEN provisioning installed the packages itself, waiting for the lock, and finished', () => {
    expect(booted().provision.stdout).toMatch(new RegExp(`xmpp-constructs: installing ${first} .*, waiting up to 1800 s for apt's lock`));
    expect(booted().provision.stdout.trim().split('\n')).toContain('xmpp-constructs: done');
  });

  test('THEN the files cloud-init could not write before are in place, owned by the packages\' users, and every service runs', () => {
    expect(booted().rehearsal.mustRun('stat', ['stat', '-c', '%U:%G %a', '/etc/turnserver.conf']).stdout.trim()).toBe('root:turnserver 640');
    for (const unit of units) expect({ unit, active: booted().rehearsal.run(['systemctl', 'is-active', '--quiet', unit]).status }).toEqual({ unit, active: 0 });
  });
}

describe.each(REHEARSED_PLATFORMS)(`on %s`, (platform) => {
  describeUnless(rehearsalUnavailable(), `GIVEN the example droplet booting WHILE another process holds apt's lock until provisioning has waited for it`, () => {
    let boot: BootResult | undefined;
    beforeAll(async () => {
      boot = await Rehearsal.boot(synthesizeSpec(exampleSpecOn(platform)), { beforeProvision: holdAptLock });
    }, 900000);
    afterAll(async () => {
      await boot?.rehearsal.stop();
    });
    expectInstalledDespiteTheLock(() => boot!, ['prosody', 'nginx', 'coturn'], 'prosody');
  });
});

describeUnless(rehearsalUnavailable(), `GIVEN the dedicated TURN droplet booting WHILE another process holds apt's lock until provisioning has waited for it`, () => {
  let boot: BootResult | undefined;
  beforeAll(async () => {
    const app = newStack();
    new XmppService(app, 'Xmpp', { spec: dedicatedTurnSpec, writeReviewFiles: false });
    boot = await Rehearsal.boot(synth(app) as SynthesizedStack, { droplet: 'turn', beforeProvision: holdAptLock });
  }, 900000);
  afterAll(async () => {
    await boot?.rehearsal.stop();
  });
  expectInstalledDespiteTheLock(() => boot!, ['coturn'], 'coturn');
});
