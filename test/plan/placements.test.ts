/**
 * The other shapes a service takes, through the real engine: zones that exist already in the
 * account or live at another DNS host, and coturn on a droplet of its own. Each validates, plans,
 * applies against the stand-in provider and then plans nothing.
 */
import { XmppServiceSpec } from '../../lib/core/spec';
import { effectiveChanges, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { NO_ENGINE, synthesizeStack } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;

const BASE: XmppServiceSpec = {
  domains: ['example.net'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  droplet: { region: 'ams3', size: 's-1vcpu-1gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
  adminSourceCidrs: ['203.0.113.0/24'],
};

const CASES: [string, XmppServiceSpec][] = [
  ['an existing zone and an external one', { ...BASE, domains: ['example.net', { name: 'club.example', zone: 'existing' }, { name: 'customer.example', zone: 'external' }] }],
  ['coturn on its own droplet', { ...BASE, calls: { placement: 'dedicated', sharedSecret: 'c'.repeat(64) } }],
];

describeUnless(missing, 'placements through the real engine', () => {
  const workspaces: TerraformWorkspace[] = [];
  afterAll(() => workspaces.forEach((w) => w.remove()));

  test.each(CASES)('GIVEN %s WHEN validated, planned and applied THEN it plans what the declaration says and then nothing (and replaces each droplet in the order planned for it)', async (what, spec) => {
    const workspace = new TerraformWorkspace();
    workspaces.push(workspace);
    const stack = synthesizeStack(spec);
    workspace.writeStack(stack);
    await workspace.init();
    await workspace.ok(['validate', '-no-color']);
    const { json } = await workspace.plan();
    const changes = effectiveChanges(json);
    const created = changes.map((c) => `${c.type}${c.index !== undefined ? `[${c.index}]` : ''}`);
    const zones = changes.filter((c) => c.type === 'digitalocean_domain').map((c) => String(c.change.after?.name));
    const recordZones = new Set(created.filter((c) => c.startsWith('digitalocean_record[')).map((c) => /\[(.*?)\//.exec(c)![1]));
    if (what.startsWith('an existing zone')) {
      // Only the zone it owns is created; the existing zone gets records, the external one none.
      expect(zones).toEqual(['example.net']);
      expect([...recordZones].sort()).toEqual(['club.example', 'example.net']);
      expect(Object.keys(json.planned_values as object)).toContain('outputs');
      expect(Object.keys((json.planned_values as { outputs: object }).outputs).some((name) => name.endsWith('zone_files'))).toBe(true);
    } else {
      expect(created.filter((c) => c.startsWith('digitalocean_droplet'))).toHaveLength(2);
      expect(created.filter((c) => c.startsWith('digitalocean_firewall'))).toHaveLength(2);
    }
    await workspace.apply();
    const again = await workspace.plan();
    expect(effectiveChanges(again.json)).toEqual([]);

    if (what === 'coturn on its own droplet') {
      // The order each droplet is replaced in, as the engine plans it: coturn's new droplet is up
      // before the old one goes (calls keep working); Prosody's old one goes first, freeing its volume.
      const listed = await workspace.ok(['state', 'list']);
      const droplets = listed.stdout.split('\n').filter((address) => address.startsWith('digitalocean_droplet.'));
      expect(droplets).toHaveLength(2);
      const order = async (address: string) => {
        const replaced = effectiveChanges((await workspace.plan([`-replace=${address}`])).json).find((c) => c.type === 'digitalocean_droplet');
        return replaced?.change.actions.join('+');
      };
      const turnDroplet = droplets.find((address) => address.includes('_Turn_'));
      const prosodyDroplet = droplets.find((address) => address.includes('_Host_'));
      expect(await order(turnDroplet!)).toBe('create+delete');
      expect(await order(prosodyDroplet!)).toBe('delete+create');
    }
  });
});
