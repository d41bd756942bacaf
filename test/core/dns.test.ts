import {
  absoluteName,
  DnsRecordPlan,
  DNS_RECORD_TYPE_ORDER,
  fqdn,
  isAddressRef,
  NULL_SRV_TARGET,
  planDnsRecords,
  recordFqdn,
  relativeName,
  SRV_PRIORITY,
  SRV_WEIGHT,
  TURN_IPV4,
  TURN_IPV6,
} from '../../lib/core/dns';
import { ResolvedSpec, XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { dedicatedTurnSpec, minimalSpec, representativeSpecs } from '../support/specs';

function plan(spec: XmppServiceSpec): { resolved: ResolvedSpec; records: DnsRecordPlan[] } {
  const resolved = resolveSpec(spec);
  return { resolved, records: planDnsRecords(resolved) };
}

function find(records: readonly DnsRecordPlan[], zone: string, name: string, type: string): DnsRecordPlan[] {
  return records.filter((r) => r.zone === zone && r.name === name && r.type === type);
}

function one(records: readonly DnsRecordPlan[], zone: string, name: string, type: string): DnsRecordPlan {
  const found = find(records, zone, name, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type} ${name} in ${zone}, found ${found.length}`);
  return found[0];
}

const keysOf = (records: readonly DnsRecordPlan[]): string[] => records.map((r) => r.key);

describe.each(representativeSpecs)('planDnsRecords — GIVEN the %s spec', (_label, spec) => {
  const { resolved, records } = plan(spec);
  // The apex's records follow the droplet's own IPv6 with the short TTL when there is no reserved IPv6.
  const apexTtl = resolved.droplet.ipv6 && !resolved.droplet.reservedIpv6 ? resolved.dns.turnTtlSeconds : resolved.dns.ttlSeconds;
  const ttl = resolved.dns.ttlSeconds;

  describe.each(resolved.domains.map((d) => [d.name, d] as const))('WHEN looking at zone %s', (zone, domain) => {
    const apex = `${zone}.`;

    test('THEN the apex A record points at the reserved IPv4 address', () => {
      const a = one(records, zone, '@', 'A');
      expect(a.value).toEqual({ kind: 'address', of: 'reservedIpv4' });
      expect(a.ttlSeconds).toBe(apexTtl);
      expect(a.key).toBe(`${zone}/@/A`);
    });

    test('THEN the apex has an AAAA record exactly when IPv6 is on, to the reserved IPv6 address where there is one', () => {
      const aaaa = find(records, zone, '@', 'AAAA');
      if (resolved.droplet.ipv6) {
        expect(aaaa).toHaveLength(1);
        expect(aaaa[0].value).toEqual({ kind: 'address', of: resolved.droplet.reservedIpv6 ? 'reservedIpv6' : 'dropletIpv6' });
        expect(aaaa[0].ttlSeconds).toBe(apexTtl);
      } else {
        expect(aaaa).toHaveLength(0);
      }
    });

    test('THEN every component host is a CNAME to the apex, with a trailing dot', () => {
      const cnames = records.filter((r) => r.zone === zone && r.type === 'CNAME');
      expect(cnames.map((r) => recordFqdn(r)).sort()).toEqual(domain.components.map((c) => c.host).sort());
      for (const c of cnames) {
        expect(c.value).toBe(apex);
        expect(c.name).not.toMatch(/^@|\.$/);
        expect(c.ttlSeconds).toBe(ttl);
      }
    });

    test('THEN client SRV records for STARTTLS and direct TLS point at the apex on the configured ports', () => {
      const c2s = one(records, zone, '_xmpp-client._tcp', 'SRV');
      expect(c2s).toMatchObject({ value: apex, port: resolved.ports.c2s, priority: SRV_PRIORITY, weight: SRV_WEIGHT, ttlSeconds: ttl });
      const direct = one(records, zone, '_xmpps-client._tcp', 'SRV');
      expect(direct).toMatchObject({ value: apex, port: resolved.ports.c2sDirectTls, priority: SRV_PRIORITY, weight: SRV_WEIGHT, ttlSeconds: ttl });
    });

    test('THEN the server SRV record offers federation, or says "not offered" with target "."', () => {
      const s2s = one(records, zone, '_xmpp-server._tcp', 'SRV');
      if (resolved.federation.enabled) {
        expect(s2s).toMatchObject({ value: apex, port: resolved.ports.s2s, priority: SRV_PRIORITY, weight: SRV_WEIGHT });
      } else {
        expect(s2s).toMatchObject({ value: NULL_SRV_TARGET, port: 0, priority: 0, weight: 0 });
      }
    });

    test('THEN the direct TLS server SRV record exists exactly when federation.directTls is on', () => {
      const found = find(records, zone, '_xmpps-server._tcp', 'SRV');
      if (resolved.federation.directTls) {
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({ value: apex, port: resolved.ports.s2sDirectTls, priority: SRV_PRIORITY, weight: SRV_WEIGHT });
      } else {
        expect(found).toHaveLength(0);
      }
    });

    test('THEN the apex has one CAA record allowing only Let\'s Encrypt, in DigitalOcean\'s trailing-dot form', () => {
      const caa = records.filter((r) => r.zone === zone && r.type === 'CAA');
      expect(caa).toHaveLength(1);
      expect(caa[0]).toMatchObject({ name: '@', flags: 0, tag: 'issue', value: 'letsencrypt.org.', ttlSeconds: apexTtl, key: `${zone}/@/CAA/issue` });
    });
  });

  test('THEN every CNAME and SRV value is an absolute name ending in a dot', () => {
    for (const r of records.filter((x) => x.type === 'CNAME' || x.type === 'SRV')) {
      expect(typeof r.value).toBe('string');
      expect(r.value as string).toMatch(/\.$/);
    }
  });

  test('THEN A and AAAA values are deploy-time address references, never literals', () => {
    for (const r of records.filter((x) => x.type === 'A' || x.type === 'AAAA')) {
      expect(isAddressRef(r.value)).toBe(true);
      if (isAddressRef(r.value)) expect(r.type === 'A' ? ['reservedIpv4', 'turnIpv4'] : ['reservedIpv6', 'dropletIpv6', 'turnIpv6']).toContain(r.value.of);
    }
  });

  test('THEN an SRV target is never a CNAME and always owns an A record (RFC 2782)', () => {
    const aliases = new Set(records.filter((r) => r.type === 'CNAME').map((r) => `${recordFqdn(r)}.`));
    const withAddress = new Set(records.filter((r) => r.type === 'A').map((r) => `${recordFqdn(r)}.`));
    for (const srv of records.filter((r) => r.type === 'SRV' && r.value !== NULL_SRV_TARGET)) {
      expect(aliases.has(srv.value as string)).toBe(false);
      expect(withAddress.has(srv.value as string)).toBe(true);
    }
  });

  test('THEN there is no CNAME at an apex and no other record beside a CNAME', () => {
    const cnames = records.filter((r) => r.type === 'CNAME');
    for (const c of cnames) {
      expect(c.name).not.toBe('@');
      const others = records.filter((r) => r !== c && recordFqdn(r) === recordFqdn(c));
      expect(others).toEqual([]);
    }
  });

  test('THEN every record shares its TTL with every other record of the same name (DigitalOcean rewrites differing ones)', () => {
    const ttlByName = new Map<string, number>();
    for (const r of records) {
      const name = recordFqdn(r);
      expect(ttlByName.get(name) ?? r.ttlSeconds).toBe(r.ttlSeconds);
      ttlByName.set(name, r.ttlSeconds);
    }
  });

  test('THEN keys are unique and read <zone>/<name>/<type>[/<tag>]', () => {
    expect(new Set(keysOf(records)).size).toBe(records.length);
    for (const r of records) {
      expect(r.key).toBe(r.type === 'CAA' ? `${r.zone}/${r.name}/CAA/${r.tag}` : `${r.zone}/${r.name}/${r.type}`);
    }
  });

  test('THEN the records are sorted by zone (spec order), type, then name with the apex first', () => {
    const zoneOrder = resolved.domains.map((d) => d.name);
    const sortKey = (r: DnsRecordPlan): [number, number, string] => [
      zoneOrder.indexOf(r.zone),
      DNS_RECORD_TYPE_ORDER.indexOf(r.type),
      r.name === '@' ? '' : r.name,
    ];
    for (let i = 1; i < records.length; i++) {
      const [za, ta, na] = sortKey(records[i - 1]);
      const [zb, tb, nb] = sortKey(records[i]);
      expect(za < zb || (za === zb && (ta < tb || (ta === tb && na <= nb)))).toBe(true);
    }
  });

  test('THEN planning twice gives identical output', () => {
    expect(planDnsRecords(resolveSpec(spec))).toEqual(records);
  });

  test('THEN there is no TXT _xmppconnect record or any other type outside A/AAAA/CNAME/SRV/CAA', () => {
    expect(records.filter((r) => !DNS_RECORD_TYPE_ORDER.includes(r.type))).toEqual([]);
    expect(records.filter((r) => r.name.includes('_xmppconnect'))).toEqual([]);
  });

  test('THEN the TURN host has A/AAAA records to the TURN addresses under the primary domain with the short TURN TTL, exactly when calls are on', () => {
    const turnRecords = records.filter((r) => isAddressRef(r.value) && r.value.of === 'turnIpv4');
    if (!resolved.calls.enabled) {
      expect(turnRecords).toEqual([]);
      expect(records.filter((r) => recordFqdn(r) === resolved.calls.host)).toEqual([]);
      return;
    }
    const name = resolved.calls.host.slice(0, -(resolved.primaryDomain.length + 1));
    const a = one(records, resolved.primaryDomain, name, 'A');
    expect(a).toMatchObject({ value: { kind: 'address', of: 'turnIpv4' }, ttlSeconds: resolved.dns.turnTtlSeconds, key: `${resolved.primaryDomain}/${name}/A` });
    expect(recordFqdn(a)).toBe(resolved.calls.host);
    const aaaa = find(records, resolved.primaryDomain, name, 'AAAA');
    if (resolved.droplet.ipv6) {
      expect(aaaa).toHaveLength(1);
      expect(aaaa[0]).toMatchObject({ value: { kind: 'address', of: 'turnIpv6' }, ttlSeconds: resolved.dns.turnTtlSeconds });
    } else {
      expect(aaaa).toEqual([]);
    }
    expect(turnRecords).toEqual([a]);
  });
});

describe('planDnsRecords — feature switches', () => {
  test('GIVEN proxy65 and pubsub off (the default) WHEN planning THEN neither has a CNAME', () => {
    const { records } = plan(minimalSpec);
    expect(find(records, 'example.net', 'proxy', 'CNAME')).toEqual([]);
    expect(find(records, 'example.net', 'pubsub', 'CNAME')).toEqual([]);
  });

  test('GIVEN proxy65 and pubsub on WHEN planning THEN each domain gets their CNAMEs', () => {
    const { records } = plan({ ...minimalSpec, domains: ['example.net', 'example.org'], components: { proxy65: { enabled: true }, pubsub: { enabled: true, name: 'feeds' } } });
    for (const zone of ['example.net', 'example.org']) {
      expect(one(records, zone, 'proxy', 'CNAME').value).toBe(`${zone}.`);
      expect(one(records, zone, 'feeds', 'CNAME').value).toBe(`${zone}.`);
    }
  });

  test('GIVEN file sharing and group chat off WHEN planning THEN there are no CNAMEs at all', () => {
    const { records } = plan({ ...minimalSpec, components: { fileShare: { enabled: false }, groupChat: { enabled: false } } });
    expect(records.filter((r) => r.type === 'CNAME')).toEqual([]);
  });

  test('GIVEN renamed components WHEN planning THEN the CNAME names follow the names', () => {
    const { records } = plan({ ...minimalSpec, components: { fileShare: { name: 'files' }, groupChat: { name: 'rooms' } } });
    expect(records.filter((r) => r.type === 'CNAME').map((r) => r.name)).toEqual(['files', 'rooms']);
  });

  test('GIVEN federation with direct TLS WHEN planning THEN _xmpps-server points at the apex on s2sDirectTls', () => {
    const { records } = plan({ ...minimalSpec, federation: { directTls: true }, ports: { s2sDirectTls: 5271 } });
    expect(one(records, 'example.net', '_xmpps-server._tcp', 'SRV')).toMatchObject({ value: 'example.net.', port: 5271 });
  });

  test('GIVEN federation off WHEN planning THEN _xmpp-server has target "." port 0 and _xmpps-server is absent', () => {
    const { records } = plan({ ...minimalSpec, federation: { enabled: false } });
    expect(one(records, 'example.net', '_xmpp-server._tcp', 'SRV')).toMatchObject({ value: '.', port: 0, priority: 0, weight: 0 });
    expect(find(records, 'example.net', '_xmpps-server._tcp', 'SRV')).toEqual([]);
  });

  test('GIVEN non-default client ports WHEN planning THEN the SRV records carry them', () => {
    const { records } = plan({ ...minimalSpec, ports: { c2s: 15222, c2sDirectTls: 15223, s2s: 15269 } });
    expect(one(records, 'example.net', '_xmpp-client._tcp', 'SRV').port).toBe(15222);
    expect(one(records, 'example.net', '_xmpps-client._tcp', 'SRV').port).toBe(15223);
    expect(one(records, 'example.net', '_xmpp-server._tcp', 'SRV').port).toBe(15269);
  });

  test('GIVEN IPv6 off WHEN planning THEN no AAAA record exists anywhere', () => {
    const { records } = plan({ ...minimalSpec, droplet: { ipv6: false } });
    expect(records.filter((r) => r.type === 'AAAA')).toEqual([]);
  });

  test('GIVEN a TTL below the TURN maximum WHEN planning THEN the TURN records use it too', () => {
    const { records } = plan({ ...minimalSpec, dns: { ttlSeconds: 60 } });
    expect(one(records, 'example.net', 'turn', 'A').ttlSeconds).toBe(60);
    expect(one(records, 'example.net', '@', 'A').ttlSeconds).toBe(60);
  });

  test('GIVEN the default TTL and a reserved IPv6 WHEN planning THEN the TURN records get 300 seconds and everything else 1800', () => {
    const { records } = plan(minimalSpec);
    for (const r of records) expect(r.ttlSeconds).toBe(r.name === 'turn' ? 300 : 1800);
  });

  test('GIVEN coturn on a droplet of its own WHEN planning THEN the TURN records use the TURN addresses and every other record is unchanged', () => {
    const colocated = plan(minimalSpec).records;
    const dedicated = plan(dedicatedTurnSpec).records;
    expect(dedicated).toEqual(colocated);
    expect(one(dedicated, 'example.net', 'turn', 'A').value).toEqual(TURN_IPV4);
    expect(one(dedicated, 'example.net', 'turn', 'AAAA').value).toEqual(TURN_IPV6);
    expect(dedicated.filter((r) => isAddressRef(r.value) && r.value.of.startsWith('turn')).map((r) => r.key)).toEqual(['example.net/turn/A', 'example.net/turn/AAAA']);
  });

  test('GIVEN several domains WHEN planning THEN the TURN name lives only in the primary zone', () => {
    const { records } = plan({ ...minimalSpec, domains: ['example.net', 'example.org'], calls: { name: 'stun' } });
    expect(records.filter((r) => r.name === 'stun').map((r) => r.key)).toEqual(['example.net/stun/A', 'example.net/stun/AAAA']);
  });
});

describe('planDnsRecords — the AAAA records where DigitalOcean offers reserved IPv6 and where it does not', () => {
  const apexAndTurn = (records: readonly DnsRecordPlan[]) =>
    records.filter((r) => r.name === '@' || r.name === 'turn').map((r) => [r.name, r.type, isAddressRef(r.value) ? r.value.of : r.value, r.ttlSeconds]);
  test.each<[string, XmppServiceSpec['droplet'], (string | number)[][]]>([
    [
      'a region with reserved IPv6 (the default, ams3): the AAAA records on the reserved IPv6, TURN on its droplet',
      undefined,
      [['@', 'A', 'reservedIpv4', 1800], ['turn', 'A', 'turnIpv4', 300], ['@', 'AAAA', 'reservedIpv6', 1800], ['turn', 'AAAA', 'turnIpv6', 300], ['@', 'CAA', 'letsencrypt.org.', 1800]],
    ],
    [
      'another region with it (fra1)',
      { region: 'fra1' },
      [['@', 'A', 'reservedIpv4', 1800], ['turn', 'A', 'turnIpv4', 300], ['@', 'AAAA', 'reservedIpv6', 1800], ['turn', 'AAAA', 'turnIpv6', 300], ['@', 'CAA', 'letsencrypt.org.', 1800]],
    ],
    [
      'a region without it: the AAAA records follow the droplet with the short TTL, and the apex\'s other records share it',
      { region: 'zzz1' },
      [['@', 'A', 'reservedIpv4', 300], ['turn', 'A', 'turnIpv4', 300], ['@', 'AAAA', 'dropletIpv6', 300], ['turn', 'AAAA', 'turnIpv6', 300], ['@', 'CAA', 'letsencrypt.org.', 300]],
    ],
    [
      'reserved IPv6 declined where it is offered: the same fallback',
      { reservedIpv6: false },
      [['@', 'A', 'reservedIpv4', 300], ['turn', 'A', 'turnIpv4', 300], ['@', 'AAAA', 'dropletIpv6', 300], ['turn', 'AAAA', 'turnIpv6', 300], ['@', 'CAA', 'letsencrypt.org.', 300]],
    ],
    [
      'no IPv6: no AAAA records, and the normal TTL',
      { ipv6: false },
      [['@', 'A', 'reservedIpv4', 1800], ['turn', 'A', 'turnIpv4', 300], ['@', 'CAA', 'letsencrypt.org.', 1800]],
    ],
  ])('GIVEN %s', (_, droplet, expected) => {
    const { resolved, records } = plan({ ...minimalSpec, droplet });
    // In plan order: by type, the apex first.
    expect(apexAndTurn(records)).toEqual(expected);
    expect(resolved.droplet.reservedIpv6).toBe(expected.some(([, , of]) => of === 'reservedIpv6'));
  });

  test('GIVEN a short TTL WHEN there is no reserved IPv6 THEN the apex keeps it (the fallback never lengthens a TTL)', () => {
    const { records } = plan({ ...minimalSpec, dns: { ttlSeconds: 60 }, droplet: { reservedIpv6: false } });
    expect(one(records, 'example.net', '@', 'AAAA').ttlSeconds).toBe(60);
  });
});

describe('planDnsRecords — key stability', () => {
  test('GIVEN a second domain is added WHEN planning THEN the first domain\'s records keep their keys and content', () => {
    const before = plan(minimalSpec).records;
    const after = plan({ ...minimalSpec, domains: ['example.net', 'example.com'] }).records;
    expect(after.filter((r) => r.zone === 'example.net')).toEqual(before);
  });

  test('GIVEN proxy65, pubsub and server direct TLS are switched on WHEN planning THEN every earlier key still exists unchanged', () => {
    const before = plan(minimalSpec).records;
    const after = plan({ ...minimalSpec, components: { proxy65: { enabled: true }, pubsub: { enabled: true } }, federation: { directTls: true } }).records;
    const afterByKey = new Map(after.map((r) => [r.key, r]));
    for (const r of before) expect(afterByKey.get(r.key)).toEqual(r);
    expect(after.length).toBeGreaterThan(before.length);
  });

  test('GIVEN calls are switched off WHEN planning THEN only the TURN keys disappear', () => {
    const before = keysOf(plan(minimalSpec).records);
    const after = keysOf(plan({ ...minimalSpec, calls: { enabled: false } }).records);
    expect(before.filter((k) => !after.includes(k))).toEqual(['example.net/turn/A', 'example.net/turn/AAAA']);
    expect(after.filter((k) => !before.includes(k))).toEqual([]);
  });
});

describe('DNS name helpers', () => {
  test.each([
    ['@', 'example.net', 'example.net'],
    ['upload', 'example.net', 'upload.example.net'],
    ['_xmpp-client._tcp', 'example.net.', '_xmpp-client._tcp.example.net'],
  ])('GIVEN name %s in zone %s WHEN fqdn() THEN %s', (name, zone, expected) => {
    expect(fqdn(name, zone)).toBe(expected);
  });

  test.each([
    ['example.net', 'example.net', '@'],
    ['turn.example.net', 'example.net', 'turn'],
    ['a.b.example.net', 'example.net', 'a.b'],
  ])('GIVEN host %s in zone %s WHEN relativeName() THEN %s', (host, zone, expected) => {
    expect(relativeName(host, zone)).toBe(expected);
  });

  test.each([
    ['example.org', 'example.net'],
    ['badexample.net', 'example.net'],
  ])('relativeName fails when %s is not inside %s', (host, zone) => {
    expect(() => relativeName(host, zone)).toThrow(/not inside zone/);
  });

  test('GIVEN a name with or without a trailing dot WHEN absoluteName() THEN it ends in exactly one dot', () => {
    expect(absoluteName('example.net')).toBe('example.net.');
    expect(absoluteName('example.net.')).toBe('example.net.');
  });
});
