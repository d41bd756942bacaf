/**
 * The DigitalOcean provider's schema for the stand-in, generated from two sources:
 * - the cdktf bindings in node_modules (@cdktf/provider-digitalocean, generated from the real
 *   provider's schema): which resources exist, their attribute names, types, list/set/map and
 *   block nesting, and which arguments are required;
 * - provider-semantics.json, extracted from the provider's Go source at the same version: what the
 *   bindings cannot say (optional+computed, ForceNew, defaults, validation, diff suppression).
 *
 * The bindings are generated code of one regular shape, so the generated JavaScript is read as text:
 * `synthesizeHclAttributes()` lists every configurable attribute with its type, and the getters
 * name every attribute, computed ones included.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { CtyType, Value } from './cty';

export type Validation =
  | { readonly kind: 'oneOf'; readonly values: readonly string[]; readonly ignoreCase?: boolean }
  | { readonly kind: 'intBetween'; readonly min: number; readonly max: number }
  | { readonly kind: 'intAtLeast'; readonly min: number }
  | { readonly kind: 'intAtMost'; readonly max: number }
  | { readonly kind: 'notEmpty' | 'noZeroValues' | 'isIPv4' | 'isIPv6' | 'isIP' }
  | { readonly kind: 'stringLenBetween'; readonly min: number; readonly max: number }
  | { readonly kind: 'regex'; readonly pattern: string; readonly message?: string }
  | { readonly kind: 'unresolved'; readonly text: string };

/** One attribute's semantics as extracted from the Go source (provider-semantics.json). */
export interface AttributeSemantics {
  readonly type?: string;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly forceNew?: boolean;
  readonly sensitive?: boolean;
  readonly default?: Value;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly validate?: readonly Validation[];
  readonly diffSuppress?: string;
  readonly stateFunc?: string;
  /** SDKv2's DefaultFunc: for the provider's arguments, the environment variables read when unset. */
  readonly defaultFunc?: { readonly kind: string; readonly vars?: readonly string[]; readonly default?: Value };
  readonly conflictsWith?: readonly string[];
  readonly attributes?: { readonly [name: string]: AttributeSemantics };
}

export interface ResourceSemantics {
  readonly file?: string;
  readonly schemaVersion?: number;
  readonly attributes: { readonly [name: string]: AttributeSemantics };
  readonly rules?: readonly { readonly id: string; readonly kind: string; readonly summary: string; readonly where: string }[];
}

export interface ProviderSemantics {
  readonly source: { readonly repository: string; readonly tag: string; readonly commit: string };
  readonly provider?: ResourceSemantics;
  readonly resources: { readonly [type: string]: ResourceSemantics };
  readonly dataSources?: { readonly [type: string]: ResourceSemantics };
}

export interface AttributeSchema {
  readonly name: string;
  readonly type: CtyType;
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
  readonly sensitive: boolean;
  readonly semantics: AttributeSemantics;
}

export interface NestedBlockSchema {
  readonly name: string;
  readonly nesting: 'single' | 'list' | 'set';
  readonly block: BlockSchema;
  readonly minItems: number;
  readonly maxItems: number;
  readonly semantics: AttributeSemantics;
}

export interface BlockSchema {
  readonly attributes: { readonly [name: string]: AttributeSchema };
  readonly blocks: { readonly [name: string]: NestedBlockSchema };
}

export interface ResourceSchema {
  readonly typeName: string;
  readonly version: number;
  readonly block: BlockSchema;
  readonly semantics?: ResourceSemantics;
}

export interface ProviderSchema {
  readonly version: string;
  readonly provider: ResourceSchema;
  readonly resources: { readonly [type: string]: ResourceSchema };
  readonly dataSources: { readonly [type: string]: ResourceSchema };
}

export const BINDINGS_PACKAGE = '@cdktf/provider-digitalocean';

export function bindingsDirectory(): string {
  return join(require.resolve(`${BINDINGS_PACKAGE}/package.json`), '..');
}

/** The provider version the bindings were generated from (`cdktf.provider.version` of their package.json). */
export function bindingsProviderVersion(): string {
  const pkg = JSON.parse(readFileSync(join(bindingsDirectory(), 'package.json'), 'utf8')) as { cdktf: { provider: { version: string } } };
  return pkg.cdktf.provider.version;
}

export function loadSemantics(): ProviderSemantics {
  // Beside this file, in the repository and in the installed stand-in alike.
  return JSON.parse(readFileSync(join(__dirname, 'provider-semantics.json'), 'utf8')) as ProviderSemantics;
}

/** An attribute of generated code: `name: { value: …, isBlock: …, type: "…", storageClassType: "…" }`. */
interface HclAttribute {
  readonly name: string;
  readonly value: string;
  readonly isBlock: boolean;
  readonly type: string;
  readonly storageClassType: string;
}

const HCL_ATTRIBUTE = /(\w+): \{\s*value: ([^\n]*),\s*isBlock: (true|false),\s*type: "(\w+)",\s*storageClassType: "(\w+)",\s*\}/g;

function hclAttributes(body: string): HclAttribute[] {
  return [...body.matchAll(HCL_ATTRIBUTE)].map((m) => ({ name: m[1], value: m[2], isBlock: m[3] === 'true', type: m[4], storageClassType: m[5] }));
}

/** The text of a top-level `function name(` or `class name ` in generated code, to its closing brace at column 0. */
function topLevel(source: string, opening: string): string {
  const start = source.indexOf(opening);
  if (start < 0) throw new Error(`bindings: "${opening}" not found`);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end < 0 ? undefined : end);
}

function primitive(storageClassType: string): CtyType | undefined {
  switch (storageClassType) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return undefined;
  }
}

/** The type of a configurable, non-block attribute. */
function configurableType(attribute: HclAttribute): CtyType {
  const simple = primitive(attribute.storageClassType);
  if (attribute.type === 'simple' && simple) return simple;
  const element = primitive(attribute.storageClassType.replace(/(List|Map)$/, ''));
  if (!element) throw new Error(`bindings: attribute ${attribute.name} has storage class ${attribute.storageClassType}`);
  if (attribute.type === 'list' || attribute.type === 'set') return [attribute.type, element];
  if (attribute.type === 'map') return ['map', element];
  throw new Error(`bindings: attribute ${attribute.name} has type ${attribute.type}`);
}

const GETTER_KINDS: { readonly [kind: string]: CtyType } = {
  String: 'string',
  Number: 'number',
  Boolean: 'bool',
  List: ['list', 'string'],
  NumberList: ['list', 'number'],
  BooleanList: ['list', 'bool'],
  StringMap: ['map', 'string'],
  NumberMap: ['map', 'number'],
  BooleanMap: ['map', 'bool'],
};

/** Every attribute a class's getters read, with its type (computed ones included). */
function getterAttributes(classBody: string, source: string, depth: number): Map<string, CtyType> {
  const found = new Map<string, CtyType>();
  for (const m of classBody.matchAll(/get \w+\(\) \{\s*return ([^\n]*);/g)) {
    const expression = m[1];
    const read = /get(\w*)Attribute\('(\w+)'\)/.exec(expression);
    if (!read) continue;
    let type = GETTER_KINDS[read[1]];
    if (!type) continue;
    if (expression.includes('Fn.tolist') && Array.isArray(type) && type[0] === 'list') type = ['set', type[1]];
    found.set(read[2], type);
  }
  // Complex computed attributes: `this._pendingChanges = new FirewallPendingChangesList(this, "pending_changes", false)`.
  for (const m of classBody.matchAll(/new (\w+)\(this, "(\w+)"(?:, (true|false))?\)/g)) {
    if (depth > 4) break;
    const className = m[1];
    const referenceClass = className.replace(/List$|OutputReference$|Map$/, 'OutputReference');
    const referenceBody = source.includes(`class ${referenceClass} `) ? topLevel(source, `class ${referenceClass} `) : undefined;
    if (!referenceBody) continue;
    const fields = getterAttributes(referenceBody, source, depth + 1);
    const object: CtyType = ['object', Object.fromEntries(fields)];
    found.set(m[2], className.endsWith('Map') ? ['map', object] : [m[3] === 'true' ? 'set' : 'list', object]);
  }
  return found;
}

/** The Terraform names of a jsii struct's properties, optional or not. */
function structOptionality(jsii: JsiiTypes, structName: string): Map<string, boolean> {
  const entry = Object.entries(jsii).find(([fqn]) => fqn.endsWith(`.${structName}`));
  const result = new Map<string, boolean>();
  for (const property of entry?.[1].properties ?? []) {
    // The registry link is in the summary, or in the remarks when the provider gives a description.
    const tfName = /#(\w+) \w+#\w+\}/.exec(`${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`)?.[1];
    if (tfName) result.set(tfName, property.optional === true);
  }
  return result;
}

type JsiiTypes = { readonly [fqn: string]: { readonly properties?: readonly { readonly name: string; readonly optional?: boolean; readonly docs?: { readonly summary?: string; readonly remarks?: string } }[] } };

function buildBlock(
  source: string,
  classBody: string | undefined,
  hclBody: string,
  structName: string,
  jsii: JsiiTypes,
  semantics: { readonly [name: string]: AttributeSemantics },
): BlockSchema {
  const attributes: { [name: string]: AttributeSchema } = {};
  const blocks: { [name: string]: NestedBlockSchema } = {};
  const optionality = structOptionality(jsii, structName);
  const configurable = hclAttributes(hclBody);
  for (const attribute of configurable) {
    const meaning = semantics[attribute.name] ?? {};
    if (attribute.isBlock) {
      const fn = /(\w+)ToHclTerraform/.exec(attribute.value)?.[1];
      if (!fn) throw new Error(`bindings: block ${attribute.name} has no converter`);
      const nestedStruct = fn.charAt(0).toUpperCase() + fn.slice(1);
      const nestedHcl = topLevel(source, `function ${fn}ToHclTerraform(`);
      const referenceClass = `${nestedStruct}OutputReference`;
      const nestedClass = source.includes(`class ${referenceClass} `) ? topLevel(source, `class ${referenceClass} `) : undefined;
      const block = buildBlock(source, nestedClass, nestedHcl, nestedStruct, jsii, meaning.attributes ?? {});
      const nesting = attribute.type === 'struct' ? 'single' : attribute.type === 'set' ? 'set' : 'list';
      const required = optionality.get(attribute.name) === false;
      blocks[attribute.name] = {
        name: attribute.name,
        nesting,
        block,
        // SDKv2 turns a required list or set into one of at least one item.
        minItems: meaning.minItems ?? (required && nesting !== 'single' ? 1 : 0),
        maxItems: meaning.maxItems ?? 0,
        semantics: meaning,
      };
      continue;
    }
    const optional = optionality.get(attribute.name) ?? true;
    attributes[attribute.name] = {
      name: attribute.name,
      type: configurableType(attribute),
      required: !optional,
      optional,
      // The bindings cannot tell optional from optional+computed; the Go source can. SDKv2 adds
      // `id` to every resource as optional+computed (a block's own required `id` is not).
      computed: optional && (meaning.computed ?? attribute.name === 'id'),
      sensitive: meaning.sensitive ?? false,
      semantics: meaning,
    };
  }
  if (classBody) {
    for (const [name, type] of getterAttributes(classBody, source, 0)) {
      if (attributes[name] || blocks[name]) continue;
      const meaning = semantics[name] ?? {};
      attributes[name] = { name, type, required: false, optional: false, computed: true, sensitive: meaning.sensitive ?? false, semantics: meaning };
    }
  }
  return { attributes, blocks };
}

function readResource(source: string, className: string, typeName: string, jsii: JsiiTypes, semantics: ResourceSemantics | undefined): ResourceSchema {
  const classBody = topLevel(source, `class ${className} extends`);
  const hclStart = classBody.indexOf('synthesizeHclAttributes()');
  const hclBody = hclStart < 0 ? '' : classBody.slice(hclStart);
  const getters = hclStart < 0 ? classBody : classBody.slice(0, hclStart);
  return {
    typeName,
    version: semantics?.schemaVersion ?? 0,
    block: buildBlock(source, getters, hclBody, `${className}Config`, jsii, semantics?.attributes ?? {}),
    semantics,
  };
}

function javascriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? javascriptFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** The whole provider schema: every resource and data source the bindings have. */
export function providerSchemaFromBindings(semantics: ProviderSemantics = loadSemantics()): ProviderSchema {
  const dir = bindingsDirectory();
  const jsii = (JSON.parse(readFileSync(join(dir, '.jsii'), 'utf8')) as { types: JsiiTypes }).types;
  const resources: { [type: string]: ResourceSchema } = {};
  const dataSources: { [type: string]: ResourceSchema } = {};
  let provider: ResourceSchema | undefined;
  for (const entry of readdirSync(join(dir, 'lib'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    // Large resources keep their structs in sub-modules (index-structs/): read them all as one text.
    const source = javascriptFiles(join(dir, 'lib', entry.name))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const declared = /\n(\w+)\.tfResourceType = "(\w+)";/.exec(source);
    if (!declared) continue;
    const [, className, typeName] = declared;
    if (entry.name === 'provider') {
      provider = readResource(source, className, typeName, jsii, semantics.provider);
    } else if (entry.name.startsWith('data-')) {
      dataSources[typeName] = readResource(source, className, typeName, jsii, semantics.dataSources?.[typeName]);
    } else {
      resources[typeName] = readResource(source, className, typeName, jsii, semantics.resources[typeName]);
    }
  }
  if (!provider) throw new Error(`bindings: ${BINDINGS_PACKAGE} has no provider class`);
  return { version: bindingsProviderVersion(), provider, resources, dataSources };
}

/** The object type a block's values have on the wire. */
export function blockType(block: BlockSchema): CtyType {
  const fields: { [name: string]: CtyType } = {};
  for (const a of Object.values(block.attributes)) fields[a.name] = a.type;
  for (const b of Object.values(block.blocks)) {
    const inner = blockType(b.block);
    fields[b.name] = b.nesting === 'single' ? inner : [b.nesting, inner];
  }
  return ['object', fields];
}
