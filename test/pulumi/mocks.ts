/**
 * Runs Pulumi programs offline with `pulumi.runtime.setMocks`: no CLI, no engine, no network. The
 * mock cloud answers like DigitalOcean would in shape (numeric droplet IDs, URNs, addresses) with
 * symbolic values (`<droplet name>#ipv4_address`) that the parity test maps cdktf's references onto.
 */
import * as pulumi from '@pulumi/pulumi';
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc';

/** One resource as the mock cloud saw it. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  /** Inputs with Pulumi secrets unwrapped (see `secretInputs`). */
  readonly inputs: { [key: string]: any };
  /** Top-level inputs that arrived as Pulumi secrets. */
  readonly secretInputs: ReadonlySet<string>;
  /** Name of the parent resource (undefined: the stack). */
  readonly parent?: string;
  readonly protect?: boolean;
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly urn: string;
}

/** The numeric ID the mock cloud gave each droplet, by droplet name, and the way back. */
export interface MockCloud {
  readonly resources: Registered[];
  /** `1001` → `"xmpp-example-net#id"`: a droplet ID as a symbol naming its droplet. */
  dropletIdSymbol(id: number): string;
}

interface Seen {
  type: string;
  inputs: { [key: string]: any };
  secretInputs: Set<string>;
}

const seen = new Map<string, Seen>();
const dropletNames = new Map<number, string>();
let nextDropletId = 1001;

function unwrapSecrets(value: any, onSecret: () => void): any {
  if (value && typeof value === 'object') {
    if (value[specialSigKey] === specialSecretSig) {
      onSecret();
      return unwrapSecrets(value.value, () => undefined);
    }
    if (Array.isArray(value)) return value.map((v) => unwrapSecrets(v, onSecret));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, onSecret)]));
  }
  return value;
}

/** Installs the mocks; call once per test file, before any resource is created. */
export async function installMocks(project = 'xmpp-test'): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const secretInputs = new Set<string>();
        const inputs: { [key: string]: any } = {};
        for (const [key, value] of Object.entries(args.inputs ?? {})) inputs[key] = unwrapSecrets(value, () => secretInputs.add(key));
        seen.set(args.name, { type: args.type, inputs, secretInputs });
        switch (args.type) {
          case 'digitalocean:index/droplet:Droplet': {
            const id = nextDropletId++;
            dropletNames.set(id, inputs.name);
            return {
              id: String(id),
              state: { ...args.inputs, ipv4Address: `${inputs.name}#ipv4_address`, ipv6Address: `${inputs.name}#ipv6_address`, dropletUrn: `do:droplet:${id}` },
            };
          }
          case 'digitalocean:index/volume:Volume':
            return { id: `volume-${inputs.name}`, state: { ...args.inputs, volumeUrn: `do:volume:${inputs.name}` } };
          case 'digitalocean:index/reservedIp:ReservedIp':
            return { id: 'reserved-ip', state: { ...args.inputs, ipAddress: 'reserved-ip#ip_address', reservedIpUrn: 'do:floatingip:reserved-ip' } };
          case 'digitalocean:index/reservedIpv6:ReservedIpv6':
            return { id: 'reserved-ipv6', state: { ...args.inputs, ip: 'reserved-ipv6#ip', reservedIpv6Urn: 'do:reservedipv6:reserved-ipv6' } };
          case 'digitalocean:index/spacesKey:SpacesKey':
            // The symbols the cdktf side's references map to (inventory.ts).
            return { id: 'spaces-key', state: { ...args.inputs, accessKey: 'spaces-key#access_key', secretKey: 'spaces-key#secret_key' } };
          case 'digitalocean:index/uptimeCheck:UptimeCheck':
            // The symbol the cdktf side's `check_id` reference maps to (inventory.ts).
            return { id: 'uptime-check', state: args.inputs };
          default:
            return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
        }
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    project,
    'test',
    false,
  );
}

function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/**
 * Runs `program` as a stack would (inside `runInPulumiStack`), watching every registration with a
 * stack transformation, and waits until every resource it created is registered.
 */
export async function runProgram<T>(program: () => T): Promise<{ result: T; cloud: MockCloud }> {
  const created: { resource: pulumi.Resource; name: string; type: string; parent?: pulumi.Resource; protect?: boolean; deleteBeforeReplace?: boolean; ignoreChanges?: string[] }[] = [];
  const watch: pulumi.ResourceTransformation = (args) => {
    const opts = args.opts as pulumi.CustomResourceOptions;
    created.push({ resource: args.resource, name: args.name, type: args.type, parent: opts.parent, protect: opts.protect, deleteBeforeReplace: opts.deleteBeforeReplace, ignoreChanges: opts.ignoreChanges });
    return undefined;
  };
  seen.clear();
  let result: T | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(watch);
    result = program();
    return {};
  });
  const urns = await Promise.all(created.map((c) => outputValue(c.resource.urn)));
  const nameOf = new Map(created.map((c) => [c.resource, c.name]));
  const resources: Registered[] = created.map((c, i) => {
    const s = seen.get(c.name);
    if (!s) throw new Error(`${c.type} ${c.name} never reached the mock cloud`);
    return {
      type: c.type,
      name: c.name,
      inputs: s.inputs,
      secretInputs: s.secretInputs,
      // The stack itself is no resource of the program: top-level resources have no parent here.
      parent: c.parent ? nameOf.get(c.parent) : undefined,
      protect: c.protect,
      deleteBeforeReplace: c.deleteBeforeReplace,
      ignoreChanges: c.ignoreChanges,
      urn: urns[i],
    };
  });
  return {
    result: result as T,
    cloud: {
      resources,
      dropletIdSymbol(id: number) {
        const name = dropletNames.get(id);
        if (name === undefined) throw new Error(`no droplet has ID ${id}`);
        return `${name}#id`;
      },
    },
  };
}

/** The value of an Output (secret or not), or the error it failed with. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return outputValue(output);
}

/** Resources of a type token, e.g. `digitalocean:index/dnsRecord:DnsRecord`. */
export function ofType(cloud: MockCloud, type: string): Registered[] {
  return cloud.resources.filter((r) => r.type === type);
}

export const TYPES = {
  droplet: 'digitalocean:index/droplet:Droplet',
  volume: 'digitalocean:index/volume:Volume',
  reservedIp: 'digitalocean:index/reservedIp:ReservedIp',
  reservedIpAssignment: 'digitalocean:index/reservedIpAssignment:ReservedIpAssignment',
  reservedIpv6: 'digitalocean:index/reservedIpv6:ReservedIpv6',
  reservedIpv6Assignment: 'digitalocean:index/reservedIpv6Assignment:ReservedIpv6Assignment',
  projectResources: 'digitalocean:index/projectResources:ProjectResources',
  firewall: 'digitalocean:index/firewall:Firewall',
  domain: 'digitalocean:index/domain:Domain',
  record: 'digitalocean:index/dnsRecord:DnsRecord',
  spacesBucket: 'digitalocean:index/spacesBucket:SpacesBucket',
  spacesKey: 'digitalocean:index/spacesKey:SpacesKey',
  spacesBucketObject: 'digitalocean:index/spacesBucketObject:SpacesBucketObject',
  uptimeCheck: 'digitalocean:index/uptimeCheck:UptimeCheck',
  uptimeAlert: 'digitalocean:index/uptimeAlert:UptimeAlert',
  monitorAlert: 'digitalocean:index/monitorAlert:MonitorAlert',
} as const;
