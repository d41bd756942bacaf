/**
 * No silent skips: a test that cannot run here (test/support/tools.ts) fails under CI, saying what
 * is missing and how to get it, and is skipped elsewhere, with a warning. Checked on the rules, then
 * on jest itself, running test/support/skips.fixture.ts with and without CI.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { fateOf, isUnderCi, missingCommands } from './support/tools';

const ROOT = join(__dirname, '..');
/** As test/support/skips.fixture.ts states them. */
const FIXTURE_REASON = 'turnserver is not installed (Debian package coturn); npm test installs it';
const FIXTURE_COMMAND = 'xc-no-such-command-anywhere';

describe('isUnderCi and fateOf — GIVEN the CI variable', () => {
  test.each([
    { ci: undefined, underCi: false },
    { ci: '', underCi: false },
    { ci: 'false', underCi: false },
    { ci: 'False', underCi: false },
    { ci: 'true', underCi: true },
    { ci: '1', underCi: true },
    { ci: 'github-actions', underCi: true },
  ])('GIVEN CI=$ci THEN under CI is $underCi, a test with a reason not to run is failed or skipped, and one without runs', ({ ci, underCi }) => {
    const env = ci === undefined ? {} : { CI: ci };
    expect(isUnderCi(env)).toBe(underCi);
    expect(fateOf('nginx is not installed', env)).toBe(underCi ? 'fail' : 'skip');
    expect(fateOf(undefined, env)).toBe('run');
  });
});

interface MachineCase {
  readonly what: string;
  readonly commands: string[];
  /** Commands on this machine's PATH. */
  readonly present: string[];
  /** Debian packages npm test installs, or 'unreadable' when scripts/test-packages.ts fails. */
  readonly installed: string[] | 'unreadable';
  readonly reason: string | undefined;
}

describe('missingCommands — the reason a test gives', () => {
  test.each<MachineCase>([
    {
      what: 'a command npm test installs',
      commands: ['turnserver'], present: [], installed: ['coturn'],
      reason: 'turnserver is not installed (Debian package coturn); npm test installs it',
    },
    {
      what: 'a command npm test does not install',
      commands: ['nginx'], present: [], installed: [],
      reason: 'nginx is not installed (Debian package nginx), and npm test does not install it (scripts/test-packages.ts): apt-get install nginx',
    },
    {
      what: 'two missing commands and one present',
      commands: ['named-checkzone', 'openssl', 'xmllint'], present: ['openssl'], installed: ['bind9-utils', 'libxml2-utils'],
      reason: 'named-checkzone is not installed (Debian package bind9-utils); npm test installs it; xmllint is not installed (Debian package libxml2-utils); npm test installs it',
    },
    {
      what: 'a command when the list of what npm test installs cannot be read',
      commands: ['xmllint'], present: [], installed: 'unreadable',
      reason: 'xmllint is not installed (Debian package libxml2-utils; scripts/test-packages.ts lists what npm test installs)',
    },
    {
      what: 'a command of no known package',
      commands: ['xc-unknown'], present: [], installed: [],
      reason: 'xc-unknown is not installed (not found on PATH)',
    },
    {
      what: 'commands all present',
      commands: ['nginx', 'prosody'], present: ['nginx', 'prosody'], installed: [],
      reason: undefined,
    },
  ])('GIVEN $what THEN the reason names each missing one, its Debian package and how to get it', ({ commands, present, installed, reason }) => {
    const installs = (pkg: string) => (installed === 'unreadable' ? undefined : installed.includes(pkg));
    expect(missingCommands(commands, { has: (c) => present.includes(c), installs })).toBe(reason);
  });
});

interface AssertionResult {
  readonly fullName: string;
  readonly status: string;
  readonly failureMessages: string[];
}

/** The fixture run by a jest of its own with `ci` as CI (undefined: CI unset). */
function runFixture(ci: string | undefined): { status: number | null; output: string; outcomes: Record<string, { status: string; failure?: string }> } {
  const dir = mkdtempSync(join(tmpdir(), 'xc-skips-'));
  try {
    const results = join(dir, 'results.json');
    const { CI: _outer, JEST_WORKER_ID: _worker, ...env } = process.env;
    const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--testMatch', '**/test/support/skips.fixture.ts', '--json', '--outputFile', results], {
      cwd: ROOT,
      env: ci === undefined ? env : { ...env, CI: ci },
      encoding: 'utf8',
      timeout: 120000,
    });
    const report = JSON.parse(readFileSync(results, 'utf8')) as { testResults: { assertionResults: AssertionResult[] }[] };
    const outcomes = Object.fromEntries(
      report.testResults.flatMap((file) => file.assertionResults).map((a) => [a.fullName, a.status === 'failed' ? { status: a.status, failure: a.failureMessages.join('\n') } : { status: a.status }]),
    );
    return { status: r.status, output: `${r.stdout}${r.stderr}`, outcomes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([
  { ci: undefined, fate: 'skip' },
  { ci: 'false', fate: 'skip' },
  { ci: 'true', fate: 'fail' },
] as const)('GIVEN the fixture run by jest with CI=$ci', ({ ci, fate }) => {
  let run: ReturnType<typeof runFixture>;
  beforeAll(() => {
    run = runFixture(ci);
  }, 120000);

  if (fate === 'fail') {
    test('THEN every test that cannot run fails, naming what is missing and how to get it; the others pass; no hook of a block that cannot run runs', () => {
      const failed = (reason: string) => ({ status: 'failed', failure: expect.stringContaining(reason) });
      expect(run.outcomes).toEqual({
        'a test that can run': { status: 'passed' },
        'a test that cannot run': failed(FIXTURE_REASON),
        'a table test a that cannot run': failed(FIXTURE_REASON),
        'a table test b that cannot run': failed(FIXTURE_REASON),
        'a test needing a command that is not on PATH': failed(`${FIXTURE_COMMAND} is not installed (not found on PATH)`),
        'a block that cannot run can run here': failed(FIXTURE_REASON),
        'a block that can run its test': { status: 'passed' },
      });
      expect(run.output).not.toContain('the hooks of a block that cannot run were run');
      expect(run.status).toBe(1);
    });
  } else {
    test('THEN every test that cannot run is skipped, with a warning naming why; the others pass', () => {
      expect(run.outcomes).toEqual({
        'a test that can run': { status: 'passed' },
        'a test that cannot run': { status: 'pending' },
        'a table test a that cannot run': { status: 'pending' },
        'a table test b that cannot run': { status: 'pending' },
        'a test needing a command that is not on PATH': { status: 'pending' },
        'a block that cannot run its first test': { status: 'pending' },
        'a block that cannot run its second test': { status: 'pending' },
        'a block that can run its test': { status: 'passed' },
      });
      expect(run.output).toContain(`SKIPPED (tests): ${FIXTURE_REASON}`);
      expect(run.output).toContain(`SKIPPED (tests): ${FIXTURE_COMMAND} is not installed (not found on PATH)`);
      expect(run.status).toBe(0);
    });
  }
});
