/**
 * Domains spread over several hosts: the core check, the cdktf XmppFleet and the Pulumi XmppFleet.
 */
import { checkHostAssignments } from '../lib/core/hosts';
import { XmppServiceSpec } from '../lib/core/spec';
import { resolveSpec } from '../lib/core/validate';
import { XmppFleet } from '../lib/cdktf';
import { XmppFleet as PulumiXmppFleet } from '../lib/pulumi';
import { newStack, resources, synth } from './cdktf/synth';
import { installMocks, ofType, runProgram, TYPES } from './pulumi/mocks';
import { synthRecords, synthZones } from './support/synth-records';

const host = (domains: string[], extra: Partial<XmppServiceSpec> = {}): XmppServiceSpec => ({
  domains,
  admins: [`admin@${domains[0]}`],
  acme: { email: `hostmaster@${domains[0]}` },
  adminSourceCidrs: ['203.0.113.0/24'],
  ...extra,
  droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'], ...extra.droplet },
});
const assign = (hosts: Record<string, XmppServiceSpec>) => Object.entries(hosts).map(([name, spec]) => ({ host: name, resolve: () => resolveSpec(spec) }));

describe('checkHostAssignments', () => {
  test('GIVEN disjoint domains on two hosts THEN it passes', () => {
    expect(() => checkHostAssignments(assign({ 'chat-1': host(['a.example', 'b.example']), 'chat-2': host(['c.example']) }))).not.toThrow();
  });

  const conflicts: { name: string; hosts: Record<string, XmppServiceSpec>; message: RegExp }[] = [
    { name: 'the same domain on two hosts', hosts: { 'chat-1': host(['a.example']), 'chat-2': host(['b.example', 'a.example']) }, message: /hosts\.chat-2: name "a\.example" is also on host chat-1\. Fix: assign each domain to one host only\./ },
    { name: 'a domain that is another host\'s component name', hosts: { 'chat-1': host(['a.example']), 'chat-2': host(['upload.a.example']) }, message: /hosts\.chat-2: name "upload\.a\.example" is also on host chat-1/ },
    { name: 'a domain that is another host\'s TURN name', hosts: { 'chat-1': host(['a.example']), 'chat-2': host(['turn.a.example']) }, message: /hosts\.chat-2: name "turn\.a\.example" is also on host chat-1/ },
    { name: 'two hosts with one droplet name', hosts: { 'chat-1': host(['a.example'], { droplet: { name: 'chat' } }), 'chat-2': host(['b.example'], { droplet: { name: 'chat' } }) }, message: /hosts\.chat-2: droplet name "chat" is also host chat-1's\. Fix: set droplet\.name on one of them\./ },
    { name: 'a host name that is no name', hosts: { 'Chat One': host(['a.example']) }, message: /hosts: "Chat One" is not a usable host name\. Fix: lower-case letters, digits and hyphens/ },
    { name: 'an invalid spec on one host', hosts: { 'chat-1': host(['a.example']), 'chat-2': host(['b.example'], { droplet: { region: 'Mars' } }) }, message: /hosts\.chat-2: .*droplet\.region = "Mars"/s },
  ];
  test.each(conflicts)('GIVEN $name THEN it fails, naming the host, the value and the fix', ({ hosts, message }) => {
    expect(() => checkHostAssignments(assign(hosts))).toThrow(message);
  });

  test('GIVEN no host THEN it fails with an example', () => {
    expect(() => checkHostAssignments([])).toThrow(/no host is declared\. Fix: /);
  });
});

const HOSTS = { 'chat-1': host(['a.example', 'b.example']), 'chat-2': host(['c.example']) };

describe('GIVEN the cdktf XmppFleet with two hosts', () => {
  const stack = newStack();
  const fleet = new XmppFleet(stack, 'Fleet', { hosts: Object.fromEntries(Object.entries(HOSTS).map(([name, spec]) => [name, { spec, writeReviewFiles: false }])) });
  const out = synth(stack);

  test('THEN each host has its own droplet, volume, reserved IP and firewall', () => {
    for (const type of ['digitalocean_droplet', 'digitalocean_volume', 'digitalocean_reserved_ip', 'digitalocean_firewall']) expect(resources(out, type)).toHaveLength(2);
    expect(resources(out, 'digitalocean_droplet').map((d) => d.name).sort()).toEqual(['xmpp-a-example', 'xmpp-c-example']);
    expect(Object.keys(fleet.services)).toEqual(['chat-1', 'chat-2']);
  });

  test('THEN each domain\'s records point at its own host\'s reserved IP, and each zone is created once', () => {
    const ipOf = (hostName: string) => Object.keys(out.resource.digitalocean_reserved_ip).find((k) => k.startsWith(`Fleet_${hostName}_`))!;
    const apex = synthRecords(out).filter((r) => r.name === '@' && r.type === 'A');
    expect(apex.map((r) => [r.domain, r.value]).sort()).toEqual([
      ['a.example', `\${digitalocean_reserved_ip.${ipOf('chat-1')}.ip_address}`],
      ['b.example', `\${digitalocean_reserved_ip.${ipOf('chat-1')}.ip_address}`],
      ['c.example', `\${digitalocean_reserved_ip.${ipOf('chat-2')}.ip_address}`],
    ]);
    expect(ipOf('chat-1')).not.toBe(ipOf('chat-2'));
    expect(synthZones(out).sort()).toEqual(['a.example', 'b.example', 'c.example']);
  });

  test('THEN a domain on two hosts fails at synth, before anything is created', () => {
    const bad = newStack();
    expect(() => new XmppFleet(bad, 'Fleet', { hosts: { 'chat-1': { spec: host(['a.example']) }, 'chat-2': { spec: host(['a.example']) } } })).toThrow(/name "a\.example" is also on host chat-1/);
    expect(synth(bad).resource ?? {}).toEqual({});
  });
});

describe('GIVEN the Pulumi XmppFleet with the same two hosts', () => {
  beforeAll(() => installMocks());

  test('THEN it asks for the same droplets, volumes and reserved IPs, each host\'s under its own service', async () => {
    const { cloud } = await runProgram(() => new PulumiXmppFleet('fleet', { hosts: Object.fromEntries(Object.entries(HOSTS).map(([name, spec]) => [name, { spec }])) }));
    expect(ofType(cloud, TYPES.droplet).map((d) => d.inputs.name).sort()).toEqual(['xmpp-a-example', 'xmpp-c-example']);
    expect(ofType(cloud, TYPES.volume)).toHaveLength(2);
    expect(ofType(cloud, TYPES.reservedIp)).toHaveLength(2);
    const services = cloud.resources.filter((r) => r.type === 'xmpp-constructs:index:XmppService');
    expect(services.map((s) => [s.name, s.parent])).toEqual([['fleet-chat-1', 'fleet'], ['fleet-chat-2', 'fleet']]);
    const records = ofType(cloud, TYPES.record);
    expect(records.filter((r) => r.name.startsWith('fleet-chat-2-')).map((r) => r.inputs.domain).every((d) => d === 'c.example')).toBe(true);
  });

  test('THEN a domain on two hosts fails before anything registers', async () => {
    expect(() => new PulumiXmppFleet('bad', { hosts: { 'chat-1': { spec: host(['a.example']) }, 'chat-2': { spec: host(['a.example']) } } })).toThrow(/name "a\.example" is also on host chat-1/);
  });
});
