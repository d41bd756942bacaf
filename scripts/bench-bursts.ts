/**
 * `npm run bench:bursts`: throughput (msg/s) and delivery latency (p50, p99) of the issue's burst —
 * 200 client connections (40 accounts × 5 resources) each sending 50 chat messages at once to
 * random other full JIDs — through the real Prosody of each platform on the rendered configuration,
 * next to an anchor measured in the same run: the same configuration without its flood protection
 * (mod_limits disabled). The ratio is what flood protection costs a burst; the absolute numbers
 * say as much about this machine as about Prosody.
 *
 * Every run is also checked for exactly-once delivery (by count, as test/core/bursts.test.ts does);
 * a run that loses or duplicates a message fails the benchmark. No time target is asserted.
 * Needs root and the platform images (test/support/platform.ts), as the real-Prosody tests do.
 * BENCH_BURST_RUNS (default 3) runs per variant, interleaved; BENCH_BURST_PLATFORMS (default all),
 * e.g. `debian-13`.
 */
import { cpus } from 'os';
import { resolveSpec } from '../lib/core/validate';
import { BurstResult, BurstServer, ISSUE_BURST, percentile, runBurst } from '../test/support/burst';
import { PLATFORMS, PlatformTools } from '../test/support/platform';
import { minimalSpec, onImage } from '../test/support/specs';

const RUNS = Number(process.env.BENCH_BURST_RUNS ?? 3);
const WANTED = (process.env.BENCH_BURST_PLATFORMS ?? Object.keys(PLATFORMS).join(',')).split(',');

interface Variant {
  readonly name: string;
  readonly withoutFloodProtection: boolean;
}
const VARIANTS: readonly Variant[] = [
  { name: 'rendered config (flood protection on)', withoutFloodProtection: false },
  { name: 'anchor: same without mod_limits', withoutFloodProtection: true },
];

const median = (values: readonly number[]): number => percentile(values, 50);

function exactlyOnce(result: BurstResult): string | undefined {
  const lost = Object.values(result.missing).reduce((n, l) => n + l.length, 0);
  if (lost === 0 && result.duplicates === 0 && result.misrouted === 0 && result.stalled.length === 0 && result.delivered === result.sent) return undefined;
  return `lost ${lost}, duplicated ${result.duplicates}, misrouted ${result.misrouted}, stalled connections ${result.stalled.length}`;
}

async function main(): Promise<void> {
  const total = ISSUE_BURST.accounts * ISSUE_BURST.resources * ISSUE_BURST.messagesEach;
  console.log(`xmpp-constructs burst benchmark: ${ISSUE_BURST.accounts} accounts × ${ISSUE_BURST.resources} resources × ${ISSUE_BURST.messagesEach} messages = ${total}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${RUNS} run(s) per variant, medians\n`);
  let failed = false;
  for (const platform of Object.values(PLATFORMS).filter((p) => WANTED.includes(p.name))) {
    const tools = PlatformTools.open(platform);
    try {
      const spec = resolveSpec(onImage(minimalSpec, platform.image));
      const results = new Map<Variant, BurstResult[]>(VARIANTS.map((v) => [v, []]));
      for (let run = 0; run < RUNS; run++) {
        // Alternate which variant goes first, so a change in the machine's load skews neither.
        for (const variant of run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
          const server = await BurstServer.start(tools, spec, 27000 + 10 * run, ISSUE_BURST.accounts, { withoutFloodProtection: variant.withoutFloodProtection });
          try {
            const result = await runBurst({ ...server.target(), ...ISSUE_BURST });
            const wrong = exactlyOnce(result);
            if (wrong !== undefined) {
              failed = true;
              console.log(`!!! ${platform.name}, ${variant.name}, run ${run + 1}: not exactly once: ${wrong}`);
            }
            results.get(variant)!.push(result);
          } finally {
            await server.stop();
          }
        }
      }
      console.log(`${platform.name} (${platform.suite}):`);
      const rows = VARIANTS.map((v) => {
        const rs = results.get(v)!;
        return {
          name: v.name,
          msgPerSecond: median(rs.map((r) => (r.sent / r.elapsedMs) * 1000)),
          p50: median(rs.map((r) => percentile(r.latenciesMs, 50))),
          p99: median(rs.map((r) => percentile(r.latenciesMs, 99))),
          seconds: median(rs.map((r) => r.elapsedMs / 1000)),
        };
      });
      for (const row of rows) {
        console.log(`  ${row.name.padEnd(40)} ${row.msgPerSecond.toFixed(0).padStart(7)} msg/s   p50 ${row.p50.toFixed(0).padStart(6)} ms   p99 ${row.p99.toFixed(0).padStart(6)} ms   all delivered in ${row.seconds.toFixed(2)} s`);
      }
      const [on, anchor] = rows;
      console.log(`  flood protection costs the burst ${(anchor.msgPerSecond / on.msgPerSecond).toFixed(2)}× in throughput, ${(on.p99 / anchor.p99).toFixed(2)}× in p99 latency\n`);
    } finally {
      tools.close();
    }
  }
  if (failed) {
    console.log('FAILED: a burst was not delivered exactly once');
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
