/**
 * The upgrade from Debian 12 (Prosody 0.12) to Debian 13 (Prosody 13), rehearsed as an operator
 * makes it: the declaration's `droplet.image` changes, the plan replaces the droplet, and the
 * replacement boots Debian 13's image on the same volume. Then back (the rollback) and forward again.
 *
 * One volume directory outlives four droplets:
 * 1. Debian 12 makes accounts, a roster entry, archived messages, a persistent room with history,
 *    an upload, and has Let's Encrypt (Pebble) issue its certificates.
 * 2. Debian 13 finds all of it, asks Let's Encrypt for nothing, and archives more (Prosody 13 then
 *    keeps an index beside each archive it read, which 0.12 knows nothing of).
 * 3. Debian 12 again (the image set back) reads what 13 wrote, and archives more.
 * 4. Debian 13 again finds everything from all three.
 * And with `configDelivery: { channel: 'spaces' }`: the old droplet refuses the bundle rendered for
 * Debian 13 if it fetches it before the apply deletes it, and the Debian 13 replacement applies it
 * on the Debian 12 volume.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join, relative } from 'path';
import { XmppService } from '../../lib/cdktf';
import { CERTS_SCRIPT } from '../../lib/core/host-scripts';
import { BUNDLE_STATUS_FILE, PROSODY_CONFIG } from '../../lib/core/paths';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { newStack, synth } from '../cdktf/synth';
import { dropletImage, Rehearsal, rehearsalUnavailable, RunResult, SynthesizedStack } from './harness';
import { describeUnless } from '../support/tools';
import type { Seeded, State } from './clients/durability';
import { bootRecorded, certbotRequests, checksums, keptOnHost, RELEASE_MARKER } from './host-state';

jest.setTimeout(900_000);

const DEBIAN_12: XmppServiceSpec = { ...exampleSpec, droplet: { ...exampleSpec.droplet, image: 'debian-12-x64' } };
const DEBIAN_13: XmppServiceSpec = { ...exampleSpec, droplet: { ...exampleSpec.droplet, image: 'debian-13-x64' } };
const SPEC = resolveSpec(DEBIAN_12);
const DOMAIN = SPEC.primaryDomain;
const UPLOAD_HOST = SPEC.domains[0].components.find((c) => c.kind === 'fileShare')!.host;
const ALICE = { jid: `alice@${DOMAIN}`, password: 'alice has a long passphrase' };
const BOB = { jid: `bob@${DOMAIN}`, password: 'bob has another one' };
const ROOM = 'family';
const LISTENERS = ['tcp/5222', 'tcp/5223', 'tcp/443', 'udp/3478'];

function stackFor(spec: XmppServiceSpec): SynthesizedStack {
  const stack = newStack();
  new XmppService(stack, 'Xmpp', { spec, writeReviewFiles: false });
  return synth(stack) as SynthesizedStack;
}

/** The Debian version of the droplet's Prosody package. */
function prosodyRelease(r: Rehearsal): string {
  return r.mustRun('Prosody\'s package version', ['dpkg-query', '-W', '-f=${Version}', 'prosody']).stdout.trim();
}

/** The archive indexes (Prosody 13's *.lidx) on the volume directory, relative to it. */
function archiveIndexes(volume: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.lidx')) found.push(relative(volume, join(dir, entry.name)));
    }
  };
  walk(join(volume, 'prosody'));
  return found.sort();
}

/** The list stores (*.list) on the volume directory holding an archive time with a fraction of a second (Prosody 13's). */
function listsWithFractionalTimes(volume: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.list') && /^\t\["when"\] = \d+\.\d+;$/m.test(readFileSync(path, 'utf8'))) found.push(relative(volume, path));
    }
  };
  walk(join(volume, 'prosody'));
  return found.sort();
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Booted {
  rehearsal: Rehearsal;
  provision: RunResult;
  seconds: number;
}

async function boot(stack: SynthesizedStack, volume: string, ca?: string): Promise<Booted> {
  const start = Date.now();
  const { rehearsal, provision } = await bootRecorded(stack, { volume }, LISTENERS, ca);
  return { rehearsal, provision, seconds: Math.round((Date.now() - start) / 1000) };
}

/** What provisioning said about the Prosody release it found on the volume. */
function releaseLine(provision: RunResult): string | undefined {
  return provision.stdout.split('\n').find((l) => /^xmpp-constructs: Prosody .* on this volume/.test(l));
}

describeUnless(rehearsalUnavailable(), 'GIVEN a Debian 12 droplet (Prosody 0.12) with users, history, a room, an upload and certificates on its volume', () => {
  // Made in beforeAll, which a filtered run skips with every test of the block.
  let volume: string;
  let left13: string;
  const stack12 = stackFor(DEBIAN_12);
  const stack13 = stackFor(DEBIAN_13);
  const seeded: Seeded[] = [];
  const seconds: Record<string, number> = {};
  let old: Booted | undefined;
  let upgraded: Booted | undefined;
  let ca: string;
  let upload: { url: string; sha256: string };
  let before: Record<string, string>;
  let ordersOnDebian12: number;
  let release12: string;

  /** Alice logs in with her old password and finds her roster, every message seeded so far, the room and the upload; so does Bob. */
  function expectEverythingKept(droplet: Rehearsal, expected: readonly Seeded[]): void {
    const state = droplet.client<State>('readState', { owner: ALICE, friend: BOB, room: expected[0].room, uploadUrl: upload.url });
    expect(state.roster).toEqual([{ jid: BOB.jid, name: 'Friend', groups: ['Family'] }]);
    expect(state.archive).toEqual(expect.arrayContaining(expected.map((s) => s.messageBody)));
    expect(state.roomFeatures).toContain('muc_persistent');
    expect(state.roomName).toBe(expected[expected.length - 1].roomName);
    expect(state.roomArchive).toEqual(expect.arrayContaining(expected.map((s) => s.roomBody)));
    expect(state.upload).toEqual({ status: 200, sha256: upload.sha256 });
    expect(droplet.client<{ loggedIn: boolean }>('canLogIn', BOB)).toMatchObject({ loggedIn: true });
  }

  function seed(droplet: Rehearsal): void {
    seeded.push(droplet.client<Seeded>('seedState', { owner: ALICE, friend: BOB, room: ROOM }));
  }

  beforeAll(async () => {
    volume = mkdtempSync('/var/tmp/xc-volume-');
    left13 = mkdtempSync('/var/tmp/xc-left-by-13-');
    old = await boot(stack12, volume);
    seconds['Debian 12 boot'] = old.seconds;
    const r = old.rehearsal;
    release12 = prosodyRelease(r);
    ca = r.issueCertificates();
    ordersOnDebian12 = r.acmeOrders();
    r.addUser(ALICE.jid, ALICE.password);
    r.addUser(BOB.jid, BOB.password);
    // A role set by hand with 0.12's shell lives in a store of 0.12's own (admins from the
    // declaration live in the configuration).
    r.mustRun('an admin makes Bob an admin by hand', ['prosodyctl', 'shell', 'user', 'setroles', BOB.jid, 'admin']);
    seed(r);
    const roundTrip = r.client<{ slot: { get: string }; sentSha256: string; get: { status: number } }>('fileShareRoundTrip', {
      ...ALICE, service: UPLOAD_HOST, sizeBytes: 200_000, filename: 'family photo.jpg', origin: 'https://webchat.example.org',
    });
    if (roundTrip.get.status !== 200) throw new Error(`the upload failed: ${JSON.stringify(roundTrip)}`);
    upload = { url: roundTrip.slot.get, sha256: roundTrip.sentSha256 };
    before = keptOnHost(r);
    await r.stop();
    old = undefined;

    // The operator changes droplet.image; the plan replaces the droplet and keeps the volume.
    upgraded = await boot(stack13, volume, ca);
    seconds['Debian 13 boot on the same volume'] = upgraded.seconds;
  });

  afterAll(async () => {
    for (const b of [old, upgraded]) await b?.rehearsal.stop();
    if (volume) rmSync(volume, { recursive: true, force: true });
    if (left13) rmSync(left13, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.log(`upgrade rehearsal, seconds: ${JSON.stringify(seconds)}`);
  });

  test('THEN the first droplet ran Prosody 0.12 and Let\'s Encrypt issued its certificates (the request the replacement must not repeat)', () => {
    expect(release12).toMatch(/^0\.12\./);
    expect(ordersOnDebian12).toBeGreaterThanOrEqual(1);
  });

  describe('WHEN droplet.image becomes debian-13-x64 and the replacement boots on the same volume', () => {
    test('THEN it runs Debian 13\'s Prosody 13, and provisioning recorded once which release it took the data over from', () => {
      expect(dropletImage(stack13, 'prosody')).toBe('debian-13-x64');
      const r = upgraded!.rehearsal;
      expect(prosodyRelease(r)).toMatch(/^13\./);
      expect(r.readFile(RELEASE_MARKER)).toBe(`release=${prosodyRelease(r)}\nprevious=${release12}\n`);
      // Prosody 0.12 keeps no archive indexes and stores whole seconds: there was nothing to do.
      expect(releaseLine(upgraded!.provision)).toBe(`xmpp-constructs: Prosody ${prosodyRelease(r)} on this volume, last used by Prosody ${release12}: 0 archive indexes dropped, to be rebuilt; archive times rounded to whole seconds in 0 lists`);
    });

    test('THEN the role set by hand on 0.12 was carried over once, and Alice, who had none, has 13\'s default', () => {
      const r = upgraded!.rehearsal;
      expect(upgraded!.provision.stdout).toContain(`xmpp-constructs: account roles Prosody 0.12 kept for ${DOMAIN}`);
      expect(upgraded!.provision.stdout).toMatch(/II: 1 migrated, 0 failed, 0 skipped/);
      // The shell answers `OK: <primary role>`.
      const roleOf = (jid: string) => r.mustRun(`the role of ${jid}`, ['prosodyctl', 'shell', 'user', 'role', jid]).stdout.trim();
      expect(roleOf(BOB.jid)).toBe('OK: prosody:admin');
      expect(roleOf(ALICE.jid)).toBe('OK: prosody:registered');
    });

    test('THEN the secrets and certificates are the very same files, and Debian 13\'s certbot reads the lineage as valid', () => {
      const r = upgraded!.rehearsal;
      expect(Object.keys(before).length).toBeGreaterThanOrEqual(4);
      expect(keptOnHost(r)).toEqual(before);
      expect(r.mustRun('certbot certificates', ['/usr/bin/certbot', 'certificates']).stdout).toMatch(/Certificate Name: example\.net[\s\S]*VALID/);
    });

    test('THEN certificate issuance, with Let\'s Encrypt there to ask, asks it for nothing', () => {
      const r = upgraded!.rehearsal;
      r.startLetsEncrypt();
      r.mustRun('certificate issuance after the upgrade', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000, env: r.certbotEnv });
      expect(certbotRequests(r)).toEqual([]);
      expect(r.acmeOrders()).toBe(0);
    });

    test('THEN both users log in with their old passwords and find their roster, archive, room and upload', () => {
      expectEverythingKept(upgraded!.rehearsal, seeded);
    });

    test('THEN Prosody 13 archives and serves new messages beside the old ones', () => {
      const r = upgraded!.rehearsal;
      seed(r);
      expectEverythingKept(r, seeded);
      // Reading the archives made Prosody 13 index them (the files Debian 12 would leave stale).
      expect(archiveIndexes(volume).length).toBeGreaterThan(0);
    });

    test('WHEN provisioning runs again on the live host THEN it succeeds and changes nothing, the marker included', async () => {
      const r = upgraded!.rehearsal;
      const sums = checksums(r);
      const again = r.provision();
      expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
      expect(releaseLine(again)).toBeUndefined();
      expect(again.stdout).not.toContain('account roles');
      await r.waitForListeners(LISTENERS);
      expect(checksums(r)).toBe(sums);
      expect(sums).toContain(RELEASE_MARKER);
    });
  });

  describe('WHEN the image is set back to debian-12-x64 (the rollback) and then to debian-13-x64 again', () => {
    let rolledBack: Booted;
    let indexesLeftBy13: string[];
    let stateOn12: State;
    let fractional: string[];
    let fractionalAfterRollback: string[];
    let withFractionalTimes: { error: string; prosodyError: string };

    beforeAll(async () => {
      await upgraded!.rehearsal.stop();
      upgraded = undefined;
      indexesLeftBy13 = archiveIndexes(volume);
      // Kept to show, on the way forward, what they would hide had provisioning left them.
      fractional = listsWithFractionalTimes(volume);
      // Kept to show what provisioning's step prevents: the files as Prosody 13 left them.
      for (const file of [...indexesLeftBy13, ...fractional]) cpSync(join(volume, file), join(left13, file));

      rolledBack = await boot(stack12, volume, ca);
      seconds['Debian 12 boot (rollback)'] = rolledBack.seconds;
      const r = rolledBack.rehearsal;
      try {
        fractionalAfterRollback = listsWithFractionalTimes(volume);
        stateOn12 = r.client<State>('readState', { owner: ALICE, friend: BOB, room: seeded[0].room, uploadUrl: upload.url });
        // The control: Alice's archive as Prosody 13 wrote it, times unrounded, for one query.
        const archive = fractional.find((f) => /\/archive\/alice\.list$/.test(f))!;
        const rounded = readFileSync(join(volume, archive));
        writeFileSync(join(volume, archive), readFileSync(join(left13, archive)));
        try {
          r.client('readState', { owner: ALICE, friend: BOB, room: seeded[0].room });
          withFractionalTimes = { error: '', prosodyError: '' };
        } catch (error) {
          withFractionalTimes = { error: String(error).split('\n').slice(0, 2).join('\n'), prosodyError: r.readFile('/var/log/prosody/prosody.err') };
        }
        writeFileSync(join(volume, archive), rounded);
        r.mustRun('give the archive back to prosody', ['chown', '-R', 'prosody:prosody', '/var/lib/prosody']);
        seed(r);
      } finally {
        await r.stop();
      }

      upgraded = await boot(stack13, volume, ca);
      seconds['Debian 13 boot again'] = upgraded.seconds;
    });

    test('THEN Prosody 0.12 reads everything Prosody 13 wrote, once provisioning has dropped 13\'s archive indexes and rounded its archive times', () => {
      expect(stateOn12.archive).toEqual(expect.arrayContaining(seeded.slice(0, 2).map((s) => s.messageBody)));
      expect(stateOn12.roomArchive).toEqual(expect.arrayContaining(seeded.slice(0, 2).map((s) => s.roomBody)));
      expect(stateOn12.roomName).toBe(seeded[1].roomName);
      expect(stateOn12.upload).toEqual({ status: 200, sha256: upload.sha256 });
      expect(indexesLeftBy13.length).toBeGreaterThan(0);
      expect(releaseLine(rolledBack.provision)).toMatch(new RegExp(`Prosody ${escapeRegExp(release12)} on this volume, last used by Prosody 13\\.[^:]+: ${indexesLeftBy13.length} archive indexes dropped, to be rebuilt; archive times rounded to whole seconds in [1-9]\\d* lists$`));
      expect(fractional).toEqual(expect.arrayContaining([expect.stringMatching(/\/archive\/alice\.list$/), expect.stringMatching(/\/muc_log\/family\.list$/)]));
      expect(fractionalAfterRollback).toEqual([]);
    });

    test('THEN without the rounding, Prosody 0.12\'s archive query fails on the times Prosody 13 wrote (the control)', () => {
      expect(withFractionalTimes.error).toMatch(/readState/);
      expect(withFractionalTimes.prosodyError).toMatch(/number has no integer representation/);
    });

    test('THEN Debian 13 again finds everything written under both releases, with the same certificates and no request to Let\'s Encrypt', () => {
      const r = upgraded!.rehearsal;
      expect(prosodyRelease(r)).toMatch(/^13\./);
      expect(r.readFile(RELEASE_MARKER)).toBe(`release=${prosodyRelease(r)}\nprevious=${release12}\n`);
      expectEverythingKept(r, seeded);
      expect(keptOnHost(r)).toEqual(before);
      r.startLetsEncrypt();
      r.mustRun('certificate issuance after the second upgrade', [CERTS_SCRIPT, 'issue'], { timeoutMs: 60000, env: r.certbotEnv });
      expect(r.acmeOrders()).toBe(0);
    });

    test('THEN the indexes 13 left before the rollback would have hidden what 0.12 archived since; provisioning after a release change drops them', async () => {
      const r = upgraded!.rehearsal;
      const latest = seeded[seeded.length - 1];
      // The control: the stale indexes put back, as they were when Debian 12 took over.
      for (const index of indexesLeftBy13) cpSync(join(left13, index), join(volume, index));
      r.mustRun('hand them to prosody', ['chown', '-R', 'prosody:prosody', '/var/lib/prosody']);
      // Rounding shortened the lists since, so the stale offsets may also land inside an item.
      let withStaleIndexes: string;
      try {
        const archive = r.client<State>('readState', { owner: ALICE, friend: BOB, room: latest.room }).archive;
        withStaleIndexes = archive.includes(latest.messageBody) ? 'shown' : `hidden: ${archive.length} messages shown`;
      } catch (error) {
        withStaleIndexes = `query failed: ${String(error).split('\n')[1]}`;
      }
      // eslint-disable-next-line no-console
      console.log(`the message Prosody 0.12 archived, with 13's stale indexes: ${withStaleIndexes}`);
      expect(withStaleIndexes).not.toBe('shown');

      // The marker is what makes provisioning drop them: without it, the release counts as changed.
      r.mustRun('forget the recorded release', ['rm', RELEASE_MARKER]);
      const again = r.provision();
      expect({ status: again.status, stderr: again.stderr }).toMatchObject({ status: 0 });
      expect(releaseLine(again)).toMatch(/last used by Prosody \(not recorded\): [1-9]\d* archive indexes dropped/);
      await r.waitForListeners(LISTENERS);
      expectEverythingKept(r, seeded);
    });
  });
});

describeUnless(rehearsalUnavailable(), 'GIVEN a Debian 12 droplet whose configuration comes from Spaces (configDelivery "spaces") with users and history on its volume', () => {
  let volume: string;
  const stack12 = stackFor({ ...DEBIAN_12, configDelivery: { channel: 'spaces' } });
  const stack13 = stackFor({ ...DEBIAN_13, configDelivery: { channel: 'spaces' } });
  let old: Booted | undefined;
  let upgraded: Booted | undefined;
  let seeded: Seeded;
  let release12: string;
  let lastMinute: { fetch: RunResult; status: string; sha256: string; configChanged: boolean; stillServes: boolean };

  beforeAll(async () => {
    volume = mkdtempSync('/var/tmp/xc-volume-');
    old = await boot(stack12, volume);
    const r = old.rehearsal;
    release12 = prosodyRelease(r);
    const ca = r.issueCertificates();
    r.addUser(ALICE.jid, ALICE.password);
    r.addUser(BOB.jid, BOB.password);
    seeded = r.client<Seeded>('seedState', { owner: ALICE, friend: BOB, room: ROOM });
    // The apply updates the bundle object in place, and may do so before it deletes the old
    // droplet, whose timer may then fetch the bundle rendered for Debian 13 in its last minute.
    const configBefore = r.readFile(PROSODY_CONFIG);
    const sha256 = r.putBundle(stack13);
    const fetch = r.fetchConfig();
    lastMinute = {
      fetch,
      sha256,
      status: r.readFile(BUNDLE_STATUS_FILE),
      configChanged: r.readFile(PROSODY_CONFIG) !== configBefore,
      stillServes: r.client<{ loggedIn: boolean }>('canLogIn', BOB).loggedIn,
    };
    await r.stop();
    old = undefined;

    upgraded = await boot(stack13, volume, ca);
  });

  afterAll(async () => {
    for (const b of [old, upgraded]) await b?.rehearsal.stop();
    if (volume) rmSync(volume, { recursive: true, force: true });
  });

  test('THEN the old droplet, fetching the Debian 13 bundle in its last minute, refuses it and keeps serving on its own configuration', () => {
    expect(lastMinute.fetch.status).not.toBe(0);
    expect(lastMinute.status).toMatch(new RegExp(`\nrefused ${lastMinute.sha256} the bundle is for debian-13 and this droplet runs debian-12; it is for the droplet that replaces this one\\s*$`));
    expect(lastMinute.configChanged).toBe(false);
    expect(lastMinute.stillServes).toBe(true);
  });

  test('WHEN the Debian 13 replacement boots on the same volume THEN it applies the Debian 13 bundle, takes the data over from Prosody 0.12, and both users find everything', () => {
    const r = upgraded!.rehearsal;
    expect(prosodyRelease(r)).toMatch(/^13\./);
    expect(r.readFile(BUNDLE_STATUS_FILE)).toBe(`applied ${lastMinute.sha256}\n`);
    expect(r.readFile(RELEASE_MARKER)).toBe(`release=${prosodyRelease(r)}\nprevious=${release12}\n`);
    const state = r.client<State>('readState', { owner: ALICE, friend: BOB, room: seeded.room });
    expect(state.roster).toEqual([{ jid: BOB.jid, name: 'Friend', groups: ['Family'] }]);
    expect(state.archive).toContain(seeded.messageBody);
    expect(state.roomName).toBe(seeded.roomName);
    expect(state.roomArchive).toContain(seeded.roomBody);
    expect(r.client<{ loggedIn: boolean }>('canLogIn', BOB)).toMatchObject({ loggedIn: true });
  });
});
