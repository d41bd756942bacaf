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
import { dedicatedTurnSpec, representativeSpecs } from '../support/specs';
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

  test('THEN the volume, reserved IP and its assignment are the same', () => {
    expect(pulumiSide.volumes).toEqual(cdktf.volumes);
    expect(pulumiSide.reservedIps).toEqual(cdktf.reservedIps);
    expect(pulumiSide.reservedIpAssignments).toEqual(cdktf.reservedIpAssignments);
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
