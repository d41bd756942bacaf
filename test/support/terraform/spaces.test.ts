/**
 * A configuration bundle in a private Spaces bucket, planned and applied by the real engine against
 * the stand-in provider: a bucket, a read-only key whose access and secret keys the droplet's
 * user_data carries, and the bundle object. What each change plans is what DigitalOcean's provider
 * (v2.71, digitalocean/spaces/*.go) plans for it:
 * - the object's content changes in place (Update uploads it again); its etag and version_id keep
 *   their values in the plan (CustomizeDiff marks version_id unknown only when etag itself changes)
 *   and the apply stores the new MD5;
 * - a key's name changes in place (not ForceNew; Update renames it), keeping both keys;
 * - a bucket's region forces a new bucket, and so a new object (its region is ForceNew too);
 * - without spaces_access_id / spaces_secret_key the bucket and object fail as SpacesClient fails;
 * - the key's secret_key (Sensitive) is never printed.
 */
import { createHash } from 'crypto';
import { NO_ENGINE } from '../../plan/stacks';
import { testUnless } from '../tools';
import { effectiveChanges, installStandIn, PlanJson, ResourceChange, SPACES_CREDENTIALS, terraformEngine, TerraformWorkspace } from './harness';

const missing = terraformEngine() ? undefined : NO_ENGINE;
const it = testUnless(missing);
jest.setTimeout(300_000);

const BUNDLE_V1 = Buffer.from('bundle version 1\n').toString('base64');
const BUNDLE_V2 = Buffer.from('bundle version 2, with another module\n').toString('base64');

interface Options {
  readonly content?: string;
  readonly keyName?: string;
  readonly region?: string;
  readonly provider?: object;
}

function stack(options: Options = {}): object {
  return {
    terraform: { required_providers: { digitalocean: { source: 'digitalocean/digitalocean', version: missing ? '0.0.0' : installStandIn().providerVersion } } },
    provider: { digitalocean: [options.provider ?? {}] },
    resource: {
      digitalocean_spaces_bucket: { bundle: { name: 'xmpp-example-bundle', region: options.region ?? 'ams3', acl: 'private' } },
      digitalocean_spaces_key: {
        bundle: { name: options.keyName ?? 'xmpp-bundle-reader', grant: [{ bucket: '${digitalocean_spaces_bucket.bundle.name}', permission: 'read' }] },
      },
      digitalocean_spaces_bucket_object: {
        bundle: {
          bucket: '${digitalocean_spaces_bucket.bundle.name}',
          region: '${digitalocean_spaces_bucket.bundle.region}',
          key: 'bundle.tar.gz',
          content_base64: options.content ?? BUNDLE_V1,
          content_type: 'application/gzip',
          acl: 'private',
        },
      },
      digitalocean_droplet: {
        xmpp: {
          name: 'xmpp',
          image: 'debian-12-x64',
          size: 's-1vcpu-1gb',
          region: 'ams3',
          user_data: [
            '#cloud-config',
            'write_files:',
            '  - path: /etc/xmpp/bundle.env',
            '    permissions: "0600"',
            '    content: |',
            '      BUNDLE_BUCKET=${digitalocean_spaces_bucket.bundle.name}',
            '      BUNDLE_ACCESS_KEY=${digitalocean_spaces_key.bundle.access_key}',
            '      BUNDLE_SECRET_KEY=${digitalocean_spaces_key.bundle.secret_key}',
            '',
          ].join('\n'),
          depends_on: ['digitalocean_spaces_bucket_object.bundle'],
        },
      },
    },
  };
}

/** `<actions> <address>` for each change that does something, sorted. */
const summary = (plan: PlanJson) => effectiveChanges(plan).map((c) => `${c.change.actions.join('+')} ${c.address}`).sort();
const change = (plan: PlanJson, address: string): ResourceChange => {
  const found = plan.resource_changes?.find((c) => c.address === address);
  if (!found) throw new Error(`the plan has no ${address}`);
  return found;
};

interface StateResource {
  readonly address: string;
  readonly values: { readonly [key: string]: unknown };
}
async function state(workspace: TerraformWorkspace): Promise<{ [address: string]: StateResource['values'] }> {
  const shown = await workspace.ok(['show', '-json']);
  const resources = (JSON.parse(shown.stdout) as { values?: { root_module?: { resources?: StateResource[] } } }).values?.root_module?.resources ?? [];
  return Object.fromEntries(resources.map((r) => [r.address, r.values]));
}

const md5 = (base64: string) => createHash('md5').update(Buffer.from(base64, 'base64')).digest('hex');

describe('a configuration bundle in a private Spaces bucket', () => {
  const workspaces: TerraformWorkspace[] = [];
  afterAll(() => workspaces.forEach((w) => w.remove()));

  let firstPlanOutput = '';

  async function applied(options: Options = {}): Promise<TerraformWorkspace> {
    const workspace = new TerraformWorkspace({ env: SPACES_CREDENTIALS });
    workspaces.push(workspace);
    workspace.writeStack(stack(options));
    await workspace.init();
    const { json, result } = await workspace.plan();
    firstPlanOutput = result.stdout;
    expect(summary(json)).toEqual([
      'create digitalocean_droplet.xmpp',
      'create digitalocean_spaces_bucket.bundle',
      'create digitalocean_spaces_bucket_object.bundle',
      'create digitalocean_spaces_key.bundle',
    ]);
    await workspace.apply();
    return workspace;
  }

  it('GIVEN the stack WHEN applied THEN all four exist with the values the provider computes, and a second plan changes nothing', async () => {
    const workspace = await applied();
    const values = await state(workspace);
    expect(values['digitalocean_spaces_bucket.bundle']).toMatchObject({
      id: 'xmpp-example-bundle',
      region: 'ams3',
      urn: 'do:space:xmpp-example-bundle',
      bucket_domain_name: 'xmpp-example-bundle.ams3.digitaloceanspaces.com',
      endpoint: 'ams3.digitaloceanspaces.com',
      versioning: [{ enabled: false }],
    });
    const key = values['digitalocean_spaces_key.bundle'];
    expect(key.access_key).toMatch(/^DO[A-Z0-9]{18}$/);
    expect(key.id).toBe(key.access_key);
    expect(key.secret_key).toEqual(expect.any(String));
    expect(String(key.secret_key).length).toBeGreaterThan(20);
    expect(key.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(key.grant).toEqual([{ bucket: 'xmpp-example-bundle', permission: 'read' }]);
    expect(values['digitalocean_spaces_bucket_object.bundle']).toMatchObject({
      id: 'bundle.tar.gz',
      etag: md5(BUNDLE_V1),
      version_id: '',
      content_type: 'application/gzip',
    });
    const again = await workspace.plan();
    expect(summary(again.json)).toEqual([]);
    // Sensitive in the schema: the plan prints no value, the state view neither.
    expect(firstPlanOutput).toMatch(/secret_key\s+= \(sensitive value\)/);
    const shown = await workspace.ok(['show', '-no-color']);
    expect(shown.stdout).toMatch(/secret_key\s+= \(sensitive value\)/);
    expect(shown.stdout).not.toContain(String(key.secret_key));
  });

  it('GIVEN the applied stack WHEN only the bundle content changes THEN exactly the object is updated in place, etag moving only on apply', async () => {
    const workspace = await applied();
    const before = await state(workspace);
    workspace.writeStack(stack({ content: BUNDLE_V2 }));
    const { json, result } = await workspace.plan();
    expect(summary(json)).toEqual(['update digitalocean_spaces_bucket_object.bundle']);
    const object = change(json, 'digitalocean_spaces_bucket_object.bundle').change;
    expect(object.after).toMatchObject({ content_base64: BUNDLE_V2, etag: md5(BUNDLE_V1), version_id: '' });
    expect(object.after_unknown ?? {}).not.toHaveProperty('etag', true);
    expect(object.after_unknown ?? {}).not.toHaveProperty('version_id', true);
    expect(change(json, 'digitalocean_droplet.xmpp').change.actions).toEqual(['no-op']);
    expect(change(json, 'digitalocean_spaces_key.bundle').change.actions).toEqual(['no-op']);
    expect(result.stdout).not.toContain(String(before['digitalocean_spaces_key.bundle'].secret_key));
    await workspace.apply();
    const after = await state(workspace);
    expect(after['digitalocean_spaces_bucket_object.bundle']).toMatchObject({ etag: md5(BUNDLE_V2), content_base64: BUNDLE_V2 });
    expect(after['digitalocean_droplet.xmpp'].id).toBe(before['digitalocean_droplet.xmpp'].id);
    expect(after['digitalocean_spaces_key.bundle']).toEqual(before['digitalocean_spaces_key.bundle']);
    expect(summary((await workspace.plan()).json)).toEqual([]);
  });

  it('GIVEN the applied stack WHEN the key is renamed THEN the key is updated in place (name is not ForceNew) and keeps its keys, so the droplet is untouched', async () => {
    const workspace = await applied();
    const before = await state(workspace);
    workspace.writeStack(stack({ keyName: 'xmpp-bundle-reader-2' }));
    const { json, result } = await workspace.plan();
    expect(summary(json)).toEqual(['update digitalocean_spaces_key.bundle']);
    const key = change(json, 'digitalocean_spaces_key.bundle').change;
    expect(key.after_unknown ?? {}).not.toHaveProperty('access_key', true);
    expect(key.after_unknown ?? {}).not.toHaveProperty('secret_key', true);
    expect(key.after).toMatchObject({ name: 'xmpp-bundle-reader-2', access_key: before['digitalocean_spaces_key.bundle'].access_key });
    const secret = String(before['digitalocean_spaces_key.bundle'].secret_key);
    expect(key.after_sensitive).toMatchObject({ secret_key: true });
    expect(result.stdout).not.toContain(secret);
    const applying = await workspace.apply();
    expect(applying.stdout).not.toContain(secret);
    const after = await state(workspace);
    expect(after['digitalocean_spaces_key.bundle']).toMatchObject({
      name: 'xmpp-bundle-reader-2',
      access_key: before['digitalocean_spaces_key.bundle'].access_key,
      secret_key: secret,
    });
  });

  it('GIVEN the applied stack WHEN the bucket moves region THEN bucket and object are replaced (region is ForceNew on both), the key and droplet untouched', async () => {
    const workspace = await applied();
    workspace.writeStack(stack({ region: 'FRA1' }));
    const { json } = await workspace.plan();
    // Destroy first, then create: SDKv2 resources without create_before_destroy.
    expect(summary(json)).toEqual(['delete+create digitalocean_spaces_bucket.bundle', 'delete+create digitalocean_spaces_bucket_object.bundle']);
    expect(change(json, 'digitalocean_spaces_bucket.bundle').change.replace_paths).toEqual([['region']]);
    // The StateFunc stores the region lower-cased, so the object is planned in fra1.
    expect(change(json, 'digitalocean_spaces_bucket.bundle').change.after).toMatchObject({ region: 'fra1' });
    expect(change(json, 'digitalocean_spaces_bucket_object.bundle').change.replace_paths).toEqual([['region']]);
    expect(change(json, 'digitalocean_spaces_bucket.bundle').change.after_unknown).toMatchObject({ urn: true, endpoint: true, bucket_domain_name: true });
    expect(change(json, 'digitalocean_spaces_key.bundle').change.actions).toEqual(['no-op']);
    expect(change(json, 'digitalocean_droplet.xmpp').change.actions).toEqual(['no-op']);
    await workspace.apply();
    const after = await state(workspace);
    expect(after['digitalocean_spaces_bucket.bundle']).toMatchObject({ region: 'fra1', endpoint: 'fra1.digitaloceanspaces.com' });
    expect(summary((await workspace.plan()).json)).toEqual([]);
  });

  it('GIVEN no Spaces credentials WHEN applied THEN the bucket fails as SpacesClient fails, and nothing that needs it is made', async () => {
    const workspace = new TerraformWorkspace();
    workspaces.push(workspace);
    workspace.writeStack(stack());
    await workspace.init();
    await workspace.plan();
    const result = await workspace.run(['apply', '-no-color', '-input=false', '-auto-approve', 'plan.bin']);
    expect(result.status).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, ' ')).toMatch(/Error: Error creating bucket: Spaces credentials not configured/);
    // The key itself needs no Spaces credentials, but its grant names the bucket: nothing was created.
    expect(await state(workspace)).toEqual({});
  });

  it('GIVEN the credentials in the provider block instead of the environment WHEN applied THEN it succeeds; with only the access id the refresh fails', async () => {
    const workspace = new TerraformWorkspace();
    workspaces.push(workspace);
    workspace.writeStack(stack({ provider: { spaces_access_id: 'DO00PROVIDERBLOCKID00', spaces_secret_key: 'provider-block-secret' } }));
    await workspace.init();
    await workspace.plan();
    await workspace.apply();
    workspace.writeStack(stack({ provider: { spaces_access_id: 'DO00PROVIDERBLOCKID00' } }));
    const result = await workspace.run(['plan', '-no-color', '-input=false']);
    expect(result.status).not.toBe(0);
    const text = result.stderr.replace(/\s+/g, ' ');
    // The object's refresh waits on the bucket's, which fails first.
    expect(text).toMatch(/Error: Error reading bucket: Spaces credentials not configured/);
  });
});
