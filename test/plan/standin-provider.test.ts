/**
 * The stand-in DigitalOcean provider fails where the real one fails, run by the real engine:
 * attributes the schema lacks, values of the wrong type, enum values it does not know, SRV records
 * without weight, and a volume asked to shrink. Each case is a small hand-written configuration.
 */
import { installStandIn, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { testUnless } from '../support/tools';
import { NO_ENGINE } from './stacks';

const missing = terraformEngine() ? undefined : NO_ENGINE;
const it = testUnless(missing);
jest.setTimeout(180_000);

const PROVIDER = { terraform: { required_providers: { digitalocean: { source: 'digitalocean/digitalocean', version: installedVersion() } } }, provider: { digitalocean: [{}] } };

function installedVersion(): string {
  return missing ? '0.0.0' : installStandIn().providerVersion;
}

async function workspaceWith(resources: object): Promise<TerraformWorkspace> {
  const workspace = new TerraformWorkspace();
  workspace.writeStack({ ...PROVIDER, resource: resources });
  await workspace.init();
  return workspace;
}

const workspaces: TerraformWorkspace[] = [];
afterAll(() => workspaces.forEach((w) => w.remove()));

async function planFails(resources: object): Promise<string> {
  const workspace = await workspaceWith(resources);
  workspaces.push(workspace);
  const result = await workspace.run(['plan', '-no-color', '-input=false']);
  expect(result.status).not.toBe(0);
  return result.stderr.replace(/\s+/g, ' ');
}

const srv = (extra: object) => ({ digitalocean_record: { srv: { domain: 'example.net', type: 'SRV', name: '_xmpp-client._tcp', value: 'example.net.', priority: 0, port: 5222, ...extra } } });

describe('the stand-in provider refuses what DigitalOcean\'s refuses', () => {
  it.each([
    ['an attribute the resource does not have', { digitalocean_record: { r: { domain: 'example.net', type: 'A', name: '@', value: '192.0.2.1', ttl_seconds: 60 } } }, /No argument or block type is named "ttl_seconds"|"ttl_seconds" is not expected here/],
    ['a value of the wrong type', { digitalocean_record: { r: { domain: 'example.net', type: 'A', name: '@', value: '192.0.2.1', ttl: 'an hour' } } }, /Incorrect attribute value type|a number is required/],
    ['a record type DigitalOcean does not know', { digitalocean_record: { r: { domain: 'example.net', type: 'SPF', name: '@', value: 'v=spf1 -all' } } }, /expected type to be one of .*got SPF/],
    ['an SRV record without weight', srv({}), /`weight` is required for when type is `SRV`/],
    ['a required attribute left out', { digitalocean_droplet: { d: { name: 'x', size: 's-1vcpu-1gb' } } }, /Missing required argument.*"image" is required/],
    ['a computed attribute set', { digitalocean_volume: { v: { name: 'v', region: 'ams3', size: 10, urn: 'do:volume:1' } } }, /"urn": this field cannot be set/],
  ])('GIVEN %s WHEN planned THEN the plan fails', async (_what, resources, message) => {
    expect(await planFails(resources)).toMatch(message);
  });

  it('GIVEN an SRV record with weight WHEN planned THEN it plans', async () => {
    const workspace = await workspaceWith(srv({ weight: 5 }));
    workspaces.push(workspace);
    const { json } = await workspace.plan();
    expect(json.resource_changes?.map((c) => c.change.actions)).toEqual([['create']]);
  });

  it('GIVEN an applied 20 GiB volume WHEN the configuration asks for 10 THEN the plan fails, and growing it updates in place', async () => {
    const volume = (size: number) => ({ digitalocean_volume: { data: { name: 'data', region: 'ams3', size } } });
    const workspace = await workspaceWith(volume(20));
    workspaces.push(workspace);
    await workspace.plan();
    await workspace.apply();
    workspace.writeStack({ ...PROVIDER, resource: volume(10) });
    const shrink = await workspace.run(['plan', '-no-color', '-input=false']);
    expect(shrink.status).not.toBe(0);
    expect(shrink.stderr.replace(/\s+/g, ' ')).toMatch(/volumes `size` can only be expanded and not shrunk/);
    workspace.writeStack({ ...PROVIDER, resource: volume(40) });
    const { json } = await workspace.plan();
    expect(json.resource_changes?.map((c) => c.change.actions)).toEqual([['update']]);
  });
});
