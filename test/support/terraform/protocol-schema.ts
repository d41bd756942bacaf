/** The provider schema as tfplugin5's GetSchema returns it. */
import { BlockSchema, ProviderSchema, ResourceSchema } from './provider-schema';

const NESTING = { single: 'SINGLE', list: 'LIST', set: 'SET' } as const;

function protocolBlock(block: BlockSchema, version: number): unknown {
  const byName = <T extends { name: string }>(items: readonly T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name));
  return {
    version,
    attributes: byName(Object.values(block.attributes)).map((a) => ({
      name: a.name,
      type: Buffer.from(JSON.stringify(a.type)),
      description: '',
      required: a.required,
      optional: a.optional,
      computed: a.computed,
      sensitive: a.sensitive,
    })),
    block_types: byName(Object.values(block.blocks)).map((b) => ({
      type_name: b.name,
      block: protocolBlock(b.block, 0),
      nesting: NESTING[b.nesting],
      min_items: b.minItems,
      max_items: b.nesting === 'single' ? 0 : b.maxItems,
    })),
  };
}

function protocolResource(resource: ResourceSchema): unknown {
  return { version: resource.version, block: protocolBlock(resource.block, resource.version) };
}

export function toProtocolSchema(schema: ProviderSchema): unknown {
  const map = (resources: { readonly [type: string]: ResourceSchema }) =>
    Object.fromEntries(Object.entries(resources).map(([type, r]) => [type, protocolResource(r)]));
  return {
    provider: protocolResource(schema.provider),
    resource_schemas: map(schema.resources),
    data_source_schemas: map(schema.dataSources),
    diagnostics: [],
    // SDKv2 providers plan destroys themselves as well (PlanResourceChange with a null proposal).
    server_capabilities: { plan_destroy: true, get_provider_schema_optional: false },
  };
}
