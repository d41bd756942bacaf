/** Contact addresses (XEP-0157), service-wide and per domain. */
import { defaultContactAddresses } from '../defaults';
import { checkContactUri } from '../rules';
import { CONTACT_ROLES, ContactAddressesSpec, ContactRole } from '../spec';
import { IssueCollector } from './collector';

/**
 * Contact addresses role by role: the given list, else the fallback's given list, else the role's
 * default (`defaultContactAddresses`).
 */
export function resolveContacts(
  c: IssueCollector,
  field: string,
  given: ContactAddressesSpec,
  admins: readonly string[],
  fallback: { readonly given: ContactAddressesSpec; readonly resolved: Readonly<Record<ContactRole, readonly string[]>> } | undefined,
  domain: string,
): Record<ContactRole, readonly string[]> {
  const contacts = {} as Record<ContactRole, readonly string[]>;
  for (const role of CONTACT_ROLES) {
    const list = given[role] ?? (fallback?.given[role] !== undefined ? fallback.resolved[role] : defaultContactAddresses(role, admins));
    if (!Array.isArray(list)) {
      c.check(`${field}.${role}`, list, { problem: 'must be a list of URIs', fix: `write ["mailto:${role}@${domain}"]` });
      contacts[role] = [];
      continue;
    }
    if (given[role] !== undefined) list.forEach((uri, i) => c.check(`${field}.${role}[${i}]`, uri, checkContactUri(uri)));
    contacts[role] = [...list];
  }
  return contacts;
}
