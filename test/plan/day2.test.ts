/**
 * Day-2 changes, proven by the plans the real engine computes against applied state (the stand-in
 * DigitalOcean provider in place of the cloud): what each change creates, updates, replaces and
 * destroys, in both directions, and what the pull-request summary says about it.
 */
import { composeComment } from '../../examples/gitops/pr-comment';
import { planSummaryMarkdown, summarizePlan } from '../../examples/gitops/plan-summary';
import { XmppServiceSpec } from '../../lib/core/spec';
import { effectiveChanges, PlanJson, ResourceChange, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { changeKinds, NO_ENGINE, synthesizeStack, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;

const BASE = TWO_DOMAINS;

/** A record instance's key (`example.net/@/AAAA`), or undefined for other resources. */
const recordKey = (c: ResourceChange) => (c.type === 'digitalocean_record' ? String(c.index) : undefined);
const kinds = changeKinds;

/** Every record of the stack, from the records locals (one per zone), by key. */
function synthesizedRecords(stack: { [key: string]: any }): { [key: string]: { address: string | null } } {
  const records: { [key: string]: { address: string | null } } = {};
  for (const local of Object.values(stack.locals ?? {}) as { [key: string]: unknown }[]) {
    for (const [key, value] of Object.entries(local)) if (key.includes('/') && typeof value === 'object' && value !== null && 'address' in value) records[key] = value as { address: string | null };
  }
  return records;
}

/**
 * The records whose value is the address of a droplet (not a reserved one): those a replacement of
 * that droplet rewrites. Read from the synthesized records local, where each record names its address.
 */
function recordsPointingAtDroplets(stack: { [key: string]: any }): string[] {
  const records = synthesizedRecords(stack);
  if (Object.keys(records).length === 0) throw new Error('the stack has no records local');
  return Object.entries(records)
    .filter(([, r]) => r.address !== null && !/^reserved/.test(r.address))
    .map(([key]) => key)
    .sort();
}

describeUnless(missing, 'day-2 plans against applied state', () => {
  let workspace: TerraformWorkspace;

  async function planFor(spec: XmppServiceSpec): Promise<{ json: PlanJson; changes: ResourceChange[]; stack: { [key: string]: any } }> {
    const stack = synthesizeStack(spec);
    workspace.writeStack(stack);
    const { json } = await workspace.plan();
    return { json, changes: effectiveChanges(json), stack };
  }

  async function applyFor(spec: XmppServiceSpec): Promise<void> {
    await planFor(spec);
    await workspace.apply();
  }

  beforeAll(async () => {
    workspace = new TerraformWorkspace();
    workspace.writeStack(synthesizeStack(BASE));
    await workspace.init();
    await workspace.ok(['validate', '-no-color']);
    await applyFor(BASE);
  });
  afterAll(() => workspace?.remove());

  test('GIVEN the applied service WHEN the unchanged spec is planned THEN nothing changes', async () => {
    const { changes } = await planFor(BASE);
    expect(kinds(changes)).toEqual([]);
  });

  /** What a replacement of the Prosody droplet touches besides itself, as the README lists it. */
  function replacementCompanions(stack: { [key: string]: any }): string[] {
    return [
      ...recordsPointingAtDroplets(stack).map((key) => `update digitalocean_record[${key}]`),
      // The firewall and the reserved IPs follow the droplet by its id.
      'update digitalocean_firewall',
      ...Object.keys(stack.resource.digitalocean_reserved_ip_assignment ?? {}).map(() => 'delete+create digitalocean_reserved_ip_assignment'),
      ...Object.keys(stack.resource.digitalocean_reserved_ipv6_assignment ?? {}).map(() => 'delete+create digitalocean_reserved_ipv6_assignment'),
    ];
  }

  const replaced = ['delete+create digitalocean_droplet'];

  test('GIVEN the applied service WHEN a domain is added THEN the plan creates its zone and records and touches no other domain\'s records but those the replacement rewrites; removing it again deletes exactly those', async () => {
    const added: XmppServiceSpec = { ...BASE, domains: [...BASE.domains, 'example.com'] };
    const { json, changes, stack } = await planFor(added);
    const newKeys = Object.keys(synthesizedRecords(stack)).filter((k) => k.startsWith('example.com/'));
    expect(newKeys.length).toBeGreaterThan(5);
    const expected = [
      'create digitalocean_domain[example.com]',
      ...newKeys.map((key) => `create digitalocean_record[${key}]`),
      ...replaced,
      ...replacementCompanions(stack).filter((c) => !c.includes('[example.com/')),
    ].sort();
    expect(kinds(changes)).toEqual(expected);
    // Nothing of another domain is replaced or deleted.
    expect(changes.filter((c) => recordKey(c) && !recordKey(c)!.startsWith('example.com/') && c.change.actions.includes('delete'))).toEqual([]);

    const summary = summarizePlan(json);
    expect(summary.dropletReplacements.map((c) => c.address)).toHaveLength(1);
    const rewritten = summary.rewrittenRecords.map((r) => `${r.zone}/${r.name}/${r.type}`).sort();
    expect(rewritten).toEqual(recordsPointingAtDroplets(stack).filter((k) => !k.startsWith('example.com/')));
    await workspace.apply();

    const back = await planFor(BASE);
    expect(kinds(back.changes)).toEqual(
      [
        'delete digitalocean_domain[example.com]',
        ...newKeys.map((key) => `delete digitalocean_record[${key}]`),
        ...replaced,
        ...replacementCompanions(back.stack),
      ].sort(),
    );
    expect(summarizePlan(back.json).irreversible.map((c) => c.type)).toEqual(['digitalocean_domain']);
    await workspace.apply();
  });

  test('GIVEN the applied service WHEN only Prosody\'s configuration changes THEN the droplet is replaced and the records the README lists are rewritten, nothing else; and back', async () => {
    const changed: XmppServiceSpec = { ...BASE, contacts: { abuse: ['mailto:abuse@example.net'] } };
    for (const spec of [changed, BASE]) {
      const { json, changes, stack } = await planFor(spec);
      expect(kinds(changes)).toEqual([...replaced, ...replacementCompanions(stack)].sort());
      const droplet = changes.find((c) => c.type === 'digitalocean_droplet')!;
      expect(droplet.change.replace_paths).toEqual([['user_data']]);
      // The comment the GitOps workflow posts, from this real plan: the replacement warning first,
      // the records it rewrites named, no address or user_data in it.
      const comment = composeComment({ planSummary: planSummaryMarkdown(json, workspace.engineName === 'tofu' ? 'OpenTofu' : 'Terraform'), diff: '' });
      expect(comment).toMatch(/REPLACE/);
      expect(comment).toContain('turn.example.net');
      expect(comment).not.toMatch(/#cloud-config|192\.0\.2\.|198\.51\.100\.|2001:db8:/);
      await workspace.apply();
    }
  });

  test('GIVEN the applied service WHEN the README\'s `plan -refresh=false` and `-replace=<droplet address>` run THEN the first finds nothing to do, the second replaces the droplet with the same companions as a configuration change', async () => {
    const stack = synthesizeStack(BASE);
    workspace.writeStack(stack);
    const unrefreshed = await workspace.plan(['-refresh=false']);
    expect(kinds(effectiveChanges(unrefreshed.json))).toEqual([]);

    const listed = await workspace.ok(['state', 'list']);
    const droplets = listed.stdout.split('\n').filter((address) => address.startsWith('digitalocean_droplet.'));
    expect(droplets).toHaveLength(1);
    const { json } = await workspace.plan([`-replace=${droplets[0]}`]);
    const changes = effectiveChanges(json);
    expect(kinds(changes)).toEqual([...replaced, ...replacementCompanions(stack)].sort());
    expect(changes.find((c) => c.type === 'digitalocean_droplet')?.action_reason).toBe('replace_by_request');
    await workspace.apply();
    expect(kinds(effectiveChanges((await workspace.plan()).json))).toEqual([]);
  });

  test('GIVEN the applied service WHEN the droplet size grows THEN it is one in-place update and the summary warns of the power-off and the disk growth; the way back plans the same and DigitalOcean refuses it', async () => {
    const larger = await planFor({ ...BASE, droplet: { ...BASE.droplet, size: 's-2vcpu-2gb' } });
    expect(kinds(larger.changes)).toEqual(['update digitalocean_droplet']);
    expect(summarizePlan(larger.json).dropletResizes).toEqual([expect.objectContaining({ resizeDisk: true })]);
    const markdown = planSummaryMarkdown(larger.json);
    expect(markdown).toMatch(/powered off/);
    expect(markdown).toMatch(/can never shrink back/);
    await workspace.apply();

    // Back to the smaller size: the plan looks as harmless, which is why the summary warned.
    const smaller = await planFor(BASE);
    expect(kinds(smaller.changes)).toEqual(['update digitalocean_droplet']);
    const refused = await workspace.run(['apply', '-no-color', '-input=false', '-auto-approve', 'plan.bin']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.replace(/\s+/g, ' ')).toMatch(/smaller disk/);
  });

  test('GIVEN the applied service WHEN a change would replace the volume and the reserved IPs THEN prevent_destroy stops the plan', async () => {
    workspace.writeStack(synthesizeStack({ ...BASE, droplet: { ...BASE.droplet, region: 'fra1' } }));
    const result = await workspace.run(['plan', '-no-color', '-input=false']);
    expect(result.status).not.toBe(0);
    const text = result.stderr.replace(/\s+/g, ' ');
    expect(text).toMatch(/Instance cannot be destroyed/);
    for (const type of ['digitalocean_volume', 'digitalocean_reserved_ip']) expect(text).toContain(type);
  });
});
