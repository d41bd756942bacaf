/**
 * The DNS zones and records of a synthesized stack (cdk.tf.json), one per `for_each` instance,
 * as Terraform/OpenTofu will create them: the records' `for_each` refers to a local holding one
 * object per record, and each attribute reads a named field of it. The resource blocks' attribute
 * expressions are checked to be exactly the ones the adapter writes, so a changed mapping fails
 * here instead of passing by.
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

type Stack = { resource: { [type: string]: { [name: string]: { [attr: string]: any } } }; locals?: { [name: string]: { [key: string]: unknown } } };

/** Every entry of the records local holds exactly these fields; written out here, not imported, so a changed mapping fails. */
const FIELDS = ['domain', 'type', 'name', 'value', 'address', 'ttl', 'priority', 'weight', 'port', 'flags', 'tag'] as const;
/** Fields a record may lack (null); the others every record has. */
const OPTIONAL = new Set(['priority', 'weight', 'port', 'flags', 'tag']);
const NUMBERS = new Set(['ttl', 'priority', 'weight', 'port', 'flags']);
const ATTRIBUTES = ['domain', 'type', 'name', 'value', 'ttl', 'priority', 'weight', 'port', 'flags', 'tag'] as const;

/** The attribute expressions the adapter must write, as Terraform will evaluate them per instance. */
function expectedExpressions(addressLocal: string): Record<(typeof ATTRIBUTES)[number], string> {
  const plain = (name: string) => `\${each.value.${name}}`;
  return {
    domain: plain('domain'),
    type: plain('type'),
    name: plain('name'),
    value: `\${each.value.address == null ? each.value.value : local.${addressLocal}[each.value.address]}`,
    ttl: plain('ttl'),
    priority: plain('priority'),
    weight: plain('weight'),
    port: plain('port'),
    flags: plain('flags'),
    tag: plain('tag'),
  };
}

/** Every `digitalocean_record` instance of the stack, its value's address looked up as Terraform does. */
export function synthRecords(stack: Stack): SynthRecord[] {
  const records: SynthRecord[] = [];
  for (const [logical, body] of Object.entries(stack.resource.digitalocean_record ?? {})) {
    const recordsLocal = /^\$\{local\.([A-Za-z0-9_-]+)\}$/.exec(typeof body.for_each === 'string' ? body.for_each : '')?.[1];
    const entries = recordsLocal === undefined ? undefined : stack.locals?.[recordsLocal];
    if (recordsLocal === undefined || entries === undefined) throw new Error(`digitalocean_record.${logical}.for_each is not a reference to a local: ${JSON.stringify(body.for_each)}`);
    const addressLocal = /local\.([A-Za-z0-9_-]+)\[each\.value\.address\]/.exec(body.value ?? '')?.[1];
    const addresses = addressLocal === undefined ? undefined : (stack.locals?.[addressLocal] as { [source: string]: string } | undefined);
    if (addressLocal === undefined || addresses === undefined) throw new Error(`digitalocean_record.${logical}.value looks up no local: ${JSON.stringify(body.value)}`);
    const expected = expectedExpressions(addressLocal);
    for (const a of ATTRIBUTES) if (body[a] !== expected[a]) throw new Error(`digitalocean_record.${logical}.${a} is ${JSON.stringify(body[a])}, expected ${JSON.stringify(expected[a])}`);
    for (const [key, entry] of Object.entries(entries)) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`record ${key} is not an object: ${JSON.stringify(entry)}`);
      const fields = entry as { [field: string]: unknown };
      // Every entry has every field, so every entry has the same object type in Terraform.
      if (JSON.stringify(Object.keys(fields).sort()) !== JSON.stringify([...FIELDS].sort())) throw new Error(`record ${key} has the fields ${Object.keys(fields).join(', ')}, not ${FIELDS.join(', ')}`);
      const record: { [attr: string]: string | number } = { key };
      for (const name of FIELDS) {
        const v = fields[name];
        if (name === 'value' || name === 'address') continue;
        if (v === null) {
          if (!OPTIONAL.has(name)) throw new Error(`record ${key} lacks its ${name}`);
          continue;
        }
        if (NUMBERS.has(name) ? typeof v !== 'number' || !Number.isInteger(v) : typeof v !== 'string') throw new Error(`record ${key}: ${name} ${JSON.stringify(v)} has the wrong type`);
        record[name] = v as string | number;
      }
      // each.value.address == null ? each.value.value : local.addresses[each.value.address]
      const { value, address } = fields;
      if ((address === null) === (value === null)) throw new Error(`record ${key} needs exactly one of value and address: ${JSON.stringify({ value, address })}`);
      if (address !== null) {
        if (typeof address !== 'string' || !(address in addresses)) throw new Error(`record ${key}: address ${JSON.stringify(address)} is not in local.${addressLocal}`);
        record.value = addresses[address];
      } else {
        if (typeof value !== 'string') throw new Error(`record ${key}: value ${JSON.stringify(value)} is not a string`);
        record.value = value;
      }
      records.push(record as unknown as SynthRecord);
    }
  }
  return records;
}

/** The zone names of every `digitalocean_domain` instance (`for_each = toset([...])`). */
export function synthZones(stack: Stack): string[] {
  return Object.entries(stack.resource.digitalocean_domain ?? {}).map(([logical, body]) => {
    // One resource per zone, its name written out: no for_each for Terraform to re-read per instance.
    if (typeof body.name !== 'string' || body.name.includes('${') || body.for_each !== undefined) throw new Error(`digitalocean_domain.${logical} is not one zone named literally: ${JSON.stringify(body)}`);
    return body.name as string;
  });
}
