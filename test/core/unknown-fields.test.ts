import { readFileSync } from 'fs';
import { join } from 'path';
import * as pulumi from '@pulumi/pulumi';
import { Token } from 'cdktf';
import * as ts from 'typescript';
import * as spec from '../../lib/core/spec';
import { XmppServiceSpec } from '../../lib/core/spec';
import { findUnknownFields, KnownFields, levenshtein, suggestKey } from '../../lib/core/unknown-fields';
import { resolveSpec } from '../../lib/core/validate';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { minimalSpec, representativeSpecs, validationErrorOf as errorOf } from '../support/specs';

/** `minimalSpec` with `extra` merged in, as a user without a type checker would write it. */
function withFields(extra: Record<string, unknown>): unknown {
  return { ...minimalSpec, ...extra };
}

/** Resolve `input` and return the validation error it must raise. */
describe('findUnknownFields', () => {
  test.each<[string, unknown, string, string | undefined]>([
    // The three examples of the issue.
    ['a typo of a section at the top level', withFields({ calss: { port: 3479 } }), 'calss', 'calls'],
    ['a section at the wrong level', withFields({ fileShare: { sizeLimit: 5 } }), 'fileShare', 'components.fileShare'],
    ['a shortened field in a nested section', withFields({ components: { fileShare: { sizeLimit: 5 } } }), 'components.fileShare.sizeLimit', 'fileSizeLimitBytes'],
    ['a typo in a section', withFields({ droplet: { regoin: 'fra1' } }), 'droplet.regoin', 'region'],
    // Domain objects in the list of domains, and their nested contacts.
    ['a typo in a domain object', withFields({ domains: ['example.net', { name: 'example.org', zoen: 'existing' }] }), 'domains[1].zoen', 'zone'],
    ['a typo in a domain object\'s contacts', withFields({ domains: [{ name: 'example.net', contacts: { abuze: ['mailto:a@example.net'] } }] }), 'domains[0].contacts.abuze', 'abuse'],
    // Case only, and keys that are only close in a longer name.
    ['a case-only typo', withFields({ droplet: { sshkeyfingerprints: [] } }), 'droplet.sshkeyfingerprints', 'sshKeyFingerprints'],
    ['a case-only typo at the top level', withFields({ AdminSourceCIDRs: [] }), 'AdminSourceCIDRs', 'adminSourceCidrs'],
    ['a case-only typo of a ports field', withFields({ ports: { C2S: 5222 } }), 'ports.C2S', 'c2s'],
    ['a transposition', withFields({ calls: { tslPort: 5350 } }), 'calls.tslPort', 'tlsPort'],
    ['a plural', withFields({ domain: ['example.net'] }), 'domain', 'domains'],
    ['a field of a section at the top level', withFields({ region: 'fra1' }), 'region', 'droplet.region'],
    // Nothing close: no suggestion, the list of fields instead.
    ['a far-off key', withFields({ droplet: { flavour: 'large' } }), 'droplet.flavour', undefined],
    ['a far-off key at the top level', withFields({ kubernetes: true }), 'kubernetes', undefined],
    ['a short key', withFields({ web: { x: true } }), 'web.x', undefined],
  ])('reports %s', (_why, input, field, suggestion) => {
    const issues = findUnknownFields(input);
    expect(issues.map((i) => i.field)).toEqual([field]);
    const [issue] = issues;
    expect(issue.problem).toMatch(/has no field ".+", so it would be silently ignored/);
    if (suggestion === undefined) {
      expect(issue.fix).not.toMatch(/did you mean/);
      expect(issue.fix).toMatch(/^remove it, or use one of the fields of .+: /);
    } else {
      expect(issue.fix).toContain(`did you mean \`${suggestion}\`?`);
    }
  });

  test.each([
    ...representativeSpecs,
    ['cdktf-basic example', exampleSpec],
  ] as [string, XmppServiceSpec][])('finds nothing in the %s spec', (_name, valid) => {
    expect(findUnknownFields(valid)).toEqual([]);
  });

  test('reports every unknown field at once, at every level, in order', () => {
    const input = withFields({
      calss: {},
      droplet: { regoin: 'fra1', sise: 's-1vcpu-1gb' },
      domains: ['example.net', { name: 'example.org', zoen: 'external', admin: ['a@example.org'] }],
    });
    expect(findUnknownFields(input).map((i) => i.field)).toEqual(['domains[1].zoen', 'domains[1].admin', 'calss', 'droplet.regoin', 'droplet.sise']);
  });

  test('does not walk into values: tokens, Outputs, lists of strings, class instances', () => {
    class Custom {
      readonly regoin = 'fra1';
    }
    const input = withFields({
      calls: { sharedSecret: pulumi.secret('s'.repeat(40)) },
      droplet: { region: Token.asString({ resolve: () => 'fra1' }), sshKeyFingerprints: [{ notAKey: true }] },
      contacts: { abuse: [{ mailto: 'x' }] },
      dns: new Custom(),
      acme: { email: 'hostmaster@example.net', staging: pulumi.output(true) },
    });
    expect(findUnknownFields(input)).toEqual([]);
  });

  test('a cdktf token or Pulumi Output as the TURN secret is no unknown field', () => {
    expect(findUnknownFields(withFields({ calls: { sharedSecret: Token.asString({ resolve: () => 'x' }) } }))).toEqual([]);
    expect(findUnknownFields(withFields({ calls: { sharedSecret: pulumi.output('x') } }))).toEqual([]);
  });

  test('values of the wrong type are left to the other rules', () => {
    for (const input of [undefined, null, 'spec', 42, [], withFields({ droplet: 'fra1', domains: 'example.net', components: { fileShare: [] } })]) {
      expect(findUnknownFields(input)).toEqual([]);
    }
  });

  test('keys of Object.prototype are unknown fields too', () => {
    expect(findUnknownFields(JSON.parse('{"domains":["example.net"],"constructor":{},"toString":1}')).map((i) => i.field)).toEqual(['constructor', 'toString']);
  });

  test('the value of a misspelled secret is never shown, nor an Output serialised', () => {
    const [secret] = findUnknownFields(withFields({ calls: { sharedSecrte: 'topsecret'.repeat(5) } }));
    expect(secret).toMatchObject({ field: 'calls.sharedSecrte', value: '(redacted)' });
    expect(secret.fix).toContain('did you mean `sharedSecret`?');
    const [output] = findUnknownFields(withFields({ droplet: { regoin: pulumi.output('fra1') } }));
    expect(output.value).toBe('(OutputImpl, not shown)');
  });

  test('it follows the fields it is given', () => {
    const fields: KnownFields = { items: [{ label: 'value' }], nested: { deep: 'value' } };
    expect(findUnknownFields({ items: [{ lable: 1 }, 'plain'], nested: { Deep: 1 } }, fields).map((i) => [i.field, i.fix])).toEqual([
      ['items[0].lable', 'did you mean `label`? Rename the field'],
      ['nested.Deep', 'did you mean `deep`? Rename the field'],
    ]);
  });
});

describe('suggestKey', () => {
  const known = ['region', 'size', 'image', 'ipv6', 'fileSizeLimitBytes', 'ttlSeconds'];
  test.each<[string, string | undefined]>([
    ['Region', 'region'],
    ['REGION', 'region'],
    ['regoin', 'region'],
    ['regio', 'region'],
    ['ipv4', 'ipv6'],
    ['sizes', 'size'],
    ['sizeLimit', 'fileSizeLimitBytes'],
    ['ttl', 'ttlSeconds'],
    ['imageSlug', 'image'],
    ['zone', undefined],
    ['xy', undefined],
    ['completelyDifferent', undefined],
  ])('%s -> %s', (key, expected) => {
    expect(suggestKey(key, known)).toBe(expected);
  });

  test('levenshtein', () => {
    expect(levenshtein('calss', 'calls')).toBe(1);
    expect(levenshtein('regoin', 'region')).toBe(2);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
  });
});

describe('resolveSpec reports unknown fields with the other problems', () => {
  test('one error names the path, the value and the suggestion, next to the other problems', () => {
    const error = errorOf(withFields({ calss: { port: 3479 }, droplet: { regoin: 'fra1', size: 'huge' } }));
    expect(error.issues.map((i) => i.field)).toEqual(['calss', 'droplet.regoin', 'droplet.size']);
    expect(error.message).toContain('Invalid XmppServiceSpec (3 problems)');
    expect(error.message).toContain('  - calss = {"port":3479}: the spec (XmppServiceSpec) has no field "calss", so it would be silently ignored. Fix: did you mean `calls`? Rename the field');
    expect(error.message).toContain('  - droplet.regoin = "fra1": `droplet` has no field "regoin", so it would be silently ignored. Fix: did you mean `region`? Rename the field');
    expect(error.message).toContain('  - droplet.size = "huge": not a DigitalOcean size slug');
  });

  test('a domain object and a far-off key', () => {
    const error = errorOf(withFields({ domains: ['example.net', { name: 'example.org', zoen: 'existing' }], kubernetes: true }));
    expect(error.message).toContain('  - domains[1].zoen = "existing": `domains[…]` has no field "zoen", so it would be silently ignored. Fix: did you mean `zone`? Rename the field');
    expect(error.message).toMatch(/ {2}- kubernetes = true: the spec \(XmppServiceSpec\) has no field "kubernetes", so it would be silently ignored\. Fix: remove it, or use one of the fields of the spec \(XmppServiceSpec\): domains, admins, acme, components, calls, web, registration, historyExpireAfterSeconds, contacts, droplet, adminSourceCidrs, dns, federation, ports, configDelivery, alerts, offsiteBackups$/m);
  });

  test.each(representativeSpecs)('the %s spec still resolves', (_name, valid) => {
    expect(() => resolveSpec(valid)).not.toThrow();
  });
});

describe('the known fields and the spec interfaces', () => {
  /** Each input interface of spec.ts, with the list that must name exactly its fields. */
  const lists: Record<string, KnownFields> = {
    FileShareSpec: spec.FILE_SHARE_FIELDS,
    GroupChatSpec: spec.GROUP_CHAT_FIELDS,
    Proxy65Spec: spec.PROXY65_FIELDS,
    PubsubSpec: spec.PUBSUB_FIELDS,
    ComponentsSpec: spec.COMPONENTS_FIELDS,
    CallsSpec: spec.CALLS_FIELDS,
    WebSpec: spec.WEB_FIELDS,
    ContactAddressesSpec: spec.CONTACT_ADDRESSES_FIELDS,
    DropletSpec: spec.DROPLET_FIELDS,
    DnsSpec: spec.DNS_FIELDS,
    AcmeSpec: spec.ACME_FIELDS,
    FederationSpec: spec.FEDERATION_FIELDS,
    PortsSpec: spec.PORTS_FIELDS,
    ConfigDeliverySpec: spec.CONFIG_DELIVERY_FIELDS,
    SlackAlertsSpec: spec.SLACK_ALERTS_FIELDS,
    AlertsSpec: spec.ALERTS_FIELDS,
    BackupRetentionSpec: spec.BACKUP_RETENTION_FIELDS,
    OffsiteBackupsSpec: spec.OFFSITE_BACKUPS_FIELDS,
    DomainSpec: spec.DOMAIN_FIELDS,
    XmppServiceSpec: spec.XMPP_SERVICE_SPEC_FIELDS,
  };

  // The compiler checks this already (`satisfies SpecFields<…>`, `SpecFieldsMatchInterfaces`); this
  // reads the interfaces as written, so it also holds when tests run without type checking.
  const source = ts.createSourceFile('spec.ts', readFileSync(join(__dirname, '../../lib/core/spec.ts'), 'utf8'), ts.ScriptTarget.ES2022);
  const interfaces = new Map<string, { name: string; type: string }[]>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    interfaces.set(
      node.name.text,
      node.members.filter(ts.isPropertySignature).map((m) => ({ name: m.name.getText(source), type: m.type?.getText(source) ?? '' })),
    );
  });

  test.each(Object.keys(lists))('%s: the list names exactly its fields, and walks into exactly its sections', (name) => {
    const members = interfaces.get(name);
    expect(members).toBeDefined();
    const fields = lists[name];
    expect(Object.keys(fields).sort()).toEqual(members!.map((m) => m.name).sort());
    for (const member of members!) {
      const referenced = /\b([A-Z]\w*Spec)\b/.exec(member.type)?.[1];
      const shape = fields[member.name];
      if (referenced === undefined) {
        expect([member.name, shape]).toEqual([member.name, 'value']);
      } else {
        const expected = member.type.includes('[]') ? [lists[referenced]] : lists[referenced];
        expect([member.name, shape]).toEqual([member.name, expected]);
      }
    }
  });

  test('every interface of the declaration has a list', () => {
    const inputs = [...interfaces.keys()].filter((n) => /Spec$/.test(n) && !/^Resolved/.test(n));
    expect(inputs.sort()).toEqual(Object.keys(lists).sort());
  });

  test('contact roles are the fields of ContactAddressesSpec', () => {
    expect(Object.keys(spec.CONTACT_ADDRESSES_FIELDS).sort()).toEqual([...spec.CONTACT_ROLES].sort());
  });
});
