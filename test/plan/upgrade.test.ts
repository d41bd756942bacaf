/**
 * Upgrading a deployed service to the per-zone DNS layout moves its zones and records in state and
 * replaces none of them. The fixture is the stack as the previous layout synthesized it (one
 * `digitalocean_domain` and one `digitalocean_record` for all zones), applied first.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { NO_ENGINE, synthesizeStack, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

/** The declaration the fixture was synthesized from. */
const SPEC = TWO_DOMAINS;

describeUnless(terraformEngine() ? undefined : NO_ENGINE, 'upgrading from one records resource to one per zone', () => {
  let workspace: TerraformWorkspace;
  afterAll(() => workspace?.remove());

  test('GIVEN a service applied with the former layout WHEN planned with this one THEN every zone and record moves and none is created or destroyed', async () => {
    workspace = new TerraformWorkspace();
    const former = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'single-records-resource.tf.json'), 'utf8'));
    workspace.writeStack(former);
    await workspace.init();
    await workspace.plan();
    await workspace.apply();
    const formerRecords = Object.keys(Object.values(former.locals).find((v: any) => Object.keys(v).some((k) => k.includes('/'))) as object);

    workspace.writeStack(synthesizeStack(SPEC));
    const { json } = await workspace.plan();
    const dns = (json.resource_changes ?? []).filter((c) => c.type === 'digitalocean_record' || c.type === 'digitalocean_domain');
    expect(dns.filter((c) => !(c.change.actions.length === 1 && ['no-op', 'update'].includes(c.change.actions[0])))).toEqual([]);
    const moved = dns.filter((c) => typeof (c as { previous_address?: string }).previous_address === 'string');
    expect(moved.filter((c) => c.type === 'digitalocean_record').map((c) => String(c.index)).sort()).toEqual([...formerRecords].sort());
    expect(moved.filter((c) => c.type === 'digitalocean_domain')).toHaveLength(2);
  });
});
