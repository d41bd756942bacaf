import { execFileSync } from 'child_process';
import { isLuaIdentifier, luaAssignment, luaString, luaValue } from '../../lib/core/lua';
import { notInstalled, testUnless } from '../support/tools';

/** Lua itself reads the literal back: the strongest proof the escaping is right. */
function luaAvailable(): string | undefined {
  for (const bin of ['lua5.4', 'lua5.3', 'lua5.2', 'lua5.1', 'lua']) {
    try {
      execFileSync(bin, ['-v'], { stdio: 'ignore' });
      return bin;
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}
const lua = luaAvailable();
/** Any Lua will do; Debian's lua5.4 is the one npm test installs. */
const withLua = testUnless(lua === undefined ? notInstalled('lua5.4') : undefined);

describe('luaString', () => {
  describe.each([
    ['plain text', 'hello', '"hello"'],
    ['a double quote', 'say "hi"', '"say \\"hi\\""'],
    ['a backslash', 'a\\b', '"a\\\\b"'],
    ['a newline', 'line1\nline2', '"line1\\nline2"'],
    ['a carriage return and tab', 'a\r\tb', '"a\\r\\tb"'],
    ['letters and marks of any script as they are', 'bücher.ελ.日本', '"bücher.ελ.日本"'],
    ['a bidirectional override as decimal bytes, so a review shows it', 'a\u202eb', '"a\\226\\128\\174b"'],
    ['a zero-width joiner and a non-breaking space as decimal bytes', '\u200d\u00a0', '"\\226\\128\\141\\194\\160"'],
    ['a symbol outside ASCII as decimal bytes', '☃', '"\\226\\152\\131"'],
    ['a NUL byte', 'a\u0000b', '"a\\000b"'],
    ['a digit after an escape stays a digit', '\u00a01', '"\\194\\1601"'],
    ['a string that tries to close and inject', '"; os.execute("rm -rf /") --', '"\\"; os.execute(\\"rm -rf /\\") --"'],
  ])('GIVEN %s', (_name, input, expected) => {
    test('THEN it is written as the expected literal', () => {
      expect(luaString(input)).toBe(expected);
    });
    withLua('THEN Lua reads back exactly the same bytes', () => {
      const hex = execFileSync(lua!, ['-e', `local s = ${luaString(input)}; io.write((s:gsub(".", function(c) return string.format("%02x", c:byte()) end)))`]).toString();
      expect(hex).toBe(Buffer.from(input, 'utf8').toString('hex'));
    });
  });
});

describe('luaValue', () => {
  test.each([
    [true, 'true'],
    [false, 'false'],
    [5222, '5222'],
    [[], '{}'],
    [['a', 1], '{ "a", 1 }'],
    [{ rate: '64kb/s', burst: '2s' }, '{ rate = "64kb/s", burst = "2s" }'],
    [{ 'not-an-identifier': 1, end: 2 }, '{ ["not-an-identifier"] = 1, ["end"] = 2 }'],
  ])('GIVEN %j THEN it is %s', (input, expected) => {
    expect(luaValue(input)).toBe(expected);
  });

  test('fails when a number is not finite', () => {
    expect(() => luaValue(Number.NaN)).toThrow(/no literal/);
  });
});

describe('luaAssignment', () => {
  test('GIVEN a name and a list THEN it writes a global assignment', () => {
    expect(luaAssignment('admins', ['a@example.net'])).toBe('admins = { "a@example.net" }');
  });
  test('fails when the name is a keyword or not an identifier', () => {
    expect(isLuaIdentifier('end')).toBe(false);
    expect(() => luaAssignment('end', 1)).toThrow(/not a Lua identifier/);
    expect(() => luaAssignment('a-b', 1)).toThrow(/not a Lua identifier/);
  });
});
