/**
 * The records' for_each map holds one line per record (see packRecord): what each line says, and
 * that a value which could not be unpacked again fails at synthesis, naming the record.
 */
import { packRecord } from '../../lib/cdktf/xmpp-domain-records';
import { DnsRecordPlan, planDnsRecords } from '../../lib/core/dns';
import { resolveSpec } from '../../lib/core/validate';
import { representativeSpecs } from '../support/specs';

const record = (overrides: Partial<DnsRecordPlan>): DnsRecordPlan => ({ key: 'example.net/x/CNAME', zone: 'example.net', type: 'CNAME', name: 'x', value: 'example.net.', ttlSeconds: 1800, ...overrides });

describe('packRecord', () => {
  test.each([
    [record({ type: 'A', name: '@', value: { kind: 'address', of: 'reservedIpv4' } }), 'example.net A @ reservedIpv4 1800 - - - - -'],
    [record({ type: 'SRV', name: '_xmpps-client._tcp', priority: 0, weight: 5, port: 5223 }), 'example.net SRV _xmpps-client._tcp example.net. 1800 0 5 5223 - -'],
    [record({ type: 'SRV', name: '_xmpp-server._tcp', value: '.', priority: 0, weight: 0, port: 0 }), 'example.net SRV _xmpp-server._tcp . 1800 0 0 0 - -'],
    [record({ type: 'CAA', name: '@', value: 'letsencrypt.org.', flags: 0, tag: 'issue' }), 'example.net CAA @ letsencrypt.org. 1800 - - - 0 issue'],
  ])('GIVEN %j THEN the line is %s', (planned, line) => {
    expect(packRecord(planned)).toBe(line);
  });

  test.each([
    ['a space', record({ value: 'two words' }), /DNS record example.net\/x\/CNAME: its value "two words" cannot be packed/],
    ['the absent marker', record({ name: '-' }), /its name "-" cannot be packed/],
    ['an empty field', record({ name: '' }), /its name "" cannot be packed/],
  ])('GIVEN a field holding %s THEN it fails naming the record and the field', (_, planned, expected) => {
    expect(() => packRecord(planned)).toThrow(expected);
  });

  test.each(representativeSpecs)('GIVEN the %s spec THEN every planned record packs into ten fields', (_, spec) => {
    for (const planned of planDnsRecords(resolveSpec(spec))) expect(packRecord(planned).split(' ')).toHaveLength(10);
  });
});
