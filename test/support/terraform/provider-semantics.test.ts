/**
 * provider-semantics.json (generated from the provider's Go source by extract-semantics.ts) must
 * describe the same provider as the cdktf bindings the package is built against: the same provider
 * version, the same configurable attributes with the same types, and the same required/optional
 * split. When the bindings move to a new provider release these fail until the data is regenerated
 * from the matching tag. A few facts the stand-in relies on are pinned as well.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { REQUIRED_DATA_SOURCES, REQUIRED_RESOURCES } from './extract-semantics';

type Kind = 'string' | 'number' | 'bool' | 'list' | 'set' | 'map';

interface Attribute {
  type: Kind;
  elem?: 'string' | 'number' | 'bool' | 'resource';
  required?: true;
  optional?: true;
  computed?: true;
  forceNew?: true;
  default?: unknown;
  defaultFunc?: { kind: string; default?: unknown };
  stateFunc?: string;
  diffSuppress?: string;
  validate?: { kind: string; values?: unknown[] }[];
  attributes?: Record<string, Attribute>;
}

interface Block {
  file?: string;
  attributes: Record<string, Attribute>;
  rules?: { id: string; kind: string; summary: string; where: string }[];
}

interface Semantics {
  source: { repository: string; tag: string; commit: string };
  provider: Block;
  resources: Record<string, Block>;
  dataSources: Record<string, Block>;
}

const SEMANTICS: Semantics = JSON.parse(readFileSync(path.join(__dirname, 'provider-semantics.json'), 'utf8'));
const BINDINGS = path.dirname(require.resolve('@cdktf/provider-digitalocean/package.json'));
const PACKAGE = JSON.parse(readFileSync(path.join(BINDINGS, 'package.json'), 'utf8'));

interface JsiiProperty {
  name: string;
  optional?: boolean;
  type: { primitive?: string; fqn?: string; collection?: JsiiCollection; union?: { types: JsiiProperty['type'][] } };
}
interface JsiiCollection {
  kind: string;
  elementtype: JsiiProperty['type'];
}
interface JsiiType {
  kind: string;
  namespace?: string;
  properties?: JsiiProperty[];
  initializer?: { parameters?: { name: string; type: { fqn?: string } }[] };
}
const JSII_TYPES: Record<string, JsiiType> = JSON.parse(readFileSync(path.join(BINDINGS, '.jsii'), 'utf8')).types;

/** The resources this package deploys and the data sources it may read: each must be fully described. */
const RESOURCES: readonly string[] = REQUIRED_RESOURCES;
const DATA_SOURCES: readonly string[] = REQUIRED_DATA_SOURCES;

// ── what the bindings say ──

/** How the generated code converts one attribute: a primitive, a collection of primitives, or a nested block. */
type BindingAttr =
  | { kind: 'string' | 'number' | 'bool' }
  | { kind: 'list' | 'map'; elem: 'string' | 'number' | 'bool' }
  | { kind: 'block'; struct: string };

const PRIMITIVE: Record<string, 'string' | 'number' | 'bool'> = { string: 'string', number: 'number', boolean: 'bool' };

function parseMapper(expr: string, where: string): BindingAttr {
  let m = /^cdktf\.(string|number|boolean)ToTerraform\(/.exec(expr);
  if (m) return { kind: PRIMITIVE[m[1]] };
  m = /^cdktf\.listMapper\(cdktf\.(string|number|boolean)ToTerraform, false\)/.exec(expr);
  if (m) return { kind: 'list', elem: PRIMITIVE[m[1]] };
  m = /^cdktf\.hashMapper\(cdktf\.(string|number|boolean)ToTerraform\)/.exec(expr);
  if (m) return { kind: 'map', elem: PRIMITIVE[m[1]] };
  m = /^cdktf\.listMapper\((\w+)ToTerraform, true\)/.exec(expr) ?? /^(\w+)ToTerraform\(/.exec(expr);
  if (m) return { kind: 'block', struct: m[1] };
  throw new Error(`${where}: unknown converter ${expr}`);
}

/** `key: converter(...)` lines of a returned object literal. */
function parseAttributeLines(body: string, where: string): Map<string, BindingAttr> {
  const out = new Map<string, BindingAttr>();
  for (const line of body.split('\n')) {
    const m = /^\s*([a-z0-9_]+): (.+),$/.exec(line);
    if (m) out.set(m[1], parseMapper(m[2], `${where} ${m[1]}`));
  }
  if (!out.size) throw new Error(`${where}: no attributes found`);
  return out;
}

interface BindingModule {
  dir: string;
  source: string;
  namespace: string;
  attributes: Map<string, BindingAttr>;
  configFqn: string;
}

function bindingModule(dir: string, tfType: string): BindingModule {
  const source = readFileSync(path.join(BINDINGS, 'lib', dir, 'index.js'), 'utf8');
  expect(source).toContain(`.tfResourceType = "${tfType}";`);
  const m = /synthesizeAttributes\(\) \{\n\s*return \{\n([\s\S]*?)\n\s*\};\n\s*\}/.exec(source);
  if (!m) throw new Error(`${dir}: synthesizeAttributes() not found`);
  const namespace = dir.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const cls = Object.values(JSII_TYPES).find((t) => t.kind === 'class' && t.namespace === namespace && t.initializer?.parameters?.some((p) => p.name === 'config'));
  const configFqn = cls?.initializer?.parameters?.find((p) => p.name === 'config')?.type.fqn;
  if (!configFqn) throw new Error(`${dir}: no config interface in .jsii`);
  return { dir, source, namespace, attributes: parseAttributeLines(m[1], dir), configFqn };
}

function structAttributes(module: BindingModule, struct: string): Map<string, BindingAttr> {
  const m = new RegExp(`function ${struct}ToTerraform\\(struct\\) \\{[\\s\\S]*?return \\{\\n([\\s\\S]*?)\\n    \\};\\n\\}`).exec(module.source);
  if (!m) throw new Error(`${module.dir}: ${struct}ToTerraform not found`);
  return parseAttributeLines(m[1], `${module.dir} ${struct}`);
}

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const upperFirst = (s: string) => s[0].toUpperCase() + s.slice(1);

function jsiiProperties(fqn: string): Map<string, JsiiProperty> {
  const type = JSII_TYPES[fqn];
  if (!type?.properties) throw new Error(`${fqn} not in .jsii`);
  return new Map(type.properties.map((p) => [p.name, p]));
}

// ── comparison ──

const computedOnly = (a: Attribute) => !!a.computed && !a.required && !a.optional;

/**
 * Whether Terraform sees the attribute as required. SDK v2 (core_schema.go) turns a Required
 * attribute into an optional one when its DefaultFunc yields a value, as the provider's
 * api_endpoint does with its environment default.
 */
const effectivelyRequired = (a: Attribute) => !!a.required && !(a.defaultFunc?.kind === 'env' && a.defaultFunc.default !== null);

/**
 * Attributes the bindings have that the Go schema does not declare: SDK v2 adds `id` to every
 * resource (core_schema.go) unless the schema has its own, `timeouts` comes from Resource.Timeouts
 * (which provider-semantics.json does not model), and `alias` is the provider meta-argument.
 */
function implicit(name: string, semantics: Record<string, Attribute>, topLevel: boolean): boolean {
  if (!topLevel) return false;
  return (name === 'id' && !semantics.id) || name === 'timeouts' || name === 'alias';
}

interface Mismatch {
  where: string;
  problem: string;
}

function compare(
  module: BindingModule,
  bindings: Map<string, BindingAttr>,
  semantics: Record<string, Attribute>,
  jsiiFqn: string,
  where: string,
  topLevel: boolean,
): Mismatch[] {
  const problems: Mismatch[] = [];
  const props = jsiiProperties(jsiiFqn);
  for (const [name, binding] of bindings) {
    if (implicit(name, semantics, topLevel)) continue;
    const at = `${where}.${name}`;
    const attr = semantics[name];
    if (!attr) {
      problems.push({ where: at, problem: 'in the bindings but not in provider-semantics.json' });
      continue;
    }
    if (computedOnly(attr)) problems.push({ where: at, problem: 'configurable in the bindings but computed-only in the Go schema' });
    if (binding.kind === 'block') {
      if ((attr.type !== 'list' && attr.type !== 'set') || attr.elem !== 'resource' || !attr.attributes) {
        problems.push({ where: at, problem: `a block in the bindings but ${attr.type} of ${attr.elem} in the Go schema` });
      } else {
        const structFqn = `@cdktf/provider-digitalocean.${module.namespace}.${upperFirst(binding.struct)}`;
        problems.push(...compare(module, structAttributes(module, binding.struct), attr.attributes, structFqn, at, false));
      }
    } else if (binding.kind === 'list') {
      if ((attr.type !== 'list' && attr.type !== 'set') || attr.elem !== binding.elem) problems.push({ where: at, problem: `list of ${binding.elem} in the bindings but ${attr.type} of ${attr.elem}` });
    } else if (binding.kind === 'map') {
      if (attr.type !== 'map' || attr.elem !== binding.elem) problems.push({ where: at, problem: `map of ${binding.elem} in the bindings but ${attr.type} of ${attr.elem}` });
    } else if (attr.type !== binding.kind) {
      problems.push({ where: at, problem: `${binding.kind} in the bindings but ${attr.type}` });
    }
    const prop = props.get(camel(name));
    if (!prop) {
      problems.push({ where: at, problem: `no property ${camel(name)} in ${jsiiFqn}` });
      continue;
    }
    const jsiiOptional = prop.optional === true;
    if (jsiiOptional === effectivelyRequired(attr)) problems.push({ where: at, problem: `${jsiiOptional ? 'optional' : 'required'} in the bindings but ${attr.required ? 'required' : 'not required'} in the Go schema` });
    if (jsiiOptional && !attr.optional && !attr.required) problems.push({ where: at, problem: 'optional in the bindings but lacks "optional": true' });
  }
  for (const [name, attr] of Object.entries(semantics)) {
    if (computedOnly(attr) || bindings.has(name)) continue;
    problems.push({ where: `${where}.${name}`, problem: 'configurable in the Go schema but not in the bindings' });
  }
  return problems;
}

function check(dir: string, tfType: string, block: Block | undefined, label: string): Mismatch[] {
  expect(block).toBeDefined();
  const module = bindingModule(dir, tfType);
  return compare(module, module.attributes, (block as Block).attributes, module.configFqn, label, true);
}

// ── tests ──

describe('provider-semantics.json source', () => {
  test('is the provider release the bindings were generated from', () => {
    expect(SEMANTICS.source.repository).toBe('digitalocean/terraform-provider-digitalocean');
    expect(SEMANTICS.source.tag).toBe('v2.71.0');
    expect(PACKAGE.cdktf.provider.name).toBe('registry.terraform.io/digitalocean/digitalocean');
    expect(SEMANTICS.source.tag).toBe(`v${PACKAGE.cdktf.provider.version}`);
    expect(SEMANTICS.source.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('provider-semantics.json agrees with the cdktf bindings', () => {
  test.each(RESOURCES)('resource %s', (name) => {
    expect(check(name.replace(/^digitalocean_/, '').replace(/_/g, '-'), name, SEMANTICS.resources[name], name)).toEqual([]);
  });

  test.each(DATA_SOURCES)('data source %s', (name) => {
    expect(check(`data-${name.replace(/_/g, '-')}`, name, SEMANTICS.dataSources[name], `data.${name}`)).toEqual([]);
  });

  test('provider configuration', () => {
    expect(check('provider', 'digitalocean', SEMANTICS.provider, 'provider')).toEqual([]);
  });
});

describe('provider-semantics.json rules', () => {
  test.each(RESOURCES)('%s has rules that point into the Go source', (name) => {
    const rules = SEMANTICS.resources[name].rules ?? [];
    expect(rules.length).toBeGreaterThan(0);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.where).toMatch(/^digitalocean\/[a-z0-9_/]+\.go:\d+$/);
      expect(rule.summary.length).toBeGreaterThan(20);
    }
  });
});

describe('facts the provider stand-in relies on', () => {
  const resource = (name: string) => SEMANTICS.resources[name].attributes;
  const ruleIds = (name: string) => (SEMANTICS.resources[name].rules ?? []).map((r) => r.id);

  test('record type accepts SRV and CAA, and domain and type force replacement', () => {
    const record = resource('digitalocean_record');
    const oneOf = record.type.validate?.find((v) => v.kind === 'oneOf');
    expect(oneOf?.values).toEqual(expect.arrayContaining(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA']));
    expect(record.domain.forceNew).toBe(true);
    expect(record.type.forceNew).toBe(true);
    expect(record.value.forceNew).toBeUndefined();
    expect(ruleIds('digitalocean_record')).toEqual(expect.arrayContaining(['record.srv-requires-priority-weight', 'record.srv-requires-port', 'record.read-fqdn-dot']));
  });

  test('droplet user_data is ForceNew and stored through a StateFunc', () => {
    const userData = resource('digitalocean_droplet').user_data;
    expect(userData.forceNew).toBe(true);
    expect(userData.stateFunc).toBe('util.HashStringStateFunc');
  });

  test('droplet image and region force replacement, size does not', () => {
    const droplet = resource('digitalocean_droplet');
    expect(droplet.image.forceNew).toBe(true);
    expect(droplet.region.forceNew).toBe(true);
    expect(droplet.size.forceNew).toBeUndefined();
    expect(ruleIds('digitalocean_droplet')).toEqual(expect.arrayContaining(['droplet.update-resize', 'droplet.ipv6-disable-replaces']));
  });

  test('volume size is resized in place and cannot shrink', () => {
    const volume = resource('digitalocean_volume');
    expect(volume.size.forceNew).toBeUndefined();
    expect(volume.size.required).toBe(true);
    expect(ruleIds('digitalocean_volume')).toContain('volume.no-shrink');
  });

  test('the provider api_endpoint defaults from the environment', () => {
    const endpoint = SEMANTICS.provider.attributes.api_endpoint;
    expect(endpoint.defaultFunc).toEqual({ kind: 'env', vars: ['DIGITALOCEAN_API_URL'], default: 'https://api.digitalocean.com' });
  });
});
