import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DnsRecordPlan, planDnsRecords, zonesByHosting } from '../../lib/core/dns';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { PLACEHOLDER_ADDRESSES, PLACEHOLDER_TURN_ADDRESSES, recordData, renderExternalZoneFiles, renderExternalZoneFilesWithTokens, renderZoneFile, renderZoneFiles, ZoneAddresses } from '../../lib/core/zone';
import { hasDedicatedTurnDroplet, ResolvedSpec } from '../../lib/core/spec';
import { closedSpec, dedicatedTurnSpec, fullSpec, minimalSpec, representativeSpecs } from '../support/specs';
import { testWith } from '../support/tools';

const REAL_LOOKING: ZoneAddresses = { reservedIpv4: '198.51.100.10', reservedIpv6: '2001:db8:5::10', dropletIpv4: '198.51.100.20', dropletIpv6: '2001:db8:5::20' };
const TURN_DROPLET: Pick<ZoneAddresses, 'turnIpv4' | 'turnIpv6'> = { turnIpv4: '198.51.100.30', turnIpv6: '2001:db8:5::30' };

/** `addresses` plus the TURN droplet's, when the spec has one (of the same families). */
function withTurnDroplet(spec: ResolvedSpec, addresses: ZoneAddresses | undefined): ZoneAddresses | undefined {
  if (!addresses || !hasDedicatedTurnDroplet(spec)) return addresses;
  return { ...addresses, turnIpv4: TURN_DROPLET.turnIpv4, ...(addresses.dropletIpv6 !== undefined ? { turnIpv6: TURN_DROPLET.turnIpv6 } : {}) };
}

// ------------------------------------------------------------------------------------------------
// The real tool. Strict modes turn BIND's warnings about names, CNAMEs and SRV targets into errors.
// ------------------------------------------------------------------------------------------------

const CHECKZONE_STRICT = ['-k', 'fail', '-m', 'fail', '-M', 'fail', '-n', 'fail', '-r', 'fail', '-S', 'fail', '-i', 'full'];
/** For the tests that run named-checkzone: without it they fail under CI, and are skipped with a warning elsewhere. */
const withCheckzone = testWith('named-checkzone');

let workDir: string;
beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-constructs-zone-'));
});
afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

function checkzone(zone: string, content: string): { status: number | null; output: string } {
  const file = path.join(workDir, `${zone}.${process.hrtime.bigint()}.zone`);
  fs.writeFileSync(file, content);
  const result = spawnSync('named-checkzone', [...CHECKZONE_STRICT, zone, file], { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.each(representativeSpecs)('renderZoneFiles — GIVEN the %s spec', (_label, spec) => {
  const resolved = resolveSpec(spec);

  describe.each([
    ['placeholder addresses', undefined],
    ['deploy-time addresses', REAL_LOOKING],
    ['deploy-time addresses without IPv6', { reservedIpv4: '198.51.100.10', dropletIpv4: '198.51.100.20' }],
  ] as const)('WHEN rendered with %s', (_what, addresses) => {
    const files = renderZoneFiles(resolved, withTurnDroplet(resolved, addresses));

    test('THEN there is one file per served domain, named <zone>.zone', () => {
      expect(Object.keys(files)).toEqual(resolved.domains.map((d) => `${d.name}.zone`));
    });

    describe.each(resolved.domains.map((d) => [d.name] as const))('AND zone %s', (zone) => {
      withCheckzone('THEN named-checkzone accepts it in strict mode', () => {
        const { status, output } = checkzone(zone, files[`${zone}.zone`]);
        expect(output).toMatch(/^OK$/m);
        expect(status).toBe(0);
        expect(output).toContain(`zone ${zone}/IN: loaded serial 1`);
      });
    });
  });
});

describe('GIVEN domains whose DNS is hosted outside DigitalOcean', () => {
  const spec = resolveSpec({ ...dedicatedTurnSpec, domains: [{ name: 'example.net', zone: 'external' }, 'example.org', { name: 'customer.example', zone: 'external' }] });
  const deployed: ZoneAddresses = { ...REAL_LOOKING, ...TURN_DROPLET };
  const files = renderExternalZoneFiles(spec, deployed);

  test('THEN only they have an import file, with the deployed addresses and without SOA or NS', () => {
    expect(Object.keys(files)).toEqual(['example.net', 'customer.example']);
    for (const text of Object.values(files)) {
      expect(text).not.toMatch(/ IN (SOA|NS) /);
      expect(text).toMatch(/^@ +\d+ IN A +198\.51\.100\.10$/m);
      expect(text).toContain('load these records');
    }
    // The TURN name lives in the primary's zone and points at the TURN droplet.
    expect(files['example.net']).toMatch(/^turn +300 IN A +198\.51\.100\.30$/m);
    expect(files['example.net']).toMatch(/^turn +300 IN AAAA +2001:db8:5::30$/m);
  });

  withCheckzone.each(['example.net', 'customer.example'])('THEN %s, under another DNS host\'s SOA and NS, passes named-checkzone strictly', (zone) => {
    const authority = `$ORIGIN ${zone}.\n@ 3600 IN SOA ns1.other-dns.example. hostmaster.${zone}. 1 10800 3600 604800 1800\n@ 3600 IN NS ns1.other-dns.example.\n`;
    const { status, output } = checkzone(zone, authority + files[zone]);
    expect(output).toMatch(/^OK$/m);
    expect(status).toBe(0);
  });

  test('THEN the review files show them in the import form, with placeholder addresses', () => {
    const review = renderZoneFiles(spec);
    expect(review['customer.example.zone']).not.toMatch(/ IN (SOA|NS) /);
    expect(review['customer.example.zone']).toContain('192.0.2.10');
    expect(review['example.org.zone']).toMatch(/ IN SOA /);
  });

  test('THEN filling in tokens gives exactly the files rendered with those addresses', () => {
    const tokens = { reservedIpv4: deployed.reservedIpv4, reservedIpv6: deployed.reservedIpv6, dropletIpv4: deployed.dropletIpv4, dropletIpv6: deployed.dropletIpv6, turnIpv4: deployed.turnIpv4, turnIpv6: deployed.turnIpv6 };
    expect(renderExternalZoneFilesWithTokens(spec, tokens)).toEqual(files);
    const symbolic = renderExternalZoneFilesWithTokens(spec, { reservedIpv4: '${reserved}', reservedIpv6: '${reserved6}', dropletIpv4: '${v4}', dropletIpv6: '${v6}', turnIpv4: '${turn4}', turnIpv6: '${turn6}' });
    expect(symbolic['customer.example']).toMatch(/^@ +1800 IN A +\$\{reserved\}$/m);
    expect(symbolic['customer.example']).toMatch(/^@ +1800 IN AAAA +\$\{reserved6\}$/m);
    expect(symbolic['example.net']).toMatch(/^turn +300 IN AAAA +\$\{turn6\}$/m);
  });
});

describe('zonesByHosting', () => {
  const spec = resolveSpec({ ...minimalSpec, domains: ['example.net', { name: 'example.org', zone: 'existing' }, { name: 'customer.example', zone: 'external' }, 'example.com'] });
  test('GIVEN zone settings and an adapter\'s existingZones THEN each zone is where it was declared', () => {
    expect(zonesByHosting(spec, ['example.com'])).toEqual({ create: ['example.net'], existing: ['example.org', 'example.com'], external: ['customer.example'] });
  });
  test.each([
    [['example.info'], /existingZones\[0\] = "example\.info": not one of the served domains/],
    [['example.net', 'customer.example'], /existingZones\[1\] = "customer\.example": the spec declares this domain's zone "external".*Fix: remove it here/],
  ])('GIVEN existingZones %j THEN it fails naming the entry', (existing, message) => {
    expect(() => zonesByHosting(spec, existing)).toThrow(message);
  });
});

describe('named-checkzone really checks what we rely on', () => {
  withCheckzone('GIVEN an SRV record whose target is a CNAME WHEN checked strictly THEN BIND rejects the zone', () => {
    const bad: DnsRecordPlan[] = [
      { key: 'k1', zone: 'example.net', type: 'A', name: '@', value: { kind: 'address', of: 'reservedIpv4' }, ttlSeconds: 300 },
      { key: 'k2', zone: 'example.net', type: 'CNAME', name: 'upload', value: 'example.net.', ttlSeconds: 300 },
      { key: 'k3', zone: 'example.net', type: 'SRV', name: '_xmpp-client._tcp', value: 'upload.example.net.', priority: 0, weight: 5, port: 5222, ttlSeconds: 300 },
    ];
    const { status, output } = checkzone('example.net', renderZoneFile(bad, 'example.net', REAL_LOOKING));
    expect(status).not.toBe(0);
    expect(output).toMatch(/SRV.*CNAME|CNAME.*SRV/i);
  });

  withCheckzone('GIVEN a CNAME target without trailing dot WHEN checked THEN it would resolve inside the zone (why the dot matters)', () => {
    const relative: DnsRecordPlan[] = [
      { key: 'k1', zone: 'example.net', type: 'A', name: '@', value: { kind: 'address', of: 'reservedIpv4' }, ttlSeconds: 300 },
      { key: 'k2', zone: 'example.net', type: 'CNAME', name: 'upload', value: 'example.net', ttlSeconds: 300 },
    ];
    const file = path.join(workDir, 'relative.zone');
    fs.writeFileSync(file, renderZoneFile(relative, 'example.net', REAL_LOOKING));
    const result = spawnSync('named-checkzone', ['-D', 'example.net', file], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^upload\.example\.net\.\s+300\s+IN\s+CNAME\s+example\.net\.example\.net\.$/m);
  });
});

// ------------------------------------------------------------------------------------------------
// Content.
// ------------------------------------------------------------------------------------------------

describe('renderZoneFile — content', () => {
  const resolved = resolveSpec(minimalSpec);
  const records = planDnsRecords(resolved);
  const text = renderZoneFile(records, 'example.net', REAL_LOOKING);
  const lines = text.split('\n');
  const recordLines = lines.filter((l) => l !== '' && !l.startsWith(';') && !l.startsWith('$'));
  const row = (name: string, type: string): string[] =>
    recordLines.filter((l) => l.split(/\s+/)[0] === name && l.split(/\s+/)[3] === type).map((l) => l.split(/\s+/).slice(4).join(' '));

  test('THEN it starts with $ORIGIN (absolute) and $TTL, after the comment header', () => {
    const directives = lines.filter((l) => l.startsWith('$'));
    expect(directives).toEqual(['$ORIGIN example.net.', '$TTL 1800']);
    expect(lines.findIndex((l) => l.startsWith('$'))).toBeGreaterThan(0);
    expect(lines.slice(0, lines.findIndex((l) => l.startsWith('$'))).every((l) => l.startsWith(';'))).toBe(true);
  });

  test('THEN the SOA names DigitalOcean\'s first name server, hostmaster@<zone> and the fixed serial 1', () => {
    expect(row('@', 'SOA')).toEqual(['ns1.digitalocean.com. hostmaster.example.net. 1 10800 3600 604800 1800']);
  });

  test('THEN the NS records are DigitalOcean\'s three name servers', () => {
    expect(row('@', 'NS')).toEqual(['ns1.digitalocean.com.', 'ns2.digitalocean.com.', 'ns3.digitalocean.com.']);
  });

  test('THEN address references become the given addresses', () => {
    expect(row('@', 'A')).toEqual(['198.51.100.10']);
    expect(row('@', 'AAAA')).toEqual(['2001:db8:5::10']);
    expect(row('turn', 'A')).toEqual(['198.51.100.20']);
    expect(row('turn', 'AAAA')).toEqual(['2001:db8:5::20']);
  });

  test('THEN CNAME and SRV data are absolute names', () => {
    expect(row('upload', 'CNAME')).toEqual(['example.net.']);
    expect(row('conference', 'CNAME')).toEqual(['example.net.']);
    expect(row('_xmpp-client._tcp', 'SRV')).toEqual(['0 5 5222 example.net.']);
    expect(row('_xmpps-client._tcp', 'SRV')).toEqual(['0 5 5223 example.net.']);
    expect(row('_xmpp-server._tcp', 'SRV')).toEqual(['0 5 5269 example.net.']);
  });

  test('THEN CAA is published as 0 issue "letsencrypt.org", without DigitalOcean\'s trailing dot', () => {
    expect(row('@', 'CAA')).toEqual(['0 issue "letsencrypt.org"']);
  });

  test('THEN each record line carries its own TTL (300 for the TURN name)', () => {
    expect(recordLines.find((l) => l.startsWith('turn '))?.split(/\s+/)[1]).toBe('300');
    expect(recordLines.find((l) => l.startsWith('upload '))?.split(/\s+/)[1]).toBe('1800');
  });

  test('THEN every planned record of the zone appears once, after SOA and NS', () => {
    expect(recordLines).toHaveLength(1 + 3 + records.length);
    expect(recordLines[0].split(/\s+/)[3]).toBe('SOA');
  });

  test('THEN deploy-time addresses produce no placeholder comment', () => {
    expect(text).not.toContain('placeholder');
  });

  test('THEN rendering is deterministic and ends with a newline', () => {
    expect(renderZoneFile(records, 'example.net', REAL_LOOKING)).toBe(text);
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('renderZoneFile — options and edge cases', () => {
  const records = planDnsRecords(resolveSpec(fullSpec));

  test('GIVEN records of several zones WHEN rendering one THEN only that zone\'s records appear', () => {
    const text = renderZoneFile(records, 'example.org', REAL_LOOKING);
    expect(text).not.toMatch(/example\.net/);
    expect(text).not.toMatch(/^stun /m);
    expect(text).toContain('$ORIGIN example.org.');
  });

  test('GIVEN the zone name with a trailing dot WHEN rendering THEN the output is the same', () => {
    expect(renderZoneFile(records, 'example.org.', REAL_LOOKING)).toBe(renderZoneFile(records, 'example.org', REAL_LOOKING));
  });

  test('GIVEN no droplet IPv6 address WHEN rendering THEN AAAA records are left out', () => {
    const text = renderZoneFile(records, 'example.net', { reservedIpv4: '198.51.100.10', dropletIpv4: '198.51.100.20' });
    expect(text).not.toMatch(/\bAAAA\b/);
    expect(text).toMatch(/^stun +300 IN A +198\.51\.100\.20$/m);
  });

  test('GIVEN a serial and name servers without trailing dots WHEN rendering THEN both are used, dots added', () => {
    const text = renderZoneFile(records, 'example.net', REAL_LOOKING, { serial: 2026010101, nameservers: ['a.ns.example.com', 'b.ns.example.com.'] });
    expect(text).toMatch(/IN SOA +a\.ns\.example\.com\. hostmaster\.example\.net\. 2026010101 /);
    expect(text.match(/IN NS +\S+/g)).toEqual(['IN NS    a.ns.example.com.', 'IN NS    b.ns.example.com.']);
  });

  test('GIVEN federation off WHEN rendering THEN the null SRV target "." is written as such', () => {
    const text = renderZoneFile(planDnsRecords(resolveSpec(closedSpec)), 'chat.example.com', REAL_LOOKING);
    expect(text).toMatch(/^_xmpp-server\._tcp +1800 IN SRV +0 0 0 \.$/m);
  });

  test.each([
    ['reservedIpv4', { ...REAL_LOOKING, reservedIpv4: '2001:db8::1' }],
    ['dropletIpv4', { ...REAL_LOOKING, dropletIpv4: '198.51.100' }],
    ['dropletIpv6', { ...REAL_LOOKING, dropletIpv6: '198.51.100.1' }],
    ['dropletIpv6', { ...REAL_LOOKING, dropletIpv6: '2001:db8::/64' }],
  ] as const)('fails when %s is not an address of the right family', (field, addresses) => {
    expect(() => renderZoneFile(records, 'example.net', addresses)).toThrow(new RegExp(field));
  });

  test('fails when the serial is not a 32-bit unsigned integer', () => {
    expect(() => renderZoneFile(records, 'example.net', REAL_LOOKING, { serial: -1 })).toThrow(/serial/);
    expect(() => renderZoneFile(records, 'example.net', REAL_LOOKING, { serial: 2 ** 32 })).toThrow(/serial/);
  });

  test('fails when the name server list is empty', () => {
    expect(() => renderZoneFile(records, 'example.net', REAL_LOOKING, { nameservers: [] })).toThrow(/name server/);
  });
});

describe('renderZoneFiles — placeholders', () => {
  test('GIVEN no addresses WHEN rendering THEN documentation addresses are used and the header says they are placeholders', () => {
    const files = renderZoneFiles(resolveSpec(minimalSpec));
    const text = files['example.net.zone'];
    expect(text.split('\n')[1]).toMatch(/^; placeholder addresses: known only after deploy/);
    expect(text).toMatch(/^@ +1800 IN A +192\.0\.2\.10$/m);
    expect(text).toMatch(/^turn +300 IN A +192\.0\.2\.20$/m);
    expect(text).toMatch(/^@ +1800 IN AAAA +2001:db8::10$/m);
    expect(text).toMatch(/^turn +300 IN AAAA +2001:db8::20$/m);
    expect(text.split('\n')[1]).toContain('reserved IPv4 192.0.2.10, reserved IPv6 2001:db8::10, droplet IPv4 192.0.2.20, droplet IPv6 2001:db8::20');
    expect(PLACEHOLDER_ADDRESSES).toEqual({ reservedIpv4: '192.0.2.10', reservedIpv6: '2001:db8::10', dropletIpv4: '192.0.2.20', dropletIpv6: '2001:db8::20' });
  });

  test('GIVEN a region without reserved IPv6 and no addresses WHEN rendering THEN the apex follows the droplet\'s IPv6 placeholder with the short TTL', () => {
    const text = renderZoneFiles(resolveSpec({ ...minimalSpec, droplet: { region: 'zzz1' } }))['example.net.zone'];
    expect(text).toMatch(/^@ +300 IN AAAA +2001:db8::20$/m);
    expect(text).toMatch(/^@ +300 IN A +192\.0\.2\.10$/m);
    expect(text).not.toContain('2001:db8::10');
  });

  test('GIVEN IPv6 off and no addresses WHEN rendering THEN the header does not mention an IPv6 placeholder', () => {
    const spec: XmppServiceSpec = { ...minimalSpec, droplet: { ipv6: false } };
    const text = renderZoneFiles(resolveSpec(spec))['example.net.zone'];
    expect(text).toContain('placeholder addresses');
    expect(text).not.toContain('2001:db8');
  });

  test('GIVEN addresses WHEN rendering all zones THEN every file uses them and none mentions placeholders', () => {
    for (const text of Object.values(renderZoneFiles(resolveSpec(fullSpec), REAL_LOOKING))) {
      expect(text).not.toContain('placeholder');
      expect(text).toMatch(/^@ +600 IN A +198\.51\.100\.10$/m);
    }
  });
});

describe('recordData', () => {
  const base = { key: 'k', zone: 'z.example', name: '@', ttlSeconds: 60 };
  test.each([
    ['a CAA issue value in DigitalOcean form', '0 issue "letsencrypt.org"', { ...base, type: 'CAA', value: 'letsencrypt.org.', flags: 0, tag: 'issue' }],
    ['a CAA issuewild ";"', '0 issuewild ";"', { ...base, type: 'CAA', value: ';', flags: 0, tag: 'issuewild' }],
    ['a critical CAA iodef URL', '128 iodef "mailto:ca@z.example"', { ...base, type: 'CAA', value: 'mailto:ca@z.example', flags: 128, tag: 'iodef' }],
    ['an SRV record', '1 2 3 z.example.', { ...base, type: 'SRV', name: '_x._tcp', value: 'z.example.', priority: 1, weight: 2, port: 3 }],
    ['a TURN A record', '198.51.100.20', { ...base, type: 'A', name: 'turn', value: { kind: 'address', of: 'turnIpv4' } }],
  ] as [string, string, DnsRecordPlan][])('GIVEN %s THEN the zone file data is %s', (_what, expected, record) => {
    expect(recordData(record, REAL_LOOKING)).toBe(expected);
  });

  test('GIVEN an AAAA record and no IPv6 address THEN there is no data', () => {
    const record: DnsRecordPlan = { ...base, type: 'AAAA', value: { kind: 'address', of: 'dropletIpv6' } };
    expect(recordData(record, { reservedIpv4: '198.51.100.10', dropletIpv4: '198.51.100.20' })).toBeUndefined();
  });
});

describe('TURN addresses', () => {
  const turnA: DnsRecordPlan = { key: 'k', zone: 'example.net', name: 'turn', ttlSeconds: 300, type: 'A', value: { kind: 'address', of: 'turnIpv4' } };
  const turnAaaa: DnsRecordPlan = { ...turnA, type: 'AAAA', value: { kind: 'address', of: 'turnIpv6' } };

  test('GIVEN no TURN addresses (coturn on the droplet) THEN the TURN records take the droplet\'s', () => {
    expect(recordData(turnA, REAL_LOOKING)).toBe('198.51.100.20');
    expect(recordData(turnAaaa, REAL_LOOKING)).toBe('2001:db8:5::20');
  });

  test('GIVEN the TURN droplet\'s addresses THEN the TURN records take them', () => {
    expect(recordData(turnA, { ...REAL_LOOKING, ...TURN_DROPLET })).toBe('198.51.100.30');
    expect(recordData(turnAaaa, { ...REAL_LOOKING, ...TURN_DROPLET })).toBe('2001:db8:5::30');
  });

  test('GIVEN only the TURN droplet\'s IPv4 THEN its AAAA is left out rather than pointing at the Prosody droplet', () => {
    expect(recordData(turnAaaa, { ...REAL_LOOKING, turnIpv4: '198.51.100.30' })).toBeUndefined();
  });

  test('GIVEN the dedicated TURN spec and deploy-time addresses THEN only the TURN name points at the TURN droplet', () => {
    const text = renderZoneFiles(resolveSpec(dedicatedTurnSpec), { ...REAL_LOOKING, ...TURN_DROPLET })['example.net.zone'];
    expect(text).toMatch(/^turn +300 IN A +198\.51\.100\.30$/m);
    expect(text).toMatch(/^turn +300 IN AAAA +2001:db8:5::30$/m);
    expect(text).toMatch(/^@ +1800 IN AAAA +2001:db8:5::10$/m);
    expect(text).not.toContain('198.51.100.20');
    expect(text).not.toContain('2001:db8:5::20');
  });

  test('GIVEN the dedicated TURN spec and no addresses THEN the TURN droplet gets placeholders of its own, named in the header', () => {
    const text = renderZoneFiles(resolveSpec(dedicatedTurnSpec))['example.net.zone'];
    expect(text).toMatch(/^turn +300 IN A +192\.0\.2\.30$/m);
    expect(text).toMatch(/^turn +300 IN AAAA +2001:db8::30$/m);
    expect(text.split('\n')[1]).toContain('TURN droplet IPv4 192.0.2.30, TURN droplet IPv6 2001:db8::30');
    expect(PLACEHOLDER_TURN_ADDRESSES).toEqual({ turnIpv4: '192.0.2.30', turnIpv6: '2001:db8::30' });
  });

  test('fails when the dedicated TURN spec is rendered with addresses that lack the TURN droplet\'s', () => {
    expect(() => renderZoneFiles(resolveSpec(dedicatedTurnSpec), REAL_LOOKING)).toThrow(/turn\.example\.net.*Fix: pass addresses\.turnIpv4/);
  });

  test.each([
    ['turnIpv4', { ...REAL_LOOKING, turnIpv4: '2001:db8::30' }],
    ['turnIpv6', { ...REAL_LOOKING, ...TURN_DROPLET, turnIpv6: '198.51.100.30' }],
  ] as const)('fails when %s is not an address of the right family', (field, addresses) => {
    expect(() => renderZoneFile([turnA], 'example.net', addresses)).toThrow(new RegExp(field));
  });
});
