/**
 * Every planned record, asked of DNS. Addresses are known only once deployed, so A/AAAA records
 * are checked against the addresses given with --address when there are some, and otherwise
 * against each other: every name planned to point at one address must answer the same one.
 */
import { AddressSource, withoutTrailingDot } from '../core/dns';
import type { DoctorPlan, PlannedRecord } from '../core/doctor-plan';
import { DoctorContext, lookup, message } from './net';
import { CheckResult } from './report';

const ADDRESS_WORDS: Record<AddressSource, string> = {
  reservedIpv4: 'the reserved IPv4 address',
  reservedIpv6: 'the reserved IPv6 address',
  dropletIpv4: "the droplet's own IPv4 address",
  dropletIpv6: "the droplet's IPv6 address",
  turnIpv4: "the TURN droplet's IPv4 address",
  turnIpv6: "the TURN droplet's IPv6 address",
};

/** How the record is written in a zone file, for fixes. */
export function zoneLine(record: PlannedRecord, addresses: Partial<Record<AddressSource, string>> = {}): string {
  const value = typeof record.value === 'string' ? record.value : addresses[record.value.address] ?? `<${record.value.address}>`;
  const target = (name: string) => (name === '.' ? '.' : `${name}.`);
  switch (record.type) {
    case 'SRV':
      return `${record.name}. IN SRV ${record.priority} ${record.weight} ${record.port} ${target(value)}`;
    case 'CNAME':
      return `${record.name}. IN CNAME ${target(value)}`;
    case 'CAA':
      return `${record.name}. IN CAA 0 ${record.tag} "${value}"`;
    default:
      return `${record.name}. IN ${record.type} ${value}`;
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

export async function checkDns(ctx: DoctorContext, plan: DoctorPlan, addresses: Partial<Record<AddressSource, string>> = {}): Promise<CheckResult[]> {
  const answers = await Promise.all(plan.records.map((r) => answer(ctx, r)));
  // The first answer for each address source is what the others must agree with.
  const reference = new Map<AddressSource, { record: PlannedRecord; values: readonly string[] }>();
  return plan.records.map((record, i) => {
    const id = `dns:${record.name}/${record.type}${record.tag ? `/${record.tag}` : ''}`;
    const title = `${record.name} ${record.type}`;
    const fixMissing = `publish \`${zoneLine(record, addresses)}\` (tofu apply or cdktf deploy creates it; for a zone: 'external' domain, load the zone_files output into your DNS host), then wait for the old answer's TTL`;
    const got = answers[i];
    if ('error' in got) return { id, group: 'dns', title, status: 'fail', detail: `the query failed: ${got.error}`, fix: 'check that the zone is delegated to the DNS servers that hold it (whois/NS records) and that they answer' };
    const values = got.values;
    if (values.length === 0) return { id, group: 'dns', title, status: 'fail', detail: 'no such record', fix: fixMissing };

    if (typeof record.value !== 'string') {
      const source = record.value.address;
      const expected = addresses[source];
      if (expected !== undefined) {
        return sameSet(values, [expected])
          ? { id, group: 'dns', title, status: 'pass', detail: values.join(', ') }
          : { id, group: 'dns', title, status: 'fail', detail: `answers ${values.join(', ')}, planned ${expected} (${ADDRESS_WORDS[source]})`, fix: fixMissing };
      }
      const first = reference.get(source);
      if (!first) {
        reference.set(source, { record, values });
        return { id, group: 'dns', title, status: 'pass', detail: `${values.join(', ')} (${ADDRESS_WORDS[source]})` };
      }
      return sameSet(values, first.values)
        ? { id, group: 'dns', title, status: 'pass', detail: values.join(', ') }
        : {
            id, group: 'dns', title, status: 'fail',
            detail: `answers ${values.join(', ')}, but ${first.record.name} ${first.record.type} answers ${first.values.join(', ')}, and both are planned to be ${ADDRESS_WORDS[source]}`,
            fix: `point ${record.name} at ${first.values.join(', ')} (tofu apply corrects a record that drifted)`,
          };
    }

    const planned = expectedAnswer(record);
    const matches = values.some((v) => v === planned);
    if (matches) return { id, group: 'dns', title, status: 'pass', detail: planned };
    return { id, group: 'dns', title, status: 'fail', detail: `answers ${values.join(', ')}, planned ${planned}`, fix: fixMissing };
  });
}

/** The record's answers as comparable text: addresses, targets, `target:port` for SRV, the issuer for CAA. */
async function answer(ctx: DoctorContext, record: PlannedRecord): Promise<{ values: string[] } | { error: string }> {
  const r = ctx.resolver;
  try {
    switch (record.type) {
      case 'A':
        return { values: await lookup(ctx, () => r.resolve4(record.name)) };
      case 'AAAA':
        return { values: await lookup(ctx, () => r.resolve6(record.name)) };
      case 'CNAME':
        return { values: (await lookup(ctx, () => r.resolveCname(record.name))).map(withoutTrailingDot) };
      case 'CAA':
        return { values: (await lookup(ctx, () => r.resolveCaa(record.name))).map((c) => (c as unknown as Record<string, string>)[record.tag ?? 'issue']).filter((v): v is string => v !== undefined).map(withoutTrailingDot) };
      case 'SRV': {
        const srv = await lookup(ctx, () => r.resolveSrv(record.name));
        // Compared on target and port; priority and weight only order several targets.
        return { values: srv.map((s) => `${withoutTrailingDot(s.name) || '.'}:${s.port}`) };
      }
    }
  } catch (error) {
    return { error: message(error) };
  }
}

/** SRV and CNAME answers compared with the planned value. */
function expectedAnswer(record: PlannedRecord): string {
  return record.type === 'SRV' ? `${record.value}:${record.port}` : String(record.value);
}
