import { REDACTED, renderCloudInit, renderHostFiles, renderTurnCloudInit, renderTurnHostFiles } from '../../lib/core/cloud-init';
import { renderReviewFiles } from '../../lib/core/review';
import { hasDedicatedTurnDroplet, XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { dedicatedTurnSpec, minimalSpec, representativeSpecs } from '../support/specs';

/** A secret no rendered text holds by chance: found anywhere, it leaked. */
const SUPPLIED_SECRET = 'review-files-never-show-this-0123456789abcdef';

/**
 * `input` with a secret that could leak into the review files: its own supplied TURN secret, or
 * else this one, calls switched on to carry it (with calls off, no file would hold a secret).
 */
function withSuppliedSecret(input: XmppServiceSpec): XmppServiceSpec {
  if (input.calls?.sharedSecret !== undefined) return input;
  return { ...input, calls: { ...input.calls, enabled: true, sharedSecret: SUPPLIED_SECRET } };
}

describe.each(representativeSpecs)('renderReviewFiles — GIVEN the %s spec', (_label, input) => {
  const spec = resolveSpec(input);
  const files = renderReviewFiles(spec);

  test('WHEN it holds a supplied TURN secret THEN the real user_data carries the secret and no review file does', () => {
    const withSecret = resolveSpec(withSuppliedSecret(input));
    const secret = withSecret.calls.sharedSecret!;
    // The droplets receive it: its absence from the review files below is redaction at work,
    // not a secret that never was in anything rendered.
    expect(renderCloudInit(withSecret)).toContain(secret);
    if (hasDedicatedTurnDroplet(withSecret)) expect(renderTurnCloudInit(withSecret)).toContain(secret);
    const leaking = Object.entries(renderReviewFiles(withSecret)).filter(([, content]) => content.includes(secret)).map(([path]) => path);
    expect(leaking).toEqual([]);
  });

  test('THEN the Prosody droplet\'s redacted user_data and its non-sensitive files are under host/', () => {
    expect(files['user-data.yaml']).toBe(renderCloudInit(spec, { redactSecrets: true }));
    for (const file of renderHostFiles(spec)) expect(files[`host${file.path}`]).toBe(file.sensitive ? undefined : file.content);
  });

  test('THEN the TURN droplet\'s user_data and files are there exactly when it has one', () => {
    const turnKeys = Object.keys(files).filter((k) => k.startsWith('turn-'));
    if (!hasDedicatedTurnDroplet(spec)) {
      expect(turnKeys).toEqual([]);
      return;
    }
    expect(files['turn-user-data.yaml']).toBe(renderTurnCloudInit(spec, { redactSecrets: true }));
    expect(files['turn-user-data.yaml']).toContain(REDACTED);
    const expected = renderTurnHostFiles(spec).filter((f) => !f.sensitive).map((f) => `turn-host${f.path}`);
    expect(turnKeys).toEqual(['turn-user-data.yaml', ...expected]);
    for (const file of renderTurnHostFiles(spec).filter((f) => !f.sensitive)) expect(files[`turn-host${file.path}`]).toBe(file.content);
  });
});

describe('renderReviewFiles — placement', () => {
  test('GIVEN the dedicated TURN spec THEN it adds turnserver.conf under turn-host/ and nothing of coturn under host/', () => {
    const files = renderReviewFiles(resolveSpec(dedicatedTurnSpec));
    expect(Object.keys(files)).toContain('turn-host/etc/turnserver.conf');
    expect(Object.keys(files)).toContain('turn-host/usr/local/sbin/xmpp-constructs-turn');
    expect(Object.keys(files).filter((k) => k.startsWith('host/') && /turn/.test(k))).toEqual([]);
  });

  test('GIVEN the minimal spec THEN the map has no TURN droplet entries', () => {
    expect(Object.keys(renderReviewFiles(resolveSpec(minimalSpec))).filter((k) => k.startsWith('turn-'))).toEqual([]);
  });
});
