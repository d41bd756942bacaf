/**
 * Adding or removing one domain changes only that domain's records and the host's configuration:
 * two syntheses, one with a domain more, diffed path by path.
 */
import { parse } from 'yaml';
import { DOCTOR_PLAN_FILE, expandDoctorPlan } from '../../lib/core/doctor-plan';
import { gunzipSync } from 'zlib';
import { XmppService } from '../../lib/cdktf';
import { DOMAINS_LIST, templatePath } from '../../lib/core/expansion';
import { PROSODY_CONFIG } from '../../lib/core/paths';
import { renderReviewFiles } from '../../lib/core/review';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { synthRecords } from '../support/synth-records';
import { evaluateTemplate } from '../support/terraform-template';
import { newStack, synth, SynthOutput } from './synth';

/** Every leaf path whose value differs between `a` and `b` (added and removed paths included). */
function changedPaths(a: unknown, b: unknown, path = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].flatMap((k) => changedPaths((a as any)[k], (b as any)[k], `${path}/${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

/** user_data's files, decoded, by path. */
function userDataFiles(out: SynthOutput): Record<string, string> {
  const droplet = Object.values(out.resource.digitalocean_droplet)[0];
  const doc = parse(evaluateTemplate(droplet.user_data)) as { write_files: { path: string; content: string; encoding?: string }[] };
  return Object.fromEntries(doc.write_files.map((f) => [f.path, f.encoding === 'gz+b64' ? gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') : f.content]));
}

function synthesize(spec: XmppServiceSpec): SynthOutput {
  const stack = newStack();
  new XmppService(stack, 'Xmpp', { spec, writeReviewFiles: false });
  return synth(stack);
}

const base = (count: number): XmppServiceSpec => {
  const domains = Array.from({ length: count }, (_, i) => `customer-${i}.example`);
  // Two hundred domains need a 2 GB droplet on Prosody 13 (the memory check).
  return { domains, admins: ['admin@customer-0.example'], acme: { email: 'hostmaster@customer-0.example' }, adminSourceCidrs: ['203.0.113.0/24'], droplet: { size: 's-1vcpu-2gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] } };
};

describe.each([
  { what: 'a fourth domain to three', before: base(3), after: base(4), domain: 'customer-3.example' },
  { what: 'a 201st domain to two hundred', before: base(200), after: base(201), domain: 'customer-200.example' },
])('GIVEN $what WHEN both are synthesized', ({ before, after, domain }) => {
  const a = synthesize(before);
  const b = synthesize(after);
  /**
   * The domains' upload services share the volume (components.fileShare.globalQuotaBytes): with a
   * domain more, each one's share shrinks until it reaches one file of the largest size. That value
   * is the only other change; `sameQuota` writes `a`'s files with `b`'s quota.
   */
  const quota = (spec: XmppServiceSpec) => `http_file_share_global_quota = ${resolveSpec(spec).fileShare.globalQuotaBytes}`;
  const sameQuota = (text: string) => text.replaceAll(quota(before), quota(after));

  test('THEN the only records added are that domain\'s, and no other record changes', () => {
    const recordsA = new Map(synthRecords(a).map((r) => [r.key, r]));
    const recordsB = new Map(synthRecords(b).map((r) => [r.key, r]));
    const added = [...recordsB.keys()].filter((k) => !recordsA.has(k));
    expect(added.length).toBeGreaterThanOrEqual(8);
    for (const key of added) expect(key.startsWith(`${domain}/`)).toBe(true);
    expect([...recordsA.keys()].filter((k) => !recordsB.has(k))).toEqual([]);
    for (const [key, record] of recordsA) expect(recordsB.get(key)).toEqual(record);
  });

  test('THEN besides that domain\'s own zone, records and moved blocks, only the droplet\'s user_data and the domains output change', () => {
    // The domain's own blocks: its zone, its records resource and their local, all new.
    const ownBlocks = (out: SynthOutput) =>
      [
        ...Object.entries(out.resource.digitalocean_domain ?? {}).filter(([, z]) => z.name === domain).map(([id]) => `/resource/digitalocean_domain/${id}`),
        ...Object.entries(out.resource.digitalocean_record).filter(([, r]) => out.locals![r.for_each.slice(8, -1)] && Object.keys(out.locals![r.for_each.slice(8, -1)]).some((k) => k.startsWith(`${domain}/`)))
          .flatMap(([id, r]) => [`/resource/digitalocean_record/${id}`, `/locals/${r.for_each.slice(8, -1)}`]),
      ];
    const added = ownBlocks(b);
    expect(added).toHaveLength(3);
    expect(ownBlocks(a)).toEqual([]);
    const changes = changedPaths({ ...a, moved: undefined }, { ...b, moved: undefined }).filter((p) => !added.some((block) => p === block || p.startsWith(`${block}/`)));
    const droplet = Object.keys(a.resource.digitalocean_droplet)[0];
    expect(changes.filter((p) => p !== `/resource/digitalocean_droplet/${droplet}/user_data` && !p.startsWith('/output/Xmpp_domains/'))).toEqual([]);
    expect(changes).toContain(`/resource/digitalocean_droplet/${droplet}/user_data`);
    // The moved blocks: those before, and the new domain's after them.
    const movedA = (a as unknown as { moved: object[] }).moved;
    const movedB = (b as unknown as { moved: { from: string; to: string }[] }).moved;
    expect(movedB.slice(0, movedA.length)).toEqual(movedA);
    for (const move of movedB.slice(movedA.length)) expect(move.from).toContain(domain);
  });

  test('THEN in user_data only the domain list changes, by that one line', () => {
    const filesA = userDataFiles(a);
    const filesB = userDataFiles(b);
    const template = templatePath(PROSODY_CONFIG);
    expect(changedPaths({ ...filesA, [template]: sameQuota(filesA[template]) }, filesB)).toEqual([`/${DOMAINS_LIST}`]);
    expect(filesB[DOMAINS_LIST]).toBe(`${filesA[DOMAINS_LIST]}${domain}\n`);
  });

  test('THEN the review files show the host\'s change: the domain\'s blocks, its certificate line, its zone, what the doctor checks', () => {
    const reviewA = renderReviewFiles(resolveSpec(before));
    const reviewB = renderReviewFiles(resolveSpec(after));
    for (const path of ['host/etc/prosody/prosody.cfg.lua', `host${templatePath(PROSODY_CONFIG)}`]) reviewA[path] = sameQuota(reviewA[path]);
    const changed = Object.keys(reviewB).filter((p) => reviewA[p] !== reviewB[p]).sort();
    expect(changed).toEqual([
      'dns/zones.txt',
      DOCTOR_PLAN_FILE,
      'host/etc/nginx/conf.d/xmpp-constructs.conf',
      'host/etc/prosody/prosody.cfg.lua',
      'host/etc/xmpp-constructs/certificates.list',
      `host${DOMAINS_LIST}`,
      'user-data.yaml',
    ]);
    // Each expanded file only grows by the new domain's block, at the end.
    for (const path of ['host/etc/nginx/conf.d/xmpp-constructs.conf', 'host/etc/prosody/prosody.cfg.lua', 'host/etc/xmpp-constructs/certificates.list']) {
      expect(reviewB[path].startsWith(reviewA[path])).toBe(true);
      expect(reviewB[path].slice(reviewA[path].length)).toContain(domain);
    }
    // The doctor checks the new domain's endpoints besides the others, unchanged.
    const planA = expandDoctorPlan(JSON.parse(reviewA[DOCTOR_PLAN_FILE]));
    const planB = expandDoctorPlan(JSON.parse(reviewB[DOCTOR_PLAN_FILE]));
    expect(planB.domains).toEqual([...planA.domains, domain]);
    const checkedBefore = new Set(planA.tlsEndpoints.map((e) => JSON.stringify(e)));
    const added = planB.tlsEndpoints.filter((e) => !checkedBefore.has(JSON.stringify(e)));
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((e) => e.certificate === domain)).toBe(true);
    expect(planB.tlsEndpoints.length - added.length).toBe(planA.tlsEndpoints.length);
  });

  test('WHEN the domain is removed again THEN the synthesis is byte for byte the one before', () => {
    expect(JSON.stringify(synthesize(before))).toBe(JSON.stringify(a));
  });
});
