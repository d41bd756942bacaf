/**
 * The DNS zones and records of a synthesized stack (cdk.tf.json), one per `for_each` instance,
 * as Terraform/OpenTofu will create them. The resource blocks' attribute expressions are checked to
 * be exactly the ones the adapter writes, so a changed mapping fails here instead of passing by.
 */

type Stack = { resource: { [type: string]: { [name: string]: { [attr: string]: any } } } };

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

const REQUIRED = ['domain', 'type', 'name', 'value', 'ttl'] as const;
const OPTIONAL = ['priority', 'weight', 'port', 'flags', 'tag'] as const;

/** Every `digitalocean_record` instance of the stack. */
export function synthRecords(stack: Stack): SynthRecord[] {
  const records: SynthRecord[] = [];
  for (const [logical, body] of Object.entries(stack.resource.digitalocean_record ?? {})) {
    const each = body.for_each;
    if (each === null || typeof each !== 'object') throw new Error(`digitalocean_record.${logical} has no for_each map`);
    for (const a of REQUIRED) if (body[a] !== `\${each.value.${a}}`) throw new Error(`digitalocean_record.${logical}.${a} is ${JSON.stringify(body[a])}`);
    for (const a of OPTIONAL) if (body[a] !== `\${lookup(each.value, "${a}", null)}`) throw new Error(`digitalocean_record.${logical}.${a} is ${JSON.stringify(body[a])}`);
    for (const [key, value] of Object.entries(each as { [key: string]: { [attr: string]: unknown } })) {
      const unknown = Object.keys(value).filter((a) => !(REQUIRED as readonly string[]).includes(a) && !(OPTIONAL as readonly string[]).includes(a));
      if (unknown.length > 0) throw new Error(`record ${key} has attributes no argument reads: ${unknown.join(', ')}`);
      records.push({ key, ...value } as SynthRecord);
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
