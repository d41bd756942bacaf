/**
 * Per-domain configuration, expanded on the host.
 *
 * A host serving many domains repeats the same blocks for each of them: a VirtualHost with its
 * components in prosody.cfg.lua, a server block in the nginx site, a line in certificates.list,
 * two host-meta documents. Written out in user_data that is kilobytes per domain, and DigitalOcean
 * refuses user_data over 64 KiB: about a hundred domains. So user_data carries each such file as a
 * *template* in which the block of one further domain is written once, between marker lines, with
 * `@DOMAIN@` in place of the name; plus `domains.list`, one further domain per line. The primary
 * domain is written out in full, as it always was. The host's expander (an awk script) repeats the
 * block once per line; `expandTemplate` below does exactly the same here, for the review files and
 * the tests, which hold the two to byte-identical output.
 *
 * The renderers know none of this: each describes its file as a `DomainTemplate` (the parts every
 * domain shares and one domain's block) or as `DomainFiles`, and only this module turns that into
 * the template user_data carries and into the file the host expands it to.
 */
import { domainToUnicode } from 'url';
import { ETC_DIR } from './paths';
import { ResolvedDomain, ResolvedSpec } from './spec';
import { scriptFile } from './script-files';

/** Stands for the domain name in a template. Validated domain names can never contain `@`. */
export const DOMAIN_PLACEHOLDER = '@DOMAIN@';
/** Stands for the domain's name as XMPP addresses carry it (`xmppName`): Prosody's host names. */
export const XMPP_DOMAIN_PLACEHOLDER = '@XMPP_DOMAIN@';
/** Marker lines around the block repeated once per further domain. */
export const EACH_DOMAIN_BEGIN = '@@@ each domain';
export const EACH_DOMAIN_END = '@@@ end';

export const TEMPLATES_DIR = `${ETC_DIR}/templates`;
/** The domains after the primary one, one per line, in declaration order. */
export const DOMAINS_LIST = `${ETC_DIR}/domains.list`;
export const EXPAND_SCRIPT = '/usr/local/sbin/xmpp-constructs-expand';

/**
 * A name as XMPP addresses carry it. DNS, certificates, URLs and the spec write an internationalised
 * label as its A-label ("xn--bcher-kva.example"); an XMPP address writes it as its U-label
 * ("bücher.example", RFC 7622 section 3.2), and so must Prosody's host names, which it matches
 * against the addresses clients and servers send (Prosody 13's configuration check says so). Every
 * other label, and the template placeholders, stay as they are (`@DOMAIN@` becomes `@XMPP_DOMAIN@`).
 */
export function xmppName(name: string): string {
  return name
    .split(DOMAIN_PLACEHOLDER)
    .map((part) => part.split('.').map((label) => (label.startsWith('xn--') ? domainToUnicode(label) : label)).join('.'))
    .join(XMPP_DOMAIN_PLACEHOLDER);
}

/** A bare JID with its domain as XMPP addresses carry it (`xmppName`). */
export function xmppJid(jid: string): string {
  const at = jid.indexOf('@');
  return `${jid.slice(0, at + 1)}${xmppName(jid.slice(at + 1))}`;
}

/** The domains the templates repeat their block for: every domain but the primary, in order. */
export function furtherDomains(spec: ResolvedSpec): string[] {
  return spec.domains.slice(1).map((d) => d.name);
}

/** The content of DOMAINS_LIST. */
export function renderDomainsList(spec: ResolvedSpec): string {
  return domainsList(furtherDomains(spec));
}

/**
 * DOMAINS_LIST for `names`: a line per domain, its name, and where its XMPP name differs (an
 * internationalised domain) a space and that. The host needs both, and has nothing to convert with.
 */
export function domainsList(names: readonly string[]): string {
  return names.map((name) => (xmppName(name) === name ? `${name}\n` : `${name} ${xmppName(name)}\n`)).join('');
}

/**
 * A domain named `@DOMAIN@` with the components every domain has and the service-wide settings.
 * Component names end in `.<domain>` after the same prefix for every domain (resolveSpec), so the
 * primary's components, renamed, are everyone's. A domain's own settings are not part of the
 * template: prosody.cfg.lua adds them after it, in a section of their own for that domain.
 */
export function placeholderDomain(spec: ResolvedSpec): ResolvedDomain {
  const primary = spec.domains[0];
  return {
    name: DOMAIN_PLACEHOLDER,
    components: primary.components.map((c) => ({ kind: c.kind, host: `${c.host.slice(0, -primary.name.length)}${DOMAIN_PLACEHOLDER}` })),
    admins: [],
    contacts: spec.contacts,
    zone: 'create',
  };
}

/** `block` (whole lines, ending in a newline) between the marker lines. */
export function eachDomainSection(block: string): string {
  if (block !== '' && !block.endsWith('\n')) throw new Error('eachDomainSection: the block must end with a newline');
  return `${EACH_DOMAIN_BEGIN}\n${block}${EACH_DOMAIN_END}\n`;
}

/**
 * A file with a block for each domain, as its renderer describes it. The primary domain's block
 * follows `head`, the further domains' blocks follow `between`, and `tail` ends the file. Every
 * part is whole lines: empty, or ending in a newline.
 */
export interface DomainTemplate {
  readonly shared: {
    readonly head: string;
    readonly between: string;
    readonly tail: string;
  };
  /**
   * The block of `domain`: called for the primary domain and for `placeholderDomain`, whose block
   * the host repeats for each further domain. So for a further domain it may read only what the
   * placeholder holds for every domain, the names of the domain and of its components; a domain's
   * own settings go in the shared parts.
   */
  readonly perDomain: (domain: ResolvedDomain) => string;
}

function wholeLines(part: string, what: string): string {
  if (part !== '' && !part.endsWith('\n')) throw new Error(`DomainTemplate: ${what} must be whole lines, ending in a newline`);
  return part;
}

/** The template user_data carries: the primary domain's block written out, the further domains' as one section. */
export function renderDomainTemplate(file: DomainTemplate, spec: ResolvedSpec): string {
  const { head, between, tail } = file.shared;
  return [
    wholeLines(head, 'the head'),
    wholeLines(file.perDomain(spec.domains[0]), "the primary domain's block"),
    wholeLines(between, 'the part between the blocks'),
    // Without further domains the block would expand to nothing: it stays out of user_data, where
    // a one-domain stack's configuration then fits readable. A domain added later comes with a new
    // rendering, in the bundle or with a new droplet, as every change does.
    furtherDomains(spec).length > 0 ? eachDomainSection(file.perDomain(placeholderDomain(spec))) : '',
    wholeLines(tail, 'the tail'),
  ].join('');
}

/**
 * The file every domain written out: what the host's expander makes of `renderDomainTemplate` and
 * DOMAINS_LIST, expanded the same way here.
 */
export function expandDomainTemplate(file: DomainTemplate, spec: ResolvedSpec): string {
  return expandTemplate(renderDomainTemplate(file, spec), furtherDomains(spec));
}

/**
 * The template with every section repeated once per domain, `@DOMAIN@` replaced by the domain and
 * `@XMPP_DOMAIN@` by its XMPP name. The host's expander (renderExpandScript) does exactly this, from
 * DOMAINS_LIST; tests compare the two.
 */
export function expandTemplate(template: string, domains: readonly string[]): string {
  if (template !== '' && !template.endsWith('\n')) throw new Error('expandTemplate: a template ends with a newline');
  const out: string[] = [];
  let section: string[] | undefined;
  for (const line of template.split('\n').slice(0, -1)) {
    if (line === EACH_DOMAIN_BEGIN) {
      section = [];
    } else if (line === EACH_DOMAIN_END && section !== undefined) {
      const block = section.map((l) => `${l}\n`).join('');
      for (const domain of domains) out.push(block.split(DOMAIN_PLACEHOLDER).join(domain).split(XMPP_DOMAIN_PLACEHOLDER).join(xmppName(domain)));
      section = undefined;
    } else if (section !== undefined) {
      section.push(line);
    } else {
      out.push(`${line}\n`);
    }
  }
  if (section !== undefined) throw new Error(`expandTemplate: "${EACH_DOMAIN_BEGIN}" without "${EACH_DOMAIN_END}"`);
  return out.join('');
}

/** A file the host writes by expanding its template from user_data (at `templatePath(path)`). */
export interface ExpandedFile {
  /** Where the host writes the expansion. */
  readonly path: string;
  readonly owner: string;
  /** Octal mode, e.g. `0640`. */
  readonly permissions: string;
}

/** Where the template for `path` travels in user_data. */
export function templatePath(path: string): string {
  return `${TEMPLATES_DIR}${path}`;
}

/**
 * Files the host writes once for each domain, the primary included: the host-meta documents. The
 * renderer gives a domain's files as `{ path: content }`, which, like a `DomainTemplate`'s block,
 * may read only the names of the domain and of its components.
 */
export interface DomainFiles {
  readonly perDomain: (domain: ResolvedDomain) => Readonly<Record<string, string>>;
}

/**
 * The templates user_data carries for `files`, as `{ path on the host with @DOMAIN@: template }`
 * (each travels at `templatePath(path)`); the host substitutes every domain's name into path and
 * content.
 */
export function renderDomainFilesTemplates(files: DomainFiles, spec: ResolvedSpec): Record<string, string> {
  return { ...files.perDomain(placeholderDomain(spec)) };
}

/** Every domain's files, as the host writes them from `renderDomainFilesTemplates`, in domain order. */
export function expandDomainFiles(files: DomainFiles, spec: ResolvedSpec): Record<string, string> {
  const templates = Object.entries(renderDomainFilesTemplates(files, spec));
  const expanded: Record<string, string> = {};
  for (const domain of spec.domains) {
    for (const [path, template] of templates) expanded[path.split(DOMAIN_PLACEHOLDER).join(domain.name)] = template.split(DOMAIN_PLACEHOLDER).join(domain.name);
  }
  return expanded;
}

/**
 * The expander, installed on the host as EXPAND_SCRIPT (lib/host/expand.sh). Its awk program
 * names the markers and the placeholder above literally; tests hold the two to the same output.
 */
export function renderExpandScript(): string {
  return scriptFile('expand.sh');
}
