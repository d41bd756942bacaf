/**
 * Changes without downtime (issue 20, point 3), proven by the plans the real engine computes against
 * applied state (the stand-in DigitalOcean provider in place of the cloud). With
 * `configDelivery: { channel: 'spaces' }` the droplet's user_data is a stable bootstrap and every
 * other host file travels in the configuration bundle, an object in a private Spaces bucket:
 * - a new domain, an upload limit, a contact, a TTL, and a newer library's rendered files each plan
 *   no droplet change at all, only the bundle object's in-place update (and the DNS they change);
 * - a new image, SSH key or region still replace the droplet, for that attribute alone;
 * - the pull-request summary tells the two apart, and neither it nor the plan text holds the read
 *   key's secret or the bundle's content.
 */
import { createHash } from 'crypto';
import { planSummaryMarkdown, summarizePlan } from '../../examples/gitops/plan-summary';
import { renderProsodyHost } from '../../lib/core/cloud-init';
import { renderConfigBundle } from '../../lib/core/config-bundle';
import { APPLY_SCRIPT } from '../../lib/core/paths';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { effectiveChanges, PlanJson, ResourceChange, SPACES_CREDENTIALS, terraformEngine, TerraformWorkspace } from '../support/terraform/harness';
import { describeUnless } from '../support/tools';
import { changeKinds, NO_ENGINE, StackOptions, synthesizeStack, TWO_DOMAINS } from './stacks';

jest.setTimeout(300_000);

const missing = terraformEngine() ? undefined : NO_ENGINE;

const BASE: XmppServiceSpec = { ...TWO_DOMAINS, configDelivery: { channel: 'spaces' } };

type Stack = { [key: string]: any };

const kinds = changeKinds;

/** The one resource of `type` in a synthesized stack, with its name. */
function only(stack: Stack, type: string): [string, { [key: string]: any }] {
  const entries = Object.entries(stack.resource?.[type] ?? {});
  if (entries.length !== 1) throw new Error(`the stack has ${entries.length} ${type}`);
  return entries[0] as [string, { [key: string]: any }];
}

const bundleContent = (stack: Stack) => String(only(stack, 'digitalocean_spaces_bucket_object')[1].content_base64);
/** A bundle's content by its digest, so that a failing comparison prints 64 characters, not the bundle. */
const digest = (base64: string) => createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');
/** A text by its digest (user_data is no base64: decoding it as such stops at its first `=`). */
const textDigest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const userData = (stack: Stack) => String(only(stack, 'digitalocean_droplet')[1].user_data);

/** Every record of the stack, from the records locals (one per zone), by key. */
function synthesizedRecords(stack: Stack): { [key: string]: { ttl: number } } {
  const records: { [key: string]: { ttl: number } } = {};
  for (const local of Object.values(stack.locals ?? {}) as { [key: string]: unknown }[]) {
    for (const [key, value] of Object.entries(local)) if (key.includes('/') && typeof value === 'object' && value !== null && 'ttl' in value) records[key] = value as { ttl: number };
  }
  return records;
}

/** The one change of `type` in a plan, whatever its actions (no-op included). */
function changeOf(json: PlanJson, type: string): ResourceChange {
  const found = (json.resource_changes ?? []).filter((c) => c.type === type);
  if (found.length !== 1) throw new Error(`the plan has ${found.length} ${type}`);
  return found[0];
}

interface StateResource {
  readonly address: string;
  readonly type: string;
  readonly values: { readonly [key: string]: unknown };
}

describeUnless(missing, 'configuration changes in place (configDelivery "spaces") against applied state', () => {
  let workspace: TerraformWorkspace;
  /** The text of every plan this file runs, searched for the read key's secret at the end. */
  const planTexts: string[] = [];
  /** The content_base64 of every bundle planned, which no summary may print. */
  const bundles = new Set<string>();

  async function planStack(stack: Stack): Promise<{ json: PlanJson; changes: ResourceChange[]; markdown: string }> {
    workspace.writeStack(stack);
    bundles.add(bundleContent(stack));
    const { json, result } = await workspace.plan();
    planTexts.push(result.stdout);
    const markdown = planSummaryMarkdown(json, 'Terraform');
    expect(markdown.includes(bundleContent(stack))).toBe(false);
    return { json, changes: effectiveChanges(json), markdown };
  }

  async function planFor(spec: XmppServiceSpec, options: StackOptions = {}) {
    const stack = synthesizeStack(spec, options);
    return { stack, ...(await planStack(stack)) };
  }

  async function state(): Promise<StateResource[]> {
    const shown = await workspace.ok(['show', '-json']);
    return (JSON.parse(shown.stdout) as { values?: { root_module?: { resources?: StateResource[] } } }).values?.root_module?.resources ?? [];
  }
  const stateOf = async (type: string) => {
    const found = (await state()).filter((r) => r.type === type);
    if (found.length !== 1) throw new Error(`the state has ${found.length} ${type}`);
    return found[0].values;
  };

  let dropletId: unknown;

  beforeAll(async () => {
    workspace = new TerraformWorkspace({ env: SPACES_CREDENTIALS });
    const stack = synthesizeStack(BASE);
    workspace.writeStack(stack);
    await workspace.init();
    await workspace.ok(['validate', '-no-color']);
    const { changes } = await planStack(stack);
    expect(kinds(changes)).toEqual(expect.arrayContaining(['create digitalocean_spaces_bucket', 'create digitalocean_spaces_key', 'create digitalocean_spaces_bucket_object', 'create digitalocean_droplet']));
    await workspace.apply();
    dropletId = (await stateOf('digitalocean_droplet')).id;
  });
  afterAll(() => workspace?.remove());

  /** After a change and its way back: the same droplet, nothing left to do. */
  async function expectSameDropletAndNothingToDo(): Promise<void> {
    expect((await stateOf('digitalocean_droplet')).id).toBe(dropletId);
    const { changes } = await planFor(BASE);
    expect(kinds(changes)).toEqual([]);
  }

  /**
   * What an in-place change plans against the other spec's state: the bundle object updated (unless
   * `bundle` is false: a change to DNS alone), the droplet and everything else on the host a no-op,
   * and the summary saying so.
   */
  function expectInPlace(json: PlanJson, markdown: string, bundle = true): void {
    const droplet = changeOf(json, 'digitalocean_droplet');
    expect(droplet.change.actions).toEqual(['no-op']);
    for (const type of ['digitalocean_spaces_bucket', 'digitalocean_spaces_key', 'digitalocean_volume', 'digitalocean_firewall']) {
      expect(changeOf(json, type).change.actions).toEqual(['no-op']);
    }
    const object = changeOf(json, 'digitalocean_spaces_bucket_object');
    const summary = summarizePlan(json);
    expect(summary.dropletReplacements).toEqual([]);
    expect(summary.dropletResizes).toEqual([]);
    expect(summary.irreversible.filter((c) => c.type !== 'digitalocean_domain')).toEqual([]);
    expect(markdown).not.toMatch(/REPLACES|RESIZES/);
    if (!bundle) {
      expect(object.change.actions).toEqual(['no-op']);
      expect(summary.configBundleUpdates).toEqual([]);
      expect(markdown).not.toContain('IN PLACE');
      return;
    }
    expect(object.change.actions).toEqual(['update']);
    expect(summary.configBundleUpdates).toEqual([{ address: object.address }]);
    expect(summary.configBundleHashes).toEqual([{ output: 'Xmpp_config_bundle', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(markdown).toContain('IN PLACE');
    expect(markdown).toContain(summary.configBundleHashes[0].sha256);
  }

  test('GIVEN the applied service WHEN the unchanged spec is planned THEN nothing changes, and the summary says so', async () => {
    const { changes, markdown } = await planFor(BASE);
    expect(kinds(changes)).toEqual([]);
    expect(markdown).toContain('no changes');
  });

  /**
   * Each change, whether it changes the bundle (a TTL is DNS alone: no host file holds it), and
   * whether it is applied both ways. The limit and the contact are planned together: if either
   * alone replaced the droplet, so would both. Only the new domain is applied, and back: the others
   * plan the same kind of change, and their plans against the applied state are the proof.
   */
  const IN_PLACE: [string, string, XmppServiceSpec, boolean, 'apply both ways' | 'plan'][] = [
    ['a domain is added', 'the bundle object in place, the zone and its records created', { ...BASE, domains: [...BASE.domains, 'example.com'] }, true, 'apply both ways'],
    ['the upload limit changes and an abuse contact is added', 'the bundle object in place', { ...BASE, components: { fileShare: { fileSizeLimitBytes: 50 * 1024 * 1024 } }, contacts: { abuse: ['mailto:abuse@example.net'] } }, true, 'plan'],
    ['the DNS TTL changes', 'the records alone (the bundle holds no TTL)', { ...BASE, dns: { ttlSeconds: 600 } }, false, 'plan'],
  ];

  test.each(IN_PLACE)('GIVEN the applied service WHEN %s THEN the plan updates %s and touches no droplet', async (_what, _updates, changed, bundle, how) => {
    const before = synthesizeStack(BASE);
    const after = synthesizeStack(changed);
    // The droplet's bootstrap is the same for both: only the bundle and the DNS can differ.
    expect(textDigest(userData(after))).toBe(textDigest(userData(before)));
    expect(digest(bundleContent(after)) !== digest(bundleContent(before))).toBe(bundle);

    for (const [from, to] of how === 'apply both ways' ? [[before, after], [after, before]] : [[before, after]]) {
      const fromRecords = synthesizedRecords(from);
      const toRecords = synthesizedRecords(to);
      const created = Object.keys(toRecords).filter((k) => !(k in fromRecords));
      const deleted = Object.keys(fromRecords).filter((k) => !(k in toRecords));
      const retimed = Object.keys(toRecords).filter((k) => k in fromRecords && toRecords[k].ttl !== fromRecords[k].ttl);
      const zones = (stack: Stack) => Object.values(stack.resource.digitalocean_domain ?? {}).map((d: any) => String(d.name));
      const expected = [
        ...(bundle ? ['update digitalocean_spaces_bucket_object'] : []),
        ...zones(to).filter((z) => !zones(from).includes(z)).map((z) => `create digitalocean_domain[${z}]`),
        ...zones(from).filter((z) => !zones(to).includes(z)).map((z) => `delete digitalocean_domain[${z}]`),
        ...created.map((k) => `create digitalocean_record[${k}]`),
        ...deleted.map((k) => `delete digitalocean_record[${k}]`),
        ...retimed.map((k) => `update digitalocean_record[${k}]`),
      ].sort();
      const { json, changes, markdown } = await planStack(to);
      expect(kinds(changes)).toEqual(expected);
      expect(changes.length).toBeGreaterThan(bundle ? 0 : 5);
      expectInPlace(json, markdown, bundle);
      if (how === 'apply both ways') await workspace.apply();
    }
    await expectSameDropletAndNothingToDo();
  });

  test('GIVEN a service applied by an older library (the same bootstrap, a bundle with an older apply script) WHEN planned with this library THEN only the bundle object is updated in place; and back', async () => {
    const today = synthesizeStack(BASE);
    const { bundle } = renderProsodyHost(resolveSpec(BASE));
    expect(bundle).toBeDefined();
    // The bundle as this library renders it is what the stack carries.
    expect(digest(bundleContent(today))).toBe(bundle!.sha256);
    const files = bundle!.files.map((f) => (f.path === APPLY_SCRIPT ? { ...f, content: f.content.replace(/\n/, '\n# as an older xmpp-constructs rendered it\n') } : f));
    expect(files.filter((f, i) => f.content !== bundle!.files[i].content).map((f) => f.path)).toEqual([APPLY_SCRIPT]);
    const older = renderConfigBundle(files);
    expect(older.sha256).not.toBe(bundle!.sha256);

    const formerStack = JSON.parse(JSON.stringify(today)) as Stack;
    only(formerStack, 'digitalocean_spaces_bucket_object')[1].content_base64 = older.archiveBase64;
    formerStack.output.Xmpp_config_bundle.value = older.sha256;
    expect(textDigest(userData(formerStack))).toBe(textDigest(userData(today)));

    // The older library's apply: from today's state, the object alone.
    const former = await planStack(formerStack);
    expect(kinds(former.changes)).toEqual(['update digitalocean_spaces_bucket_object']);
    await workspace.apply();
    expect(digest(String((await stateOf('digitalocean_spaces_bucket_object')).content_base64))).toBe(older.sha256);

    // Upgrading: this library's bundle replaces the older one in place.
    const upgrade = await planStack(today);
    expect(kinds(upgrade.changes)).toEqual(['update digitalocean_spaces_bucket_object']);
    expectInPlace(upgrade.json, upgrade.markdown);
    expect(summarizePlan(upgrade.json).configBundleHashes).toEqual([{ output: 'Xmpp_config_bundle', sha256: bundle!.sha256 }]);
    await workspace.apply();
    expect(digest(String((await stateOf('digitalocean_spaces_bucket_object')).content_base64))).toBe(bundle!.sha256);
    await expectSameDropletAndNothingToDo();
  });

  /** A droplet replacement for `path` alone: the bundle, its bucket and key untouched. */
  function expectReplacementFor(json: PlanJson, markdown: string, path: string): void {
    const droplet = changeOf(json, 'digitalocean_droplet');
    expect(droplet.change.actions).toEqual(['delete', 'create']);
    expect(droplet.change.replace_paths).toEqual([[path]]);
    for (const type of ['digitalocean_spaces_bucket', 'digitalocean_spaces_key', 'digitalocean_spaces_bucket_object']) {
      expect(changeOf(json, type).change.actions).toEqual(['no-op']);
    }
    const summary = summarizePlan(json);
    expect(summary.dropletReplacements.map((c) => c.replacePaths)).toEqual([[path]]);
    expect(summary.configBundleUpdates).toEqual([]);
    expect(markdown).toContain('REPLACES the droplet');
    expect(markdown).toContain(`\`${path}\` changed`);
    expect(markdown).not.toContain('IN PLACE');
  }

  test.each([
    ['image', 'a snapshot of the same Debian 13 becomes the image', { ...BASE, droplet: { ...BASE.droplet, image: '123456789', platform: 'debian-13' } }],
    ['ssh_keys', 'an SSH key is added', { ...BASE, droplet: { ...BASE.droplet, sshKeyFingerprints: [...BASE.droplet!.sshKeyFingerprints!, '9a:2c:41:07:5e:d3:8f:60:b1:24:c9:7e:03:fa:58:1d'] } }],
  ] as [string, string, XmppServiceSpec][])('GIVEN the applied service WHEN %s changes (%s) THEN the droplet is replaced for it alone, the bundle untouched', async (path, _what, changed) => {
    expect(textDigest(userData(synthesizeStack(changed)))).toBe(textDigest(userData(synthesizeStack(BASE))));
    const { json, markdown } = await planFor(changed);
    expectReplacementFor(json, markdown, path);
  });

  test('GIVEN the applied service WHEN the region changes THEN prevent_destroy stops the plan (the volume and the reserved IPs cannot move); unprotected, with the bucket kept where it is, the droplet is replaced for its region and the bundle stays', async () => {
    const moved: XmppServiceSpec = { ...BASE, droplet: { ...BASE.droplet, region: 'fra1' } };
    workspace.writeStack(synthesizeStack(moved));
    const refused = await workspace.run(['plan', '-no-color', '-input=false']);
    expect(refused.status).not.toBe(0);
    const text = refused.stderr.replace(/\s+/g, ' ');
    expect(text).toMatch(/Instance cannot be destroyed/);
    for (const type of ['digitalocean_volume', 'digitalocean_reserved_ip']) expect(text).toContain(type);

    // The bucket's region follows the droplet's unless pinned: pinned, the bootstrap stays as it is.
    const pinned: XmppServiceSpec = { ...moved, configDelivery: { channel: 'spaces', spacesRegion: 'ams3' } };
    const { json, changes, markdown } = await planFor(pinned, { protectVolume: false, protectReservedIps: false });
    expectReplacementFor(json, markdown, 'region');
    expect(kinds(changes)).toEqual(expect.arrayContaining(['delete+create digitalocean_volume', 'delete+create digitalocean_reserved_ip']));
    expect(summarizePlan(json).irreversible.map((c) => c.type).sort()).toEqual(expect.arrayContaining(['digitalocean_reserved_ip', 'digitalocean_volume']));

    // Unpinned, the bucket and its object move with it, and the bootstrap names the new endpoint.
    const following = await planFor(moved, { protectVolume: false, protectReservedIps: false });
    expect(changeOf(following.json, 'digitalocean_droplet').change.replace_paths).toEqual(expect.arrayContaining([['region'], ['user_data']]));
    expect(changeOf(following.json, 'digitalocean_spaces_bucket').change.replace_paths).toEqual([['region']]);
    expect(changeOf(following.json, 'digitalocean_spaces_bucket_object').change.actions).toEqual(['delete', 'create']);
    expect(summarizePlan(following.json).configBundleUpdates).toEqual([]);
  });

  test('GIVEN every plan this file ran WHEN their text is searched THEN none holds the read key\'s secret, which the state holds (sensitive)', async () => {
    workspace.writeStack(synthesizeStack(BASE));
    const key = await stateOf('digitalocean_spaces_key');
    const secret = String(key.secret_key);
    expect(secret.length).toBeGreaterThan(20);
    const shown = JSON.parse((await workspace.ok(['show', '-json'])).stdout) as { values: { root_module: { resources: { type: string; sensitive_values: { [key: string]: unknown } }[] } } };
    expect(shown.values.root_module.resources.find((r) => r.type === 'digitalocean_spaces_key')?.sensitive_values).toMatchObject({ secret_key: true });

    // One more plan of a change, shown as text too.
    const { markdown } = await planFor({ ...BASE, contacts: { abuse: ['mailto:abuse@example.net'] } });
    planTexts.push((await workspace.ok(['show', '-no-color', 'plan.bin'])).stdout);
    // At least the first apply's plan and this one (all of them when the whole file runs).
    expect(planTexts.length).toBeGreaterThan(2);
    for (const text of planTexts) expect(text).not.toContain(secret);
    expect(markdown).not.toContain(secret);
    expect(markdown).not.toContain(String(key.access_key));
    expect(bundles.size).toBeGreaterThan(1);
    for (const content of bundles) expect(markdown.includes(content)).toBe(false);
  });
});
