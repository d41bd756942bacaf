/**
 * Not a test file of the suite (jest collects *.test.ts): test/skips.test.ts runs it in a jest of
 * its own, with and without CI. One registration of each kind tools.ts offers, each unable to run
 * for a stated reason, beside ones that can run. Every body that cannot run would pass if it ran,
 * so only the mechanism decides whether it passes, fails or is skipped. skips.test.ts spells the
 * reason and the command again, as what it expects to read.
 */
import { describeUnless, testUnless, testWith } from './tools';

const FIXTURE_REASON = 'turnserver is not installed (Debian package coturn); npm test installs it';
const FIXTURE_COMMAND = 'xc-no-such-command-anywhere';

testUnless(undefined)('a test that can run', () => {
  expect(true).toBe(true);
});

testUnless(FIXTURE_REASON)('a test that cannot run', () => {
  expect(true).toBe(true);
});

testUnless(FIXTURE_REASON).each(['a', 'b'])('a table test %s that cannot run', () => {
  expect(true).toBe(true);
});

testWith(FIXTURE_COMMAND)('a test needing a command that is not on PATH', () => {
  expect(true).toBe(true);
});

describeUnless(FIXTURE_REASON, 'a block that cannot run', () => {
  beforeAll(() => {
    throw new Error('the hooks of a block that cannot run were run');
  });
  test('its first test', () => {
    expect(true).toBe(true);
  });
  test('its second test', () => {
    expect(true).toBe(true);
  });
});

describeUnless(undefined, 'a block that can run', () => {
  test('its test', () => {
    expect(true).toBe(true);
  });
});
