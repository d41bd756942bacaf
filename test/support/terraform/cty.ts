/**
 * Terraform's values on the wire (its object wire format, docs/plugin-protocol/object-wire-format.md
 * in hashicorp/terraform): msgpack, with one extension for a value not known until apply. Types are
 * cty's JSON type notation: `"string"`, `["list","string"]`, `["object",{"a":"number"}]`.
 */
import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';

export type CtyType =
  | 'string'
  | 'number'
  | 'bool'
  | 'dynamic'
  | readonly ['list' | 'set' | 'map', CtyType]
  | readonly ['object', { readonly [name: string]: CtyType }];

/** A value not known until apply ("known after apply" in a plan). */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type Unknown = typeof UNKNOWN;

/** A decoded value: JSON-like, with UNKNOWN where Terraform does not know the value yet. */
export type Value = null | Unknown | string | number | boolean | readonly Value[] | { readonly [key: string]: Value };

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

export function isObjectValue(value: Value | undefined): value is { readonly [key: string]: Value } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the value or anything inside it is unknown. */
export function containsUnknown(value: Value): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isObjectValue(value)) return Object.values(value).some(containsUnknown);
  return false;
}

// Extension 0 is an unknown value; newer Terraform sends refined unknowns (a prefix of a string,
// a number's bounds) as extension 12. Both decode to UNKNOWN: the stand-in makes no use of refinements.
const UNKNOWN_EXTENSION = 0;
const REFINED_UNKNOWN_EXTENSION = 12;
const codec = new ExtensionCodec();
codec.register({
  type: UNKNOWN_EXTENSION,
  encode: (input: unknown) => (input === UNKNOWN ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});
codec.register({ type: REFINED_UNKNOWN_EXTENSION, encode: () => null, decode: () => UNKNOWN });

export function decodeMsgpack(bytes: Uint8Array): Value {
  if (bytes.length === 0) return null;
  return decode(bytes, { extensionCodec: codec, useBigInt64: false }) as Value;
}

export function encodeMsgpack(value: Value): Uint8Array {
  return encode(value, { extensionCodec: codec, ignoreUndefined: false });
}

/** Whether two known values are equal (sets compared as arrays, as Terraform sends them sorted). */
export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (isObjectValue(a) && isObjectValue(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => valuesEqual(a[k], b[k]));
  }
  return false;
}
