/**
 * The DNS zones and records of a synthesized stack (cdk.tf.json), one per `for_each` instance,
 * as Terraform/OpenTofu will create them. The resource blocks' attribute expressions are checked to
 * be exactly the ones the adapter writes, so a changed mapping fails here instead of passing by.
 */

/** A record instance: the `for_each` key and the attributes Terraform evaluates for it. */
export interface SynthRecord {
  readonly key: string;
  readonly domain: string;
  readonly type: string;
  readonly name: string;
  readonly value: string;
  readonly ttl: number;
  readonly priority?: number;
  readonly weight?: number;
  readonly port?: number;
  readonly flags?: number;
  readonly tag?: string;
}

type Stack = { resource: { [type: string]: { [name: string]: { [attr: string]: any } } }; locals?: { [name: string]: { [key: string]: string } } };

/** Each `for_each` value is one line of these fields (`-` where absent); written out here, not imported, so a changed mapping fails. */
const FIELDS = ['domain', 'type', 'name', 'value', 'ttl', 'priority', 'weight', 'port', 'flags', 'tag'] as const;
const field = (i: number) => `split(" ", each.value)[${i}]`;
const NUMBERS = new Set(['ttl', 'priority', 'weight', 'port', 'flags']);

/** The attribute expressions the adapter must write, as Terraform will evaluate them per instance. */
function expectedExpressions(addressLocal: string): Record<(typeof FIELDS)[number], string> {
  const optional = (i: number, convert: (e: string) => string) => `\${${field(i)} == "-" ? null : ${convert(field(i))}}`;
  const number = (e: string) => `tonumber(${e})`;
  return {
    domain: `\${${field(0)}}`,
    type: `\${${field(1)}}`,
    name: `\${${field(2)}}`,
    value: `\${lookup(local.${addressLocal}, ${field(3)}, ${field(3)})}`,
    ttl: `\${tonumber(${field(4)})}`,
    priority: optional(5, number),
    weight: optional(6, number),
    port: optional(7, number),
    flags: optional(8, number),
    tag: optional(9, (e) => e),
  };
}

/** Every `digitalocean_record` instance of the stack, its value's address looked up as Terraform does. */
export function synthRecords(stack: Stack): SynthRecord[] {
  const records: SynthRecord[] = [];
  for (const [logical, body] of Object.entries(stack.resource.digitalocean_record ?? {})) {
    const each = body.for_each;
    if (each === null || typeof each !== 'object') throw new Error(`digitalocean_record.${logical} has no for_each map`);
    const addressLocal = /^\$\{lookup\(local\.([A-Za-z0-9_-]+), /.exec(body.value ?? '')?.[1];
    const addresses = addressLocal === undefined ? undefined : stack.locals?.[addressLocal];
    if (addressLocal === undefined || addresses === undefined) throw new Error(`digitalocean_record.${logical}.value looks up no local: ${JSON.stringify(body.value)}`);
    const expected = expectedExpressions(addressLocal);
    for (const a of FIELDS) if (body[a] !== expected[a]) throw new Error(`digitalocean_record.${logical}.${a} is ${JSON.stringify(body[a])}, expected ${JSON.stringify(expected[a])}`);
    for (const [key, packed] of Object.entries(each as { [key: string]: unknown })) {
      if (typeof packed !== 'string') throw new Error(`record ${key} is not one line: ${JSON.stringify(packed)}`);
      const parts = packed.split(' ');
      if (parts.length !== FIELDS.length) throw new Error(`record ${key} has ${parts.length} fields, not ${FIELDS.length}: ${JSON.stringify(packed)}`);
      const record: { [attr: string]: string | number } = { key };
      FIELDS.forEach((name, i) => {
        const text = parts[i];
        if (text === '-') {
          if (!['priority', 'weight', 'port', 'flags', 'tag'].includes(name)) throw new Error(`record ${key} lacks its ${name}`);
          return;
        }
        if (NUMBERS.has(name)) {
          if (!/^\d+$/.test(text)) throw new Error(`record ${key}: ${name} ${JSON.stringify(text)} is not a number`);
          record[name] = Number(text);
        } else {
          // lookup(local.addresses, v, v): an address's name becomes the address, anything else stays.
          record[name] = name === 'value' ? addresses[text] ?? text : text;
        }
      });
      records.push(record as unknown as SynthRecord);
    }
  }
  return records;
}

/** The zone names of every `digitalocean_domain` instance (`for_each = toset([...])`). */
export function synthZones(stack: Stack): string[] {
  return Object.entries(stack.resource.digitalocean_domain ?? {}).flatMap(([logical, body]) => {
    const m = /^\$\{toset\((\[.*\])\)\}$/s.exec(body.for_each ?? '');
    if (!m || body.name !== '${each.value}') throw new Error(`digitalocean_domain.${logical} is not for_each over a set of names: ${JSON.stringify(body)}`);
    return JSON.parse(m[1]) as string[];
  });
}
