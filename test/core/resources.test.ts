import { planFirewall } from '../../lib/core/firewall';
import { firewallName, firewallRuleAttributes, prosodyDropletAttributes, recordAddresses, reservedIpv6Attributes, serviceAddresses, turnDropletAttributes, volumeAttributes } from '../../lib/core/resources';
import { resolveSpec } from '../../lib/core/validate';
import { dedicatedTurnSpec, fullSpec, MANY_DOMAINS_DROPLET, minimalSpec } from '../support/specs';

describe('recordAddresses', () => {
  test.each([
    ['coturn on the Prosody droplet', { reservedIpv4: 'r4', dropletIpv4: 'd4', dropletIpv6: 'd6' }, { turnIpv4: 'd4', turnIpv6: 'd6' }],
    ['coturn on its own droplet', { reservedIpv4: 'r4', dropletIpv4: 'd4', dropletIpv6: 'd6', turnIpv4: 't4', turnIpv6: 't6' }, { turnIpv4: 't4', turnIpv6: 't6' }],
    ['no IPv6', { reservedIpv4: 'r4', dropletIpv4: 'd4' }, { turnIpv4: 'd4', turnIpv6: undefined }],
  ])('GIVEN %s THEN the TURN addresses are %j', (_name, given, turn) => {
    expect(recordAddresses(given)).toEqual({ ...given, ...turn });
  });
});

describe('serviceAddresses', () => {
  const host = { reservedIpv4: 'r4', reservedIpv6: 'r6', ipv4: 'd4', ipv6: 'd6' };
  const turn = { ipv4: 't4', ipv6: 't6' };
  const withIpv6 = resolveSpec(minimalSpec);
  const withoutReservedIpv6 = resolveSpec({ ...minimalSpec, droplet: { region: 'zzz1' } });
  const withoutIpv6 = resolveSpec({ ...minimalSpec, droplet: { ipv6: false } });
  test.each([
    ['IPv6, coturn on the Prosody droplet', withIpv6, undefined, { reservedIpv4: 'r4', reservedIpv6: 'r6', dropletIpv4: 'd4', dropletIpv6: 'd6' }],
    ['IPv6, coturn on its own droplet', withIpv6, turn, { reservedIpv4: 'r4', reservedIpv6: 'r6', dropletIpv4: 'd4', dropletIpv6: 'd6', turnIpv4: 't4', turnIpv6: 't6' }],
    ['IPv6 in a region without reserved IPv6', withoutReservedIpv6, undefined, { reservedIpv4: 'r4', dropletIpv4: 'd4', dropletIpv6: 'd6' }],
    ['no IPv6, coturn on the Prosody droplet', withoutIpv6, undefined, { reservedIpv4: 'r4', dropletIpv4: 'd4', dropletIpv6: undefined }],
    ['no IPv6, coturn on its own droplet', withoutIpv6, turn, { reservedIpv4: 'r4', dropletIpv4: 'd4', dropletIpv6: undefined, turnIpv4: 't4', turnIpv6: undefined }],
  ])('GIVEN %s THEN the records get %j', (_name, spec, turnDroplet, addresses) => {
    expect(serviceAddresses(spec, host, turnDroplet)).toEqual(addresses);
  });

  test('GIVEN a spec with a reserved IPv6 but a host without one THEN it fails naming the fix', () => {
    expect(() => serviceAddresses(withIpv6, { reservedIpv4: 'r4', ipv4: 'd4', ipv6: 'd6' }, undefined)).toThrow(/droplet\.reservedIpv6.*Fix: create the reserved IPv6/);
  });

  test('GIVEN any spec THEN the reserved IPv6 has its region as its only attribute, so nothing else replaces it', () => {
    expect(reservedIpv6Attributes(resolveSpec({ ...fullSpec }))).toEqual({ regionSlug: 'fra1' });
    expect(reservedIpv6Attributes(resolveSpec({ ...minimalSpec, dns: { ttlSeconds: 60 }, droplet: { size: 's-2vcpu-4gb', name: 'other' } }))).toEqual({ regionSlug: 'ams3' });
  });
});

describe('droplets and firewalls', () => {
  const spec = resolveSpec({ ...fullSpec, calls: { ...dedicatedTurnSpec.calls } });
  test('THEN the TURN droplet shares region, image and keys but has its own name and size, and no backups', () => {
    const host = prosodyDropletAttributes(spec);
    const turn = turnDropletAttributes(spec);
    expect(turn).toEqual({ ...host, name: spec.calls.droplet.name, size: spec.calls.droplet.size, backups: undefined });
    expect('backups' in turn).toBe(false);
  });
  test.each([
    ['prosody-host', 'xmpp-example-net-fw'],
    ['turn-host', 'xmpp-example-net-turn-fw'],
  ] as const)('the %s firewall is named %s', (role, name) => {
    expect(firewallName(spec, role)).toBe(name);
  });
  test('THEN the rules keep the plan\'s order, ports and addresses', () => {
    const plan = planFirewall(spec);
    const rules = firewallRuleAttributes(plan);
    expect(rules.inbound.map((r) => [r.protocol, r.portRange, r.sourceAddresses])).toEqual(plan.inbound.map((r) => [r.protocol, r.ports, r.addresses]));
    expect(rules.outbound.map((r) => [r.protocol, r.portRange, r.destinationAddresses])).toEqual(plan.outbound.map((r) => [r.protocol, r.ports, r.addresses]));
  });
});

describe('the data volume', () => {
  // The provider replaces a volume whose description changes (ForceNew): nothing that a routine
  // change touches may be in it.
  test('GIVEN a domain more or less THEN nothing of the volume changes, and its description fits the 1024-byte limit', () => {
    const domains = Array.from({ length: 1000 }, (_, i) => `customer-${i}.example`);
    const one = volumeAttributes(resolveSpec({ ...minimalSpec, domains: domains.slice(0, 1), admins: ['admin@customer-0.example'], droplet: MANY_DOMAINS_DROPLET }));
    const many = volumeAttributes(resolveSpec({ ...minimalSpec, domains, admins: ['admin@customer-0.example'], droplet: MANY_DOMAINS_DROPLET }));
    expect(many).toEqual(one);
    expect(Buffer.byteLength(many.description)).toBeLessThanOrEqual(1024);
  });
});
