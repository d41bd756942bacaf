import {
  ALL_PORTS,
  EVERYWHERE,
  FirewallPlan,
  FirewallRulePlan,
  firewallPorts,
  LOOPBACK_ONLY_TCP_PORTS,
  parsePortRange,
  planFirewall,
  planTurnFirewall,
  ruleCoversPort,
} from '../../lib/core/firewall';
import { hasTurnOnProsodyHost, ResolvedSpec, XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { closedSpec, dedicatedTurnSpec, fullSpec, minimalSpec, representativeSpecs } from '../support/specs';

const firewall = (spec: XmppServiceSpec): FirewallPlan => planFirewall(resolveSpec(spec));

/** Inbound rules letting `protocol` traffic to `port` through, from anywhere or not. */
const inboundTo = (plan: FirewallPlan, protocol: 'tcp' | 'udp', port: number): FirewallRulePlan[] =>
  plan.inbound.filter((r) => ruleCoversPort(r, protocol, port));

const isOpenToEveryone = (plan: FirewallPlan, protocol: 'tcp' | 'udp', port: number): boolean =>
  inboundTo(plan, protocol, port).some((r) => EVERYWHERE.every((a) => r.addresses.includes(a)));

describe.each(representativeSpecs)('planFirewall — GIVEN the %s spec', (_label, spec) => {
  const resolved = resolveSpec(spec);
  const plan = planFirewall(resolved);

  test.each(LOOPBACK_ONLY_TCP_PORTS.flatMap((port) => [['tcp', port], ['udp', port]] as const))(
    'THEN no inbound rule covers %s port %d, not even within a range',
    (protocol, port) => {
      expect(inboundTo(plan, protocol, port)).toEqual([]);
    },
  );

  test('THEN no inbound tcp or udp rule spans all ports', () => {
    for (const { min, max } of firewallPorts(plan.inbound)) expect(max - min).toBeLessThan(65534);
  });

  test.each([80, 443])('THEN tcp %d is open to everyone', (port) => {
    expect(isOpenToEveryone(plan, 'tcp', port)).toBe(true);
  });

  test('THEN both client ports (STARTTLS and direct TLS) are open to everyone', () => {
    expect(isOpenToEveryone(plan, 'tcp', resolved.ports.c2s)).toBe(true);
    expect(isOpenToEveryone(plan, 'tcp', resolved.ports.c2sDirectTls)).toBe(true);
  });

  test('THEN the server port is open exactly when federation is on, its direct TLS port exactly with directTls', () => {
    expect(isOpenToEveryone(plan, 'tcp', resolved.ports.s2s)).toBe(resolved.federation.enabled);
    expect(inboundTo(plan, 'tcp', resolved.ports.s2sDirectTls).length > 0).toBe(resolved.federation.directTls);
  });

  test('THEN the SOCKS5 proxy port is open exactly when proxy65 is on', () => {
    expect(inboundTo(plan, 'tcp', resolved.proxy65.port).length > 0).toBe(resolved.proxy65.enabled);
  });

  test('THEN STUN/TURN ports and the relay range are open exactly when coturn runs on this droplet', () => {
    const c = resolved.calls;
    const here = hasTurnOnProsodyHost(resolved);
    for (const protocol of ['tcp', 'udp'] as const) expect(isOpenToEveryone(plan, protocol, c.port)).toBe(here);
    // TURN over TLS only: coturn opens no DTLS listener (no client is offered DTLS), so no UDP there.
    expect(isOpenToEveryone(plan, 'tcp', c.tlsPort)).toBe(here);
    expect(inboundTo(plan, 'udp', c.tlsPort)).toEqual([]);
    const relay = plan.inbound.filter((r) => r.protocol === 'udp' && r.ports === `${c.relayPortMin}-${c.relayPortMax}`);
    expect(relay).toHaveLength(here ? 1 : 0);
    // Relayed media is UDP only (coturn runs with no-tcp-relay).
    expect(plan.inbound.some((r) => r.protocol === 'tcp' && r.ports === `${c.relayPortMin}-${c.relayPortMax}`)).toBe(false);
  });

  test('THEN SSH is reachable only from the admin source CIDRs, and not at all without them', () => {
    const ssh = inboundTo(plan, 'tcp', 22);
    if (resolved.adminSourceCidrs.length === 0) {
      expect(ssh).toEqual([]);
    } else {
      expect(ssh).toHaveLength(1);
      expect(ssh[0].addresses).toEqual(resolved.adminSourceCidrs);
      expect(ssh[0].addresses).not.toContain('0.0.0.0/0');
      expect(ssh[0].addresses).not.toContain('::/0');
    }
  });

  test('THEN ICMP is allowed in from everyone, without ports', () => {
    const icmp = plan.inbound.filter((r) => r.protocol === 'icmp');
    expect(icmp).toHaveLength(1);
    expect(icmp[0].ports).toBeUndefined();
    expect(icmp[0].addresses).toEqual(EVERYWHERE);
  });

  test('THEN every inbound rule opens exactly one expected port or range', () => {
    const r = resolved;
    const expected = new Set<string>(['tcp/80', 'tcp/443', `tcp/${r.ports.c2s}`, `tcp/${r.ports.c2sDirectTls}`, 'icmp/']);
    if (r.adminSourceCidrs.length > 0) expected.add('tcp/22');
    if (r.federation.enabled) expected.add(`tcp/${r.ports.s2s}`);
    if (r.federation.directTls) expected.add(`tcp/${r.ports.s2sDirectTls}`);
    if (r.proxy65.enabled) expected.add(`tcp/${r.proxy65.port}`);
    if (hasTurnOnProsodyHost(r)) {
      // TLS only over TCP: no client is offered DTLS.
      for (const key of [`tcp/${r.calls.port}`, `udp/${r.calls.port}`, `tcp/${r.calls.tlsPort}`]) expected.add(key);
      expected.add(`udp/${r.calls.relayPortMin}-${r.calls.relayPortMax}`);
    }
    const actual = plan.inbound.map((rule) => `${rule.protocol}/${rule.ports ?? ''}`);
    expect(new Set(actual).size).toBe(actual.length);
    expect(new Set(actual)).toEqual(expected);
  });

  test('THEN outbound allows tcp and udp on all ports and icmp, to everywhere (an empty list would block everything)', () => {
    expect(plan.outbound).toHaveLength(3);
    expect(plan.outbound.map((r) => [r.protocol, r.ports])).toEqual([['tcp', ALL_PORTS], ['udp', ALL_PORTS], ['icmp', undefined]]);
    for (const rule of plan.outbound) expect(rule.addresses).toEqual(EVERYWHERE);
    for (const protocol of ['tcp', 'udp'] as const) {
      for (const port of [1, 53, 123, 443, 5269, 65535]) expect(plan.outbound.some((r) => ruleCoversPort(r, protocol, port))).toBe(true);
    }
  });

  test('THEN every rule states its purpose and parses as a valid port range', () => {
    for (const rule of [...plan.inbound, ...plan.outbound]) {
      expect(rule.purpose.length).toBeGreaterThan(5);
      if (rule.protocol === 'icmp') expect(rule.ports).toBeUndefined();
      else expect(() => parsePortRange(rule.ports ?? '')).not.toThrow();
      expect(rule.addresses.length).toBeGreaterThan(0);
    }
  });

  test('THEN planning twice gives identical output', () => {
    expect(planFirewall(resolveSpec(spec))).toEqual(plan);
  });
});

describe('planFirewall — feature switches', () => {
  test('GIVEN federation off WHEN planning THEN neither server port is open', () => {
    const plan = firewall({ ...minimalSpec, federation: { enabled: false } });
    expect(inboundTo(plan, 'tcp', 5269)).toEqual([]);
    expect(inboundTo(plan, 'tcp', 5270)).toEqual([]);
  });

  test('GIVEN server direct TLS on a custom port WHEN planning THEN that port is open', () => {
    const plan = firewall({ ...minimalSpec, federation: { directTls: true }, ports: { s2sDirectTls: 5271 } });
    expect(isOpenToEveryone(plan, 'tcp', 5271)).toBe(true);
    expect(inboundTo(plan, 'tcp', 5270)).toEqual([]);
  });

  test('GIVEN proxy65 on a custom port WHEN planning THEN that port is open over tcp only', () => {
    const plan = firewall({ ...minimalSpec, components: { proxy65: { enabled: true, port: 7777 } } });
    expect(isOpenToEveryone(plan, 'tcp', 7777)).toBe(true);
    expect(inboundTo(plan, 'udp', 7777)).toEqual([]);
  });

  test('GIVEN calls off WHEN planning THEN no udp port is open inbound at all', () => {
    const plan = firewall({ ...minimalSpec, calls: { enabled: false } });
    expect(plan.inbound.filter((r) => r.protocol === 'udp')).toEqual([]);
    expect(inboundTo(plan, 'tcp', 3478)).toEqual([]);
  });

  test('GIVEN custom call ports and relay range WHEN planning THEN those are opened', () => {
    const plan = firewall({ ...minimalSpec, calls: { port: 3479, tlsPort: 5350, relayPortMin: 30000, relayPortMax: 30999 } });
    for (const protocol of ['tcp', 'udp'] as const) expect(isOpenToEveryone(plan, protocol, 3479)).toBe(true);
    expect(isOpenToEveryone(plan, 'tcp', 5350)).toBe(true);
    expect(inboundTo(plan, 'udp', 5350)).toEqual([]);
    expect(isOpenToEveryone(plan, 'udp', 30000)).toBe(true);
    expect(isOpenToEveryone(plan, 'udp', 30999)).toBe(true);
    expect(inboundTo(plan, 'udp', 31000)).toEqual([]);
    expect(inboundTo(plan, 'udp', 29999)).toEqual([]);
  });

  test('GIVEN custom client ports WHEN planning THEN those are open and the defaults are not', () => {
    const plan = firewall({ ...minimalSpec, ports: { c2s: 15222, c2sDirectTls: 15223 } });
    expect(isOpenToEveryone(plan, 'tcp', 15222)).toBe(true);
    expect(isOpenToEveryone(plan, 'tcp', 15223)).toBe(true);
    expect(inboundTo(plan, 'tcp', 5222)).toEqual([]);
    expect(inboundTo(plan, 'tcp', 5223)).toEqual([]);
  });

  test('GIVEN admin CIDRs WHEN planning THEN SSH comes first and lists exactly them', () => {
    const plan = firewall({ ...minimalSpec, droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] }, adminSourceCidrs: ['198.51.100.0/24', '2001:db8:77::/48'] });
    expect(plan.inbound[0]).toEqual({ protocol: 'tcp', ports: '22', addresses: ['198.51.100.0/24', '2001:db8:77::/48'], purpose: expect.any(String) });
    expect(inboundTo(plan, 'tcp', 22)).toEqual([plan.inbound[0]]);
  });
});

describe('planTurnFirewall — GIVEN coturn on a droplet of its own', () => {
  const withSsh: XmppServiceSpec = { ...dedicatedTurnSpec, droplet: { sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] }, adminSourceCidrs: ['198.51.100.0/24', '2001:db8:77::/48'] };
  const custom: XmppServiceSpec = {
    ...dedicatedTurnSpec,
    calls: { ...dedicatedTurnSpec.calls, port: 3479, tlsPort: 443, relayPortMin: 30000, relayPortMax: 30999 },
  };

  describe.each([
    ['the dedicated TURN spec', dedicatedTurnSpec],
    ['admin CIDRs', withSsh],
    ['custom ports, TLS on 443', custom],
  ] as const)('AND %s', (_label, spec) => {
    const resolved = resolveSpec(spec);
    const plan = planTurnFirewall(resolved);
    const c = resolved.calls;

    test('THEN it opens tcp 80 for certbot, coturn\'s ports (STUN/TURN over tcp and udp, TLS over tcp) and the udp relay range, icmp, and nothing else', () => {
      const expected = new Set<string>(['tcp/80', 'icmp/', `udp/${c.relayPortMin}-${c.relayPortMax}`]);
      for (const key of [`tcp/${c.port}`, `udp/${c.port}`, `tcp/${c.tlsPort}`]) expected.add(key);
      if (resolved.adminSourceCidrs.length > 0) expected.add('tcp/22');
      const actual = plan.inbound.map((rule) => `${rule.protocol}/${rule.ports ?? ''}`);
      expect(new Set(actual).size).toBe(actual.length);
      expect(new Set(actual)).toEqual(expected);
      for (const key of actual.filter((k) => k !== 'tcp/22')) {
        const rule = plan.inbound.find((r) => `${r.protocol}/${r.ports ?? ''}` === key)!;
        expect(rule.addresses).toEqual(EVERYWHERE);
      }
    });

    test('THEN SSH is reachable only from the admin source CIDRs, and not at all without them', () => {
      const ssh = inboundTo(plan, 'tcp', 22);
      expect(ssh.map((r) => r.addresses)).toEqual(resolved.adminSourceCidrs.length > 0 ? [resolved.adminSourceCidrs] : []);
    });

    test('THEN the relay range is UDP only (no-tcp-relay)', () => {
      expect(plan.inbound.some((r) => r.protocol === 'tcp' && r.ports === `${c.relayPortMin}-${c.relayPortMax}`)).toBe(false);
    });

    test('THEN outbound is the Prosody droplet\'s: tcp, udp and icmp to everywhere', () => {
      expect(plan.outbound).toEqual(planFirewall(resolved).outbound);
    });

    test('THEN the Prosody droplet\'s plan opens none of coturn\'s ports', () => {
      const prosody = planFirewall(resolved);
      expect(prosody.inbound.filter((r) => r.protocol === 'udp')).toEqual([]);
      expect(prosody.inbound.some((r) => r.purpose.includes('TURN'))).toBe(false);
    });

    test('THEN planning twice gives identical output', () => {
      expect(planTurnFirewall(resolveSpec(spec))).toEqual(plan);
    });
  });

  test.each([
    ['coturn runs on the Prosody droplet', minimalSpec],
    ['calls are off', closedSpec],
    ['calls are off although placement says dedicated', { ...closedSpec, calls: { enabled: false, placement: 'dedicated' } } as XmppServiceSpec],
  ] as const)('fails when %s', (_why, spec) => {
    expect(() => planTurnFirewall(resolveSpec(spec))).toThrow(/no TURN droplet of its own/);
  });

  test('GIVEN the full spec moved to a TURN droplet WHEN planning the Prosody droplet THEN only coturn\'s rules are gone', () => {
    const colocated = planFirewall(resolveSpec(fullSpec));
    const moved = planFirewall(resolveSpec({ ...fullSpec, calls: { ...fullSpec.calls, placement: 'dedicated', sharedSecret: 'b'.repeat(64) } }));
    expect(moved.inbound).toEqual(colocated.inbound.filter((r) => !/TURN/.test(r.purpose)));
    expect(moved.outbound).toEqual(colocated.outbound);
  });
});

describe('planFirewall — guard against exposing Prosody\'s HTTP ports', () => {
  // resolveSpec refuses these ports; a hand-built ResolvedSpec must still not open them.
  test.each(LOOPBACK_ONLY_TCP_PORTS)('fails when a hand-built spec would open tcp %d', (port) => {
    const resolved = resolveSpec(minimalSpec);
    const tampered: ResolvedSpec = { ...resolved, proxy65: { ...resolved.proxy65, enabled: true, port } };
    expect(() => planFirewall(tampered)).toThrow(new RegExp(`internal HTTP port ${port}`));
  });

  test('GIVEN a udp relay range across 5280 WHEN planning THEN it is allowed, since Prosody listens on tcp only', () => {
    const resolved = resolveSpec(minimalSpec);
    const relayOver5280: ResolvedSpec = { ...resolved, calls: { ...resolved.calls, relayPortMin: 5000, relayPortMax: 6000 } };
    expect(() => planFirewall(relayOver5280)).not.toThrow();
  });
});

describe('port range helpers', () => {
  test.each([
    ['443', 443, 443],
    ['49152-65535', 49152, 65535],
    ['1-65535', 1, 65535],
  ])('GIVEN "%s" WHEN parsed THEN it spans %d to %d', (text, min, max) => {
    expect(parsePortRange(text)).toEqual({ min, max });
  });

  test.each(['', '0', '65536', '10-5', 'all', '80,443', '1-2-3', ' 80'])('parsePortRange fails when given "%s"', (text) => {
    expect(() => parsePortRange(text)).toThrow(/not a port or port range/);
  });

  test('GIVEN a range rule WHEN asking whether it covers a port THEN its bounds are inclusive and protocols are not mixed', () => {
    const rule: FirewallRulePlan = { protocol: 'udp', ports: '5000-6000', addresses: EVERYWHERE, purpose: 'test' };
    expect(ruleCoversPort(rule, 'udp', 5000)).toBe(true);
    expect(ruleCoversPort(rule, 'udp', 5280)).toBe(true);
    expect(ruleCoversPort(rule, 'udp', 6000)).toBe(true);
    expect(ruleCoversPort(rule, 'udp', 6001)).toBe(false);
    expect(ruleCoversPort(rule, 'tcp', 5280)).toBe(false);
  });

  test('GIVEN an icmp rule THEN it covers no port and firewallPorts skips it', () => {
    const icmp: FirewallRulePlan = { protocol: 'icmp', addresses: EVERYWHERE, purpose: 'test' };
    expect(ruleCoversPort(icmp, 'tcp', 80)).toBe(false);
    expect(firewallPorts([icmp, { protocol: 'tcp', ports: '80', addresses: EVERYWHERE, purpose: 'x' }])).toEqual([{ protocol: 'tcp', min: 80, max: 80 }]);
  });
});
