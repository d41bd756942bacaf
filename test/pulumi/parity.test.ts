/**
 * The same spec through cdktf and through Pulumi asks DigitalOcean for the same things: the same
 * DNS records, the same firewall rules, byte-identical user_data (as the droplet receives it, after
 * Terraform has evaluated its JSON string), and the same volumes and reserved IPs.
 */
import * as pulumi from '@pulumi/pulumi';
import { TerraformVariable } from 'cdktf';
import { XmppService as CdktfXmppService } from '../../lib/cdktf';
import { DEPLOY_TIME_WEBHOOK_PLACEHOLDER } from '../../lib/core/alerts';
import { XmppServiceSpec } from '../../lib/core/spec';
import { XmppService as PulumiXmppService } from '../../lib/pulumi';
import { newStack, synth } from '../cdktf/synth';
import { dedicatedTurnSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { Inventory, inventoryFromCdktf, inventoryFromPulumi } from './inventory';
import { installMocks, runProgram } from './mocks';

beforeAll(() => installMocks());

/** Service options both engines take alike. */
interface CommonOptions {
  readonly projectId?: string;
  readonly protectVolume?: boolean;
  readonly protectReservedIps?: boolean;
  readonly existingZones?: readonly string[];
}

function viaCdktf(spec: XmppServiceSpec, options: CommonOptions = {}): Inventory {
  const stack = newStack();
  new CdktfXmppService(stack, 'Xmpp', { spec, ...options, writeReviewFiles: false });
  return inventoryFromCdktf(synth(stack));
}

async function viaPulumi(spec: XmppServiceSpec, options: CommonOptions = {}): Promise<Inventory> {
  const { cloud } = await runProgram(() => new PulumiXmppService('xmpp', { spec, ...options }));
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

  test('THEN every resource is protected, replaced and left alone alike', () => {
    expect(cdktf.lifecycles.length).toBeGreaterThan(5);
    expect(pulumiSide.lifecycles).toEqual(cdktf.lifecycles);
  });

  test('THEN both write the same configuration bundle into the same bucket, readable with the same read-only key, and make the same backup bucket and read-write key', () => {
    const backups = spec.offsiteBackups === undefined ? 0 : spec.offsiteBackups.createBucket === false ? 1 : 2;
    expect(cdktf.configChannel).toHaveLength((spec.configDelivery?.channel === 'spaces' ? 3 : 0) + backups);
    expect(pulumiSide.configChannel).toEqual(cdktf.configChannel);
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

describe('GIVEN the lifecycle each resource is planned with', () => {
  const lifecycleOf = (inventory: Inventory, resource: string) => inventory.lifecycles.filter((l) => (l as { resource: string }).resource === resource);

  test('WHEN coturn has its own droplet THEN both engines create its replacement first and delete the Prosody droplet first, and protect the volume and reserved addresses', async () => {
    const cdktf = viaCdktf(dedicatedTurnSpec);
    const pulumiSide = await viaPulumi(dedicatedTurnSpec);
    expect(pulumiSide.lifecycles).toEqual(cdktf.lifecycles);
    const droplets = (cdktf.droplets as { name: string }[]).map((d) => d.name);
    expect(droplets).toHaveLength(2);
    const [prosody, turn] = droplets[0].includes('turn') ? [droplets[1], droplets[0]] : droplets;
    expect(lifecycleOf(cdktf, `droplet ${turn}`)).toEqual([{ resource: `droplet ${turn}`, protect: false, replacement: 'create-first', ignoreChanges: [] }]);
    expect(lifecycleOf(cdktf, `droplet ${prosody}`)).toEqual([{ resource: `droplet ${prosody}`, protect: false, replacement: 'delete-first', ignoreChanges: [] }]);
    expect(lifecycleOf(cdktf, 'reserved-ip')).toEqual([{ resource: 'reserved-ip', protect: true, replacement: 'delete-first', ignoreChanges: [] }]);
    expect(cdktf.lifecycles.filter((l) => (l as { resource: string }).resource.startsWith('volume '))).toEqual([expect.objectContaining({ protect: true, replacement: 'delete-first' })]);
  });

  test('WHEN protection is turned off and the resources go into a project THEN both engines agree on every resource, the project assignment included', async () => {
    const options = { projectId: 'project-1', protectVolume: false, protectReservedIps: false, existingZones: [] };
    const cdktf = viaCdktf(minimalSpec, options);
    const pulumiSide = await viaPulumi(minimalSpec, options);
    expect(pulumiSide.lifecycles).toEqual(cdktf.lifecycles);
    expect(lifecycleOf(cdktf, 'project-resources')).toHaveLength(1);
    expect(cdktf.lifecycles.every((l) => (l as { protect: boolean }).protect === false)).toBe(true);
  });
});

describe('GIVEN alerts declared, with a Slack webhook', () => {
  const webhook = 'https://hooks.slack.com/services/T0000000/B0000000/parityparityparity';
  const alerts = { emails: ['ops@example.net', 'oncall@example.net'], slack: { channel: 'ops-alerts', webhookUrl: webhook }, cpuPercent: 80 };

  test.each<[string, XmppServiceSpec]>([
    ['coturn on the Prosody host', { ...minimalSpec, alerts }],
    ['coturn on its own droplet', { ...dedicatedTurnSpec, alerts }],
  ])('WHEN %s THEN both engines create the same uptime check, alerts and monitor alerts on the same droplets', async (_what, spec) => {
    const cdktf = viaCdktf(spec);
    const pulumiSide = await viaPulumi(spec);
    const droplets = (cdktf.droplets as { name: string }[]).length;
    // One check and its three alerts, and three monitor alerts per droplet.
    expect(cdktf.alerts).toHaveLength(4 + 3 * droplets);
    expect(JSON.stringify(cdktf.alerts)).toContain(webhook);
    expect(pulumiSide.alerts).toEqual(cdktf.alerts);
    expect(pulumiSide.lifecycles).toEqual(cdktf.lifecycles);
    expect(pulumiSide.droplets).toEqual(cdktf.droplets);
  });

  test('WHEN planned through Pulumi THEN the webhook reaches the provider only as a secret', async () => {
    const { cloud } = await runProgram(() => new PulumiXmppService('xmpp', { spec: { ...minimalSpec, alerts } }));
    const alertResources = cloud.resources.filter((r) => r.type === 'digitalocean:index/uptimeAlert:UptimeAlert' || r.type === 'digitalocean:index/monitorAlert:MonitorAlert');
    expect(alertResources).toHaveLength(6);
    for (const r of alertResources) expect([...r.secretInputs]).toEqual([r.type.endsWith('UptimeAlert') ? 'notifications' : 'alerts']);
  });

  test('WHEN the webhook is supplied at deploy time (a sensitive variable; a Pulumi secret) THEN both engines send the alerts to it, the placeholder reaches no resource, and Pulumi passes it only as a secret', async () => {
    const stack = newStack();
    const variable = new TerraformVariable(stack, 'slack_webhook', { type: 'string', sensitive: true });
    new CdktfXmppService(stack, 'Xmpp', { spec: { ...dedicatedTurnSpec, alerts: { ...alerts, slack: { channel: 'ops-alerts', webhookUrl: variable.stringValue } } }, writeReviewFiles: false });
    const synthesized = synth(stack);
    const cdktf = inventoryFromCdktf(synthesized, { slack_webhook: webhook });

    const { cloud } = await runProgram(
      () => new PulumiXmppService('xmpp', { spec: { ...dedicatedTurnSpec, alerts: { ...alerts, slack: { channel: 'ops-alerts', webhookUrl: pulumi.secret(webhook) } } } }),
    );
    const pulumiSide = inventoryFromPulumi(cloud);

    // The same alerts as with the literal webhook, sent to the value given at deploy.
    expect(cdktf.alerts).toEqual(viaCdktf({ ...dedicatedTurnSpec, alerts }).alerts);
    expect(pulumiSide.alerts).toEqual(cdktf.alerts);
    expect(pulumiSide.droplets).toEqual(cdktf.droplets);

    // cdktf: the JSON only references the variable; Pulumi: every Slack notification is a secret input.
    expect(JSON.stringify(synthesized)).not.toContain('hooks.slack.com');
    const alertResources = cloud.resources.filter((r) => r.type === 'digitalocean:index/uptimeAlert:UptimeAlert' || r.type === 'digitalocean:index/monitorAlert:MonitorAlert');
    expect(alertResources).toHaveLength(9);
    for (const r of alertResources) {
      expect([...r.secretInputs]).toEqual([r.type.endsWith('UptimeAlert') ? 'notifications' : 'alerts']);
      expect(JSON.stringify(r.inputs)).toContain(webhook);
    }
    for (const r of cloud.resources) expect(JSON.stringify(r.inputs)).not.toContain(DEPLOY_TIME_WEBHOOK_PLACEHOLDER);
  });

  test('WHEN no alerts are declared THEN neither engine creates any', async () => {
    expect(viaCdktf(minimalSpec).alerts).toEqual([]);
    expect((await viaPulumi(minimalSpec)).alerts).toEqual([]);
  });
});
