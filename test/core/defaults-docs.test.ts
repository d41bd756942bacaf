/**
 * The `@default` tags in spec.ts are what users read; `DEFAULTS` is what resolveSpec applies. This
 * test reads every property's JSDoc with the TypeScript compiler and holds the two equal, both ways.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { DEFAULTS } from '../../lib/core/defaults';

const SPEC_FILE = path.join(__dirname, '../../lib/core/spec.ts');

/** Which `DEFAULTS` section documents each input interface (null: none of its defaults is a fixed value). */
const SECTION_OF: Readonly<Record<string, keyof typeof DEFAULTS | null>> = {
  XmppServiceSpec: 'service',
  DomainSpec: 'domain',
  ComponentsSpec: 'components',
  FileShareSpec: 'fileShare',
  GroupChatSpec: 'groupChat',
  Proxy65Spec: 'proxy65',
  PubsubSpec: 'pubsub',
  CallsSpec: 'calls',
  WebSpec: 'web',
  ContactAddressesSpec: null,
  DropletSpec: 'droplet',
  DnsSpec: 'dns',
  AcmeSpec: 'acme',
  FederationSpec: 'federation',
  PortsSpec: 'ports',
  ConfigDeliverySpec: 'configDelivery',
  AlertsSpec: 'alerts',
  SlackAlertsSpec: null,
  OffsiteBackupsSpec: 'offsiteBackups',
  BackupRetentionSpec: 'backupRetention',
};

/** Defaults documented as prose (`@default - …`): computed from other fields, or whole sections. */
const COMPUTED = [
  'XmppServiceSpec.components', 'XmppServiceSpec.calls', 'XmppServiceSpec.web', 'XmppServiceSpec.contacts',
  'XmppServiceSpec.droplet', 'XmppServiceSpec.dns', 'XmppServiceSpec.federation', 'XmppServiceSpec.ports', 'XmppServiceSpec.configDelivery',
  'XmppServiceSpec.alerts', 'AlertsSpec.slack',
  'XmppServiceSpec.offsiteBackups', 'OffsiteBackupsSpec.bucket', 'OffsiteBackupsSpec.spacesRegion', 'OffsiteBackupsSpec.keep',
  'DomainSpec.admins', 'DomainSpec.contacts',
  'ComponentsSpec.fileShare', 'ComponentsSpec.groupChat', 'ComponentsSpec.proxy65', 'ComponentsSpec.pubsub',
  'FileShareSpec.expireAfterSeconds', 'FileShareSpec.dailyQuotaBytesPerUser', 'FileShareSpec.globalQuotaBytes',
  'GroupChatSpec.archiveExpireAfterSeconds',
  'CallsSpec.sharedSecret',
  'ContactAddressesSpec.abuse', 'ContactAddressesSpec.admin', 'ContactAddressesSpec.feedback',
  'ContactAddressesSpec.sales', 'ContactAddressesSpec.security', 'ContactAddressesSpec.support',
  'DropletSpec.name', 'DropletSpec.platform', 'DropletSpec.reservedIpv6',
  'ConfigDeliverySpec.spacesRegion', 'ConfigDeliverySpec.bucket',
].sort();

/** One property's documented default, as found in the source. */
interface DocumentedDefault {
  readonly key: string; // Interface.property
  readonly section: keyof typeof DEFAULTS | null;
  readonly property: string;
  readonly optional: boolean;
  /** The `@default` text, or undefined without a tag. */
  readonly text?: string;
}

/** Every property of every interface in `source` mapped in SECTION_OF, with its `@default` text. */
function documentedDefaults(source: string): DocumentedDefault[] {
  const file = ts.createSourceFile('spec.ts', source, ts.ScriptTarget.Latest, true);
  const found: DocumentedDefault[] = [];
  for (const statement of file.statements) {
    if (!ts.isInterfaceDeclaration(statement) || !(statement.name.text in SECTION_OF)) continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
      found.push({
        key: `${statement.name.text}.${member.name.text}`,
        section: SECTION_OF[statement.name.text],
        property: member.name.text,
        optional: member.questionToken !== undefined,
        text: tag ? ts.getTextOfJSDocComment(tag.comment)?.trim() ?? '' : undefined,
      });
    }
  }
  return found;
}

/** The value of a literal expression: number, string, boolean, or an array of them. */
function literalValue(node: ts.Expression): unknown {
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isStringLiteral(node)) return node.text;
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (ts.isArrayLiteralExpression(node)) return node.elements.map(literalValue);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand)) return -Number(node.operand.text);
  throw new Error(`not a literal: ${node.getText()}`);
}

/**
 * A `@default` text read as a literal followed by an optional note in parentheses
 * (`104857600 (100 MiB)`, `[] (none)`), or `undefined` for prose (`- …`). The scanner finds where
 * the literal ends (an array's closing bracket); the parser reads it.
 */
function parseDefault(text: string): { value: unknown } | undefined {
  if (text.startsWith('-')) return undefined;
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  let depth = 0;
  do {
    const token = scanner.scan();
    if (token === ts.SyntaxKind.EndOfFileToken) throw new Error(`unterminated @default ${text}`);
    if (token === ts.SyntaxKind.OpenBracketToken) depth++;
    if (token === ts.SyntaxKind.CloseBracketToken) depth--;
  } while (depth > 0);
  const end = scanner.getTextPos();
  const note = text.slice(end).trim();
  if (note !== '' && !(note.startsWith('(') && note.endsWith(')'))) throw new Error(`@default ${text}: after the value only a note in parentheses may follow`);
  const file = ts.createSourceFile('default.ts', `(${text.slice(0, end)});`, ts.ScriptTarget.Latest, true);
  const statement = file.statements[0];
  if (file.statements.length !== 1 || !ts.isExpressionStatement(statement) || !ts.isParenthesizedExpression(statement.expression)) {
    throw new Error(`cannot read @default ${text}`);
  }
  return { value: literalValue(statement.expression.expression) };
}

/** Every mismatch between the docs in `source` and DEFAULTS, as readable lines. */
function mismatches(source: string): string[] {
  const problems: string[] = [];
  const docs = documentedDefaults(source);
  const documented = new Set<string>();
  const prose: string[] = [];
  for (const d of docs) {
    if (d.text === undefined) {
      if (d.optional) problems.push(`${d.key}: optional but has no @default`);
      continue;
    }
    const parsed = parseDefault(d.text);
    if (!parsed) {
      prose.push(d.key);
      continue;
    }
    const section = d.section === null ? undefined : (DEFAULTS[d.section] as Record<string, unknown>);
    if (!section || !(d.property in section)) {
      problems.push(`${d.key}: documented @default ${d.text}, but DEFAULTS has no value for it`);
      continue;
    }
    documented.add(`${d.section}.${d.property}`);
    if (JSON.stringify(section[d.property]) !== JSON.stringify(parsed.value)) {
      problems.push(`${d.key}: documented @default ${JSON.stringify(parsed.value)}, DEFAULTS holds ${JSON.stringify(section[d.property])}`);
    }
  }
  for (const [section, values] of Object.entries(DEFAULTS)) {
    for (const property of Object.keys(values)) {
      if (!documented.has(`${section}.${property}`)) problems.push(`DEFAULTS.${section}.${property} has no documented @default literal`);
    }
  }
  if (JSON.stringify(prose.sort()) !== JSON.stringify(COMPUTED)) {
    problems.push(`prose defaults ${JSON.stringify(prose)} are not the listed ones ${JSON.stringify(COMPUTED)}`);
  }
  return problems;
}

const source = fs.readFileSync(SPEC_FILE, 'utf8');

describe('the @default docs of spec.ts', () => {
  test('THEN every interface of the spec is mapped to its DEFAULTS section', () => {
    const file = ts.createSourceFile('spec.ts', source, ts.ScriptTarget.Latest, true);
    const inputs = file.statements.filter(ts.isInterfaceDeclaration).map((i) => i.name.text).filter((n) => !n.startsWith('Resolved'));
    expect(inputs.sort()).toEqual(Object.keys(SECTION_OF).sort());
  });

  test.each(documentedDefaults(source).filter((d) => d.text !== undefined && parseDefault(d.text) !== undefined).map((d) => [d.key, d] as const))(
    '%s: the documented default is the value DEFAULTS holds',
    (_key, d) => {
      const section = DEFAULTS[d.section as keyof typeof DEFAULTS] as Record<string, unknown>;
      expect(section?.[d.property]).toEqual(parseDefault(d.text as string)?.value);
    },
  );

  test('THEN docs and DEFAULTS agree both ways, and the prose defaults are the listed ones', () => {
    expect(mismatches(source)).toEqual([]);
  });

  test.each([
    ['a changed number', '@default 5222', '@default 5322', 'PortsSpec.c2s: documented @default 5322, DEFAULTS holds 5222'],
    ['a changed string', '@default "upload"', '@default "uploads"', 'FileShareSpec.name: documented @default "uploads", DEFAULTS holds "upload"'],
    ['a changed boolean', '   * Offer the proxy. Most clients use HTTP file sharing instead; it opens one more port.\n   * @default false', '   * Offer the proxy. Most clients use HTTP file sharing instead; it opens one more port.\n   * @default true', 'Proxy65Spec.enabled: documented @default true, DEFAULTS holds false'],
    ['a removed tag', '@default "ams3"', '', 'DropletSpec.region: optional but has no @default'],
  ])('GIVEN %s in the docs THEN the check fails', (_label, from, to, expected) => {
    expect(source).toContain(from);
    expect(mismatches(source.replace(from, to))).toContain(expected);
  });
});
