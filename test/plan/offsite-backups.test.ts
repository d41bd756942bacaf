/**
 * Off-host backups through the real engine: with the password as a sensitive variable given with
 * `-var`, the plan creates the bucket, the key granted read and write on it only, and (with alerts)
 * the backup uptime check and its "down" alert; it applies against the stand-in provider and then
 * plans nothing. The password is never printed, and it is not in state: Terraform keeps only a hash
 * of user_data, and no variable (the README says so). The key's secret is in state, marked sensitive.
 */
import { TerraformVariable } from 'cdktf';
import { readFileSync } from 'fs';
import { join } from 'path';
import { XmppService } from '../../lib/cdktf';
import { newStack, synth } from '../cdktf/synth';
import { effectiveChanges, SPACES_CREDENTIALS, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { NO_ENGINE, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;
const PASSWORD = 'the plan never prints this passphrase 31';

describeUnless(missing, 'off-host backups through the real engine', () => {
  let workspace: TerraformWorkspace | undefined;
  afterAll(() => workspace?.remove());

  test('GIVEN the backup password as a sensitive variable WHEN planned and applied THEN the bucket, its key and the backup check are created, the password is printed nowhere nor kept in state, and then nothing changes', async () => {
    const stack = newStack();
    const password = new TerraformVariable(stack, 'backup_password', { type: 'string', sensitive: true });
    new XmppService(stack, 'Xmpp', { spec: { ...TWO_DOMAINS, offsiteBackups: { password: password.stringValue }, alerts: { emails: ['ops@example.net'] } }, writeReviewFiles: false });
    const synthesized = synth(stack);
    expect(JSON.stringify(synthesized)).not.toContain(PASSWORD);

    workspace = new TerraformWorkspace({ env: SPACES_CREDENTIALS });
    workspace.writeStack(synthesized);
    await workspace.init();
    await workspace.ok(['validate', '-no-color']);
    const variable = ['-var', `backup_password=${PASSWORD}`];
    const { result, json } = await workspace.plan(variable);
    const changes = effectiveChanges(json);
    const bucket = changes.find((c) => c.type === 'digitalocean_spaces_bucket');
    expect(bucket?.change).toMatchObject({ actions: ['create'], after: { name: 'xmpp-example-net-backups', region: 'ams3', acl: 'private' } });
    const key = changes.find((c) => c.type === 'digitalocean_spaces_key');
    expect(key?.change.actions).toEqual(['create']);
    expect(key?.change.after).toMatchObject({ name: 'xmpp-example-net-backups-backup' });
    const checks = changes.filter((c) => c.type === 'digitalocean_uptime_check').map((c) => c.change.after?.target).sort();
    expect(checks).toEqual(['https://example.net/.well-known/host-meta', 'https://example.net/.well-known/xmpp-constructs/backup-fresh']);
    expect(changes.filter((c) => c.type === 'digitalocean_uptime_alert').map((c) => c.change.after?.name)).toContain('xmpp-example-net: off-host backup failed or missed');
    expect(result.stdout).not.toContain(PASSWORD);
    const shown = await workspace.ok(['show', '-no-color', 'plan.bin']);
    expect(shown.stdout).not.toContain(PASSWORD);

    const applied = await workspace.apply();
    expect(applied.stdout).not.toContain(PASSWORD);
    const again = await workspace.plan(variable);
    expect(effectiveChanges(again.json)).toEqual([]);
    const state = readFileSync(join(workspace.dir, 'terraform.tfstate'), 'utf8');
    expect(state).not.toContain(PASSWORD);
    expect(state).not.toContain('deploy-time-backup-passphrase-placeholder');
    // The key's secret is in state, marked sensitive, as the README says.
    const keyState = (JSON.parse(state).resources as { type: string; instances: { attributes: { secret_key?: string }; sensitive_attributes: unknown[] }[] }[]).find((r) => r.type === 'digitalocean_spaces_key')!;
    expect(keyState.instances[0].attributes.secret_key).toBeTruthy();
    expect(JSON.stringify(keyState.instances[0].sensitive_attributes)).toContain('secret_key');
  });
});
