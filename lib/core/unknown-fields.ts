/**
 * Unknown fields: a key the declaration does not define is reported, at every level, with a
 * "did you mean" suggestion, instead of being silently ignored. TypeScript users get this from the
 * compiler; JavaScript, JSON and Pulumi YAML users only from here. `resolveSpec` reports these
 * issues together with every other problem of the spec.
 *
 * The known fields come from `XMPP_SERVICE_SPEC_FIELDS` (spec.ts), which the compiler keeps equal to
 * the spec interfaces.
 */
import { XMPP_SERVICE_SPEC_FIELDS } from './spec';
import type { SpecIssue } from './validate';

/** The known fields of one object level, as `SpecFields` describes them (spec.ts). */
export interface KnownFields {
  readonly [key: string]: 'value' | KnownFields | readonly [KnownFields];
}

/** How far (in edits) a key may be from a known one to be suggested. */
export const MAX_SUGGESTION_DISTANCE = 2;

/**
 * Every key of `spec` that the declaration does not define, with its path (`droplet.regoin`,
 * `domains[1].zoen`) and, when a known key is close, the suggestion. Only plain objects are looked
 * into, and only in fields whose declared type is a section (or a list of them, as `domains`):
 * strings (which may be cdktf tokens), lists of strings and deploy-time values such as Pulumi
 * Outputs are values, never walked. Values of the wrong type are left to `resolveSpec`'s rules.
 */
export function findUnknownFields(spec: unknown, fields: KnownFields = XMPP_SERVICE_SPEC_FIELDS): SpecIssue[] {
  const issues: SpecIssue[] = [];
  walk(spec, fields, '', issues);
  return issues;
}

function walk(value: unknown, fields: KnownFields, path: string, issues: SpecIssue[]): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const field = path === '' ? key : `${path}.${key}`;
    if (!Object.prototype.hasOwnProperty.call(fields, key)) {
      issues.push(unknownField(key, field, child, fields, path));
      continue;
    }
    const shape = fields[key];
    if (shape === 'value') continue;
    if (isList(shape)) {
      if (Array.isArray(child)) child.forEach((entry, i) => walk(entry, shape[0], `${field}[${i}]`, issues));
    } else {
      walk(child, shape, field, issues);
    }
  }
}

function unknownField(key: string, field: string, value: unknown, fields: KnownFields, path: string): SpecIssue {
  const known = Object.keys(fields);
  const where = path === '' ? 'the spec (XmppServiceSpec)' : `\`${path.replace(/\[\d+\]$/, '[…]')}\``;
  const suggestion = suggestKey(key, known);
  const elsewhere = suggestion === undefined ? suggestNestedPath(key, fields, path) : undefined;
  const fix = suggestion !== undefined
    ? `did you mean \`${suggestion}\`? Rename the field`
    : elsewhere !== undefined
      ? `did you mean \`${elsewhere}\`? The field belongs in that section`
      : `remove it, or use one of the fields of ${where}: ${known.join(', ')}`;
  return {
    field,
    value: shownValue(key, suggestion ?? elsewhere, value),
    problem: `${where} has no field "${key}", so it would be silently ignored`,
    fix,
  };
}

/**
 * The known key `key` was most likely meant to be: the same but for case, else the nearest within
 * `MAX_SUGGESTION_DISTANCE` edits (Levenshtein, ignoring case; never as many edits as the key has
 * characters), else a known key that contains it (`sizeLimit` for `fileSizeLimitBytes`), else one
 * it contains, of at least 3 characters each. Undefined when nothing is close.
 */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = levenshtein(lower, k.toLowerCase());
    if (distance <= MAX_SUGGESTION_DISTANCE && distance < key.length && (best === undefined || distance < best.distance)) best = { key: k, distance };
  }
  if (best !== undefined) return best.key;
  // A known key holding all of the given one is the better clue than one the given key holds.
  const lowerKnown = known.map((k) => ({ key: k, lower: k.toLowerCase() }));
  const closest = (candidates: typeof lowerKnown): string | undefined =>
    candidates.sort((a, b) => Math.abs(a.key.length - key.length) - Math.abs(b.key.length - key.length))[0]?.key;
  return (lower.length >= 3 ? closest(lowerKnown.filter((k) => k.lower.includes(lower))) : undefined)
    ?? closest(lowerKnown.filter((k) => k.lower.length >= 3 && lower.includes(k.lower)));
}

/**
 * A field of a section below this level with the same name but for case (`fileShare` at the top
 * level is `components.fileShare`), when exactly one section has it. Lists are not searched.
 */
function suggestNestedPath(key: string, fields: KnownFields, path: string): string | undefined {
  const lower = key.toLowerCase();
  const found: string[] = [];
  const search = (level: KnownFields, prefix: string): void => {
    for (const [name, shape] of Object.entries(level)) {
      if (shape === 'value' || isList(shape)) continue;
      const sectionPath = `${prefix}${name}`;
      for (const inner of Object.keys(shape)) if (inner.toLowerCase() === lower) found.push(`${sectionPath}.${inner}`);
      search(shape, `${sectionPath}.`);
    }
  };
  search(fields, path === '' ? '' : `${path}.`);
  return found.length === 1 ? found[0] : undefined;
}

/** Edit distance between two strings (insertions, deletions and substitutions). */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

const SENSITIVE = /secret|passw|token|credential|private/i;

/**
 * The value as the error shows it: plain data as given, a misspelled secret redacted, and anything
 * else (a Pulumi Output, a class instance, a function, a cycle) only by its kind, never serialised.
 */
function shownValue(key: string, meant: string | undefined, value: unknown): unknown {
  if (SENSITIVE.test(key) || (meant !== undefined && SENSITIVE.test(meant))) return '(redacted)';
  if (typeof value === 'function') return '(a function)';
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (!Array.isArray(value) && !isPlainObject(value)) return `(${(value as { constructor?: { name?: string } }).constructor?.name ?? 'an object'}, not shown)`;
  try {
    JSON.stringify(value);
    return value;
  } catch {
    return '(not shown)';
  }
}

function isList(shape: KnownFields | readonly [KnownFields]): shape is readonly [KnownFields] {
  return Array.isArray(shape);
}

/** An object literal (or `JSON.parse` result), not an array, token, Output or other class instance. */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  // Any realm's Object.prototype (vm contexts included), or none; class instances have a longer chain.
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}
