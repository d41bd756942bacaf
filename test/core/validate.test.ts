import { XmppServiceSpec } from '../../lib/core/spec';
import {
  checkAdminJid,
  checkComponentLabel,
  checkComponentNamePattern,
  checkDropletMemory,
  dropletMemoryMiB,
  estimateProsodyMemoryMiB,
  PLATFORMS,
  checkPlatform,
  checkContactUri,
  checkDedicatedTurnSecret,
  checkDomainName,
  checkEmail,
  checkFileSizeLimit,
  checkImage,
  checkRegionSlug,
  checkRelayRange,
  checkReservedIpv6,
  checkSharedSecret,
  checkSizeSlug,
  checkSourceCidr,
  checkSshAccess,
  checkWebClientTransports,
  checkUploadRetention,
  checkSshKey,
  resolveSpec,
} from '../../lib/core/validate';
import { RESERVED_IPV6_REGIONS } from '../../lib/core/regions';
import { renderProsodyConfig } from '../../lib/core/prosody';
import { closedSpec, dedicatedTurnSpec, fullSpec, minimalSpec, validationErrorOf as errorOf } from '../support/specs';

const SECRET = 'c'.repeat(64);

/** Resolve `spec` and return the validation error it must raise. */
describe('rules, one table each', () => {
  describe('checkDomainName', () => {
    test.each(['example.net', 'chat.example.co.uk', 'xn--bcher-kva.example', 'a-b.example'])('accepts %s', (d) => {
      expect(checkDomainName(d)).toBeUndefined();
    });
    test.each([
      ['it is empty', '', /non-empty/],
      ['it has a trailing dot', 'example.net.', /trailing dot/],
      ['it is not ASCII', 'bücher.example', /xn--bcher-kva\.example/],
      ['it is upper case', 'Example.NET', /"example\.net"/],
      ['it has one label', 'localhost', /two labels/],
      ['it has an empty label', 'a..example', /not a valid DNS label/],
      ['a label starts with a hyphen', '-a.example', /not a valid DNS label/],
      ['it has an underscore', 'my_host.example', /not a valid DNS label/],
      ['it is an IP address', '192.0.2.1', /IP address/],
      ['a label is longer than 63', `${'a'.repeat(64)}.example`, /not a valid DNS label/],
      ['an xn-- label is not punycode', 'xn--zz.example', /not valid punycode/],
    ])('fails when %s', (_why, value, message) => {
      const p = checkDomainName(value);
      expect(p).toBeDefined();
      expect(`${p!.problem} ${p!.fix}`).toMatch(message);
    });
  });

  describe('checkAdminJid', () => {
    const domains = ['example.net', 'example.org'];
    test.each(['admin@example.net', 'ops@example.org'])('accepts %s', (j) => expect(checkAdminJid(j, domains)).toBeUndefined());
    test.each([
      ['it has no local part', 'example.net', /bare JID/],
      ['it has a resource', 'admin@example.net/phone', /bare JID/],
      ['its domain is not served', 'admin@elsewhere.example', /not one of the served domains/],
      ['it has upper case', 'Admin@example.net', /"admin@example\.net"/],
      ['its local part has a space', 'a b@example.net', /forbids/],
    ])('fails when %s', (_why, value, message) => {
      const p = checkAdminJid(value, domains);
      expect(`${p?.problem} ${p?.fix}`).toMatch(message);
    });
  });

  describe('checkComponentLabel', () => {
    test.each(['upload', 'conference', 'muc-1'])('accepts %s', (l) => expect(checkComponentLabel(l)).toBeUndefined());
    test.each([['it has a dot', 'upload.example.net'], ['it is upper case', 'Upload'], ['it is empty', ''], ['it ends with a hyphen', 'up-']])(
      'fails when %s',
      (_why, value) => expect(checkComponentLabel(value)?.problem).toMatch(/one lower-case DNS label/),
    );
  });

  describe('checkComponentNamePattern', () => {
    test.each(['{label}.{domain}', '{label}.xmpp.{domain}', 'xmpp-{label}.{domain}', '{label}-chat.{domain}'])('accepts %s', (p) => expect(checkComponentNamePattern(p)).toBeUndefined());
    test.each([
      ['it has no {label}', 'upload.{domain}', /\{label\} exactly once/],
      ['it has {label} twice', '{label}.{label}.{domain}', /\{label\} exactly once/],
      ['the domain is not at the end', '{domain}.{label}', /end in "\.\{domain\}"/],
      ['it leaves the domain\'s zone', '{label}.example.com', /end in "\.\{domain\}"/],
      ['it names the domain twice', '{label}.{domain}.{domain}', /end in "\.\{domain\}"/],
      ['it has an upper-case letter', '{label}.XMPP.{domain}', /lower-case letters/],
      ['it has an empty label', '{label}..{domain}', /lower-case letters/],
      ['it is not a string', 42, /must be a string/],
    ])('fails when %s', (_why, value, message) => expect(checkComponentNamePattern(value)?.problem).toMatch(message));
  });

  describe('dropletMemoryMiB', () => {
    test.each([['s-1vcpu-1gb', 1024], ['s-1vcpu-512mb-10gb', 512], ['s-4vcpu-8gb', 8192], ['m-4vcpu-32gb', 32768], ['c-2', undefined]])('%s has %s MiB', (slug, mib) => expect(dropletMemoryMiB(slug)).toBe(mib));
  });

  describe('checkDropletMemory', () => {
    test.each([['s-1vcpu-1gb', 512], ['s-1vcpu-2gb', 1000], ['c-2', 100000]])('accepts %s for %d MiB', (slug, mib) => expect(checkDropletMemory(slug, mib, 1)).toBeUndefined());
    test.each([['s-1vcpu-1gb', 513, /"s-1vcpu-2gb"/], ['s-2vcpu-4gb', 3000, /at least 6 GB of memory such as "s-4vcpu-8gb"/], ['s-8vcpu-16gb', 20000, /at least 40 GB of memory, or spread/]])(
      'fails %s for %d MiB',
      (slug, mib, message) => expect(checkDropletMemory(slug, mib, 1)?.fix).toMatch(message),
    );
    test.each([
      ['debian-13-x64', true, 2],
      ['debian-13-x64', false, 0],
      ['debian-12-x64', true, 0],
      ['debian-12-x64', false, 0],
    ] as const)('on %s with federation %s the estimate is that platform\'s base, the memory of each host and of %d group chats with a blocklist', (image, federated, blocklisted) => {
      const spec = resolveSpec({ ...minimalSpec, domains: ['example.net', 'example.org'], droplet: { image }, federation: { enabled: federated } });
      expect(spec.domains.flatMap((d) => d.components).filter((c) => c.kind === 'groupChat')).toHaveLength(2);
      const { baseMiB, perHostMiB, perBlocklistedGroupChatMiB } = PLATFORMS[spec.droplet.platform].prosody.memory;
      expect(estimateProsodyMemoryMiB(spec)).toBe(Math.ceil(baseMiB + 6 * perHostMiB + blocklisted * perBlocklistedGroupChatMiB));
      // The blocklist is what the group chats load: mod_muc_rtbl exactly where it is counted.
      const rtbl = (renderProsodyConfig(spec).match(/"muc_rtbl"/g) ?? []).length;
      expect(rtbl > 0).toBe(blocklisted > 0);
      if (blocklisted > 0) expect(perBlocklistedGroupChatMiB).toBeGreaterThan(0);
    });
  });

  describe('checkPlatform', () => {
    test.each([
      [undefined, 'debian-13-x64'],
      [undefined, 'debian-12-x64'],
      ['debian-12', 'debian-12-x64'],
      ['debian-12', '123456'],
      ['debian-13', '123456'],
    ])('accepts %j with image %s', (platform, image) => expect(checkPlatform(platform, image)).toBeUndefined());
    test.each([
      [undefined, '123456', /required with a snapshot image \("123456"\).*"debian-13" or "debian-12"/],
      ['debian-12', 'debian-13-x64', /contradicts droplet.image "debian-13-x64", which is debian-13.*set it to "debian-13"/],
      ['bookworm', 'debian-12-x64', /must be "debian-13" or "debian-12"/],
    ])('fails %j with image %s', (platform, image, message) => {
      const p = checkPlatform(platform, image);
      expect(`${p?.problem} ${p?.fix}`).toMatch(message);
    });
  });

  describe('checkSourceCidr', () => {
    test.each(['203.0.113.7', '203.0.113.0/24', '2001:db8::/32', '2001:db8::1'])('accepts %s', (c) => expect(checkSourceCidr(c)).toBeUndefined());
    test.each([
      ['it is not an address', 'my-laptop', /not an IPv4 or IPv6/],
      ['an octet is out of range', '203.0.113.300', /not an IPv4 or IPv6/],
      ['the prefix is too long', '203.0.113.0/33', /not an IPv4 or IPv6/],
      ['host bits are set', '203.0.113.7/24', /"203\.0\.113\.0\/24"/],
      ['it is the whole IPv4 internet', '0.0.0.0/0', /whole internet/],
      ['it is the whole IPv6 internet', '::/0', /whole internet/],
    ])('fails when %s', (_why, value, message) => {
      const p = checkSourceCidr(value);
      expect(`${p?.problem} ${p?.fix}`).toMatch(message);
    });
  });

  describe('checkFileSizeLimit', () => {
    test.each([1024 * 1024, 100 * 1024 * 1024, 2 * 1024 * 1024 * 1024])('accepts %d', (n) => expect(checkFileSizeLimit(n)).toBeUndefined());
    test.each([['it is zero', 0], ['it is below 1 MiB', 1000], ['it is above 2 GiB', 3 * 1024 ** 3], ['it is fractional', 1.5 * 1024 * 1024 + 0.5], ['it is a string', '10MB']])(
      'fails when %s',
      (_why, value) => expect(checkFileSizeLimit(value)?.problem).toMatch(/1 MiB to 2 GiB/),
    );
  });

  describe('checkRelayRange', () => {
    test.each([[49152, 65535], [40000, 40063]])('accepts %d-%d', (a, b) => expect(checkRelayRange(a, b)).toBeUndefined());
    test.each([
      ['it is reversed', 60000, 50000, /swap them: relayPortMin = 50000, relayPortMax = 60000/],
      ['it starts below 1024', 80, 2000, /1024 to 65535/],
      ['it ends above 65535', 50000, 70000, /1024 to 65535/],
      ['it is too narrow', 50000, 50010, /at least 64 ports/],
    ])('fails when %s', (_why, min, max, message) => {
      const p = checkRelayRange(min, max);
      expect(`${p?.problem} ${p?.fix}`).toMatch(message);
    });
  });

  describe('slugs', () => {
    test.each(['ams3', 'fra1', 'nyc3', 'sgp1'])('accepts region %s', (r) => expect(checkRegionSlug(r)).toBeUndefined());
    test.each(['AMS3', 'amsterdam', 'ams-3', ''])('fails when the region is %j', (r) => expect(checkRegionSlug(r)?.problem).toMatch(/region slug/));
    test.each(['s-1vcpu-1gb', 'c-2', 's-1vcpu-512mb-10gb'])('accepts size %s', (s) => expect(checkSizeSlug(s)).toBeUndefined());
    test.each(['large', 'S-1VCPU-1GB', 's_1vcpu', ''])('fails when the size is %j', (s) => expect(checkSizeSlug(s)?.problem).toMatch(/size slug/));
    test.each(['debian-13-x64', 'debian-12-x64', '123456'])('accepts image %s', (i) => expect(checkImage(i)).toBeUndefined());
    test.each(['ubuntu-24-04-x64', 'debian-11-x64', 'debian-13', '', 13])('fails when the image is %j, naming the supported images', (i) => {
      const p = checkImage(i);
      expect(`${p?.problem} ${p?.fix}`).toMatch(/"debian-13-x64" or "debian-12-x64"/);
    });
    test.each(['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa', '512190'])('accepts SSH key %s', (k) => expect(checkSshKey(k)).toBeUndefined());
    test.each(['ssh-ed25519 AAAA', '3b:16:bf'])('fails when the SSH key is %s', (k) => expect(checkSshKey(k)?.problem).toMatch(/fingerprint/));
  });

  describe('checkUploadRetention', () => {
    const DAY = 86400;
    test.each<[string, unknown, unknown, unknown]>([
      ['files are kept as long as the history', 7 * DAY, 7 * DAY, 7 * DAY],
      ['files are kept shorter than the history', DAY, 30 * DAY, 30 * DAY],
      ['files are kept as long as the longer room history', 30 * DAY, 7 * DAY, 30 * DAY],
      ['there is no group chat and files follow the history', 7 * DAY, 7 * DAY, undefined],
      ['a value is malformed (reported by its own check)', 'long', 7 * DAY, undefined],
    ])('accepts it when %s', (_why, files, history, rooms) => expect(checkUploadRetention(files, history, rooms)).toBeUndefined());

    test.each<[string, number, number, number | undefined, RegExp, RegExp]>([
      ['files outlive the history (the former defaults: 30 days and 7)', 30 * DAY, 7 * DAY, 7 * DAY, /uploads would be kept 30 days, longer than any message that links them \(historyExpireAfterSeconds: 7 days\)/, /set it to at most 604800, or raise historyExpireAfterSeconds to 2592000/],
      ['files outlive even the longer room history', 60 * DAY, 7 * DAY, 30 * DAY, /kept 60 days.*\(components\.groupChat\.archiveExpireAfterSeconds: 30 days\)/, /at most 2592000/],
      ['files outlive the history without group chat', 2 * 3600, 3600, undefined, /kept 7200 seconds.*\(historyExpireAfterSeconds: 3600 seconds\)/, /at most 3600/],
    ])('fails when %s, naming both durations and the fixes', (_why, files, history, rooms, problem, fix) => {
      const p = checkUploadRetention(files, history, rooms);
      expect(p?.problem).toMatch(problem);
      expect(p?.fix).toMatch(/remove components\.fileShare\.expireAfterSeconds so that files follow historyExpireAfterSeconds/);
      expect(p?.fix).toMatch(fix);
    });
  });

  describe('checkWebClientTransports', () => {
    test.each<[string, unknown, unknown, unknown]>([
      ['the client is on with both transports', true, true, true],
      ['the client is on with WebSocket only', true, true, false],
      ['the client is on with BOSH only', true, false, true],
      ['the client is off without transports', false, false, false],
      ['the switch is malformed (reported by its own check)', 'yes', false, false],
    ])('accepts it when %s', (_why, client, websocket, bosh) => expect(checkWebClientTransports(client, websocket, bosh)).toBeUndefined());

    test('fails when the client is on and neither transport is, naming both and the fixes', () => {
      const p = checkWebClientTransports(true, false, false);
      expect(p?.problem).toMatch(/neither web\.websocket nor web\.bosh is/);
      expect(p?.fix).toMatch(/turn web\.websocket \(or web\.bosh\) on, or set web\.client: false/);
    });

    test('GIVEN a spec with the client on and both transports off WHEN resolved THEN it fails at web.client', () => {
      expect(() => resolveSpec({ ...minimalSpec, web: { bosh: false, websocket: false } })).toThrow(/web\.client = true: is on, but neither web\.websocket nor web\.bosh is.*Fix: turn web\.websocket \(or web\.bosh\) on, or set web\.client: false/);
    });
  });

  describe('checkSshAccess', () => {
    const KEY = '3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa';
    test.each<[string, unknown, unknown]>([
      ['SSH is closed and there is no key', [], []],
      ['SSH is closed and a key is given (for the recovery console)', [], [KEY]],
      ['SSH is open with a fingerprint', ['203.0.113.7'], [KEY]],
      ['SSH is open with a numeric key ID', ['203.0.113.0/24', '2001:db8::/48'], ['512190']],
      ['the source list is malformed (reported by its own check)', '203.0.113.7', []],
      ['the key list is malformed (reported by its own check)', ['203.0.113.7'], KEY],
    ])('accepts it when %s', (_why, cidrs, keys) => expect(checkSshAccess(cidrs, keys)).toBeUndefined());

    test.each<[string, unknown[], unknown]>([
      ['SSH is open and the key list is empty', ['203.0.113.7'], []],
      ['SSH is open to several networks without a key', ['203.0.113.0/24', '2001:db8::/48'], []],
    ])('fails when %s, naming the networks, the missing key and both fixes', (_why, cidrs, keys) => {
      const p = checkSshAccess(cidrs, keys);
      expect(p?.problem).toContain(`adminSourceCidrs opens SSH (port 22) to ${cidrs.join(', ')}`);
      expect(p?.problem).toMatch(/no SSH key and password logins are off/);
      expect(p?.fix).toMatch(/add your key to droplet\.sshKeyFingerprints.*doctl compute ssh-key list.*or leave adminSourceCidrs empty/);
    });
  });

  describe('checkReservedIpv6', () => {
    test.each<[string, unknown, unknown, unknown]>([
      ['left unset, in a region with reserved IPv6', undefined, 'ams3', true],
      ['left unset, in a region without', undefined, 'zzz1', true],
      ['left unset, without IPv6', undefined, 'ams3', false],
      ['declined', false, 'ams3', true],
      ['declined in a region without', false, 'zzz1', true],
      ['declined without IPv6', false, 'ams3', false],
      ['asked for where it is offered', true, 'fra1', true],
      ['asked for with IPv6 left at its default', true, 'nyc3', undefined],
    ])('accepts it %s', (_, value, region, ipv6) => expect(checkReservedIpv6(value, region, ipv6)).toBeUndefined());

    test.each<[string, unknown, unknown, unknown, RegExp]>([
      ['it is not a boolean', 'yes', 'ams3', true, /must be true or false.*write true or false/],
      ['it is asked for in a region without reserved IPv6', true, 'zzz1', true, /no reserved IPv6 in region "zzz1" \(it does in ams2, ams3, .*\).*choose one of those regions, or remove droplet\.reservedIpv6/],
      ['it is asked for without IPv6', true, 'ams3', false, /needs the droplet to have IPv6 \(droplet\.ipv6 is false\).*set droplet\.ipv6 to true, or remove droplet\.reservedIpv6/],
    ])('fails when %s, naming the fix', (_, value, region, ipv6, message) => {
      const p = checkReservedIpv6(value, region, ipv6);
      expect(`${p?.problem} ${p?.fix}`).toMatch(message);
    });

    test('GIVEN the region list THEN every entry is a region slug, listed once', () => {
      for (const r of RESERVED_IPV6_REGIONS) expect(checkRegionSlug(r)).toBeUndefined();
      expect(new Set(RESERVED_IPV6_REGIONS).size).toBe(RESERVED_IPV6_REGIONS.length);
    });
  });

  describe('checkEmail', () => {
    test.each(['admin@example.net', 'a.b+acme@mail.example.co.uk'])('accepts %s', (e) => expect(checkEmail(e)).toBeUndefined());
    test.each([['it has no @', 'admin.example.net'], ['it has no domain dot', 'admin@localhost'], ['it has a space', 'ad min@example.net'], ['it is empty', '']])(
      'fails when %s',
      (_why, value) => expect(checkEmail(value)?.problem).toMatch(/not an email/),
    );
  });

  describe('checkContactUri', () => {
    test.each(['mailto:abuse@example.net', 'xmpp:admin@example.net', 'https://example.net/contact'])('accepts %s', (u) => expect(checkContactUri(u)).toBeUndefined());
    test.each([['it has no scheme', 'abuse@example.net'], ['it has a newline', 'mailto:a@example.net\nx'], ['it has a quote', 'https://x"']])(
      'fails when %s',
      (_why, value) => expect(checkContactUri(value)?.problem).toMatch(/URI starting with/),
    );
  });

  describe('checkSharedSecret', () => {
    test('accepts a long hex secret', () => expect(checkSharedSecret('a'.repeat(64))).toBeUndefined());
    test.each([['it is short', 'short'], ['it has a space', `${'a'.repeat(40)} b`], ['it has a quote', `${'a'.repeat(40)}"`]])(
      'fails when %s',
      (_why, value) => expect(checkSharedSecret(value)?.problem).toMatch(/32 to 512/),
    );
  });
});

describe('checkDedicatedTurnSecret', () => {
  test.each([
    ['prosody-host', undefined],
    ['prosody-host', SECRET],
    ['dedicated', SECRET],
  ])('accepts placement %s with secret %s', (placement, secret) => expect(checkDedicatedTurnSecret(placement, secret)).toBeUndefined());

  test('fails when a dedicated TURN droplet gets no secret, saying how to make one', () => {
    const p = checkDedicatedTurnSecret('dedicated', undefined);
    expect(p?.problem).toBe('a TURN server on its own droplet shares the secret with Prosody, so it must be supplied');
    expect(p?.fix).toBe('generate one with `openssl rand -hex 32` and pass it as a sensitive variable');
  });
});

describe('resolveSpec', () => {
  describe.each([
    ['domains is empty', { domains: [] }, 'domains', /at least one domain/],
    ['a domain is not normalised', { domains: ['Example.net'] }, 'domains[0]', /lower case/],
    ['a domain is listed twice', { domains: ['example.net', 'example.net'] }, 'domains[1]', /listed twice/],
    ['admins is empty', { admins: [] }, 'admins', /at least one admin/],
    ['an admin is on another domain', { admins: ['admin@example.org'] }, 'admins[0]', /not one of the served domains/],
    ['two components share a name', { components: { fileShare: { name: 'files' }, groupChat: { name: 'files' } } }, 'components.groupChat.name', /"files\.example\.net" is also the name of components\.fileShare\.name/],
    ['a component is named like a served domain', { domains: ['example.net', 'upload.example.net'], admins: ['admin@example.net'] }, 'components.fileShare.name', /"upload\.example\.net" is also a served domain/],
    ['a component is named like the TURN server', { components: { pubsub: { enabled: true, name: 'turn' } } }, 'components.pubsub.name', /TURN server name/],
    ['a component name is not a label', { components: { fileShare: { name: 'up.load' } } }, 'components.fileShare.name', /one lower-case DNS label/],
    ['a domain object has no name', { domains: [{ admins: ['x@example.net'] }] }, 'domains[0].name', /lower-case|domain/i],
    ['a domain object\'s name is listed twice', { domains: ['example.net', { name: 'example.net' }] }, 'domains[1].name', /listed twice/],
    ['a domain\'s admin is on no served domain', { domains: ['example.net', { name: 'example.org', admins: ['boss@customer.example'] }] }, 'domains[1].admins[0]', /"customer\.example" is not one of the served domains/],
    ['a domain\'s admin is a full JID', { domains: ['example.net', { name: 'example.org', admins: ['boss@example.org/phone'] }] }, 'domains[1].admins[0]', /bare JID/],
    ['a domain\'s admin is already a service-wide admin', { domains: ['example.net', { name: 'example.org', admins: ['admin@example.net'] }] }, 'domains[1].admins[0]', /already a service-wide admin.*remove it here/],
    ['a domain\'s admins are not a list', { domains: ['example.net', { name: 'example.org', admins: 'boss@example.org' }] }, 'domains[1].admins', /list of bare JIDs/],
    ['a domain\'s contact is not a URI', { domains: ['example.net', { name: 'example.org', contacts: { abuse: ['abuse@example.org'] } }] }, 'domains[1].contacts.abuse[0]', /URI/],
    ['a domain\'s contacts are not a list', { domains: ['example.net', { name: 'example.org', contacts: { abuse: 'mailto:abuse@example.org' } }] }, 'domains[1].contacts.abuse', /list of URIs/],
    ['a domain\'s zone hosting is unknown', { domains: ['example.net', { name: 'example.org', zone: 'cloudflare' }] }, 'domains[1].zone', /"create", "existing", "external"/],
    ['the component name pattern leaves the domain', { components: { namePattern: '{label}.example.com' } }, 'components.namePattern', /end in "\.\{domain\}"/],
    ['the component name pattern makes a label too long', { components: { namePattern: `{label}-${'x'.repeat(60)}.{domain}` } }, 'components.namePattern', /makes "upload-x+\.example\.net" for components\.fileShare\.name "upload" on example\.net, which is not a valid DNS name/],
    ['the droplet is too small for its domains', { domains: Array.from({ length: 300 }, (_, i) => `d${i}.example`), admins: ['admin@d0.example'], federation: { enabled: false } }, 'droplet.size', /has 1024 MiB of memory, but Prosody serving 300 domains and their components needs about 895 MiB.*at least 2 GB of memory such as "s-1vcpu-2gb", or spread the domains over several hosts with XmppFleet/],
    ['the droplet is too small for its federating group chats', { domains: Array.from({ length: 300 }, (_, i) => `d${i}.example`), admins: ['admin@d0.example'] }, 'droplet.size', /has 1024 MiB of memory, but Prosody serving 300 domains and their components needs about 1255 MiB.*at least 3 GB of memory such as "s-2vcpu-4gb"/],
    ['an SSH source is invalid', { adminSourceCidrs: ['10.0.0.256'] }, 'adminSourceCidrs[0]', /not an IPv4 or IPv6/],
    ['the history retention is not a number', { historyExpireAfterSeconds: '7d' as never }, 'historyExpireAfterSeconds', /whole number from 3600 to 315360000 seconds \(1 hour to 10 years\)/],
    ['the history retention is below an hour', { historyExpireAfterSeconds: 60 }, 'historyExpireAfterSeconds', /whole number from 3600/],
    ['uploads outlive the history', { components: { fileShare: { expireAfterSeconds: 30 * 86400 } } }, 'components.fileShare.expireAfterSeconds', /uploads would be kept 30 days, longer than any message that links them \(historyExpireAfterSeconds: 7 days\)/],
    ['uploads outlive a shorter history', { historyExpireAfterSeconds: 86400, components: { groupChat: { enabled: false }, fileShare: { expireAfterSeconds: 2 * 86400 } } }, 'components.fileShare.expireAfterSeconds', /kept 2 days, longer than any message that links them \(historyExpireAfterSeconds: 1 day\)/],
    ['SSH is opened without a key', { adminSourceCidrs: ['203.0.113.7'] }, 'droplet.sshKeyFingerprints', /adminSourceCidrs opens SSH \(port 22\) to 203\.0\.113\.7, but the droplet gets no SSH key.*add your key to droplet\.sshKeyFingerprints/],
    ['two listeners share a port', { ports: { c2sDirectTls: 5222 } }, 'ports.c2sDirectTls', /TCP port 5222 is already used by client connections/],
    ['a listener takes nginx\'s port', { components: { proxy65: { enabled: true, port: 443 } } }, 'components.proxy65.port', /already used by HTTPS/],
    ['a TURN port lies in the relay range', { calls: { port: 50000 } }, 'calls.port', /inside the TURN relay range/],
    ['the file size limit is out of range', { components: { fileShare: { fileSizeLimitBytes: 5 * 1024 ** 3 } } }, 'components.fileShare.fileSizeLimitBytes', /1 MiB to 2 GiB/],
    ['the daily quota is below the file size limit', { components: { fileShare: { dailyQuotaBytesPerUser: 2 * 1024 * 1024 } } }, 'components.fileShare.dailyQuotaBytesPerUser', /smaller than the file size limit/],
    ['the relay range is reversed', { calls: { relayPortMin: 60000, relayPortMax: 50000 } }, 'calls.relayPortMin/relayPortMax', /reversed/],
    ['the relay range is not numeric', { calls: { relayPortMin: 'low' } }, 'calls.relayPortMin/relayPortMax', /whole numbers/],
    ['the region slug is malformed', { droplet: { region: 'Amsterdam 3' } }, 'droplet.region', /region slug/],
    ['the size slug is malformed', { droplet: { size: 'big' } }, 'droplet.size', /size slug/],
    ['the image is not a supported Debian', { droplet: { image: 'ubuntu-24-04-x64' } }, 'droplet.image', /not a supported image.*use "debian-13-x64" or "debian-12-x64"/],
    ['a snapshot image does not say its platform', { droplet: { image: '160123456' } }, 'droplet.platform', /required with a snapshot image/],
    ['a snapshot image names an unknown platform', { droplet: { image: '160123456', platform: 'bookworm' as never } }, 'droplet.platform', /must be "debian-13" or "debian-12"/],
    ['the platform contradicts the image', { droplet: { image: 'debian-12-x64', platform: 'debian-13' } }, 'droplet.platform', /contradicts droplet.image "debian-12-x64", which is debian-12/],
    ['the ACME email is not an email', { acme: { email: 'hostmaster' } }, 'acme.email', /not an email/],
    ['the ACME section is missing', { acme: undefined }, 'acme.email', /needs a contact address/],
    ['the DNS TTL is below DigitalOcean\'s minimum', { dns: { ttlSeconds: 10 } }, 'dns.ttlSeconds', /30 to 86400/],
    ['registration is unknown', { registration: 'open' }, 'registration', /"invite", "closed"/],
    ['the TURN secret is weak', { calls: { sharedSecret: 'hunter2' } }, 'calls.sharedSecret', /32 to 512/],
    ['a contact is not a URI', { contacts: { abuse: ['abuse@example.net'] } }, 'contacts.abuse[0]', /URI/],
    ['server direct TLS is asked without federation', { federation: { enabled: false, directTls: true } }, 'federation.directTls', /needs federation/],
    ['coturn is on its own droplet without a supplied secret', { calls: { placement: 'dedicated' } }, 'calls.sharedSecret', /on its own droplet shares the secret with Prosody, so it must be supplied\. generate one with `openssl rand -hex 32`/],
    ['the TURN placement is unknown', { calls: { placement: 'elsewhere' } }, 'calls.placement', /"prosody-host", "dedicated"/],
    ['the TURN droplet size slug is malformed', { calls: { placement: 'dedicated', sharedSecret: SECRET, dropletSize: 'huge' } }, 'calls.dropletSize', /size slug/],
    ['the TURN droplet\'s name, derived from the droplet name, is too long', { droplet: { name: `x${'a'.repeat(54)}` }, calls: { placement: 'dedicated', sharedSecret: SECRET } }, 'droplet.name', /TURN droplet is named after it .* at most 54 characters/],
    ['a TURN port takes the TURN droplet\'s certbot port', { calls: { placement: 'dedicated', sharedSecret: SECRET, port: 80 } }, 'calls.port', /TCP port 80 is already used by certbot's http-01 challenges/],
    ['a co-located TURN TLS port takes nginx\'s port', { calls: { tlsPort: 443 } }, 'calls.tlsPort', /TCP port 443 is already used by HTTPS/],
  ])('fails when %s', (_why, override, field, message) => {
    const error = errorOf({ ...minimalSpec, ...override });
    test('THEN the error names the field', () => {
      expect(error.issues.map((i) => i.field)).toContain(field);
    });
    test('THEN the message names the field, the value and a fix', () => {
      const issue = error.issues.find((i) => i.field === field)!;
      expect(`${issue.problem}. ${issue.fix}`).toMatch(message);
      expect(error.message).toContain(`${field} = `);
      expect(error.message).toMatch(/Fix: /);
    });
  });

  test('GIVEN several problems THEN all are reported at once', () => {
    const error = errorOf({ domains: ['Bad.Example'], admins: [], acme: { email: 'x' } });
    expect(error.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['domains[0]', 'admins', 'acme.email']));
  });

  test('GIVEN a weak user secret THEN the error never repeats the secret', () => {
    const error = errorOf({ ...minimalSpec, calls: { sharedSecret: 'hunter2-secret' } });
    expect(error.message).not.toContain('hunter2');
  });

  test.each<[string, XmppServiceSpec, [number, number, number]]>([
    ['a history of 30 days', { ...minimalSpec, historyExpireAfterSeconds: 30 * 86400 }, [2592000, 2592000, 2592000]],
    ['a history of 30 days and files for one', { ...minimalSpec, historyExpireAfterSeconds: 30 * 86400, components: { fileShare: { expireAfterSeconds: 86400 } } }, [2592000, 86400, 2592000]],
    ['rooms kept longer, and files as long as them', { ...minimalSpec, components: { groupChat: { archiveExpireAfterSeconds: 90 * 86400 }, fileShare: { expireAfterSeconds: 90 * 86400 } } }, [604800, 7776000, 7776000]],
  ])('GIVEN %s THEN uploads and room history follow historyExpireAfterSeconds unless overridden', (_why, input, expected) => {
    const r = resolveSpec(input);
    expect([r.historyExpireAfterSeconds, r.fileShare.expireAfterSeconds, r.groupChat.archiveExpireAfterSeconds]).toEqual(expected);
  });

  test('GIVEN the minimal spec THEN every default is filled in', () => {
    const r = resolveSpec(minimalSpec);
    expect(r.primaryDomain).toBe('example.net');
    expect(r.domains[0].components.map((c) => c.host)).toEqual(['upload.example.net', 'conference.example.net']);
    expect(r.calls).toMatchObject({ enabled: true, host: 'turn.example.net', port: 3478, tlsPort: 5349, relayPortMin: 49152, relayPortMax: 65535 });
    expect(r.calls.sharedSecret).toBeUndefined();
    expect(r.registration).toBe('invite');
    expect(r.web).toEqual({ bosh: true, websocket: true, client: true });
    expect(r.proxy65.enabled).toBe(false);
    expect(r.pubsub.enabled).toBe(false);
    expect(r.droplet).toMatchObject({ name: 'xmpp-example-net', region: 'ams3', size: 's-1vcpu-1gb', image: 'debian-13-x64', platform: 'debian-13', ipv6: true, reservedIpv6: true, monitoring: true, volumeName: 'xmpp-example-net-data' });
    expect(r.adminSourceCidrs).toEqual([]);
    expect(r.contacts.abuse).toEqual(['xmpp:admin@example.net']);
    expect(r.fileShare.dailyQuotaBytesPerUser).toBe(r.fileShare.fileSizeLimitBytes * 10);
    // One retention: users' archives, uploads and room history, 7 days.
    expect([r.historyExpireAfterSeconds, r.fileShare.expireAfterSeconds, r.groupChat.archiveExpireAfterSeconds]).toEqual([604800, 604800, 604800]);
    expect(r.dns).toEqual({ ttlSeconds: 1800, turnTtlSeconds: 300 });
    expect(r.acme).toEqual({ email: 'hostmaster@example.net', staging: false });
  });

  test.each<[string, XmppServiceSpec['droplet'], boolean]>([
    ['a region with reserved IPv6', { region: 'sgp1' }, true],
    ['a region without', { region: 'zzz1' }, false],
    ['IPv6 off', { ipv6: false }, false],
    ['reserved IPv6 declined', { reservedIpv6: false }, false],
    ['reserved IPv6 asked for', { reservedIpv6: true }, true],
  ])('GIVEN %s THEN the AAAA records use a reserved IPv6 exactly where it is offered and wanted', (_, droplet, expected) => {
    expect(resolveSpec({ ...minimalSpec, droplet }).droplet.reservedIpv6).toBe(expected);
  });

  test('GIVEN reserved IPv6 asked for where DigitalOcean has none THEN resolveSpec fails naming the field, the value and the fix', () => {
    expect(() => resolveSpec({ ...minimalSpec, droplet: { region: 'zzz1', reservedIpv6: true } })).toThrow(
      /droplet\.reservedIpv6 = true: DigitalOcean offers no reserved IPv6 in region "zzz1".*Fix: choose one of those regions, or remove droplet\.reservedIpv6/,
    );
  });

  test('GIVEN a plain domain name THEN it has no settings of its own and its zone is created here', () => {
    const r = resolveSpec(minimalSpec);
    expect(r.domains[0]).toMatchObject({ admins: [], contacts: r.contacts, zone: 'create' });
  });

  test('GIVEN a domain with its own admin THEN roles defaulting to the admins list both, explicit service-wide roles stay, own roles replace', () => {
    const r = resolveSpec({
      ...minimalSpec,
      domains: ['example.net', { name: 'example.org', admins: ['boss@example.org'], contacts: { sales: ['mailto:sales@example.org'] }, zone: 'external' }],
      contacts: { security: ['mailto:security@example.net'] },
    });
    const [primary, own] = r.domains;
    expect(primary).toMatchObject({ admins: [], zone: 'create' });
    expect(primary.contacts).toBe(r.contacts);
    expect(own).toMatchObject({ name: 'example.org', admins: ['boss@example.org'], zone: 'external' });
    expect(own.contacts).toEqual({
      abuse: ['xmpp:admin@example.net', 'xmpp:boss@example.org'],
      admin: ['xmpp:admin@example.net', 'xmpp:boss@example.org'],
      feedback: [],
      sales: ['mailto:sales@example.org'],
      security: ['mailto:security@example.net'],
      support: ['xmpp:admin@example.net', 'xmpp:boss@example.org'],
    });
    expect(r.admins).toEqual(['admin@example.net']);
  });

  test('GIVEN a component name pattern THEN every domain\'s components follow it', () => {
    const r = resolveSpec({ ...minimalSpec, domains: ['example.net', 'example.org'], components: { namePattern: 'xmpp-{label}.{domain}' } });
    expect(r.domains.map((d) => d.components.map((c) => c.host))).toEqual([
      ['xmpp-upload.example.net', 'xmpp-conference.example.net'],
      ['xmpp-upload.example.org', 'xmpp-conference.example.org'],
    ]);
  });

  test('GIVEN the minimal spec THEN coturn runs on the Prosody droplet', () => {
    const r = resolveSpec(minimalSpec);
    expect(r.calls.placement).toBe('prosody-host');
    expect(r.calls.droplet).toEqual({ name: 'xmpp-example-net-turn', size: 's-1vcpu-1gb' });
  });

  test('GIVEN the dedicated TURN spec THEN coturn gets a droplet named after the Prosody droplet, of the default size', () => {
    const r = resolveSpec(dedicatedTurnSpec);
    expect(r.calls).toMatchObject({ enabled: true, placement: 'dedicated', host: 'turn.example.net', droplet: { name: 'xmpp-example-net-turn', size: 's-1vcpu-1gb' } });
    expect(r.calls.sharedSecret).toBe(dedicatedTurnSpec.calls?.sharedSecret);
  });

  test('GIVEN a dedicated TURN droplet with its own size and a named Prosody droplet THEN both are used', () => {
    const r = resolveSpec({ ...minimalSpec, droplet: { name: 'chat' }, calls: { placement: 'dedicated', sharedSecret: SECRET, dropletSize: 's-2vcpu-4gb' } });
    expect(r.calls.droplet).toEqual({ name: 'chat-turn', size: 's-2vcpu-4gb' });
  });

  test('GIVEN a dedicated TURN droplet THEN its ports need not avoid the Prosody droplet\'s (TURN over TLS on 443)', () => {
    const r = resolveSpec({ ...minimalSpec, calls: { placement: 'dedicated', sharedSecret: SECRET, tlsPort: 443, port: 5222 } });
    expect(r.calls).toMatchObject({ tlsPort: 443, port: 5222 });
  });

  test('GIVEN calls off THEN a dedicated placement needs no secret (there is no TURN droplet)', () => {
    expect(() => resolveSpec({ ...closedSpec, calls: { enabled: false, placement: 'dedicated' } })).not.toThrow();
  });

  test('GIVEN a dedicated TURN droplet without a secret THEN the error says the secret is missing, not what it is', () => {
    const error = errorOf({ ...minimalSpec, calls: { placement: 'dedicated' } });
    expect(error.message).toContain('calls.sharedSecret = (missing): a TURN server on its own droplet shares the secret with Prosody');
  });

  test.each([['full', fullSpec], ['closed', closedSpec]])('GIVEN the %s spec THEN it resolves', (_n, spec) => {
    expect(() => resolveSpec(spec)).not.toThrow();
  });

  test('GIVEN the same spec twice THEN the result is identical (deterministic)', () => {
    expect(resolveSpec(fullSpec)).toEqual(resolveSpec(fullSpec));
  });
});
