/**
 * preResolved hands cdktf plain data it need not walk: the synthesized JSON holds the data exactly,
 * and cdktf never looks inside it (a string that looks like one of its tokens passes untouched,
 * where resolving it would fail).
 */
import { TerraformLocal, TerraformOutput } from 'cdktf';
import { preResolved } from '../../lib/cdktf/resolved';
import { newStack, synth } from './synth';

describe('preResolved', () => {
  const data = { 'example.net/@/A': { type: 'A', ttl: 1800, address: 'reservedIpv4', value: null }, list: [1, 'two', null], nested: { deeper: { deepest: true } } };

  test('GIVEN plain data as a local THEN the synthesized JSON holds exactly that data, and references to it work as usual', () => {
    const stack = newStack();
    const local = new TerraformLocal(stack, 'Data', preResolved(data));
    new TerraformOutput(stack, 'Out', { value: local.asAnyMap });
    const out = synth(stack) as unknown as { locals: Record<string, unknown>; output: Record<string, { value: unknown }> };
    expect(out.locals[local.friendlyUniqueId]).toEqual(data);
    expect(out.output.Out.value).toBe(`\${local.${local.friendlyUniqueId}}`);
  });

  test('GIVEN data holding what looks like a cdktf token THEN cdktf never resolves it (it would fail on an unknown token)', () => {
    const lookalike = { text: '${TfToken[TOKEN.999999]}' };
    const walked = newStack();
    new TerraformLocal(walked, 'Data', lookalike);
    expect(() => synth(walked)).toThrow();

    const handed = newStack();
    const local = new TerraformLocal(handed, 'Data', preResolved(lookalike));
    expect((synth(handed) as unknown as { locals: Record<string, unknown> }).locals[local.friendlyUniqueId]).toEqual(lookalike);
  });
});
