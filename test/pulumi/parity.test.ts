/**
 * The same spec through cdktf and through Pulumi asks DigitalOcean for the same things: the same
 * DNS records, the same firewall rules, byte-identical user_data (as the droplet receives it, after
 * Terraform has evaluated its JSON string), and the same volumes and reserved IPs.
 */
import * as pulumi from '@pulumi/pulumi';
import { TerraformVariable } from 'cdktf';
import { XmppService as CdktfXmppService } from '../../lib/cdktf';
import { XmppServiceSpec } from '../../lib/core/spec';
import { XmppService as PulumiXmppService } from '../../lib/pulumi';
import { newStack, synth } from '../cdktf/synth';
import { dedicatedTurnSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { Inventory, inventoryFromCdktf, inventoryFromPulumi } from './inventory';
import { installMocks, runProgram } from './mocks';

beforeAll(() => installMocks());

function viaCdktf(spec: XmppServiceSpec): Inventory {
  const stack = newStack();
  new CdktfXmppService(stack, 'Xmpp', { spec, writeReviewFiles: false });
  return inventoryFromCdktf(synth(stack));
}

async function viaPulumi(spec: XmppServiceSpec): Promise<Inventory> {
  const { cloud } = await runProgram(() => new PulumiXmppService('xmpp', { spec }));
  return inventoryFromPulumi(cloud);
}

describe.each(representativeSpecs)('GIVEN the %s spec through both engines', (_name, spec) => {
  let cdktf: Inventory;
  let pulumiSide: Inventory;
  beforeAll(async () => {
    cdktf = viaCdktf(spec);
    pulumiSide = await viaPulumi(spec);
  });

  test('THEN both plan the same DNS records', () => {
    expect(cdktf.records.length).toBeGreaterThan(0);
    expect(pulumiSide.records).toEqual(cdktf.records);
  });

  test('THEN both plan the same firewalls with the same rules on the same droplets', () => {
    expect(pulumiSide.firewalls).toEqual(cdktf.firewalls);
  });

  test('THEN every droplet gets byte-identical user_data and the same attributes', () => {
    expect(pulumiSide.droplets).toEqual(cdktf.droplets);
  });

  test('THEN the volume, reserved IPs and their assignments are the same', () => {
    expect(pulumiSide.volumes).toEqual(cdktf.volumes);
    expect(pulumiSide.reservedIps).toEqual(cdktf.reservedIps);
    expect(pulumiSide.reservedIpAssignments).toEqual(cdktf.reservedIpAssignments);
    expect(pulumiSide.reservedIpv6s).toEqual(cdktf.reservedIpv6s);
    expect(pulumiSide.reservedIpv6Assignments).toEqual(cdktf.reservedIpv6Assignments);
  });
});

describe.each<[string, XmppServiceSpec, string[]]>([
  ['a region with reserved IPv6', minimalSpec, ['reserved-ipv6#ip']],
  ['a region without', { ...minimalSpec, droplet: { region: 'zzz1' } }, ['xmpp-example-net#ipv6_address']],
  ['reserved IPv6 declined', { ...minimalSpec, droplet: { reservedIpv6: false } }, ['xmpp-example-net#ipv6_address']],
])('GIVEN %s through both engines', (_name, spec, apexIpv6) => {
  let cdktf: Inventory;
  let pulumiSide: Inventory;
  beforeAll(async () => {
    cdktf = viaCdktf(spec);
    pulumiSide = await viaPulumi(spec);
  });

  test('THEN both point the apex AAAA record at the same address, and the TURN name at the droplet', () => {
    const aaaa = (inventory: Inventory, name: string) => inventory.records.filter((r) => (r as { type: string }).type === 'AAAA' && (r as { name: string }).name === name).map((r) => (r as { value: string }).value);
    expect(aaaa(cdktf, '@')).toEqual(apexIpv6);
    expect(aaaa(pulumiSide, '@')).toEqual(apexIpv6);
    expect(aaaa(pulumiSide, 'turn')).toEqual(['xmpp-example-net#ipv6_address']);
    expect(pulumiSide.records).toEqual(cdktf.records);
  });

  test('THEN both create the reserved IPv6 and assign it to the droplet exactly when it is used', () => {
    const used = apexIpv6[0] === 'reserved-ipv6#ip';
    expect(cdktf.reservedIpv6s).toEqual(used ? [{ regionSlug: 'ams3' }] : []);
    expect(cdktf.reservedIpv6Assignments).toEqual(used ? [{ ip: 'reserved-ipv6#ip', dropletId: 'xmpp-example-net#id' }] : []);
    expect(pulumiSide.reservedIpv6s).toEqual(cdktf.reservedIpv6s);
    expect(pulumiSide.reservedIpv6Assignments).toEqual(cdktf.reservedIpv6Assignments);
    expect(pulumiSide.droplets).toEqual(cdktf.droplets);
  });
});

describe('GIVEN the TURN secret supplied at deploy time (a sensitive variable; a Pulumi secret)', () => {
  const secret = '9'.repeat(64);
  test('THEN both engines deliver the same user_data to both droplets', async () => {
    const stack = newStack();
    const variable = new TerraformVariable(stack, 'turn_secret', { type: 'string', sensitive: true });
    new CdktfXmppService(stack, 'Xmpp', { spec: { ...dedicatedTurnSpec, calls: { placement: 'dedicated', sharedSecret: variable.stringValue } }, writeReviewFiles: false });
    const cdktf = inventoryFromCdktf(synth(stack), { turn_secret: secret });

    const { cloud } = await runProgram(() => new PulumiXmppService('xmpp', { spec: { ...dedicatedTurnSpec, calls: { placement: 'dedicated', sharedSecret: pulumi.secret(secret) } } }));
    const pulumiSide = inventoryFromPulumi(cloud);

    expect(JSON.stringify(cdktf.droplets)).toContain(secret);
    expect(pulumiSide.droplets).toEqual(cdktf.droplets);
    expect(pulumiSide.records).toEqual(cdktf.records);
    expect(pulumiSide.firewalls).toEqual(cdktf.firewalls);
  });
});
