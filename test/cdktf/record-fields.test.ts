/**
 * The records local holds one object per record (see recordFields): what each object says, and
 * that every object has every field, so that they all have one object type in Terraform.
 */
import { recordFields, RecordFields } from '../../lib/core/resources';
import { DnsRecordPlan, planDnsRecords } from '../../lib/core/dns';
import { resolveSpec } from '../../lib/core/validate';
import { representativeSpecs } from '../support/specs';

const record = (overrides: Partial<DnsRecordPlan>): DnsRecordPlan => ({ key: 'example.net/x/CNAME', zone: 'example.net', type: 'CNAME', name: 'x', value: 'example.net.', ttlSeconds: 1800, ...overrides });
const absent = { priority: null, weight: null, port: null, flags: null, tag: null };

describe('recordFields', () => {
  test.each<[string, DnsRecordPlan, RecordFields]>([
    [
      'an address record names its address and has no value',
      record({ type: 'A', name: '@', value: { kind: 'address', of: 'reservedIpv4' } }),
      { domain: 'example.net', type: 'A', name: '@', value: null, address: 'reservedIpv4', ttl: 1800, ...absent },
    ],
    [
      'a CNAME has its target and no address',
      record({}),
      { domain: 'example.net', type: 'CNAME', name: 'x', value: 'example.net.', address: null, ttl: 1800, ...absent },
    ],
    [
      'an SRV record has priority, weight and port',
      record({ type: 'SRV', name: '_xmpps-client._tcp', priority: 0, weight: 5, port: 5223 }),
      { domain: 'example.net', type: 'SRV', name: '_xmpps-client._tcp', value: 'example.net.', address: null, ttl: 1800, ...absent, priority: 0, weight: 5, port: 5223 },
    ],
    [
      'the "service not offered" SRV record keeps its zeros',
      record({ type: 'SRV', name: '_xmpp-server._tcp', value: '.', priority: 0, weight: 0, port: 0 }),
      { domain: 'example.net', type: 'SRV', name: '_xmpp-server._tcp', value: '.', address: null, ttl: 1800, ...absent, priority: 0, weight: 0, port: 0 },
    ],
    [
      'a CAA record has flags and tag',
      record({ type: 'CAA', name: '@', value: 'letsencrypt.org.', flags: 0, tag: 'issue' }),
      { domain: 'example.net', type: 'CAA', name: '@', value: 'letsencrypt.org.', address: null, ttl: 1800, ...absent, flags: 0, tag: 'issue' },
    ],
  ])('GIVEN %s THEN its entry says so, every other field null', (_, planned, entry) => {
    expect(recordFields(planned)).toEqual(entry);
  });

  test.each(representativeSpecs)('GIVEN the %s spec THEN every entry has the same eleven fields and exactly one of value and address', (_, spec) => {
    for (const planned of planDnsRecords(resolveSpec(spec))) {
      const entry = recordFields(planned);
      expect(Object.keys(entry).sort()).toEqual(['address', 'domain', 'flags', 'name', 'port', 'priority', 'tag', 'ttl', 'type', 'value', 'weight']);
      for (const v of Object.values(entry)) expect(v).not.toBeUndefined();
      expect((entry.value === null) !== (entry.address === null)).toBe(true);
    }
  });
});
