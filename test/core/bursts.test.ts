/**
 * Bursts lose nothing: the real Prosody of each platform, on the rendered prosody.cfg.lua with its
 * flood protection (mod_limits), takes the issue's burst — 200 client connections (40 accounts × 5
 * resources) each sending 50 chat messages at once to random other full JIDs — while another
 * process keeps a CPU busy, as a droplet's neighbours or a backup would, and delivers every message
 * exactly once. Counted, never timed: completion is decided by ping barriers in stream order
 * (test/support/burst.ts); msg/s and latency are `npm run bench:bursts`'s business.
 */
import { ChildProcess } from 'child_process';
import { renderProsodyConfig } from '../../lib/core/prosody';
import { resolveSpec } from '../../lib/core/validate';
import { PLATFORMS as LIBRARY_PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { BurstServer, burstServerConfig, ISSUE_BURST, runBurst, startCpuHogs } from '../support/burst';
import { PLATFORMS, platformToolsForFile, platformUnavailable } from '../support/platform';
import { minimalSpec, onImage } from '../support/specs';
import { describeUnless, stopProcess } from '../support/tools';

const platformMissing = platformUnavailable();

describe('burstServerConfig', () => {
  const spec = resolveSpec(minimalSpec);
  test('GIVEN the rendered file THEN only paths and ports move and the flood protection stays', () => {
    const cfg = burstServerConfig(spec, '/tmp/x', 26000);
    expect(cfg).toMatch(/^limits = \{ c2s = /m);
    expect(cfg).toMatch(/"limits"/);
    expect(/^modules_disabled = .*$/m.exec(cfg)?.[0]).toBe(/^modules_disabled = .*$/m.exec(renderProsodyConfig(spec))?.[0]);
  });
  test('GIVEN the anchor THEN mod_limits is disabled and nothing else changes', () => {
    const [protectedCfg, anchor] = [burstServerConfig(spec, '/tmp/x', 26000), burstServerConfig(spec, '/tmp/x', 26000, true)];
    expect(anchor).toMatch(/^modules_disabled = \{ "limits" \}$/m);
    expect(burstServerConfig(resolveSpec({ ...minimalSpec, federation: { enabled: false } }), '/tmp/x', 26000, true)).toMatch(/^modules_disabled = \{ "s2s", "limits" \}$/m);
    expect(anchor.replace(/^modules_disabled = .*$/m, '')).toBe(protectedCfg.replace(/^modules_disabled = .*$/m, ''));
  });
});

describe.each(Object.values(PLATFORMS))('on $name', (platform) => {
  const library = LIBRARY_PLATFORMS[platform.name as PlatformName];
  const image = platformToolsForFile(platform);
  const spec = resolveSpec(onImage(minimalSpec, platform.image));
  const port = 26000 + 100 * Object.keys(PLATFORMS).indexOf(platform.name);

  describeUnless(platformMissing, `the real ${library.prosody.label} of ${library.label} with the rendered flood protection`, () => {
    let server: BurstServer | undefined;
    beforeAll(async () => {
      server = await BurstServer.start(image(), spec, port, ISSUE_BURST.accounts);
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
    });

    test(`GIVEN ${ISSUE_BURST.accounts * ISSUE_BURST.resources} connections WHEN each sends ${ISSUE_BURST.messagesEach} chat messages at once to random other full JIDs while a CPU is kept busy THEN every message arrives exactly once`, async () => {
      let hogs: ChildProcess[] = [];
      try {
        const result = await runBurst({ ...server!.target(), ...ISSUE_BURST, beforeBurst: () => { hogs = startCpuHogs(1); } });
        expect({ missing: result.missing, stalled: result.stalled, duplicates: result.duplicates, misrouted: result.misrouted, errors: result.errors })
          .toEqual({ missing: {}, stalled: [], duplicates: 0, misrouted: 0, errors: [] });
        expect(result.sent).toBe(ISSUE_BURST.accounts * ISSUE_BURST.resources * ISSUE_BURST.messagesEach);
        expect(result.delivered).toBe(result.sent);
        expect(server!.problems()).toEqual([]);
      } finally {
        for (const hog of hogs) await stopProcess(hog);
      }
    }, 900_000);
  });
});
