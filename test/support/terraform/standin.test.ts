/**
 * The stand-in provider's pieces on their own: the wire format, the schema read from the bindings,
 * the validation helpers, and that every behaviour it emulates by hand names a rule or suppressor
 * the extraction from the provider's Go source found (so none outlives a provider upgrade unseen).
 */
import { createHash } from 'crypto';
import { decodeMsgpack, encodeMsgpack, UNKNOWN, Value } from './cty';
import { BlockSchema, loadSemantics, providerSchemaFromBindings } from './provider-schema';
import { DIFF_SUPPRESSORS, ProviderStandIn, RULES, SPACES_CREDENTIAL_CHECKS, STATE_FUNCTIONS, validationFailure } from './standin';

const semantics = loadSemantics();
const schema = providerSchemaFromBindings(semantics);

test('GIVEN values with unknowns WHEN encoded and decoded as msgpack THEN they come back, unknowns as Terraform sends them', () => {
  const value: Value = { a: 'x', n: 3.5, i: 7, b: true, l: ['p', UNKNOWN], o: { z: null } };
  const bytes = encodeMsgpack(value);
  expect(Buffer.from(bytes).includes(Buffer.from([0xd4, 0, 0]))).toBe(true);
  expect(decodeMsgpack(bytes)).toEqual(value);
  // A refined unknown (extension 12) is unknown as well.
  expect(decodeMsgpack(new Uint8Array([0x81, 0xa1, 0x61, 0xd4, 12, 0]))).toEqual({ a: UNKNOWN });
});

test.each(Object.entries(RULES).flatMap(([type, rules]) => rules.map((rule) => [type, rule.id] as const)))(
  'GIVEN the emulated rule %s %s THEN the provider source has it',
  (type, id) => {
    expect(semantics.resources[type]?.rules?.map((r) => r.id)).toContain(id);
  },
);

test.each(Object.keys(DIFF_SUPPRESSORS))('GIVEN the emulated diff suppressor at %s THEN an attribute of the provider source uses it', (where) => {
  const used = JSON.stringify(semantics.resources);
  expect(used).toContain(`"diffSuppress":"inline@${where}"`);
});

test.each(Object.entries(SPACES_CREDENTIAL_CHECKS).map(([type, check]) => [type, check.id] as const))('GIVEN the Spaces credentials check of %s (%s) THEN the provider source has it', (type, id) => {
  expect(semantics.resources[type]?.rules?.map((r) => r.id)).toContain(id);
});

test.each(Object.keys(STATE_FUNCTIONS).filter((name) => name.startsWith('inline@')))('GIVEN the emulated inline StateFunc %s THEN an attribute of the provider source uses it', (name) => {
  expect(JSON.stringify(semantics.resources)).toContain(`"stateFunc":"${name}"`);
});

describe('Spaces as the provider handles it', () => {
  const nulls = (type: string) => Object.fromEntries(Object.keys(schema.resources[type].block.attributes).map((k) => [k, null]));
  const object = { ...nulls('digitalocean_spaces_bucket_object'), bucket: 'b', region: 'ams3', key: 'bundle.tar.gz', content_base64: Buffer.from('one').toString('base64') };

  test('GIVEN no Spaces credentials THEN bucket and object fail on every operation with SpacesClient\'s error, and a key needs none', () => {
    const standIn = new ProviderStandIn(schema);
    standIn.configure({ spaces_access_id: null, spaces_secret_key: null }, {});
    const planned = standIn.planChange('digitalocean_spaces_bucket_object', null, object, object).planned;
    expect(standIn.applyChange('digitalocean_spaces_bucket_object', null, planned, object).diagnostics.map((d) => d.summary)).toEqual(['Spaces credentials not configured']);
    expect(standIn.readResource('digitalocean_spaces_bucket', { name: 'b', region: 'ams3' }).diagnostics.map((d) => d.summary)).toEqual(['Error reading bucket: Spaces credentials not configured']);
    expect(standIn.applyChange('digitalocean_spaces_bucket', { id: 'b', name: 'b', region: 'ams3' }, null, null).diagnostics.map((d) => d.summary)).toEqual(['Error deleting bucket: Spaces credentials not configured']);
    const key = { ...nulls('digitalocean_spaces_key'), name: 'k', grant: [] };
    expect(standIn.applyChange('digitalocean_spaces_key', null, standIn.planChange('digitalocean_spaces_key', null, key, key).planned, key).diagnostics).toEqual([]);
  });

  test('GIVEN the credentials in the environment only THEN they count, as the EnvDefaultFuncs read them', () => {
    const standIn = new ProviderStandIn(schema);
    standIn.configure({ spaces_access_id: null, spaces_secret_key: null }, { SPACES_ACCESS_KEY_ID: 'id', SPACES_SECRET_ACCESS_KEY: 'secret' });
    const planned = standIn.planChange('digitalocean_spaces_bucket_object', null, object, object).planned;
    const applied = standIn.applyChange('digitalocean_spaces_bucket_object', null, planned, object);
    expect(applied.diagnostics).toEqual([]);
    expect(applied.state).toMatchObject({ etag: createHash('md5').update('one').digest('hex'), version_id: '', content_type: 'binary/octet-stream', id: 'bundle.tar.gz' });
  });

  test('GIVEN an applied object WHEN etag itself is configured to a new value THEN version_id is unknown; WHEN only the content changes THEN neither is', () => {
    const standIn = new ProviderStandIn(schema);
    standIn.configure({}, { SPACES_ACCESS_KEY_ID: 'id', SPACES_SECRET_ACCESS_KEY: 'secret' });
    const prior = standIn.applyChange('digitalocean_spaces_bucket_object', null, standIn.planChange('digitalocean_spaces_bucket_object', null, object, object).planned, object).state as { [k: string]: Value };
    const content = { ...object, content_base64: Buffer.from('two').toString('base64') };
    const byContent = standIn.planChange('digitalocean_spaces_bucket_object', prior, { ...content, etag: prior.etag, version_id: prior.version_id, content_type: prior.content_type, id: prior.id }, content);
    expect(byContent.requiresReplace).toEqual([]);
    expect(byContent.planned).toMatchObject({ etag: prior.etag, version_id: '' });
    const etag = { ...object, etag: 'ffff' };
    const byEtag = standIn.planChange('digitalocean_spaces_bucket_object', prior, { ...etag, version_id: prior.version_id, content_type: prior.content_type, id: prior.id }, etag);
    expect(byEtag.planned).toMatchObject({ etag: 'ffff', version_id: UNKNOWN });
  });

  test('GIVEN content_base64 that is not standard base64 THEN the apply fails as Go\'s decoder does', () => {
    const standIn = new ProviderStandIn(schema);
    standIn.configure({ spaces_access_id: 'id', spaces_secret_key: 'secret' }, {});
    const bad = { ...object, content_base64: 'b25l*' };
    const result = standIn.applyChange('digitalocean_spaces_bucket_object', null, standIn.planChange('digitalocean_spaces_bucket_object', null, bad, bad).planned, bad);
    expect(result.diagnostics.map((d) => d.summary)).toEqual(['error decoding content_base64: illegal base64 data at input byte 4']);
  });
});

test('GIVEN the bindings THEN the schema has the resources the service uses, with the provider source\'s computed and ForceNew marks', () => {
  const record = schema.resources.digitalocean_record.block.attributes;
  expect(record.type).toMatchObject({ required: true, computed: false });
  expect(record.ttl).toMatchObject({ optional: true, computed: true });
  expect(record.fqdn).toMatchObject({ computed: true, optional: false });
  const droplet = schema.resources.digitalocean_droplet;
  expect(droplet.version).toBe(1);
  expect(droplet.block.attributes.user_data.semantics).toMatchObject({ forceNew: true, stateFunc: 'util.HashStringStateFunc' });
  expect(droplet.block.attributes.ipv6_address).toMatchObject({ optional: true, computed: true });
  expect(schema.resources.digitalocean_firewall.block.blocks.inbound_rule).toMatchObject({ nesting: 'set' });
  for (const type of ['digitalocean_reserved_ipv6', 'digitalocean_reserved_ipv6_assignment', 'digitalocean_project_resources', 'digitalocean_domain', 'digitalocean_volume']) {
    expect(schema.resources[type]).toBeDefined();
  }
});

test('GIVEN an argument the provider describes (its registry link then in the jsii remarks) THEN it is still required', () => {
  expect(schema.resources.digitalocean_spaces_bucket.block.attributes.name).toMatchObject({ required: true, optional: false });
  expect(schema.resources.digitalocean_spaces_key.block.attributes.name).toMatchObject({ required: true, optional: false });
  expect(schema.resources.digitalocean_spaces_key.block.attributes.secret_key).toMatchObject({ computed: true, sensitive: true });
  // Terraform refuses the whole schema if any attribute is both required and computed.
  const conflicts: string[] = [];
  const walk = (where: string, block: BlockSchema) => {
    for (const a of Object.values(block.attributes)) if (a.required && (a.computed || a.optional)) conflicts.push(`${where}.${a.name}`);
    for (const b of Object.values(block.blocks)) walk(`${where}.${b.name}`, b.block);
  };
  for (const [type, resource] of Object.entries({ ...schema.resources, ...schema.dataSources })) walk(type, resource.block);
  expect(conflicts).toEqual([]);
});

test.each([
  [{ kind: 'oneOf', values: ['A', 'SRV'] } as const, 'SPF', /expected type to be one of \["A","SRV"\], got SPF/],
  [{ kind: 'oneOf', values: ['A', 'SRV'] } as const, 'SRV', undefined],
  [{ kind: 'intBetween', min: 0, max: 65535 } as const, 70000, /in the range \(0 - 65535\), got 70000/],
  [{ kind: 'intAtLeast', min: 1 } as const, 0, /at least \(1\), got 0/],
  [{ kind: 'isIPv4' } as const, '2001:db8::1', /valid IPv4 address/],
  [{ kind: 'noZeroValues' } as const, '', /must not be zero/],
  [{ kind: 'regex', pattern: '^[a-z]+$', message: 'lowercase only' } as const, 'ABC', /lowercase only/],
  [{ kind: 'oneOf', values: ['A'] } as const, UNKNOWN, undefined],
])('GIVEN the validation %j WHEN given %p THEN it says %p', (rule, value, message) => {
  const result = validationFailure(rule, 'type', value as Value);
  if (message) expect(result).toMatch(message);
  else expect(result).toBeUndefined();
});

describe('plans as SDKv2 makes them', () => {
  const standIn = new ProviderStandIn(schema);
  const record = { domain: 'example.net', type: 'A', name: '@', value: '192.0.2.1', ttl: null, priority: null, weight: null, port: null, flags: null, tag: null, id: null, fqdn: null };

  test('GIVEN a new record THEN computed attributes are unknown and the record is planned as configured', () => {
    const plan = standIn.planChange('digitalocean_record', null, record, record);
    expect(plan.planned).toMatchObject({ id: UNKNOWN, fqdn: UNKNOWN, ttl: UNKNOWN, value: '192.0.2.1' });
  });

  test('GIVEN an applied record read back with zeros WHEN planned unchanged THEN the plan is the prior state (no diff)', () => {
    const applied = standIn.applyChange('digitalocean_record', null, standIn.planChange('digitalocean_record', null, record, record).planned, record).state as { [k: string]: unknown };
    expect(applied).toMatchObject({ port: 0, weight: 0, tag: '', ttl: 1800 });
    const proposed = { ...record, id: applied.id, fqdn: applied.fqdn, ttl: applied.ttl };
    const again = standIn.planChange('digitalocean_record', applied as never, proposed as never, record);
    expect(again.planned).toBe(applied);
    expect(again.requiresReplace).toEqual([]);
  });

  test('GIVEN an applied record WHEN its type changes THEN type forces replacement', () => {
    const applied = standIn.applyChange('digitalocean_record', null, standIn.planChange('digitalocean_record', null, record, record).planned, record).state as { [k: string]: unknown };
    const changed = { ...record, type: 'AAAA', value: '2001:db8::1' };
    const plan = standIn.planChange('digitalocean_record', applied as never, { ...changed, id: applied.id, fqdn: applied.fqdn, ttl: applied.ttl } as never, changed);
    expect(plan.requiresReplace).toEqual([['type']]);
    expect(plan.planned).toMatchObject({ id: UNKNOWN });
  });

  test('GIVEN a droplet WHEN planned THEN user_data is planned as its SHA-1, as the provider stores it', () => {
    const attributes = Object.fromEntries(Object.keys(schema.resources.digitalocean_droplet.block.attributes).map((k) => [k, null]));
    const config = { ...attributes, name: 'x', image: 'debian-12-x64', size: 's-1vcpu-1gb', region: 'ams3', user_data: '#cloud-config\n', backup_policy: [], timeouts: null };
    const plan = standIn.planChange('digitalocean_droplet', null, config as never, config as never);
    expect((plan.planned as { user_data: string }).user_data).toBe(createHash('sha1').update('#cloud-config\n').digest('hex'));
    expect(plan.planned).toMatchObject({ resize_disk: true, ipv6: false, graceful_shutdown: false });
  });
});
