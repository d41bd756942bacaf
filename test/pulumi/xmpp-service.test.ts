/**
 * The Pulumi components, run offline against the mock cloud: which resources they create, with
 * which inputs, options and parents, and that they refuse bad input exactly as cdktf does.
 */
import * as pulumi from '@pulumi/pulumi';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { XmppService as CdktfXmppService } from '../../lib/cdktf';
import { DEPLOY_TIME_SECRET_PLACEHOLDER, renderCloudInit } from '../../lib/core/cloud-init';
import { DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } from '../../lib/core/resolve/offsite-backups';
import { planDnsRecords } from '../../lib/core/dns';
import { planFirewall } from '../../lib/core/firewall';
import { renderReviewFiles } from '../../lib/core/review';
import { renderExternalZoneFilesWithTokens } from '../../lib/core/zone';
import { hasDedicatedTurnDroplet, XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec, SpecValidationError } from '../../lib/core/validate';
import { XmppService } from '../../lib/pulumi';
import { componentType, numericDropletId, parseDropletId, withBackupSecrets, withDeployTimeSecret, withSpacesKey } from '../../lib/pulumi/spec';
import { newStack, synth } from '../cdktf/synth';
import { parse } from 'yaml';
import { OFFSITE_PASSWORD } from '../../lib/core/backup';
import { backedUpSpec, closedSpec, dedicatedTurnSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { installMocks, MockCloud, ofType, Registered, runProgram, TYPES, valueOf } from './mocks';

beforeAll(() => installMocks());

function one(cloud: MockCloud, type: string, nameContains = ''): Registered {
  const hits = ofType(cloud, type).filter((r) => r.name.includes(nameContains));
  if (hits.length !== 1) throw new Error(`expected one ${type} named *${nameContains}*, found ${hits.length}`);
  return hits[0];
}

async function outputValues(service: XmppService): Promise<{ [name: string]: unknown }> {
  const entries = await Promise.all(Object.entries(service.outputs).map(async ([k, v]) => [k, await valueOf(v as pulumi.Output<unknown>)] as const));
  return Object.fromEntries(entries);
}

describe.each(representativeSpecs)('GIVEN XmppService for the %s spec', (_name, input) => {
  const spec = resolveSpec(input);
  const dedicated = hasDedicatedTurnDroplet(spec);
  let cloud: MockCloud;
  let service: XmppService;
  beforeAll(async () => {
    ({ cloud, result: service } = await runProgram(() => new XmppService('xmpp', { spec: input })));
  });

  test('THEN the components carry the xmpp-constructs type tokens and sit under the service', () => {
    const components = cloud.resources.filter((r) => r.type.startsWith('xmpp-constructs:'));
    expect(components.map((c) => [c.type, c.name, c.parent])).toEqual(
      expect.arrayContaining([
        ['xmpp-constructs:index:XmppService', 'xmpp', undefined],
        ['xmpp-constructs:index:ProsodyHost', 'xmpp-host', 'xmpp'],
        ['xmpp-constructs:index:TurnServer', 'xmpp-turn', 'xmpp'],
        ['xmpp-constructs:index:NginxProxy', 'xmpp-nginx', 'xmpp'],
        ['xmpp-constructs:index:XmppDomainRecords', 'xmpp-records', 'xmpp'],
        ['xmpp-constructs:index:FirewallRules', 'xmpp-firewall', 'xmpp'],
      ]),
    );
    expect(componentType('XmppService')).toBe('xmpp-constructs:index:XmppService');
  });

  test('THEN every resource has a parent inside the service, and its name starts with its parent\'s', () => {
    for (const r of cloud.resources.filter((x) => x.name !== 'xmpp')) {
      expect(r.parent).toBeDefined();
      expect(r.name.startsWith(`${r.parent}-`)).toBe(true);
    }
  });

  test('THEN the Prosody droplet is replaced delete-first, carries the core\'s user_data and the declared attributes', () => {
    const droplet = one(cloud, TYPES.droplet, 'xmpp-host');
    expect(droplet.deleteBeforeReplace).toBe(true);
    expect(droplet.parent).toBe('xmpp-host');
    expect(droplet.inputs).toMatchObject({
      name: spec.droplet.name,
      image: spec.droplet.image,
      region: spec.droplet.region,
      size: spec.droplet.size,
      ipv6: spec.droplet.ipv6,
      monitoring: spec.droplet.monitoring,
      backups: spec.droplet.backups,
      volumeIds: [`volume-${spec.droplet.volumeName}`],
    });
    expect(droplet.inputs.sshKeys ?? []).toEqual(spec.droplet.sshKeyFingerprints);
    // The read key of the configuration channel and the backups' key, as the mocks name their attributes.
    expect(droplet.inputs.userData).toBe(withBackupSecrets(withSpacesKey(renderCloudInit(spec), 'spaces-key#access_key', 'spaces-key#secret_key'), 'spaces-key#access_key', 'spaces-key#secret_key'));
  });

  test('THEN user_data is a Pulumi secret exactly when it carries a supplied TURN secret, the configuration channel\'s read key or the backups\' key and password', () => {
    const droplet = one(cloud, TYPES.droplet, 'xmpp-host');
    expect(droplet.secretInputs.has('userData')).toBe(spec.calls.sharedSecret !== undefined || spec.configDelivery.channel === 'spaces' || spec.offsiteBackups !== undefined);
  });

  test('THEN the volume is protected from deletion and the reserved IP is assigned by numeric droplet ID', () => {
    const volume = one(cloud, TYPES.volume);
    expect(volume.protect).toBe(true);
    expect(volume.inputs).toMatchObject({ name: spec.droplet.volumeName, region: spec.droplet.region, size: spec.droplet.volumeSizeGib });
    const assignment = one(cloud, TYPES.reservedIpAssignment);
    expect(typeof assignment.inputs.dropletId).toBe('number');
    expect(cloud.dropletIdSymbol(assignment.inputs.dropletId)).toBe(`${spec.droplet.name}#id`);
    expect(assignment.inputs.ipAddress).toBe('reserved-ip#ip_address');
  });

  test('THEN the reserved IPv6 exists in the region, assigned by numeric droplet ID, exactly where the spec uses one', () => {
    if (!spec.droplet.reservedIpv6) {
      expect(ofType(cloud, TYPES.reservedIpv6)).toEqual([]);
      expect(ofType(cloud, TYPES.reservedIpv6Assignment)).toEqual([]);
      return;
    }
    // Its region is its only input: no other change of the spec replaces it; and like the reserved
    // IPv4 it is protected.
    expect(one(cloud, TYPES.reservedIpv6).inputs).toEqual({ regionSlug: spec.droplet.region });
    expect(one(cloud, TYPES.reservedIpv6).protect).toBe(true);
    expect(one(cloud, TYPES.reservedIp).protect).toBe(true);
    const assignment = one(cloud, TYPES.reservedIpv6Assignment);
    expect(typeof assignment.inputs.dropletId).toBe('number');
    expect(cloud.dropletIdSymbol(assignment.inputs.dropletId)).toBe(`${spec.droplet.name}#id`);
    expect(assignment.inputs.ip).toBe('reserved-ipv6#ip');
  });

  test('THEN there is one DNS record per planned record, named by its plan key, and a zone for each domain whose zone is to be created', () => {
    const names = ofType(cloud, TYPES.record).map((r) => r.name).sort();
    expect(names).toEqual(planDnsRecords(spec).map((r) => `xmpp-records-${r.key}`).sort());
    expect(ofType(cloud, TYPES.domain).map((d) => d.inputs.name).sort()).toEqual(spec.domains.filter((d) => d.zone === 'create').map((d) => d.name).sort());
  });

  test('THEN the host firewall holds the core plan and protects the droplet by numeric ID', () => {
    const fw = one(cloud, TYPES.firewall, 'xmpp-firewall');
    expect(fw.inputs.dropletIds.map((id: number) => cloud.dropletIdSymbol(id))).toEqual([`${spec.droplet.name}#id`]);
    expect(fw.inputs.inboundRules.map((r: { portRange?: string }) => r.portRange)).toEqual(planFirewall(spec).inbound.map((r) => r.ports));
  });

  test('THEN coturn has its own droplet and firewall only when dedicated', () => {
    expect(ofType(cloud, TYPES.droplet)).toHaveLength(dedicated ? 2 : 1);
    expect(ofType(cloud, TYPES.firewall)).toHaveLength(dedicated ? 2 : 1);
    if (dedicated) {
      const turn = one(cloud, TYPES.droplet, 'xmpp-turn');
      expect(turn.parent).toBe('xmpp-turn');
      expect(turn.secretInputs.has('userData')).toBe(true);
      expect(one(cloud, TYPES.firewall, 'xmpp-turn').parent).toBe('xmpp-turn-firewall');
    }
  });

  test('THEN the outputs have the cdktf outputs\' names and values, and hold nothing secret', async () => {
    const stack = newStack();
    new CdktfXmppService(stack, 'Xmpp', { spec: input, writeReviewFiles: false });
    const cdktfOutputs = synth(stack).output ?? {};
    expect(Object.keys(service.outputs).sort()).toEqual(Object.keys(cdktfOutputs).map((k) => k.replace(/^Xmpp_/, '')).sort());
    const values = await outputValues(service);
    expect(values.domains).toEqual(cdktfOutputs.Xmpp_domains.value);
    expect(values.first_admin).toBe(cdktfOutputs.Xmpp_first_admin.value);
    expect(values.ssh).toBe(String(cdktfOutputs.Xmpp_ssh.value).replace(/\$\{digitalocean_reserved_ip\.[^}]+\}/, 'reserved-ip#ip_address'));
    expect(values.reserved_ipv4).toBe('reserved-ip#ip_address');
    expect(values.reserved_ipv6).toBe(spec.droplet.reservedIpv6 ? 'reserved-ipv6#ip' : undefined);
    for (const output of Object.values(service.outputs)) expect(await pulumi.isSecret(output as pulumi.Output<unknown>)).toBe(false);
    if (spec.calls.sharedSecret) expect(JSON.stringify(values)).not.toContain(spec.calls.sharedSecret);
  });
});

describe('GIVEN the TURN secret as a Pulumi secret', () => {
  const secret = 'a1'.repeat(32);
  test('THEN both droplets receive it inside secret user_data, and no output or review file shows it', async () => {
    const { cloud, result } = await runProgram(
      () => new XmppService('xmpp', { spec: { ...dedicatedTurnSpec, calls: { placement: 'dedicated', sharedSecret: pulumi.secret(secret) } } }),
    );
    const expected = resolveSpec({ ...dedicatedTurnSpec, calls: { placement: 'dedicated', sharedSecret: secret } });
    const host = one(cloud, TYPES.droplet, 'xmpp-host');
    expect(host.inputs.userData).toBe(renderCloudInit(expected));
    for (const droplet of ofType(cloud, TYPES.droplet)) {
      expect(droplet.secretInputs.has('userData')).toBe(true);
      expect(droplet.inputs.userData).toContain(secret);
    }
    expect(JSON.stringify(await outputValues(result))).not.toContain(secret);
    expect(JSON.stringify(result.reviewFiles)).not.toContain(secret);
    expect(JSON.stringify(result.reviewFiles)).not.toContain('deploy-time-turn-secret-placeholder');
  });

  test('THEN a secret that turns out to be unusable fails the deployment naming the field, never the value', () => {
    const weak = 'short secret';
    expect(() => withDeployTimeSecret('x', weak)).toThrow(/calls\.sharedSecret = "\(the deploy-time secret, not shown\)": must be 32 to 512 printable ASCII/);
    expect(() => withDeployTimeSecret('x', weak)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(weak) }));
    expect(withDeployTimeSecret(`s=${DEPLOY_TIME_SECRET_PLACEHOLDER}`, secret)).toBe(`s=${secret}`);
  });
});

describe('GIVEN the backup password as a Pulumi secret', () => {
  // What YAML and the shell would trip over, in a secret nothing checks before deploy.
  const password = `it's: a # "tricky" one, 42`;
  test('THEN the droplet receives it as it is, with the backup key, inside secret user_data, and no output or review file shows it', async () => {
    const { cloud, result } = await runProgram(() => new XmppService('xmpp', { spec: { ...backedUpSpec, offsiteBackups: { password: pulumi.secret(password) } } }));
    const host = one(cloud, TYPES.droplet, 'xmpp-host');
    expect(host.secretInputs.has('userData')).toBe(true);
    // The document rendered around the placeholder (sized for the longest password), the value put in.
    const rendered = renderCloudInit(resolveSpec({ ...backedUpSpec, offsiteBackups: { password: DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER } }));
    expect(host.inputs.userData).toBe(withBackupSecrets(rendered, 'spaces-key#access_key', 'spaces-key#secret_key', password));
    const written = (parse(host.inputs.userData as string) as { write_files: { path: string; content: string }[] }).write_files.find((f) => f.path === OFFSITE_PASSWORD);
    expect(written?.content).toBe(`${password}\n`);
    expect(JSON.stringify(await outputValues(result))).not.toContain(password);
    expect(JSON.stringify(result.reviewFiles)).not.toContain(password);
  });

  test('THEN a password that turns out to be unusable fails the deployment naming the field, never the value', () => {
    const weak = 'too short';
    expect(() => withBackupSecrets('x', 'k', 's', weak)).toThrow(/offsiteBackups\.password = "\(the deploy-time password, not shown\)": is 9 characters long/);
    expect(() => withBackupSecrets('x', 'k', 's', weak)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(weak) }));
  });
});

describe('parseDropletId', () => {
  test.each([
    ['123', 123],
    ['9007199254740991', 9007199254740991],
  ])('reads %j as %d', (id, n) => {
    expect(parseDropletId(id)).toBe(n);
  });
  test.each(['', 'abc', '12a', '1e3', '-1', ' 12', '9007199254740993'])('fails when the ID is %j', (id) => {
    expect(() => parseDropletId(id)).toThrow(/is not a number; expected DigitalOcean's numeric droplet ID/);
  });
  test('numericDropletId applies it to the Output', async () => {
    expect(await valueOf(numericDropletId(pulumi.output('42')))).toBe(42);
  });
});

describe('validation', () => {
  const bad: [string, XmppServiceSpec][] = [
    ['an upper-case domain', { ...minimalSpec, domains: ['Example.NET'] }],
    ['a bad region and size at once', { ...minimalSpec, droplet: { region: 'Mars', size: 'huge' } }],
    ['a dedicated TURN droplet without a secret', { ...minimalSpec, calls: { placement: 'dedicated' } }],
    ['an admin on a foreign domain', { ...minimalSpec, admins: ['admin@example.org'] }],
  ];
  test.each(bad)('fails when given %s, with exactly the message cdktf gives', (_name, spec) => {
    let cdktfError: unknown;
    try {
      new CdktfXmppService(newStack(), 'Xmpp', { spec });
    } catch (e) {
      cdktfError = e;
    }
    expect(cdktfError).toBeInstanceOf(SpecValidationError);
    let pulumiError: unknown;
    try {
      new XmppService('invalid', { spec });
    } catch (e) {
      pulumiError = e;
    }
    expect(pulumiError).toBeInstanceOf(SpecValidationError);
    expect((pulumiError as Error).message).toBe((cdktfError as Error).message);
  });
});

describe('composition', () => {
  test('GIVEN existing zones THEN no zone is created and the records go into them by name', async () => {
    const { cloud } = await runProgram(() => new XmppService('chat', { spec: minimalSpec, existingZones: ['example.net'] }));
    expect(ofType(cloud, TYPES.domain)).toHaveLength(0);
    for (const record of ofType(cloud, TYPES.record)) expect(record.inputs.domain).toBe('example.net');
  });

  test('GIVEN a domain whose DNS is hosted outside DigitalOcean THEN nothing of its zone is created and zone_files holds it with the deployed addresses', async () => {
    const spec: XmppServiceSpec = { ...minimalSpec, domains: ['example.net', { name: 'customer.example', zone: 'external' }] };
    const { cloud, result } = await runProgram(() => new XmppService('chat', { spec }));
    expect(ofType(cloud, TYPES.domain).map((d) => d.inputs.name)).toEqual(['example.net']);
    expect(ofType(cloud, TYPES.record).filter((r) => r.inputs.domain !== 'example.net')).toEqual([]);
    const files = (await valueOf(result.outputs.zone_files!)) as Record<string, string>;
    const outputs = await outputValues(result);
    expect(files).toEqual(
      renderExternalZoneFilesWithTokens(resolveSpec(spec), { reservedIpv4: outputs.reserved_ipv4 as string, reservedIpv6: outputs.reserved_ipv6 as string, dropletIpv4: outputs.ipv4 as string, dropletIpv6: outputs.ipv6 as string }),
    );
    expect(files['customer.example']).toContain(`IN AAAA  ${outputs.reserved_ipv6 as string}\n`);
    expect(files['customer.example']).toContain(`IN A     ${outputs.reserved_ipv4 as string}\n`);
  });

  test('GIVEN project, tags, VPC and an unprotected volume THEN they are applied', async () => {
    const { cloud, result } = await runProgram(
      () => new XmppService('proj', { spec: minimalSpec, projectId: pulumi.output('proj-123'), tags: ['xmpp'], vpcUuid: 'vpc-1', protectVolume: false, protectReservedIps: false }),
    );
    // Unset, not false: each inherits the service's own protection, which is off here.
    expect(one(cloud, TYPES.reservedIp).protect).toBeUndefined();
    expect(one(cloud, TYPES.reservedIpv6).protect).toBeUndefined();
    const project = one(cloud, TYPES.projectResources);
    expect(project.inputs.project).toBe('proj-123');
    expect(project.inputs.resources).toHaveLength(3);
    expect(one(cloud, TYPES.droplet).inputs).toMatchObject({ tags: ['xmpp'], vpcUuid: 'vpc-1' });
    expect(one(cloud, TYPES.volume).protect).toBeUndefined();
    // Escape hatches: the underlying resources are reachable.
    expect(result.records.records['example.net/_xmpp-client._tcp/SRV']).toBeInstanceOf(pulumi.CustomResource);
    expect(result.host.droplet).toBeInstanceOf(pulumi.CustomResource);
  });

  test('GIVEN two services in one program THEN their resource names do not collide', async () => {
    const { cloud } = await runProgram(() => {
      new XmppService('friends', { spec: minimalSpec });
      return new XmppService('club', { spec: closedSpec });
    });
    const names = cloud.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(ofType(cloud, TYPES.droplet).map((d) => d.inputs.name).sort()).toEqual(['xmpp-chat-example-com', 'xmpp-example-net']);
  });
});

describe('review files', () => {
  const base = mkdtempSync(join(tmpdir(), 'xc-review-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  test('GIVEN reviewDirectory THEN the redacted files are written under <dir>/<name>/, and those no longer rendered are removed', async () => {
    await runProgram(() => new XmppService('xmpp', { spec: { ...minimalSpec, domains: ['example.net', 'gone.example'] }, reviewDirectory: base }));
    expect(readFileSync(join(base, 'xmpp', 'dns', 'zones.txt'), 'utf8')).toContain('$ORIGIN gone.example.');
    writeFileSync(join(base, 'xmpp', 'dns', 'stale.zone'), 'a file the writer did not render');
    writeFileSync(join(base, 'unrelated.txt'), 'mine');

    const spec = { ...minimalSpec, calls: { sharedSecret: 'b'.repeat(64) } };
    await runProgram(() => new XmppService('xmpp', { spec, reviewDirectory: base }));
    const expected = renderReviewFiles(resolveSpec(spec));
    for (const [path, content] of Object.entries(expected)) {
      expect(readFileSync(join(base, 'xmpp', path), 'utf8')).toBe(content);
      expect(content).not.toContain('b'.repeat(64));
    }
    expect(readFileSync(join(base, 'xmpp', 'dns', 'zones.txt'), 'utf8')).not.toContain('gone.example');
    expect(existsSync(join(base, 'xmpp', 'dns', 'stale.zone'))).toBe(false);
    expect(readFileSync(join(base, 'unrelated.txt'), 'utf8')).toBe('mine');
  });
});

describe('GIVEN an Output where the declaration needs a value at synthesis', () => {
  test.each<[string, (base: typeof minimalSpec) => object, string]>([
    ['a whole section', (base) => ({ ...base, droplet: pulumi.output({ region: 'fra1' }) }), 'droplet'],
    ['a field', (base) => ({ ...base, droplet: { region: pulumi.output('fra1') } }), 'droplet.region'],
  ])('WHEN %s is one THEN planning fails naming the field, not with the Output\'s text', (_name, make, field) => {
    expect(() => new XmppService('xmpp', { spec: make(minimalSpec) as never })).toThrow(new RegExp(`- ${field.replace('.', '\\.')} = "\\(a value known only at deploy time\\)": is a deploy-time value`));
  });
});

describe('GIVEN the whole service protected by its component options', () => {
  test('WHEN the spec protects nothing itself THEN every resource still inherits the protection (the lifecycle sets protect only to protect)', async () => {
    const { result } = await runProgram(() => new XmppService('xmpp', { spec: minimalSpec, protectVolume: false, protectReservedIps: false }, { protect: true }));
    // Pulumi keeps the effective option on the resource; there is no public accessor for it.
    const protectedOf = (resource: pulumi.Resource) => (resource as unknown as { __protect?: boolean }).__protect;
    expect([result.host.droplet, result.host.volume, result.host.reservedIp, result.firewall.firewall].map(protectedOf)).toEqual([true, true, true, true]);
  });

  test('WHEN the component is not protected THEN the spec\'s protection alone decides', async () => {
    const { result } = await runProgram(() => new XmppService('xmpp', { spec: minimalSpec, protectVolume: false }));
    const protectedOf = (resource: pulumi.Resource) => (resource as unknown as { __protect?: boolean }).__protect ?? false;
    expect([result.host.droplet, result.host.volume, result.host.reservedIp].map(protectedOf)).toEqual([false, false, true]);
  });
});
