/**
 * A writer for Lua literals, as Prosody's configuration reads them.
 *
 * Every user-supplied string reaches prosody.cfg.lua through `luaString`, so a quote, backslash or
 * newline in a contact address can never end a string early and inject configuration.
 */

export type LuaValue = string | number | boolean | readonly LuaValue[] | { readonly [key: string]: LuaValue };

const LUA_KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);

/**
 * A double-quoted Lua string literal. Printable ASCII stays as it is, and so do the letters, marks
 * and digits of other scripts (an internationalised domain reads "bücher.example" in a review, as
 * Prosody wants it), written as their UTF-8 bytes, which Lua takes literally. Everything else
 * (controls, invisible formatting such as bidirectional overrides, other symbols) is written byte by
 * byte as `\ddd` (three decimal digits, so a following digit cannot extend the escape), which Lua
 * 5.1 to 5.4 all read back to the same UTF-8 bytes.
 */
export function luaString(value: string): string {
  let out = '"';
  for (const char of value) {
    if (char.length === 1 && char.charCodeAt(0) < 0x80) {
      const byte = char.charCodeAt(0);
      if (byte === 0x22) out += '\\"';
      else if (byte === 0x5c) out += '\\\\';
      else if (byte === 0x0a) out += '\\n';
      else if (byte === 0x0d) out += '\\r';
      else if (byte === 0x09) out += '\\t';
      else if (byte >= 0x20 && byte < 0x7f) out += char;
      else out += escapedBytes(char);
    } else if (/^[\p{L}\p{M}\p{N}]$/u.test(char)) {
      out += char;
    } else {
      out += escapedBytes(char);
    }
  }
  return out + '"';
}

/** `char`'s UTF-8 bytes as Lua decimal escapes. */
function escapedBytes(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((byte) => `\\${byte.toString().padStart(3, '0')}`).join('');
}

/** A Lua number literal; only finite numbers exist in Lua source. */
export function luaNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`Lua has no literal for ${value}`);
  return String(value);
}

/** True when `key` can be written bare as `key = value` inside a table. */
export function isLuaIdentifier(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !LUA_KEYWORDS.has(key);
}

/** Any supported value as a Lua literal; tables are written on one line. */
export function luaValue(value: LuaValue): string {
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number') return luaNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    return value.length === 0 ? '{}' : `{ ${value.map((v) => luaValue(v)).join(', ')} }`;
  }
  const entries = Object.entries(value as { readonly [key: string]: LuaValue });
  if (entries.length === 0) return '{}';
  const fields = entries.map(([k, v]) => `${isLuaIdentifier(k) ? k : `[${luaString(k)}]`} = ${luaValue(v)}`);
  return `{ ${fields.join(', ')} }`;
}

/** `name = value`, the form of every global option in prosody.cfg.lua. */
export function luaAssignment(name: string, value: LuaValue): string {
  if (!isLuaIdentifier(name)) throw new Error(`"${name}" is not a Lua identifier`);
  return `${name} = ${luaValue(value)}`;
}
