/**
 * Upgrading a deployed service from Debian 12 to Debian 13 (`droplet.image` from "debian-12-x64" to
 * "debian-13-x64"), proven by the plan the real engine computes against applied state, for both
 * configuration delivery channels: the Prosody droplet is replaced, deleted first, and the volume,
 * the reserved IPs, the zones and the records stay (the records that hold the droplet's own
 * addresses follow it). What the plan prints is what the README shows the operator.
 */
import { planSummaryMarkdown, summarizePlan } from '../../examples/gitops/plan-summary';
import { XmppServiceSpec } from '../../lib/core/spec';
import { effectiveChanges, PlanJson, ResourceChange, SPACES_CREDENTIALS, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { changeKinds, NO_ENGINE, synthesizeStack, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;

type Channel = 'user-data' | 'spaces';

const on = (channel: Channel, image: string): XmppServiceSpec => ({
  ...TWO_DOMAINS,
  droplet: { ...TWO_DOMAINS.droplet, image },
  ...(channel === 'spaces' ? { configDelivery: { channel: 'spaces' as const } } : {}),
});

/** The records whose value is the droplet's own address (not a reserved one): those a replacement rewrites. */
function recordsPointingAtDroplets(stack: { [key: string]: any }): string[] {
  const keys: string[] = [];
  for (const local of Object.values(stack.locals ?? {}) as { [key: string]: any }[]) {
    for (const [key, value] of Object.entries(local)) {
      if (key.includes('/') && typeof value === 'object' && value !== null && typeof value.address === 'string' && !/^reserved/.test(value.address)) keys.push(key);
    }
  }
  return keys.sort();
}

/** What the change touches besides the droplet, for either direction. */
function expectedChanges(channel: Channel, stack: { [key: string]: any }): string[] {
  return [
    'delete+create digitalocean_droplet',
    // The reserved IPs follow the droplet by its id; the firewall names it.
    'delete+create digitalocean_reserved_ip_assignment',
    'delete+create digitalocean_reserved_ipv6_assignment',
    'update digitalocean_firewall',
    ...recordsPointingAtDroplets(stack).map((key) => `update digitalocean_record[${key}]`),
    // The bundle holds the files rendered for the platform: a new one, in place.
    ...(channel === 'spaces' ? ['update digitalocean_spaces_bucket_object'] : []),
  ].sort();
}

/** Resource types the upgrade must leave exactly as they are. */
const KEPT = ['digitalocean_volume', 'digitalocean_reserved_ip', 'digitalocean_reserved_ipv6', 'digitalocean_domain', 'digitalocean_spaces_bucket', 'digitalocean_spaces_key'];

describe.each(['user-data', 'spaces'] as Channel[])('configuration delivered by %s', (channel) => {
  describeUnless(missing, 'GIVEN a service applied on debian-12-x64 WHEN droplet.image becomes debian-13-x64', () => {
    let workspace: TerraformWorkspace;
    let json: PlanJson;
    let changes: ResourceChange[];
    let stack: { [key: string]: any };
    let text: string;

    beforeAll(async () => {
      workspace = new TerraformWorkspace({ env: SPACES_CREDENTIALS });
      workspace.writeStack(synthesizeStack(on(channel, 'debian-12-x64')));
      await workspace.init();
      await workspace.plan();
      await workspace.apply();
      stack = synthesizeStack(on(channel, 'debian-13-x64'));
      workspace.writeStack(stack);
      json = (await workspace.plan()).json;
      changes = effectiveChanges(json);
      text = (await workspace.ok(['show', '-no-color', 'plan.bin'])).stdout;
    });
    afterAll(() => workspace?.remove());

    test('THEN the Prosody droplet is replaced, deleted first, for its image (and with user_data, its rendered files); the reserved IPs\' assignments and the records holding its own addresses follow it', () => {
      expect(changeKinds(changes)).toEqual(expectedChanges(channel, stack));
      const droplet = changes.find((c) => c.type === 'digitalocean_droplet')!;
      expect(droplet.change.actions).toEqual(['delete', 'create']);
      expect(droplet.change.replace_paths).toEqual(channel === 'user-data' ? [['image'], ['user_data']] : [['image']]);
      expect(droplet.change.before).toMatchObject({ image: 'debian-12-x64' });
      expect(droplet.change.after).toMatchObject({ image: 'debian-13-x64' });
    });

    test('THEN the volume, the reserved IPs, the zones and the records at the reserved IPs stay as they are', () => {
      expect(changes.filter((c) => KEPT.includes(c.type))).toEqual([]);
      const planned = (json.resource_changes ?? []).filter((c) => KEPT.includes(c.type));
      expect(planned.map((c) => c.type)).toEqual(expect.arrayContaining(['digitalocean_volume', 'digitalocean_reserved_ip', 'digitalocean_reserved_ipv6', 'digitalocean_domain']));
      expect(changes.filter((c) => c.type === 'digitalocean_record' && c.change.actions.includes('delete'))).toEqual([]);
      expect(summarizePlan(json).irreversible).toEqual([]);
    });

    test('THEN the plan shows the operator the image forcing the replacement, and the PR summary says the old droplet goes first and nothing is lost', () => {
      expect(text).toMatch(/# digitalocean_droplet\.\S+ must be replaced\n-\/\+ resource "digitalocean_droplet"/);
      expect(text).toMatch(/~ image\s+= "debian-12-x64" -> "debian-13-x64" # forces replacement/);
      expect(/~ user_data\s+= "\w+" -> "\w+" # forces replacement/.test(text)).toBe(channel === 'user-data');
      expect(text).toContain(channel === 'user-data' ? 'Plan: 3 to add, 3 to change, 3 to destroy.' : 'Plan: 3 to add, 4 to change, 3 to destroy.');
      // The first admin's link is made with the new platform's command.
      expect(text).toMatch(/~ \w+_first_admin\s+= ".*prosodyctl mod_invites generate example\.net --reset admin.*" -> ".*prosodyctl shell invite create_reset admin@example\.net.*"/);
      const summary = summarizePlan(json);
      expect(summary.dropletReplacements.map((c) => c.deleteFirst)).toEqual([true]);
      const markdown = planSummaryMarkdown(json, workspace.engineName === 'tofu' ? 'OpenTofu' : 'Terraform');
      expect(markdown).toContain('The old droplet is deleted first');
      expect(markdown).toContain('Nothing is lost.');
      expect(markdown).not.toMatch(/CAUTION/);
    });

    test('WHEN applied and the image is set back to debian-12-x64 (the rollback) THEN the plan has the same shape the other way', async () => {
      await workspace.apply();
      const back = synthesizeStack(on(channel, 'debian-12-x64'));
      workspace.writeStack(back);
      const backJson = (await workspace.plan()).json;
      const backChanges = effectiveChanges(backJson);
      expect(changeKinds(backChanges)).toEqual(expectedChanges(channel, back));
      expect(backChanges.find((c) => c.type === 'digitalocean_droplet')!.change.after).toMatchObject({ image: 'debian-12-x64' });
      expect(summarizePlan(backJson).irreversible).toEqual([]);
    });
  });
});
