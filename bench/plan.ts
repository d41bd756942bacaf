/**
 * The plan benchmark (part of `npm run bench`): wall time of `terraform plan -refresh=false` (or
 * `tofu`) on the synthesized stack at 1, 100, 500 and 1,000 domains, with the stand-in DigitalOcean
 * provider the test suite uses, next to its anchor planned in the same run: the hand-written program
 * (one `digitalocean_record` resource per record, written one by one as a user would). What a
 * provider of many domains waits for is this plan, on every pull request.
 *
 * Each stack is synthesized and `init`ialized once (not timed), then planned BENCH_PLAN_RUNS times
 * (default 3), the two programs interleaved; medians are reported. Exits non-zero when a target is
 * missed.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { TerraformWorkspace } from '../test/support/terraform/harness';

const PROGRAMS = join(__dirname, 'programs');
const RUNS = Number(process.env.BENCH_PLAN_RUNS ?? 3);
const DOMAIN_COUNTS = [1, 100, 500, 1000];
const COMPARED = [
  { program: 'ours-without-review-files', label: 'xmpp-constructs' },
  { program: 'handwritten', label: 'hand-written' },
] as const;

/** A stack synthesized by one of the bench programs, ready to plan. */
async function prepare(program: string, domains: number, withoutMoved = false): Promise<{ workspace: TerraformWorkspace }> {
  const out = mkdtempSync(join(tmpdir(), 'xc-bench-plan-'));
  try {
    const r = spawnSync(process.execPath, [join(PROGRAMS, `${program}.js`), String(domains), out], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`${program} ${domains} failed (exit ${r.status}):\n${r.stderr}`);
    const stack = JSON.parse(readFileSync(join(out, 'stacks/bench/cdk.tf.json'), 'utf8')) as { resource: { [type: string]: { [name: string]: unknown } }; moved?: unknown };
    // What movedFromFormerDnsLayout: false synthesizes (test/cdktf/xmpp-service.test.ts holds them equal).
    if (withoutMoved) delete stack.moved;
    const workspace = new TerraformWorkspace();
    workspace.writeStack(stack);
    await workspace.init();
    return { workspace };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Seconds one plan takes, and how many resource instances it plans. */
async function planOnce(workspace: TerraformWorkspace): Promise<{ seconds: number; instances: number }> {
  const result = await workspace.ok(['plan', '-refresh=false', '-no-color', '-input=false', '-lock=false']);
  const summary = /Plan: (\d+) to add/.exec(result.stdout);
  return { seconds: result.seconds, instances: summary ? Number(summary[1]) : 0 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const seconds = (s: number) => `${s.toFixed(2)} s`;

interface Row {
  readonly domains: number;
  readonly ours: number;
  readonly hand: number;
  readonly oursInstances: number;
  readonly handInstances: number;
}

export async function planBenchmark(): Promise<boolean> {
  const probe = new TerraformWorkspace();
  console.log(`\nplan benchmark: ${probe.engineName} plan -refresh=false with the stand-in DigitalOcean provider, medians of ${RUNS} runs`);
  probe.remove();
  const header = ['domains', 'xmpp-constructs', 'instances', 'hand-written', 'resources', 'ours / hand', 'ms per instance (ours)', 'ms per resource (hand)'];
  console.log(header.map((h) => h.padStart(Math.max(h.length, 10))).join('  '));
  const rows: Row[] = [];
  for (const domains of DOMAIN_COUNTS) {
    const prepared = await Promise.all(COMPARED.map((c) => prepare(c.program, domains)));
    const times: number[][] = COMPARED.map(() => []);
    const instances: number[] = COMPARED.map(() => 0);
    try {
      for (let run = 0; run < RUNS; run++) {
        for (let i = 0; i < COMPARED.length; i++) {
          const plan = await planOnce(prepared[i].workspace);
          times[i].push(plan.seconds);
          instances[i] = plan.instances;
        }
      }
    } finally {
      for (const p of prepared) p.workspace.remove();
    }
    const row = { domains, ours: median(times[0]), hand: median(times[1]), oursInstances: instances[0], handInstances: instances[1] };
    rows.push(row);
    const cells = [String(domains), seconds(row.ours), String(row.oursInstances), seconds(row.hand), String(row.handInstances), `${(row.ours / row.hand).toFixed(2)}×`,
      ((row.ours / row.oursInstances) * 1000).toFixed(2), ((row.hand / row.handInstances) * 1000).toFixed(2)];
    console.log(cells.map((c, i) => c.padStart(Math.max(header[i].length, 10))).join('  '));
  }
  // Diagnostic, no target: the same 1,000-domain stack without the moved blocks that carry state over
  // from the former DNS layout (movedFromFormerDnsLayout: false, once an upgrade has been applied).
  const last = DOMAIN_COUNTS[DOMAIN_COUNTS.length - 1];
  const lean = await prepare(COMPARED[0].program, last, true);
  try {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push((await planOnce(lean.workspace)).seconds);
    const hand = rows[rows.length - 1].hand;
    console.log(`\n${last} domains without the moved blocks (movedFromFormerDnsLayout: false): ${seconds(median(times))}, ${(median(times) / hand).toFixed(2)}× the anchor`);
  } finally {
    lean.workspace.remove();
  }
  const at = (n: number) => rows.find((r) => r.domains === n)!;
  const marginal = (a: Row, b: Row) => (b.ours - a.ours) / (b.domains - a.domains);
  const targets: [string, boolean, string][] = [
    ['1,000 domains ≤ 1.5× the hand-written anchor', at(1000).ours <= 1.5 * at(1000).hand, `${(at(1000).ours / at(1000).hand).toFixed(2)}× (${seconds(at(1000).ours)} vs ${seconds(at(1000).hand)})`],
    // Linear as in the synthesis benchmark: a domain added between 500 and 1,000 costs no more than
    // 1.5× one added between 100 and 500 (a cost growing with the square of the count makes it 2.5×).
    ['plan time linear in domains', marginal(at(500), at(1000)) <= 1.5 * marginal(at(100), at(500)),
      `${(marginal(at(100), at(500)) * 1000).toFixed(1)} ms/domain from 100 to 500, ${(marginal(at(500), at(1000)) * 1000).toFixed(1)} ms/domain from 500 to 1,000`],
  ];
  console.log('\nplan targets:');
  for (const [what, met, measured] of targets) console.log(`  ${met ? 'met   ' : 'MISSED'}  ${what}: ${measured}`);
  return targets.every(([, met]) => met);
}

if (require.main === module) {
  planBenchmark().then(
    (met) => {
      if (!met) process.exitCode = 1;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
