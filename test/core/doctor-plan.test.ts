import { renderProsodyHost } from '../../lib/core/cloud-init';
import { DOCTOR_PLAN_FILE, DOCTOR_PLAN_FORMAT, DoctorPlan, DoctorPlanFile, expandDoctorPlan, planDoctorChecks, renderDoctorPlan } from '../../lib/core/doctor-plan';
import { planDnsRecords } from '../../lib/core/dns';
import { OFFSITE_FRESH_HOURS } from '../../lib/core/backup';
import { renderReviewFiles } from '../../lib/core/review';
import { resolveSpec } from '../../lib/core/validate';
import { closedSpec, dedicatedTurnSpec, fullSpec, MANY_DOMAINS_DROPLET, minimalSpec, representativeSpecs } from '../support/specs';

/** The plan with its lists sorted: the file lists the first domain's entries, then the others'. */
const inAnyOrder = (plan: DoctorPlan) => Object.fromEntries(Object.entries(plan).map(([k, v]) => [k, Array.isArray(v) ? v.map((e) => JSON.stringify(e)).sort() : v]));

const ports = (plan: ReturnType<typeof planDoctorChecks>) => plan.openTcpPorts.map((p) => `${p.host}:${p.port}`);

describe('planDoctorChecks', () => {
  test.each(representativeSpecs)('GIVEN the %s spec THEN every planned record is checked, by name and type, and nothing else', (_, spec) => {
    const resolved = resolveSpec(spec);
    const plan = planDoctorChecks(resolved);
    expect(plan.format).toBe(DOCTOR_PLAN_FORMAT);
    expect(plan.records).toHaveLength(planDnsRecords(resolved).length);
    for (const r of plan.records) expect(r.name.endsWith('.')).toBe(false);
  });

  test.each(representativeSpecs)('GIVEN the %s spec THEN every TLS endpoint names a lineage whose names include it', (_, spec) => {
    const plan = planDoctorChecks(resolveSpec(spec));
    for (const e of plan.tlsEndpoints) expect(plan.certificates[e.certificate]).toContain(e.name);
  });

  test.each(representativeSpecs)('GIVEN the %s spec THEN the review files carry the plan, which expands to every check of every domain', (_, spec) => {
    const resolved = resolveSpec(spec);
    const plan = planDoctorChecks(resolved);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    const { configBundle, ...expanded } = expandDoctorPlan(JSON.parse(renderReviewFiles(resolved)[DOCTOR_PLAN_FILE]));
    expect(inAnyOrder(expanded)).toEqual(inAnyOrder(plan));
    // The bundle to wait for comes from the rendered host, not from the spec alone.
    const bundle = renderProsodyHost(resolved).bundle;
    expect(configBundle).toEqual(bundle && { sha256: bundle.sha256, statusUrl: `https://${resolved.primaryDomain}/.well-known/xmpp-constructs/bundle` });
  });

  test('GIVEN a thousand domains THEN the file holds one template for the further domains, and expands to the whole plan', () => {
    const domains = Array.from({ length: 1000 }, (_, i) => `customer${i}.example`);
    const resolved = resolveSpec({ ...minimalSpec, domains, admins: ['admin@customer0.example'], droplet: MANY_DOMAINS_DROPLET });
    const text = renderDoctorPlan(resolved);
    expect(text.length).toBeLessThan(100 * 1024);
    const file = JSON.parse(text) as DoctorPlanFile;
    expect(file.furtherDomains?.names).toHaveLength(999);
    const expanded = expandDoctorPlan(file);
    expect(inAnyOrder(expanded)).toEqual(inAnyOrder(planDoctorChecks(resolved)));
    expect(expanded.tlsEndpoints.filter((e) => e.name === 'customer999.example').map((e) => e.port)).toEqual([5222, 5223, 5269, 443]);
    expect(expanded.certificates['customer999.example']).toEqual(['customer999.example', 'upload.customer999.example', 'conference.customer999.example']);
  });

  test('GIVEN the minimal spec THEN clients meet TLS on 5222 (STARTTLS), 5223 and 443 for every name, TURN on 5349', () => {
    const plan = planDoctorChecks(resolveSpec(minimalSpec));
    expect(plan.certificates).toEqual({ 'example.net': ['example.net', 'upload.example.net', 'conference.example.net', 'turn.example.net'] });
    expect(plan.tlsEndpoints.map((e) => `${e.name}:${e.port}:${e.mode}`)).toEqual([
      'example.net:5222:xmpp-client-starttls',
      'example.net:5223:direct-tls',
      'example.net:5269:xmpp-server-starttls',
      'conference.example.net:5269:xmpp-server-starttls',
      'example.net:443:direct-tls',
      'upload.example.net:443:direct-tls',
      'conference.example.net:443:direct-tls',
      'turn.example.net:5349:direct-tls',
    ]);
    expect(plan.tlsEndpoints.find((e) => e.port === 5223)?.alpn).toBe('xmpp-client');
  });

  test('GIVEN coturn on the Prosody droplet THEN its ports are probed at the TURN name (it binds the droplet\'s own address, not the reserved IP)', () => {
    const plan = planDoctorChecks(resolveSpec(minimalSpec));
    expect(ports(plan)).toEqual(['example.net:80', 'example.net:443', 'example.net:5222', 'example.net:5223', 'example.net:5269', 'turn.example.net:3478', 'turn.example.net:5349']);
    expect(plan.turn).toEqual({ host: 'turn.example.net', port: 3478, tlsPort: 5349, credentialsFrom: 'example.net' });
  });

  test('GIVEN SSH restricted to the admins THEN it is not among the ports the internet must reach', () => {
    const plan = planDoctorChecks(resolveSpec(fullSpec));
    expect(plan.openTcpPorts.some((p) => p.port === 22)).toBe(false);
    expect(ports(plan)).toContain('example.net:5000'); // proxy65
    expect(ports(plan)).toContain('example.net:5270'); // server direct TLS
  });

  test('GIVEN a TURN droplet of its own THEN it has a lineage of its own and its ports are probed at its name', () => {
    const plan = planDoctorChecks(resolveSpec(dedicatedTurnSpec));
    expect(plan.certificates['turn.example.net']).toEqual(['turn.example.net']);
    expect(plan.tlsEndpoints.find((e) => e.port === 5349)?.certificate).toBe('turn.example.net');
    expect(ports(plan).filter((p) => p.startsWith('turn.'))).toEqual(['turn.example.net:80', 'turn.example.net:3478', 'turn.example.net:5349']);
  });

  test('GIVEN calls, federation and web access off THEN no TURN, no 5269, and host-meta lists no links', () => {
    const plan = planDoctorChecks(resolveSpec(closedSpec));
    expect(plan.turn).toBeUndefined();
    expect(plan.tlsEndpoints.some((e) => e.port === 5269 || e.port === 5349)).toBe(false);
    expect(plan.hostMeta).toEqual([{ domain: 'chat.example.com', links: [] }]);
  });

  test('THEN Prosody\'s internal ports must stay closed at the primary domain', () => {
    const plan = planDoctorChecks(resolveSpec(minimalSpec));
    expect(plan.closedTcpPorts.map((p) => p.port)).toEqual([5280, 5281, 5347, 5582]);
  });
});

describe('the plan of the off-host backups', () => {
  const PASSWORD = 'Zq7-nobody-may-read-this-9f3c';
  const withBackups = { ...minimalSpec, domains: ['example.net', 'example.org'], offsiteBackups: { password: PASSWORD, bucket: 'example-backups', spacesRegion: 'fra1' } };

  test('GIVEN no offsiteBackups THEN the plan has nothing about them', () => {
    expect(planDoctorChecks(resolveSpec(minimalSpec)).offsiteBackups).toBeUndefined();
    expect(renderDoctorPlan(resolveSpec(minimalSpec))).not.toContain('offsiteBackups');
  });

  test('GIVEN offsiteBackups THEN the plan names the status document on the primary domain, the repository\'s place and the freshness the host uses', () => {
    expect(planDoctorChecks(resolveSpec(withBackups)).offsiteBackups).toEqual({
      endpoint: 'https://fra1.digitaloceanspaces.com',
      region: 'fra1',
      bucket: 'example-backups',
      repositoryPrefix: 'xmpp-example-net',
      statusUrl: 'https://example.net/.well-known/xmpp-constructs/backup',
      freshHours: OFFSITE_FRESH_HOURS,
    });
  });

  test('GIVEN offsiteBackups THEN the plan file, a review file, holds no password, for one domain or a thousand', () => {
    const resolved = resolveSpec(withBackups);
    for (const text of [renderDoctorPlan(resolved), renderReviewFiles(resolved)[DOCTOR_PLAN_FILE], JSON.stringify(planDoctorChecks(resolved))]) {
      expect(text).toContain('example-backups');
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toMatch(/password/i);
    }
    const domains = Array.from({ length: 1000 }, (_, i) => `customer${i}.example`);
    const many = resolveSpec({ ...withBackups, domains, admins: ['admin@customer0.example'], droplet: MANY_DOMAINS_DROPLET });
    const file = renderDoctorPlan(many);
    expect(file).not.toContain(PASSWORD);
    expect(expandDoctorPlan(JSON.parse(file) as DoctorPlanFile).offsiteBackups?.statusUrl).toBe('https://customer0.example/.well-known/xmpp-constructs/backup');
  });
});
