/**
 * bench/: the programs `npm run bench` times compile as it compiles them and run, and each pair the
 * benchmark compares differs only in what it claims to: the diagnostic with deep imports
 * synthesizes what the hand-written program does, and the library without review files
 * synthesizes what it does by default, writing no review file. Timing is never asserted here
 * (the machine is noisy; `npm run bench` checks the targets).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
let built: string;

beforeAll(() => {
  // The same compilation `npm run bench` does, into a directory of its own inside the repository
  // (gitignored), where the programs find node_modules.
  fs.mkdirSync(path.join(ROOT, 'dist-bench'), { recursive: true });
  built = fs.mkdtempSync(path.join(ROOT, 'dist-bench', 'test-'));
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'bench/tsconfig.json', '--outDir', built], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`bench/ does not compile:\n${tsc.stdout}${tsc.stderr}`);
  const copy = spawnSync(process.execPath, [path.join(ROOT, 'scripts/copy-host-scripts.js'), built], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`the host scripts were not copied:\n${copy.stdout}${copy.stderr}`);
}, 120_000);
const outputs: string[] = [];
afterAll(() => {
  for (const dir of [built, ...outputs]) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a compiled bench program for `domains`; returns its output directory and what it printed. */
function run(program: string, domains: number): { out: string; stdout: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `xc-bench-${program}-`));
  outputs.push(out);
  const r = spawnSync(process.execPath, [path.join(built, 'bench/programs', `${program}.js`), String(domains), out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${domains} failed (exit ${r.status}):\n${r.stderr}`);
  return { out, stdout: r.stdout };
}

const stackJson = (out: string) => fs.readFileSync(path.join(out, 'stacks/bench/cdk.tf.json'), 'utf8');

test.each(['floor', 'ours', 'ours-without-review-files', 'handwritten', 'handwritten-deep'])(
  'GIVEN the %s program WHEN run THEN it reports its peak memory as the runner reads it',
  (program) => {
    expect(run(program, 1).stdout).toMatch(/^PEAK_RSS_KB \d+$/m);
  },
);

test.each([1, 3])('GIVEN %i domain(s) WHEN the hand-written program runs with deep imports THEN it synthesizes the same stack', (domains) => {
  const [index, deep] = [run('handwritten', domains), run('handwritten-deep', domains)];
  expect(stackJson(deep.out)).toBe(stackJson(index.out));
  expect(JSON.parse(stackJson(index.out)).resource.digitalocean_record).toBeDefined();
});

test.each([1, 3])('GIVEN %i domain(s) WHEN the library runs without review files THEN it synthesizes the same stack and writes no review file', (domains) => {
  const [withReview, without] = [run('ours', domains), run('ours-without-review-files', domains)];
  expect(stackJson(without.out)).toBe(stackJson(withReview.out));
  expect(fs.existsSync(path.join(withReview.out, 'stacks/bench/review/Xmpp/user-data.yaml'))).toBe(true);
  expect(fs.existsSync(path.join(without.out, 'stacks/bench/review'))).toBe(false);
});
