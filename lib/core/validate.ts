/**
 * resolveSpec(): defaults + validation, the only door from user input to the planners.
 *
 * Each section of the declaration has a resolver (lib/core/resolve) that fills in its defaults
 * (defaults.ts) and checks its values with the rules (rules.ts). `resolveSpec` runs them all,
 * together with `findUnknownFields` (every key the declaration does not define, with a "did you
 * mean"), and throws one `SpecValidationError` listing every problem with the field path and the
 * offending value, so a user fixes everything in one round instead of one error per synth.
 */
import { findUnknownFields } from './unknown-fields';
import { checkRetention, checkSshAccess, SpecValidationError } from './rules';
import { DEFAULTS } from './defaults';
import { ContactAddressesSpec, ResolvedSpec, XmppServiceSpec } from './spec';
import { IssueCollector, isObject, section } from './resolve/collector';
import { resolveAdmins, resolveDomainNames, resolveDomains } from './resolve/domains';
import { resolveComponentHosts, resolveComponents, resolveUploadQuota } from './resolve/components';
import { resolveCalls } from './resolve/calls';
import { resolveFederation, resolveRegistration, resolveWeb } from './resolve/features';
import { resolvePorts } from './resolve/ports';
import { resolveContacts } from './resolve/contacts';
import { resolveConfigDelivery } from './resolve/config-delivery';
import { resolveAdminSourceCidrs, resolveDroplet } from './resolve/droplet';
import { resolveAcme, resolveDns } from './resolve/dns-acme';
import { resolveAlerts } from './resolve/alerts';
import { resolveOffsiteBackups } from './resolve/offsite-backups';

export * from './rules';
export { checkImage, checkPlatform, PLATFORMS, PLATFORM_NAMES, SUPPORTED_IMAGES, platformOf } from './platforms';
export type { Platform, PlatformName } from './platforms';
export { DEFAULTS } from './defaults';
export { findPortCollisions, FIXED_PORTS, TURN_HOST_FIXED_PORTS } from './listeners';
export type { PortUse } from './listeners';
export { findUnknownFields } from './unknown-fields';
export type { KnownFields } from './unknown-fields';

/**
 * Apply defaults to `spec` and validate it. Returns a `ResolvedSpec`, or throws a
 * `SpecValidationError` that names every bad field, its value and the fix.
 */
export function resolveSpec(spec: XmppServiceSpec): ResolvedSpec {
  const c = new IssueCollector();
  if (!isObject(spec)) {
    throw new SpecValidationError([{ field: '(spec)', value: spec, problem: 'the spec must be an object', fix: 'pass an XmppServiceSpec object' }]);
  }
  // Misspelled or misplaced fields first: a typo often explains a default the user did not expect.
  c.add(findUnknownFields(spec));

  // Sections in the order their problems are reported; later ones use what earlier ones resolved.
  const { declared, names, primaryDomain } = resolveDomainNames(spec.domains, c);
  const admins = resolveAdmins(spec.admins, names, primaryDomain, c);
  const historyExpireAfterSeconds = spec.historyExpireAfterSeconds ?? DEFAULTS.service.historyExpireAfterSeconds;
  const historyProblem = checkRetention(historyExpireAfterSeconds);
  c.check('historyExpireAfterSeconds', historyExpireAfterSeconds, historyProblem);
  // A bad value is reported once, here; the components then judge theirs against the default.
  const components = resolveComponents(spec.components, historyProblem ? DEFAULTS.service.historyExpireAfterSeconds : historyExpireAfterSeconds, c);
  const calls = resolveCalls(spec.calls, primaryDomain, c);
  const componentsOf = resolveComponentHosts(names, components, calls, c);
  const web = resolveWeb(spec.web, c);
  const registration = resolveRegistration(spec.registration, c);
  const federation = resolveFederation(spec.federation, c);
  const ports = resolvePorts(spec.ports, { federation, proxy65: components.proxy65, calls }, c);
  const contactsIn = section<ContactAddressesSpec>(spec.contacts);
  const contacts = resolveContacts(c, 'contacts', contactsIn, admins, undefined, primaryDomain);
  const domains = resolveDomains(declared, { admins, contacts: { given: contactsIn, resolved: contacts }, componentsOf }, c);
  const { droplet, turnDropletName } = resolveDroplet(spec.droplet, { primaryDomain, domains, dedicatedTurn: calls.dedicated, federated: federation.enabled }, c);
  const adminSourceCidrs = resolveAdminSourceCidrs(spec.adminSourceCidrs, c);
  c.check('droplet.sshKeyFingerprints', droplet.sshKeyFingerprints, checkSshAccess(adminSourceCidrs, droplet.sshKeyFingerprints));
  const dns = resolveDns(spec.dns, c);
  const acme = resolveAcme(spec.acme, primaryDomain, c);
  const configDelivery = resolveConfigDelivery(spec.configDelivery, droplet, c);
  const fileShare = resolveUploadQuota(components.fileShare, droplet.volumeSizeGib, names.length, c);
  const alerts = resolveAlerts(spec.alerts, droplet.monitoring, c);
  const offsiteBackups = resolveOffsiteBackups(spec.offsiteBackups, droplet, configDelivery, c);

  if (c.issues.length > 0 || acme === undefined) throw new SpecValidationError(c.issues);

  const { name: _label, dropletSize, dedicated: _dedicated, ...turn } = calls;
  return {
    domains,
    primaryDomain,
    admins,
    fileShare,
    groupChat: components.groupChat,
    proxy65: components.proxy65,
    pubsub: components.pubsub,
    calls: { ...turn, droplet: { name: turnDropletName, size: dropletSize } },
    web,
    registration,
    historyExpireAfterSeconds,
    contacts,
    droplet,
    adminSourceCidrs,
    dns,
    acme,
    federation,
    ports,
    configDelivery,
    // Absent rather than undefined, so that a spec without alerts resolves exactly as before.
    ...(alerts ? { alerts } : {}),
    ...(offsiteBackups ? { offsiteBackups } : {}),
  };
}
