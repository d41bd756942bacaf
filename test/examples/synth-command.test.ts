/**
 * `npm run synth`, the README's first command, as package.json defines it: it type-checks the example
 * (a typo fails it, rather than synthesizing what the typo says), writes the stack, and says where
 * and what to run next.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = 'examples/cdktf-basic/main.ts';
const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { synth: string } }).scripts.synth;

/** The synth script's command with `file` in place of the example, run from the repository root. */
function runSynth(file: string, outdir: string) {
  const [command, ...args] = script.replace(EXAMPLE, file).split(/\s+/);
  return spawnSync('npx', ['--no-install', command, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDKTF_OUTDIR: outdir } });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('GIVEN the synth script THEN it runs the example without skipping the type check', () => {
  expect(script).toContain(EXAMPLE);
  expect(script).not.toMatch(/transpile-only|-T\b/);
});

test('GIVEN the example WHEN npm run synth runs THEN it writes the stack and the review files and says where, and what to run next', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'xmpp-synth-'));
  dirs.push(outdir);
  const run = runSynth(EXAMPLE, outdir);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(existsSync(join(outdir, 'stacks', 'xmpp-example-net', 'cdk.tf.json'))).toBe(true);
  expect(existsSync(join(outdir, 'stacks', 'xmpp-example-net', 'review'))).toBe(true);
  expect(run.stdout).toContain(`Synthesized ${relative(ROOT, join(outdir, 'stacks', 'xmpp-example-net', 'cdk.tf.json'))}`);
  expect(run.stdout).toMatch(/Next: DIGITALOCEAN_TOKEN=… npx cdktf-cli@0\.21 deploy xmpp-example-net/);
  // The example declares no image: it gets the default, Debian 13, and a configuration written for Prosody 13.
  const stack = JSON.parse(readFileSync(join(outdir, 'stacks', 'xmpp-example-net', 'cdk.tf.json'), 'utf8'));
  expect(Object.values(stack.resource.digitalocean_droplet).map((d: any) => d.image)).toEqual(['debian-13-x64']);
  const prosody = readFileSync(join(outdir, 'stacks', 'xmpp-example-net', 'review', 'Xmpp', 'host', 'etc', 'prosody', 'prosody.cfg.lua'), 'utf8');
  expect(prosody).toMatch(/^-- .*rendered by xmpp-constructs for Prosody 13 on Debian 13\./);
});

test('GIVEN a typo in the declaration WHEN the synth script runs THEN it fails with TypeScript\'s error and writes nothing', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'xmpp-synth-typo-'));
  dirs.push(outdir);
  // Beside the example, so its relative imports resolve as the example's do.
  const typo = join('examples', 'cdktf-basic', `typo-${process.pid}.ts`);
  writeFileSync(join(ROOT, typo), readFileSync(join(ROOT, EXAMPLE), 'utf8').replace('{ spec: exampleSpec }', '{ spec: exampleSpec, writeReviewFile: false }'));
  try {
    const run = runSynth(typo, outdir);
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(/TS2353|writeReviewFile/);
    expect(existsSync(join(outdir, 'stacks'))).toBe(false);
  } finally {
    rmSync(join(ROOT, typo), { force: true });
  }
});
