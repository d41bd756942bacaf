/** `domains` and `admins`, and each domain's own settings (admins, contacts, zone). */
import { DEFAULTS } from '../defaults';
import { checkAdminJid, checkDomainName, checkOneOf } from '../rules';
import { ContactAddressesSpec, ContactRole, declaredDomainName, DomainSpec, ResolvedComponent, ResolvedDomain, XmppServiceSpec, ZONE_HOSTINGS } from '../spec';
import { IssueCollector, isObject, section } from './collector';
import { resolveContacts } from './contacts';

/** A served domain as declared: its valid name, its field path and its own settings. */
export interface DeclaredDomain {
  readonly name: string;
  readonly field: string;
  readonly spec: DomainSpec;
}

/**
 * Stands in for the primary domain in fix suggestions while no domain is valid; never resolved,
 * because a spec without a valid domain fails.
 */
const NO_VALID_DOMAIN = 'invalid.example';

/** The served domains, each valid and listed once; the first is the primary domain. */
export function resolveDomainNames(
  domains: XmppServiceSpec['domains'],
  c: IssueCollector,
): { readonly declared: readonly DeclaredDomain[]; readonly names: readonly string[]; readonly primaryDomain: string } {
  // Plain names, or DomainSpec objects whose own settings `resolveDomains` resolves.
  const declared: DeclaredDomain[] = [];
  if (!Array.isArray(domains) || domains.length === 0) {
    c.check('domains', domains, { problem: 'at least one domain is required', fix: 'set domains: ["example.net"]' });
  } else {
    // A set, not includes(): a host may serve thousands of domains.
    const seen = new Set<string>();
    domains.forEach((d, i) => {
      const isSpec = isObject(d);
      const field = isSpec ? `domains[${i}].name` : `domains[${i}]`;
      const name = declaredDomainName(d);
      const problem = checkDomainName(name);
      c.check(field, name, problem);
      if (!problem) {
        const valid = name as string;
        if (seen.has(valid)) c.check(field, valid, { problem: 'listed twice', fix: 'remove the duplicate' });
        else {
          seen.add(valid);
          declared.push({ name: valid, field: `domains[${i}]`, spec: isSpec ? (d as DomainSpec) : { name: valid } });
        }
      }
    });
  }
  const names = declared.map((d) => d.name);
  return { declared, names, primaryDomain: names[0] ?? NO_VALID_DOMAIN };
}

/** The service-wide admins, each a bare JID on a served domain, listed once. */
export function resolveAdmins(admins: XmppServiceSpec['admins'], names: readonly string[], primaryDomain: string, c: IssueCollector): string[] {
  const resolved: string[] = [];
  if (!Array.isArray(admins) || admins.length === 0) {
    c.check('admins', admins, { problem: 'at least one admin is required: someone must be able to create invitations and receive abuse reports', fix: `set admins: ["admin@${primaryDomain}"]` });
  } else {
    const served = new Set(names);
    admins.forEach((jid, i) => {
      const problem = checkAdminJid(jid, served);
      c.check(`admins[${i}]`, jid, problem);
      if (!problem && !resolved.includes(jid)) resolved.push(jid);
    });
  }
  return resolved;
}

/** Each domain with its components and its own admins, contacts and zone hosting. */
export function resolveDomains(
  declared: readonly DeclaredDomain[],
  context: {
    readonly admins: readonly string[];
    /** The service-wide contacts, as declared and as resolved. */
    readonly contacts: { readonly given: ContactAddressesSpec; readonly resolved: Readonly<Record<ContactRole, readonly string[]>> };
    readonly componentsOf: readonly (readonly ResolvedComponent[])[];
  },
  c: IssueCollector,
): ResolvedDomain[] {
  const { admins, contacts, componentsOf } = context;
  const served = new Set(declared.map((d) => d.name));
  return declared.map(({ name, field, spec: own }, i) => {
    const ownAdmins: string[] = [];
    if (own.admins !== undefined) {
      if (!Array.isArray(own.admins)) {
        c.check(`${field}.admins`, own.admins, { problem: 'must be a list of bare JIDs', fix: `write ["admin@${name}"]` });
      } else {
        own.admins.forEach((jid, j) => {
          const problem = checkAdminJid(jid, served) ?? (admins.includes(jid) ? { problem: 'already a service-wide admin, who administers every domain', fix: 'remove it here' } : undefined);
          c.check(`${field}.admins[${j}]`, jid, problem);
          if (!problem && !ownAdmins.includes(jid)) ownAdmins.push(jid);
        });
      }
    }
    const ownContacts = own.contacts === undefined ? {} : own.contacts;
    if (!isObject(ownContacts)) c.check(`${field}.contacts`, ownContacts, { problem: 'must be an object of contact roles', fix: `write { abuse: ["mailto:abuse@${name}"] }` });
    const domainContacts = ownAdmins.length === 0 && own.contacts === undefined
      ? contacts.resolved
      : resolveContacts(c, `${field}.contacts`, section<ContactAddressesSpec>(own.contacts), [...admins, ...ownAdmins], contacts, name);
    const zone = own.zone ?? DEFAULTS.domain.zone;
    c.check(`${field}.zone`, zone, checkOneOf(zone, ZONE_HOSTINGS));
    return { name, components: componentsOf[i] ?? [], admins: ownAdmins, contacts: domainContacts, zone };
  });
}
