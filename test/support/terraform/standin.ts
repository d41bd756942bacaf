/**
 * What the stand-in DigitalOcean provider does with each call, as pure functions of the schema
 * (provider-schema.ts) and the values Terraform sends. It behaves as the real provider, an SDKv2
 * provider, behaves, with the semantics extracted from its Go source:
 * - validation: enum values, ranges and the like (`validate` in provider-semantics.json), plus the
 *   checks the Go code makes in CustomizeDiff (the `rules` there, implemented in RULES below);
 * - plans: defaults filled in, StateFuncs applied (user_data is stored as a hash), DiffSuppressFuncs
 *   honoured, a change to a ForceNew attribute requires replacement, and a replacement plans every
 *   computed attribute anew ("known after apply"), as SDKv2 does;
 * - apply: computed values made up (addresses from the documentation ranges), then normalised as
 *   the provider's Read would (record values gain a trailing dot).
 */
import { createHash, randomBytes, randomInt, randomUUID } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import { isIP, isIPv4, isIPv6 } from 'net';
import { containsUnknown, isObjectValue, isUnknown, UNKNOWN, Value, valuesEqual } from './cty';
import { AttributeSchema, AttributeSemantics, BlockSchema, NestedBlockSchema, ProviderSchema, ResourceSchema, Validation } from './provider-schema';

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly path?: readonly (string | number)[];
}

export interface PlannedChange {
  readonly planned: Value;
  /** Attribute paths whose change forces replacement. */
  readonly requiresReplace: readonly (readonly string[])[];
  readonly diagnostics: readonly Diagnostic[];
}

type ValueObject = { readonly [key: string]: Value };
type MutableObject = { [key: string]: Value };

const error = (summary: string, path?: readonly (string | number)[], detail?: string): Diagnostic => ({ severity: 'error', summary, detail, path });

// --- validation -------------------------------------------------------------------------------

/** The message SDKv2's validation helpers give for a value, or undefined when it passes. */
export function validationFailure(rule: Validation, name: string, value: Value): string | undefined {
  if (value === null || isUnknown(value)) return undefined;
  switch (rule.kind) {
    case 'oneOf': {
      const text = String(value);
      const ok = rule.values.some((v) => (rule.ignoreCase ? v.toLowerCase() === text.toLowerCase() : v === text));
      return ok ? undefined : `expected ${name} to be one of ${JSON.stringify(rule.values)}, got ${text}`;
    }
    case 'intBetween':
      return typeof value === 'number' && (value < rule.min || value > rule.max) ? `expected ${name} to be in the range (${rule.min} - ${rule.max}), got ${value}` : undefined;
    case 'intAtLeast':
      return typeof value === 'number' && value < rule.min ? `expected ${name} to be at least (${rule.min}), got ${value}` : undefined;
    case 'intAtMost':
      return typeof value === 'number' && value > rule.max ? `expected ${name} to be at most (${rule.max}), got ${value}` : undefined;
    case 'notEmpty':
      return value === '' ? `expected "${name}" to not be an empty string or whitespace` : undefined;
    case 'noZeroValues':
      return value === '' || value === 0 || value === false ? `${name} must not be zero` : undefined;
    case 'isIPv4':
      return isIPv4(String(value)) ? undefined : `expected ${name} to contain a valid IPv4 address, got: ${String(value)}`;
    case 'isIPv6':
      return isIPv6(String(value)) ? undefined : `expected ${name} to contain a valid IPv6 address, got: ${String(value)}`;
    case 'isIP':
      return isIP(String(value)) ? undefined : `expected ${name} to contain a valid IP, got: ${String(value)}`;
    case 'stringLenBetween': {
      const length = String(value).length;
      return length < rule.min || length > rule.max ? `expected length of ${name} to be in the range (${rule.min} - ${rule.max}), got ${String(value)}` : undefined;
    }
    case 'regex':
      return new RegExp(rule.pattern).test(String(value)) ? undefined : (rule.message ?? `invalid value for ${name} (must match ${rule.pattern})`);
    case 'unresolved':
      return undefined;
  }
}

function validateBlock(block: BlockSchema, value: Value, path: (string | number)[], out: Diagnostic[]): void {
  if (!isObjectValue(value)) return;
  for (const attribute of Object.values(block.attributes)) {
    const v = value[attribute.name] ?? null;
    // SDKv2's schema validation: what only the provider decides cannot be configured.
    if (attribute.computed && !attribute.optional && v !== null) out.push(error(`"${attribute.name}": this field cannot be set`, [...path, attribute.name]));
    for (const rule of attribute.semantics.validate ?? []) {
      const message = validationFailure(rule, attribute.name, v);
      if (message) out.push(error(`${message}`, [...path, attribute.name]));
    }
    if (v !== null && !isUnknown(v) && attribute.semantics.conflictsWith) {
      for (const other of attribute.semantics.conflictsWith) {
        const otherValue = value[other.split('.').pop() ?? other] ?? null;
        if (otherValue !== null && !(Array.isArray(otherValue) && otherValue.length === 0)) {
          out.push(error(`"${attribute.name}": conflicts with ${other}`, [...path, attribute.name]));
        }
      }
    }
  }
  for (const nested of Object.values(block.blocks)) {
    const v = value[nested.name] ?? null;
    const items = nested.nesting === 'single' ? (v === null ? [] : [v]) : Array.isArray(v) ? v : [];
    items.forEach((item, i) => validateBlock(nested.block, item, [...path, nested.name, i], out));
  }
}

// --- resource rules from the Go code (provider-semantics.json `rules`) ------------------------

interface RuleContext {
  readonly prior: ValueObject | null;
  readonly planned: MutableObject;
  readonly config: ValueObject;
  readonly diagnostics: Diagnostic[];
  readonly requiresReplace: string[][];
}


/**
 * Checks and plan changes the provider makes in code (CustomizeDiff), by resource type. Each names
 * the rule id of provider-semantics.json it implements; a test checks every id exists there, so a
 * rule that is renamed or dropped upstream does not silently go on being emulated.
 */
export const RULES: { readonly [type: string]: readonly { readonly id: string; readonly at: 'plan' | 'apply'; readonly apply: (c: RuleContext) => void }[] } = {
  digitalocean_record: [
    { id: 'record.mx-requires-priority', at: 'plan', apply: requireForType('MX', ['priority']) },
    { id: 'record.srv-requires-priority-weight', at: 'plan', apply: requireForType('SRV', ['priority', 'weight']) },
    { id: 'record.caa-requires-flags-tag', at: 'plan', apply: requireForType('CAA', ['flags', 'tag']) },
    // Create checks the port, not the plan: such a record plans and fails on apply.
    { id: 'record.srv-requires-port', at: 'apply', apply: requireForType('SRV', ['port']) },
  ],
  digitalocean_volume: [
    {
      id: 'volume.no-shrink',
      at: 'plan',
      apply: ({ prior, planned, diagnostics }) => {
        const before = prior?.size;
        const after = planned.size;
        if (typeof before === 'number' && typeof after === 'number' && after < before) {
          diagnostics.push(error('volumes `size` can only be expanded and not shrunk'));
        }
      },
    },
  ],
  digitalocean_firewall: [
    {
      id: 'firewall.needs-a-rule',
      at: 'plan',
      apply: ({ planned, diagnostics }) => {
        const rules = (name: string) => (Array.isArray(planned[name]) ? (planned[name] as readonly Value[]).length : 0);
        if (rules('inbound_rule') + rules('outbound_rule') === 0) diagnostics.push(error('At least one rule must be specified'));
      },
    },
    {
      id: 'firewall.port-range-unless-icmp',
      at: 'plan',
      apply: ({ planned, diagnostics }) => {
        for (const direction of ['inbound', 'outbound']) {
          const rules = planned[`${direction}_rule`];
          if (!Array.isArray(rules)) continue;
          const bad = rules.some((rule) => isObjectValue(rule) && rule.protocol !== 'icmp' && !isUnknown(rule.port_range ?? null) && !rule.port_range);
          if (bad) diagnostics.push(error(`\`port_range\` of ${direction} rules is required if protocol is \`tcp\` or \`udp\``));
        }
      },
    },
  ],
  digitalocean_reserved_ipv6: [
    {
      // The resource has no Update: a change the plan shows in place fails when applied.
      id: 'reserved-ipv6.no-update',
      at: 'apply',
      apply: ({ prior, planned, diagnostics }) => {
        if (prior && !valuesEqual(prior.droplet_id, planned.droplet_id)) {
          diagnostics.push(error('doesn\'t support update', undefined, 'digitalocean_reserved_ipv6 has no Update; assign the address with digitalocean_reserved_ipv6_assignment'));
        }
      },
    },
  ],
  digitalocean_spaces_bucket_object: [
    {
      // Only a change of etag itself (configured by the user) makes version_id unknown: a content
      // change with etag unset plans etag and version_id at their prior values.
      id: 'spaces-object.version-id-on-etag-change',
      at: 'plan',
      apply: ({ prior, planned }) => {
        if (prior && !valuesEqual(prior.etag, planned.etag)) planned.version_id = UNKNOWN;
      },
    },
  ],
  digitalocean_droplet: [
    {
      id: 'droplet.ipv6-disable-replaces',
      at: 'plan',
      apply: ({ prior, planned, requiresReplace }) => {
        if (prior?.ipv6 === true && planned.ipv6 === false) requiresReplace.push(['ipv6']);
      },
    },
    {
      // The API, not the provider, refuses a size whose disk is smaller than the droplet's: after a
      // resize with resize_disk the way back fails on apply, with the droplet powered on again.
      id: 'droplet.update-resize',
      at: 'apply',
      apply: ({ prior, planned, diagnostics }) => {
        if (!prior || valuesEqual(prior.size, planned.size) || typeof prior.disk !== 'number') return;
        const disk = hardware(planned.size).disk;
        if (disk < prior.disk) {
          diagnostics.push(error(`Error resizing droplet (${String(prior.id)}): POST https://api.digitalocean.com/v2/droplets/${String(prior.id)}/actions: 422 This size is not available because it has a smaller disk.`));
        }
      },
    },
    {
      id: 'droplet.ipv6-enable-marks-address-unknown',
      at: 'plan',
      apply: ({ prior, planned }) => {
        if (prior?.ipv6 === false && planned.ipv6 === true) planned.ipv6_address = UNKNOWN;
      },
    },
  ],
};

/** The record CustomizeDiff's check: for this type, these fields must be set (0 counts as set). */
function requireForType(recordType: string, fields: readonly string[]): (c: RuleContext) => void {
  return ({ config, diagnostics }) => {
    if (config.type !== recordType) return;
    const absent = fields.find((field) => (config[field] ?? null) === null || (field === 'tag' && config[field] === ''));
    if (absent) diagnostics.push(error(`\`${absent}\` is required for when type is \`${recordType}\``));
  };
}

// --- diff suppression and state functions ------------------------------------------------------

/**
 * The provider's DiffSuppressFuncs, by where they are in its source: true when the value in state
 * and the planned one mean the same, so the plan keeps the state's.
 */
export const DIFF_SUPPRESSORS: { readonly [where: string]: (prior: string, planned: string, resource: ValueObject) => boolean } = {
  // A record's name: "@" in state for the zone's own name, or a relative name for an absolute one.
  'digitalocean/domain/resource_record.go:56': (prior, planned, resource) => {
    const zone = `${String(resource.domain)}.`;
    return (prior === '@' && planned === zone) || `${prior}.${zone}` === planned;
  },
  // A record's value: "@" for the zone's own name, or an absolute name for a relative one.
  'digitalocean/domain/resource_record.go:91': (prior, planned, resource) => {
    const zone = `${String(resource.domain)}.`;
    return (prior === '@' && planned === zone) || prior === `${planned}.${zone}`;
  },
  // user_data: states of old provider versions hold the text itself rather than its hash.
  'digitalocean/droplet/resource_droplet.go:227': (prior, planned, resource) => planned !== '' && prior === resource.user_data,
  // A bucket's versioning block (called, as SDKv2 does for a list, with its item counts): Read
  // always stores one, so removing it from the configuration (1 to 0) is no change.
  'digitalocean/spaces/resource_spaces_bucket.go:110': (prior, planned) => prior === '1' && planned === '0',
};

/** The provider's StateFuncs by name: the value stored in state for a configured value. */
export const STATE_FUNCTIONS: { readonly [name: string]: (value: string) => string } = {
  // SDKv2's util.HashString-style functions store a hex SHA-1 of the text, not the text.
  HashStringStateFunc: (value) => createHash('sha1').update(value).digest('hex'),
  HashString: (value) => createHash('sha1').update(value).digest('hex'),
  // A bucket's region: "DO API V2 region slug is always lowercase".
  'inline@digitalocean/spaces/resource_spaces_bucket.go:52': (value) => value.toLowerCase(),
};

function stateFunction(semantics: AttributeSemantics): ((value: string) => string) | undefined {
  if (!semantics.stateFunc) return undefined;
  if (STATE_FUNCTIONS[semantics.stateFunc]) return STATE_FUNCTIONS[semantics.stateFunc];
  const name = semantics.stateFunc.replace(/^.*\./, '');
  return STATE_FUNCTIONS[name] ?? (/hash/i.test(name) ? STATE_FUNCTIONS.HashString : undefined);
}

function suppressor(semantics: AttributeSemantics): ((prior: string, planned: string, resource: ValueObject) => boolean) | undefined {
  if (!semantics.diffSuppress) return undefined;
  return DIFF_SUPPRESSORS[semantics.diffSuppress.replace(/^inline@/, '')];
}

/** SDKv2 stores primitives flat: an unset one reads back as its zero value and the two never differ. */
function sameAsSdk(prior: Value | undefined, planned: Value | undefined): boolean {
  if (valuesEqual(prior, planned)) return true;
  const zero = (v: Value | undefined) => v === null || v === undefined || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
  return zero(prior) && zero(planned);
}

// --- planning ----------------------------------------------------------------------------------

/** Fills a block's value for a create: defaults, state functions, unknown computed values. */
function planNew(block: BlockSchema, proposed: Value, config: Value): Value {
  if (!isObjectValue(proposed)) return proposed;
  const configured = isObjectValue(config) ? config : {};
  const result: MutableObject = { ...proposed };
  for (const attribute of Object.values(block.attributes)) {
    result[attribute.name] = planNewAttribute(attribute, proposed[attribute.name] ?? null, configured[attribute.name] ?? null);
  }
  for (const nested of Object.values(block.blocks)) result[nested.name] = planNestedBlock(nested, proposed[nested.name] ?? null, configured[nested.name] ?? null);
  return result;
}

function planNewAttribute(attribute: AttributeSchema, proposed: Value, config: Value): Value {
  const { semantics } = attribute;
  if (config === null && semantics.default !== undefined && !attribute.computed) return semantics.default;
  if (config === null && attribute.computed) return proposed === null ? UNKNOWN : proposed;
  const fn = stateFunction(semantics);
  if (fn && typeof proposed === 'string') return fn(proposed);
  return proposed;
}

function planNestedBlock(nested: NestedBlockSchema, proposed: Value, config: Value): Value {
  if (nested.nesting === 'single') return proposed === null ? null : planNew(nested.block, proposed, config);
  if (!Array.isArray(proposed)) return proposed;
  const configs = Array.isArray(config) ? config : [];
  return proposed.map((item, i) => planNew(nested.block, item, configs[i] ?? null));
}

/** Whether changing this attribute from prior to planned forces replacement. */
function forcesNew(semantics: AttributeSemantics, nested?: BlockSchema): boolean {
  if (semantics.forceNew) return true;
  if (!nested) return false;
  return Object.values(nested.attributes).some((a) => a.semantics.forceNew) || Object.values(nested.blocks).some((b) => forcesNew(b.semantics, b.block));
}

/** Every computed attribute that was not configured becomes unknown again (a replacement). */
function recompute(block: BlockSchema, planned: MutableObject, config: ValueObject): void {
  for (const attribute of Object.values(block.attributes)) {
    if (attribute.computed && (config[attribute.name] ?? null) === null) planned[attribute.name] = UNKNOWN;
  }
}

// --- the provider's configuration -------------------------------------------------------------

/** SDKv2's d.Get for a provider argument: the configured value, else its DefaultFunc's (env, then default). */
export function providerArgument(schema: ProviderSchema, config: Value, name: string, env: NodeJS.ProcessEnv): Value {
  const configured = isObjectValue(config) ? (config[name] ?? null) : null;
  if (configured !== null) return configured;
  const fn = schema.provider.block.attributes[name]?.semantics.defaultFunc;
  if (!fn) return null;
  // EnvDefaultFunc and MultiEnvDefaultFunc: the first variable that is set and not empty.
  const fromEnv = (fn.vars ?? []).map((v) => env[v]).find((v) => v !== undefined && v !== '');
  return fromEnv ?? fn.default ?? null;
}

/**
 * Which operations on which resources go through the Spaces (S3) client, and what each says when
 * config.SpacesClient finds no spaces_access_id or spaces_secret_key ("Spaces credentials not
 * configured"), by the rule of provider-semantics.json that records it. Spaces keys are managed with
 * the API token and need neither.
 */
export const SPACES_CREDENTIALS_ERROR = 'Spaces credentials not configured';
export const SPACES_CREDENTIAL_CHECKS: { readonly [type: string]: { readonly id: string; readonly message: (operation: 'create' | 'read' | 'update' | 'delete') => string } } = {
  digitalocean_spaces_bucket: {
    id: 'spaces-bucket.credentials',
    message: (operation) => `Error ${operation === 'create' ? 'creating' : operation === 'read' ? 'reading' : operation === 'update' ? 'updating' : 'deleting'} bucket: ${SPACES_CREDENTIALS_ERROR}`,
  },
  digitalocean_spaces_bucket_object: { id: 'spaces-object.credentials', message: () => SPACES_CREDENTIALS_ERROR },
};

export class ProviderStandIn {
  private configuration: Value = null;
  private env: NodeJS.ProcessEnv = {};

  constructor(private readonly schema: ProviderSchema) {}

  /** The provider block's values (Configure); SDKv2 fills unset arguments from its DefaultFuncs, the environment first. */
  configure(config: Value, env: NodeJS.ProcessEnv = process.env): Diagnostic[] {
    this.configuration = config;
    this.env = env;
    return [];
  }

  /** The failure config.SpacesClient gives this operation, when it needs Spaces credentials that are not configured. */
  private spacesCredentialsFailure(type: string, operation: 'create' | 'read' | 'update' | 'delete'): Diagnostic[] {
    const check = SPACES_CREDENTIAL_CHECKS[type];
    if (!check) return [];
    const accessId = providerArgument(this.schema, this.configuration, 'spaces_access_id', this.env);
    const secretKey = providerArgument(this.schema, this.configuration, 'spaces_secret_key', this.env);
    return accessId === null || accessId === '' || secretKey === null || secretKey === '' ? [error(check.message(operation))] : [];
  }

  resource(type: string): ResourceSchema {
    const resource = this.schema.resources[type];
    if (!resource) throw new Error(`The stand-in DigitalOcean provider has no resource type ${type}`);
    return resource;
  }

  validateResource(type: string, config: Value): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    validateBlock(this.resource(type).block, config, [], diagnostics);
    return diagnostics;
  }

  /** Prior state from JSON: every attribute of the current schema present, unknown ones dropped (SDKv2 does the same). */
  upgradeState(type: string, raw: Value): { state: Value; diagnostics: Diagnostic[] } {
    return { state: conform(this.resource(type).block, raw), diagnostics: [] };
  }

  readResource(type: string, state: Value): { state: Value; diagnostics: Diagnostic[] } {
    if (!isObjectValue(state)) return { state, diagnostics: [] };
    const failure = this.spacesCredentialsFailure(type, 'read');
    if (failure.length > 0) return { state, diagnostics: failure };
    return { state: normaliseAsRead(type, state, state), diagnostics: [] };
  }

  planChange(type: string, prior: Value, proposed: Value, config: Value): PlannedChange {
    const resource = this.resource(type);
    if (proposed === null) return { planned: null, requiresReplace: [], diagnostics: [] };
    const configured = isObjectValue(config) ? config : {};
    const diagnostics: Diagnostic[] = [];
    const requiresReplace: string[][] = [];
    if (!isObjectValue(prior)) {
      const planned = planNew(resource.block, proposed, config) as MutableObject;
      planned.id = UNKNOWN;
      this.applyRules(type, { prior: null, planned, config: configured, diagnostics, requiresReplace });
      return { planned, requiresReplace: [], diagnostics };
    }
    const proposedObject = proposed as ValueObject;
    const planned: MutableObject = { ...proposedObject };
    for (const attribute of Object.values(resource.block.attributes)) {
      const name = attribute.name;
      const configValue = configured[name] ?? null;
      let value = planNewAttribute(attribute, proposedObject[name] ?? null, configValue);
      if (isUnknown(value) && attribute.computed && configValue === null) value = prior[name] ?? null;
      const suppress = suppressor(attribute.semantics);
      const before = prior[name] ?? null;
      if (suppress && typeof before === 'string' && typeof value === 'string' && suppress(before, value, { ...proposedObject, [name]: configValue })) value = before;
      if (!isUnknown(value) && sameAsSdk(before, value)) value = before;
      planned[name] = value;
      if (!valuesEqual(before, value) && forcesNew(attribute.semantics)) requiresReplace.push([name]);
    }
    for (const nested of Object.values(resource.block.blocks)) {
      let value = planNestedBlock(nested, proposedObject[nested.name] ?? null, configured[nested.name] ?? null);
      if (sameAsSdk(prior[nested.name], value)) value = prior[nested.name] ?? null;
      const suppressBlock = suppressor(nested.semantics);
      const count = (v: Value | undefined) => String(Array.isArray(v) ? v.length : 0);
      if (suppressBlock && nested.nesting !== 'single' && suppressBlock(count(prior[nested.name]), count(value), proposedObject)) value = prior[nested.name] ?? null;
      planned[nested.name] = value;
      if (!valuesEqual(prior[nested.name], value) && forcesNew(nested.semantics, nested.block)) requiresReplace.push([nested.name]);
    }
    this.applyRules(type, { prior, planned, config: configured, diagnostics, requiresReplace });
    if (requiresReplace.length > 0) {
      // SDKv2 plans a replacement as a create: every computed value is decided anew.
      recompute(resource.block, planned, configured);
      planned.id = UNKNOWN;
    } else if (valuesEqual(prior, planned)) {
      return { planned: prior, requiresReplace: [], diagnostics };
    }
    return { planned, requiresReplace, diagnostics };
  }

  applyChange(type: string, prior: Value, planned: Value, config: Value): { state: Value; diagnostics: Diagnostic[] } {
    const operation = planned === null ? 'delete' : isObjectValue(prior) ? 'update' : 'create';
    const failure = this.spacesCredentialsFailure(type, operation);
    if (failure.length > 0) return { state: prior, diagnostics: failure };
    if (planned === null) return { state: null, diagnostics: [] };
    const resource = this.resource(type);
    const diagnostics: Diagnostic[] = [];
    if (isObjectValue(planned)) {
      // Checks the provider makes in Create or Update, with every value known.
      const priorObject = isObjectValue(prior) ? prior : null;
      this.applyRules(type, { prior: priorObject, planned: { ...planned }, config: isObjectValue(config) ? config : {}, diagnostics, requiresReplace: [] }, 'apply');
      if (diagnostics.some((d) => d.severity === 'error')) return { state: prior, diagnostics };
    }
    const filled = fillUnknown(resource, planned, isObjectValue(prior) ? prior : null) as MutableObject;
    if (type === 'digitalocean_droplet' && isObjectValue(prior) && !valuesEqual(prior.size, filled.size)) {
      // A resize: CPU and RAM follow the size; the disk grows only with resize_disk, and never shrinks.
      const size = hardware(filled.size);
      filled.vcpus = size.vcpus;
      filled.memory = size.memory;
      filled.disk = filled.resize_disk === false ? prior.disk : Math.max(Number(prior.disk), size.disk);
    }
    if (type === 'digitalocean_spaces_bucket_object') {
      const put = putObject(isObjectValue(prior) ? prior : null, filled);
      if ('error' in put) return { state: prior, diagnostics: [error(put.error)] };
      Object.assign(filled, put.state);
    }
    return { state: normaliseAsRead(type, filled, isObjectValue(prior) ? prior : null), diagnostics };
  }

  readDataSource(type: string, config: Value): { state: Value; diagnostics: Diagnostic[] } {
    const source = this.schema.dataSources[type];
    if (!source) return { state: null, diagnostics: [error(`The stand-in DigitalOcean provider has no data source ${type}`)] };
    return { state: fillUnknown(source, planNew(source.block, config, config), null), diagnostics: [] };
  }

  private applyRules(type: string, context: RuleContext, at: 'plan' | 'apply' = 'plan'): void {
    for (const rule of RULES[type] ?? []) if (rule.at === at) rule.apply(context);
  }
}

// --- state ------------------------------------------------------------------------------------

/** A value with exactly the block's attributes and blocks, as the wire format needs. */
export function conform(block: BlockSchema, value: Value): Value {
  if (!isObjectValue(value)) return value;
  const result: MutableObject = {};
  for (const attribute of Object.values(block.attributes)) result[attribute.name] = value[attribute.name] ?? null;
  for (const nested of Object.values(block.blocks)) {
    const v = value[nested.name] ?? null;
    if (nested.nesting === 'single') result[nested.name] = v === null ? null : conform(nested.block, v);
    else result[nested.name] = Array.isArray(v) ? v.map((item) => conform(nested.block, item)) : [];
  }
  return result;
}

/**
 * What the provider's Read stores for what the API returns. Records: the API keeps names without
 * their trailing dot and Read appends one to CNAME, MX, NS, SRV and CAA values (not "@", not an
 * iodef); every numeric field reads back, 0 where unset, and the tag as "".
 */
function normaliseAsRead(type: string, state: ValueObject, prior: ValueObject | null): ValueObject {
  if (type === 'digitalocean_spaces_bucket') return readBucket(state);
  if (type === 'digitalocean_spaces_key') return readKey(state, prior);
  if (type !== 'digitalocean_record') return state;
  const result: MutableObject = { ...state };
  const value = state.value;
  if (typeof value === 'string' && ['CNAME', 'MX', 'NS', 'SRV', 'CAA'].includes(String(state.type)) && value !== '@' && state.tag !== 'iodef') {
    result.value = `${value.replace(/\.$/, '')}.`;
  }
  for (const field of ['port', 'priority', 'weight', 'flags']) if ((state[field] ?? null) === null) result[field] = 0;
  if ((state.tag ?? null) === null) result.tag = '';
  if ((state.ttl ?? null) === null || isUnknown(state.ttl)) result.ttl = 1800;
  return result;
}

/**
 * A bucket as Read stores it: the region lowercased (empty meaning nyc3), one versioning block
 * always, and urn, bucket_domain_name and endpoint derived from the name and region.
 */
function readBucket(state: ValueObject): ValueObject {
  const region = (typeof state.region === 'string' && state.region !== '' ? state.region : 'nyc3').toLowerCase();
  const name = String(state.name);
  const versioning = Array.isArray(state.versioning) && state.versioning.length > 0 ? state.versioning : [{ enabled: false }];
  return {
    ...state,
    id: name,
    region,
    versioning: versioning.map((v) => ({ enabled: isObjectValue(v) && v.enabled === true })),
    urn: `do:space:${name}`,
    bucket_domain_name: `${name}.${region}.digitaloceanspaces.com`,
    endpoint: `${region}.digitaloceanspaces.com`,
  };
}

/**
 * A Spaces key as Create, Update and Read store it: the ID is the access key, secret_key is only
 * ever returned by Create (kept from state after), a grant's permission other than read, readwrite
 * or fullaccess is sent empty and reads back as "".
 */
function readKey(state: ValueObject, prior: ValueObject | null): ValueObject {
  const accessKey = typeof prior?.access_key === 'string' && prior.access_key !== '' ? prior.access_key : isUnknown(state.access_key) || !state.access_key ? madeUpAccessKey() : String(state.access_key);
  const secretKey = typeof prior?.secret_key === 'string' && prior.secret_key !== '' ? prior.secret_key : typeof state.secret_key === 'string' && state.secret_key !== '' ? state.secret_key : randomBytes(32).toString('base64').replace(/=+$/, '');
  const grants = Array.isArray(state.grant) ? state.grant : [];
  return {
    ...state,
    id: accessKey,
    access_key: accessKey,
    secret_key: secretKey,
    created_at: typeof prior?.created_at === 'string' ? prior.created_at : typeof state.created_at === 'string' && state.created_at !== '' ? state.created_at : new Date().toISOString(),
    grant: grants.map((g) => (isObjectValue(g) ? { ...g, permission: ['read', 'readwrite', 'fullaccess'].includes(String(g.permission)) ? g.permission : '' } : g)),
  };
}

/** Spaces access keys: "DO" and 18 upper-case letters and digits. */
function madeUpAccessKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `DO${Array.from({ length: 18 }, () => alphabet[randomInt(0, alphabet.length)]).join('')}`;
}

/** The attributes whose change makes Update upload the object again (the rest: only acl, with PutObjectAcl). */
const OBJECT_PUT_ATTRIBUTES = ['cache_control', 'content_base64', 'content_disposition', 'content_encoding', 'content_language', 'content_type', 'content', 'etag', 'metadata', 'source', 'website_redirect'];

/**
 * Create, or an Update that uploads again: the body from source, content or content_base64 (decoded
 * strictly, as Go's base64.StdEncoding does), then Read: etag is the body's MD5 in hex without
 * quotes (a single-part upload), version_id empty (the stand-in's buckets are unversioned: HEAD
 * returns none), content_type as sent or what Spaces gives a body sent without one, and the ID the key.
 */
function putObject(prior: ValueObject | null, state: ValueObject): { state: ValueObject } | { error: string } {
  const uploads = prior === null || OBJECT_PUT_ATTRIBUTES.some((name) => !sameAsSdk(prior[name], state[name]));
  if (!uploads) return { state: { ...state, id: String(state.key) } };
  let body = Buffer.alloc(0);
  const given = (name: string) => typeof state[name] === 'string' && state[name] !== '';
  if (given('source')) {
    const path = String(state.source).replace(/^~(?=\/|$)/, process.env.HOME ?? '~');
    if (!existsSync(path)) return { error: `Error opening Spaces bucket object source (${path}): open ${path}: no such file or directory` };
    body = readFileSync(path);
  } else if (given('content')) {
    body = Buffer.from(String(state.content), 'utf8');
  } else if (given('content_base64')) {
    const text = String(state.content_base64);
    const bad = strictBase64Error(text);
    if (bad !== undefined) return { error: `error decoding content_base64: illegal base64 data at input byte ${bad}` };
    body = Buffer.from(text, 'base64');
  }
  const contentType = given('content_type') ? String(state.content_type) : 'binary/octet-stream';
  return { state: { ...state, id: String(state.key), etag: createHash('md5').update(body).digest('hex'), version_id: '', content_type: contentType } };
}

/** Where Go's base64.StdEncoding.DecodeString would stop (the byte offset it reports), or undefined. */
function strictBase64Error(text: string): number | undefined {
  const firstBad = text.search(/[^A-Za-z0-9+/=]/);
  if (firstBad >= 0) return firstBad;
  const padding = text.indexOf('=');
  if (padding >= 0 && (!/^={1,2}$/.test(text.slice(padding)) || text.length % 4 !== 0)) return padding;
  if (text.length % 4 !== 0) return text.length - (text.length % 4);
  return undefined;
}

let serial = 0;
const octet = () => 1 + ((serial++ * 37 + randomInt(0, 200)) % 250);
const hex = () => randomInt(1, 0xffff).toString(16);

/** Made-up values for what the cloud decides, by attribute. */
function madeUp(resource: ResourceSchema, name: string, state: ValueObject): Value {
  const type = resource.typeName;
  const id = typeof state.id === 'string' ? state.id : '';
  switch (name) {
    case 'id':
      if (type === 'digitalocean_domain') return String(state.name);
      if (type === 'digitalocean_reserved_ip') return String(state.ip_address ?? '');
      if (type === 'digitalocean_reserved_ipv6') return String(state.ip ?? '');
      if (type === 'digitalocean_droplet' || type === 'digitalocean_record') return String(randomInt(100_000_000, 999_999_999));
      // Spaces: a bucket is its name, an object its key; a key is its access key (readKey).
      if (type === 'digitalocean_spaces_bucket') return String(state.name);
      if (type === 'digitalocean_spaces_bucket_object') return String(state.key);
      if (type === 'digitalocean_spaces_key') return madeUpAccessKey();
      return randomUUID();
    case 'ipv4_address':
      return `192.0.2.${octet()}`;
    case 'ipv4_address_private':
      return `10.110.0.${octet()}`;
    case 'ipv6_address':
      return `2001:db8:${hex()}:${hex()}::1`;
    case 'ip_address':
      return `198.51.100.${octet()}`;
    case 'ip':
      return `2001:db8:ffff:${hex()}::1`;
    case 'fqdn':
      return state.name === '@' ? String(state.domain) : `${String(state.name)}.${String(state.domain)}`;
    case 'urn': {
      const kind = type.replace(/^digitalocean_/, '').replace('reserved_ipv6', 'reservedipv6').replace('reserved_ip', 'reservedip');
      return `do:${kind}:${id}`;
    }
    case 'created_at':
      return new Date().toISOString();
    case 'status':
      return type === 'digitalocean_droplet' ? 'active' : 'succeeded';
    case 'droplet_id':
      return null;
    case 'ttl':
      // DigitalOcean's default TTL for zones and records.
      return type === 'digitalocean_record' || type === 'digitalocean_domain' ? 1800 : (undefined as unknown as Value);
    default:
      return undefined as unknown as Value;
  }
}

function hardware(size: Value): { vcpus: number; memory: number; disk: number } {
  const m = /^s-(\d+)vcpu-(\d+(?:\.\d+)?)gb/.exec(String(size));
  if (!m) return { vcpus: 1, memory: 1024, disk: 25 };
  const memory = Math.round(Number(m[2]) * 1024);
  return { vcpus: Number(m[1]), memory, disk: Math.max(25, memory / 1024 * 25) };
}

function zero(type: AttributeSchema['type']): Value {
  if (type === 'string') return '';
  if (type === 'number') return 0;
  if (type === 'bool') return false;
  if (Array.isArray(type)) return type[0] === 'map' || type[0] === 'object' ? (type[0] === 'map' ? {} : null) : [];
  return null;
}

function fillUnknown(resource: ResourceSchema, planned: Value, prior: ValueObject | null): Value {
  if (!isObjectValue(planned)) return planned;
  const state: MutableObject = { ...planned };
  // The id first: other made-up values (urn) derive from it.
  const order = ['id', ...Object.keys(resource.block.attributes).filter((n) => n !== 'id')];
  for (const name of order) {
    const attribute = resource.block.attributes[name];
    if (!attribute || !containsUnknown(state[name] ?? null)) continue;
    if (resource.typeName === 'digitalocean_droplet' && ['vcpus', 'memory', 'disk'].includes(name)) {
      state[name] = hardware(state.size)[name as 'vcpus' | 'memory' | 'disk'];
      continue;
    }
    if (name === 'id' && (resource.typeName === 'digitalocean_reserved_ip' || resource.typeName === 'digitalocean_reserved_ipv6')) {
      const address = resource.typeName === 'digitalocean_reserved_ip' ? 'ip_address' : 'ip';
      if (isUnknown(state[address] ?? null)) state[address] = madeUp(resource, address, state);
    }
    const value = madeUp(resource, name, state);
    state[name] = value !== undefined ? value : (prior?.[name] ?? zero(attribute.type));
  }
  return state;
}
