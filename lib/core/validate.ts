/**
 * resolveSpec(): defaults + validation, the only door from user input to the planners.
 *
 * Each rule is an exported pure function returning `undefined` when the value is fine, or a
 * `Problem` (what is wrong, how to fix it). `resolveSpec` runs them all, together with
 * `findUnknownFields` (every key the declaration does not define, with a "did you mean"), and throws
 * one `SpecValidationError` listing every problem with the field path and the offending value, so a
 * user fixes everything in one round instead of one error per synth.
 */
import { domainToASCII } from 'url';
import * as ipaddr from 'ipaddr.js';
import { offersReservedIpv6, RESERVED_IPV6_REGIONS } from './regions';
import {
  CallsSpec,
  ComponentsSpec,
  ContactAddressesSpec,
  declaredDomainName,
  DomainSpec,
  CONTACT_ROLES,
  DropletSpec,
  ContactRole,
  ResolvedComponent,
  ResolvedDomain,
  ResolvedSpec,
  RoomCreationPolicy,
  TurnPlacement,
  XmppServiceSpec,
  ZoneHosting,
} from './spec';
import { findUnknownFields } from './unknown-fields';

export { findUnknownFields } from './unknown-fields';
export type { KnownFields } from './unknown-fields';

/** What is wrong with a value and how to fix it. */
export interface Problem {
  readonly problem: string;
  readonly fix: string;
}

/** One problem found in a spec, located by its field path (`components.fileShare.name`). */
export interface SpecIssue extends Problem {
  readonly field: string;
  readonly value: unknown;
}

/** Thrown by `resolveSpec` with every problem the spec has. */
export class SpecValidationError extends Error {
  constructor(public readonly issues: readonly SpecIssue[]) {
    super(
      `Invalid XmppServiceSpec (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.field} = ${formatValue(i.value)}: ${i.problem}. Fix: ${i.fix}`).join('\n'),
    );
    this.name = 'SpecValidationError';
  }
}

function formatValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Rules. Each takes the raw value and returns a Problem or undefined.
// ---------------------------------------------------------------------------------------------

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS host name as XMPP domains need it: lower-case ASCII (A-labels), two or more labels. */
export function checkDomainName(name: unknown): Problem | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return { problem: 'a domain name must be a non-empty string', fix: 'give a name such as "example.net"' };
  }
  if (name.endsWith('.')) {
    return { problem: 'a trailing dot is not part of an XMPP domain', fix: `write "${name.replace(/\.+$/, '')}"` };
  }
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    return ascii
      ? { problem: 'internationalised names must be given in their ASCII (IDNA A-label) form', fix: `write "${ascii}"` }
      : { problem: 'this is not a valid internationalised domain name', fix: 'check the spelling of the name' };
  }
  if (name !== name.toLowerCase()) {
    return { problem: 'domain names must be lower case, as XMPP addresses compare them', fix: `write "${name.toLowerCase()}"` };
  }
  if (name.length > 253) return { problem: 'a domain name has at most 253 characters', fix: 'use a shorter name' };
  const labels = name.split('.');
  if (labels.length < 2) {
    return { problem: 'a public XMPP domain needs at least two labels', fix: 'use a fully qualified name such as "chat.example.net"' };
  }
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return {
      problem: `label "${bad}" is not a valid DNS label (letters, digits and inner hyphens, 1 to 63 characters)`,
      fix: 'remove spaces, underscores and leading or trailing hyphens',
    };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    return { problem: 'an IP address or numeric top-level label is not a domain', fix: 'use a domain name you control in DNS' };
  }
  if (labels.some((l) => l.startsWith('xn--')) && domainToASCII(name) !== name) {
    return { problem: 'an "xn--" label here is not valid punycode', fix: 'write the name in Unicode once and copy the A-label the error suggests' };
  }
  return undefined;
}

/** A component's first label, e.g. "upload" in upload.example.net. */
export function checkComponentLabel(label: unknown): Problem | undefined {
  if (typeof label !== 'string' || !LABEL.test(label)) {
    return {
      problem: 'a component name is one lower-case DNS label (letters, digits, inner hyphens)',
      fix: 'use a single label such as "upload"; the domain is appended for you',
    };
  }
  return undefined;
}

const JID_LOCAL_FORBIDDEN = /[\s"&'/:<>@]/;

/** A bare JID whose domain is one of the served domains (a set, when there are thousands). */
export function checkAdminJid(jid: unknown, served: readonly string[] | ReadonlySet<string>): Problem | undefined {
  const listed = (): string[] => [...served];
  if (typeof jid !== 'string' || !/^[^@]+@[^@/]+$/.test(jid)) {
    return { problem: 'an admin is a bare JID "user@domain" without resource', fix: `write it like "admin@${listed()[0] ?? 'example.net'}"` };
  }
  const [local, domain] = jid.split('@');
  if (JID_LOCAL_FORBIDDEN.test(local) || local.length > 1023) {
    return { problem: `the local part "${local}" contains a character XMPP forbids (space " & ' / : < > @)`, fix: 'choose a plain user name' };
  }
  if (local !== local.toLowerCase() || domain !== domain.toLowerCase()) {
    return { problem: 'XMPP folds addresses to lower case, so this admin would never match', fix: `write "${jid.toLowerCase()}"` };
  }
  if (!('has' in served ? served.has(domain) : served.includes(domain))) {
    const domains = listed();
    return {
      problem: `"${domain}" is not one of the served domains (${domains.length <= 5 ? domains.join(', ') : `${domains.slice(0, 5).join(', ')}, … ${domains.length} in all`})`,
      fix: 'use an account on a served domain, or add the domain to `domains`',
    };
  }
  return undefined;
}

/** An IPv4/IPv6 address or CIDR block with no host bits set, and not "everything". */
export function checkSourceCidr(value: unknown): Problem | undefined {
  if (typeof value !== 'string') return { problem: 'must be a string', fix: 'write an address such as "203.0.113.7" or "2001:db8::/48"' };
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  let prefix: number;
  try {
    if (value.includes('/')) {
      [address, prefix] = ipaddr.parseCIDR(value);
    } else {
      address = ipaddr.parse(value);
      prefix = address.kind() === 'ipv4' ? 32 : 128;
    }
  } catch {
    return { problem: 'not an IPv4 or IPv6 address or CIDR block', fix: 'write an address such as "203.0.113.7" or a block such as "203.0.113.0/24"' };
  }
  if (prefix === 0) {
    return { problem: 'this opens SSH to the whole internet', fix: 'list only your own addresses, or leave the list empty and use the DigitalOcean console' };
  }
  const network = address.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
  if (network.toString() !== address.toString()) {
    return { problem: 'the block has host bits set', fix: `write "${network.toString()}/${prefix}"` };
  }
  return undefined;
}

/** An integer within an inclusive range. */
export function checkInteger(value: unknown, min: number, max: number, unit = ''): Problem | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return { problem: `must be a whole number from ${min} to ${max}${unit}`, fix: `choose a value between ${min} and ${max}${unit}` };
  }
  return undefined;
}

export const MIN_FILE_SIZE_LIMIT_BYTES = 1024 * 1024;
export const MAX_FILE_SIZE_LIMIT_BYTES = 2 * 1024 * 1024 * 1024;

/** The largest upload: large enough for a photo, small enough to stream through nginx and Prosody. */
export function checkFileSizeLimit(value: unknown): Problem | undefined {
  return checkInteger(value, MIN_FILE_SIZE_LIMIT_BYTES, MAX_FILE_SIZE_LIMIT_BYTES, ' bytes (1 MiB to 2 GiB)');
}

/** The UDP range coturn relays media on. */
export function checkRelayRange(min: unknown, max: unknown): Problem | undefined {
  const bad = checkInteger(min, 1024, 65535) ?? checkInteger(max, 1024, 65535);
  if (bad) return { problem: 'relay ports must be whole numbers from 1024 to 65535', fix: 'use e.g. 49152 to 65535' };
  if ((min as number) > (max as number)) {
    return { problem: 'the range is reversed', fix: `swap them: relayPortMin = ${max}, relayPortMax = ${min}` };
  }
  if ((max as number) - (min as number) + 1 < 64) {
    return { problem: 'fewer than 64 ports; every call leg holds one', fix: 'widen the range to at least 64 ports, e.g. 49152 to 65535' };
  }
  return undefined;
}

const REGION = /^[a-z]{3}[0-9]$/;
const SIZE = /^[a-z0-9]+(?:-[a-z0-9]+)+$/;

export function checkRegionSlug(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !REGION.test(value)) {
    return { problem: 'not a DigitalOcean region slug', fix: 'use a slug such as "ams3", "fra1", "nyc3" or "sgp1" (doctl compute region list)' };
  }
  return undefined;
}

/**
 * `droplet.reservedIpv6` as declared (undefined when not given): a boolean, and `true` only where
 * DigitalOcean offers reserved IPv6 and the droplet has IPv6 at all.
 */
export function checkReservedIpv6(value: unknown, region: unknown, ipv6: unknown): Problem | undefined {
  if (value === undefined) return undefined;
  const notBoolean = checkBoolean(value);
  if (notBoolean) return notBoolean;
  if (value === false) return undefined;
  if (ipv6 === false) {
    return { problem: 'a reserved IPv6 address needs the droplet to have IPv6 (droplet.ipv6 is false)', fix: 'set droplet.ipv6 to true, or remove droplet.reservedIpv6' };
  }
  if (typeof region === 'string' && !offersReservedIpv6(region)) {
    return {
      problem: `DigitalOcean offers no reserved IPv6 in region "${region}" (it does in ${RESERVED_IPV6_REGIONS.join(', ')})`,
      fix: 'choose one of those regions, or remove droplet.reservedIpv6: AAAA records then follow the droplet\'s own IPv6 with a short TTL',
    };
  }
  return undefined;
}

export function checkSizeSlug(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !SIZE.test(value)) {
    return { problem: 'not a DigitalOcean size slug', fix: 'use a slug such as "s-1vcpu-1gb" or "s-2vcpu-2gb" (doctl compute size list)' };
  }
  return undefined;
}

/** The configuration is written for Debian 12; a snapshot of it may be given by numeric ID. */
export function checkImage(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !(/^debian-12-x64$/.test(value) || /^[0-9]+$/.test(value))) {
    return { problem: 'the rendered configuration targets Debian 12 only', fix: 'use "debian-12-x64" or the numeric ID of a Debian 12 snapshot' };
  }
  return undefined;
}

/** Droplet names become host names and, with "-data", the volume's name (max 64 characters). */
export function checkDropletName(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !/^[a-z](?:[a-z0-9-]{0,57}[a-z0-9])?$/.test(value)) {
    return { problem: 'must start with a letter and hold only lower-case letters, digits and inner hyphens, at most 59 characters', fix: 'use a name such as "xmpp-example-net"' };
  }
  return undefined;
}

/** DigitalOcean accepts an SSH key's MD5 fingerprint or its numeric ID. */
export function checkSshKey(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !(/^(?:[0-9a-f]{2}:){15}[0-9a-f]{2}$/.test(value) || /^[0-9]+$/.test(value))) {
    return { problem: 'not an SSH key fingerprint or ID', fix: 'copy the MD5 fingerprint "aa:bb:…" (16 pairs) or the numeric ID from `doctl compute ssh-key list`' };
  }
  return undefined;
}

export function checkEmail(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !/^[^\s@<>"]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i.test(value)) {
    return { problem: 'not an email address', fix: 'give an address Let\'s Encrypt can write to, such as "admin@example.net"' };
  }
  return undefined;
}

const CONTACT_SCHEMES = ['mailto:', 'xmpp:', 'https:', 'http:', 'tel:', 'sip:'];

/** XEP-0157 addresses are URIs. */
export function checkContactUri(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !CONTACT_SCHEMES.some((s) => value.startsWith(s)) || /[\s\x00-\x1f]/.test(value) || value.includes('"')) {
    return {
      problem: 'a contact address is a URI starting with mailto:, xmpp:, https:, http:, tel: or sip:, without spaces',
      fix: 'write it like "mailto:abuse@example.net" or "xmpp:admin@example.net"',
    };
  }
  return undefined;
}

/** A user-supplied TURN secret goes into two daemons' configs: long and without whitespace or quotes. */
export function checkSharedSecret(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{32,512}$/.test(value) || /["'\\]/.test(value)) {
    return { problem: 'must be 32 to 512 printable ASCII characters without spaces, quotes or backslashes', fix: 'generate one with `openssl rand -hex 32`, or leave it unset to have the host generate it' };
  }
  return undefined;
}

/**
 * coturn on its own droplet cannot generate the secret at first boot as the Prosody host does: the
 * two hosts share no volume, and both must hold the same secret.
 */
export function checkDedicatedTurnSecret(placement: unknown, sharedSecret: unknown): Problem | undefined {
  if (placement === 'dedicated' && sharedSecret === undefined) {
    return {
      problem: 'a TURN server on its own droplet shares the secret with Prosody, so it must be supplied',
      fix: 'generate one with `openssl rand -hex 32` and pass it as a sensitive variable',
    };
  }
  return undefined;
}

export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[]): Problem | undefined {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    return { problem: `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, fix: `choose one of ${allowed.join(', ')}` };
  }
  return undefined;
}

export function checkBoolean(value: unknown): Problem | undefined {
  return typeof value === 'boolean' ? undefined : { problem: 'must be true or false', fix: 'write true or false' };
}

/** A port listener, named for error messages. */
export interface PortUse {
  readonly field: string;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  readonly purpose: string;
}

/** Ports taken on the droplet by things this library does not let you move. */
export const FIXED_PORTS: readonly PortUse[] = [
  { field: '(ssh)', protocol: 'tcp', port: 22, purpose: 'SSH' },
  { field: '(nginx)', protocol: 'tcp', port: 80, purpose: 'HTTP for ACME and redirects' },
  { field: '(nginx)', protocol: 'tcp', port: 443, purpose: 'HTTPS (BOSH, WebSocket, uploads)' },
  { field: '(prosody http)', protocol: 'tcp', port: 5280, purpose: "Prosody's loopback HTTP" },
  { field: '(prosody https)', protocol: 'tcp', port: 5281, purpose: "Prosody's default HTTPS port, kept free" },
];

/** Ports taken on a dedicated TURN droplet by things this library does not let you move. */
export const TURN_HOST_FIXED_PORTS: readonly PortUse[] = [
  { field: '(ssh)', protocol: 'tcp', port: 22, purpose: 'SSH' },
  { field: '(certbot)', protocol: 'tcp', port: 80, purpose: "certbot's http-01 challenges for the TURN name" },
];

/** Two listeners on the same protocol and port, or a listener inside the relay range. */
export function findPortCollisions(uses: readonly PortUse[], relay?: { min: number; max: number }): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Map<string, PortUse>();
  for (const use of uses) {
    const key = `${use.protocol}/${use.port}`;
    const earlier = seen.get(key);
    if (earlier) {
      issues.push({
        field: use.field,
        value: use.port,
        problem: `${use.protocol.toUpperCase()} port ${use.port} is already used by ${earlier.purpose} (${earlier.field})`,
        fix: 'choose a free port',
      });
    } else {
      seen.set(key, use);
    }
    if (relay && use.protocol === 'udp' && use.port >= relay.min && use.port <= relay.max) {
      issues.push({
        field: use.field,
        value: use.port,
        problem: `UDP port ${use.port} lies inside the TURN relay range ${relay.min}-${relay.max}`,
        fix: 'move the listener, or shrink calls.relayPortMin/relayPortMax so they exclude it',
      });
    }
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------

export const DEFAULTS = {
  componentNamePattern: '{label}.{domain}',
  fileShare: { enabled: true, name: 'upload', fileSizeLimitBytes: 100 * 1024 * 1024, expireAfterSeconds: 30 * 86400 },
  groupChat: { enabled: true, name: 'conference', archiveExpireAfterSeconds: 7 * 86400, roomCreation: 'local' as RoomCreationPolicy },
  proxy65: { enabled: false, name: 'proxy', port: 5000 },
  pubsub: { enabled: false, name: 'pubsub' },
  calls: {
    enabled: true, name: 'turn', port: 3478, tlsPort: 5349, relayPortMin: 49152, relayPortMax: 65535,
    credentialTtlSeconds: 86400, userQuota: 12, totalQuota: 1200,
    placement: 'prosody-host' as TurnPlacement, dropletSize: 's-1vcpu-1gb',
  },
  droplet: { region: 'ams3', size: 's-1vcpu-1gb', image: 'debian-12-x64', ipv6: true, monitoring: true, backups: false, volumeSizeGib: 10 },
  dns: { ttlSeconds: 1800, turnMaxTtlSeconds: 300 },
  ports: { c2s: 5222, c2sDirectTls: 5223, s2s: 5269, s2sDirectTls: 5270, httpLoopback: 5280 },
} as const;

const LABEL_PLACEHOLDER = '{label}';
const DOMAIN_PLACEHOLDER_IN_PATTERN = '{domain}';
const ZONE_HOSTINGS: readonly ZoneHosting[] = ['create', 'existing', 'external'];

/** The component name `pattern` makes of `label` on `domain` (the pattern must be valid). */
export function componentName(pattern: string, label: string, domain: string): string {
  return pattern.replace(LABEL_PLACEHOLDER, label).replace(DOMAIN_PLACEHOLDER_IN_PATTERN, domain);
}

/**
 * A component name pattern: `{label}` once, ending in `.{domain}` so that every component stays in
 * its domain's zone and certificate, and nothing but DNS label characters around them.
 */
export function checkComponentNamePattern(pattern: unknown): Problem | undefined {
  const fix = 'write a pattern such as "{label}.{domain}" or "{label}.xmpp.{domain}"';
  if (typeof pattern !== 'string') return { problem: 'must be a string', fix };
  if (pattern.split(LABEL_PLACEHOLDER).length !== 2) return { problem: 'must contain {label} exactly once', fix };
  if (!pattern.endsWith(`.${DOMAIN_PLACEHOLDER_IN_PATTERN}`) || pattern.split(DOMAIN_PLACEHOLDER_IN_PATTERN).length !== 2) {
    return { problem: 'must end in ".{domain}" and name {domain} nowhere else, so every component stays inside its domain\'s DNS zone', fix };
  }
  const prefix = pattern.slice(0, -`.${DOMAIN_PLACEHOLDER_IN_PATTERN}`.length).replace(LABEL_PLACEHOLDER, 'x');
  if (!prefix.split('.').every((label) => LABEL.test(label))) {
    return { problem: 'around {label} only lower-case letters, digits, inner hyphens and dots between labels are allowed', fix };
  }
  return undefined;
}

/**
 * Contact addresses role by role: the given list, else the fallback's given list, else (for the
 * roles that point at people in charge) the admins' `xmpp:` addresses.
 */
function resolveContacts(
  c: Checker,
  field: string,
  given: ContactAddressesSpec,
  admins: readonly string[],
  fallback: { given: ContactAddressesSpec; resolved: Readonly<Record<ContactRole, readonly string[]>> } | undefined,
  domain: string,
): Record<ContactRole, readonly string[]> {
  const contacts = {} as Record<ContactRole, readonly string[]>;
  for (const role of CONTACT_ROLES) {
    const adminRole = role !== 'feedback' && role !== 'sales';
    const list = given[role] ?? (fallback?.given[role] !== undefined ? fallback.resolved[role] : adminRole ? admins.map((a) => `xmpp:${a}`) : []);
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

/**
 * Prosody 0.12's resident memory, measured with every default module on each VirtualHost: a base,
 * plus about this much per host (each domain and each component is a host). test/core/prosody.test.ts
 * holds a real Prosody serving hundreds of domains to this estimate.
 */
export const PROSODY_BASE_MEMORY_MIB = 40;
export const PROSODY_MEMORY_PER_HOST_MIB = 0.75;
/** Prosody may take up to this share of the droplet's memory; nginx, coturn, certbot and the OS need the rest. */
export const PROSODY_MEMORY_SHARE = 0.5;

/** How much memory Prosody needs for the spec's domains and components, in MiB (rounded up). */
export function estimateProsodyMemoryMiB(spec: Pick<ResolvedSpec, 'domains'>): number {
  const hosts = spec.domains.reduce((n, d) => n + 1 + d.components.length, 0);
  return Math.ceil(PROSODY_BASE_MEMORY_MIB + PROSODY_MEMORY_PER_HOST_MIB * hosts);
}

/** The memory a DigitalOcean size slug names (`s-1vcpu-1gb`, `s-1vcpu-512mb-10gb`), in MiB; undefined when it names none. */
export function dropletMemoryMiB(size: string): number | undefined {
  const m = /-(\d+)(gb|mb)(?:-|$)/.exec(size);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'gb' ? 1024 : 1);
}

/** DigitalOcean's basic sizes, smallest first, for suggestions. */
const BASIC_SIZES = [
  { slug: 's-1vcpu-2gb', gib: 2 },
  { slug: 's-2vcpu-4gb', gib: 4 },
  { slug: 's-4vcpu-8gb', gib: 8 },
  { slug: 's-8vcpu-16gb', gib: 16 },
];

/** A droplet large enough for Prosody serving `hosts` (domains and components). */
export function checkDropletMemory(size: unknown, neededMiB: number, domains: number): Problem | undefined {
  if (typeof size !== 'string') return undefined;
  const memory = dropletMemoryMiB(size);
  if (memory === undefined || neededMiB <= memory * PROSODY_MEMORY_SHARE) return undefined;
  const gib = Math.ceil(neededMiB / PROSODY_MEMORY_SHARE / 1024);
  const example = BASIC_SIZES.find((s) => s.gib >= gib);
  return {
    problem: `it has ${memory} MiB of memory, but Prosody serving ${domains} domain${domains === 1 ? '' : 's'} and their components needs about ${neededMiB} MiB, and it should have at most half the droplet`,
    fix: `choose a size with at least ${gib} GB of memory${example ? ` such as "${example.slug}"` : ''}, or spread the domains over several hosts with XmppFleet`,
  };
}

// ---------------------------------------------------------------------------------------------
// resolveSpec
// ---------------------------------------------------------------------------------------------

/** Collects issues while defaults are applied. */
class Checker {
  readonly issues: SpecIssue[] = [];

  check(field: string, value: unknown, problem: Problem | undefined): void {
    if (problem) this.issues.push({ field, value, ...problem });
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The user's sub-object, or an empty one when it is absent (or not an object at all). */
function section<T extends object>(value: T | undefined): T {
  return (isObject(value) ? value : {}) as T;
}

/**
 * Apply defaults to `spec` and validate it. Returns a `ResolvedSpec`, or throws a
 * `SpecValidationError` that names every bad field, its value and the fix.
 */
export function resolveSpec(spec: XmppServiceSpec): ResolvedSpec {
  const c = new Checker();
  if (!isObject(spec)) {
    throw new SpecValidationError([{ field: '(spec)', value: spec, problem: 'the spec must be an object', fix: 'pass an XmppServiceSpec object' }]);
  }
  // Misspelled or misplaced fields first: a typo often explains a default the user did not expect.
  c.issues.push(...findUnknownFields(spec));

  // Domains: plain names, or DomainSpec objects whose own settings are resolved further down.
  const domainSpecs: { name: string; field: string; spec: DomainSpec }[] = [];
  if (!Array.isArray(spec.domains) || spec.domains.length === 0) {
    c.check('domains', spec.domains, { problem: 'at least one domain is required', fix: 'set domains: ["example.net"]' });
  } else {
    // A set, not includes(): a host may serve thousands of domains.
    const seen = new Set<string>();
    spec.domains.forEach((d, i) => {
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
          domainSpecs.push({ name: valid, field: `domains[${i}]`, spec: isSpec ? (d as DomainSpec) : { name: valid } });
        }
      }
    });
  }
  const domainNames = domainSpecs.map((d) => d.name);
  const primaryDomain = domainNames[0] ?? 'invalid.example';

  // Admins
  const admins: string[] = [];
  if (!Array.isArray(spec.admins) || spec.admins.length === 0) {
    c.check('admins', spec.admins, { problem: 'at least one admin is required: someone must be able to create invitations and receive abuse reports', fix: `set admins: ["admin@${primaryDomain}"]` });
  } else {
    const served = new Set(domainNames);
    spec.admins.forEach((jid, i) => {
      const problem = checkAdminJid(jid, served);
      c.check(`admins[${i}]`, jid, problem);
      if (!problem && !admins.includes(jid)) admins.push(jid);
    });
  }

  // Components
  const comps = section<ComponentsSpec>(spec.components);
  const fs = { ...DEFAULTS.fileShare, ...(comps.fileShare ?? {}) };
  const gc = { ...DEFAULTS.groupChat, ...(comps.groupChat ?? {}) };
  const p65 = { ...DEFAULTS.proxy65, ...(comps.proxy65 ?? {}) };
  const ps = { ...DEFAULTS.pubsub, ...(comps.pubsub ?? {}) };
  c.check('components.fileShare.enabled', fs.enabled, checkBoolean(fs.enabled));
  c.check('components.groupChat.enabled', gc.enabled, checkBoolean(gc.enabled));
  c.check('components.proxy65.enabled', p65.enabled, checkBoolean(p65.enabled));
  c.check('components.pubsub.enabled', ps.enabled, checkBoolean(ps.enabled));
  const fileSizeLimitBytes = fs.fileSizeLimitBytes;
  c.check('components.fileShare.fileSizeLimitBytes', fileSizeLimitBytes, checkFileSizeLimit(fileSizeLimitBytes));
  c.check('components.fileShare.expireAfterSeconds', fs.expireAfterSeconds, checkInteger(fs.expireAfterSeconds, 3600, 10 * 365 * 86400, ' seconds'));
  const dailyQuota = comps.fileShare?.dailyQuotaBytesPerUser ?? fileSizeLimitBytes * 10;
  c.check('components.fileShare.dailyQuotaBytesPerUser', dailyQuota, checkInteger(dailyQuota, MIN_FILE_SIZE_LIMIT_BYTES, Number.MAX_SAFE_INTEGER, ' bytes'));
  if (typeof dailyQuota === 'number' && typeof fileSizeLimitBytes === 'number' && dailyQuota < fileSizeLimitBytes) {
    c.check('components.fileShare.dailyQuotaBytesPerUser', dailyQuota, {
      problem: `smaller than the file size limit (${fileSizeLimitBytes}), so a file of the allowed size could never be uploaded`,
      fix: `raise it to at least ${fileSizeLimitBytes}`,
    });
  }
  const globalQuota = comps.fileShare?.globalQuotaBytes;
  if (globalQuota !== undefined) {
    c.check('components.fileShare.globalQuotaBytes', globalQuota, checkInteger(globalQuota, MIN_FILE_SIZE_LIMIT_BYTES, Number.MAX_SAFE_INTEGER, ' bytes'));
  }
  c.check('components.groupChat.archiveExpireAfterSeconds', gc.archiveExpireAfterSeconds, checkInteger(gc.archiveExpireAfterSeconds, 3600, 10 * 365 * 86400, ' seconds'));
  c.check('components.groupChat.roomCreation', gc.roomCreation, checkOneOf(gc.roomCreation, ['local', 'admin', 'anyone'] as const));

  const componentDefs = [
    { kind: 'fileShare' as const, field: 'components.fileShare.name', enabled: fs.enabled, label: fs.name },
    { kind: 'groupChat' as const, field: 'components.groupChat.name', enabled: gc.enabled, label: gc.name },
    { kind: 'proxy65' as const, field: 'components.proxy65.name', enabled: p65.enabled, label: p65.name },
    { kind: 'pubsub' as const, field: 'components.pubsub.name', enabled: ps.enabled, label: ps.name },
  ].filter((d) => d.enabled === true);
  for (const def of componentDefs) c.check(def.field, def.label, checkComponentLabel(def.label));
  const namePattern = comps.namePattern ?? DEFAULTS.componentNamePattern;
  const patternProblem = checkComponentNamePattern(namePattern);
  c.check('components.namePattern', namePattern, patternProblem);

  // Calls
  const callsIn = section<CallsSpec>(spec.calls);
  const calls = { ...DEFAULTS.calls, ...callsIn };
  c.check('calls.enabled', calls.enabled, checkBoolean(calls.enabled));
  c.check('calls.placement', calls.placement, checkOneOf(calls.placement, ['prosody-host', 'dedicated'] as const));
  const dedicatedTurn = calls.enabled === true && calls.placement === 'dedicated';
  if (calls.enabled) {
    c.check('calls.name', calls.name, checkComponentLabel(calls.name));
    c.check('calls.port', calls.port, checkInteger(calls.port, 1, 65535));
    c.check('calls.tlsPort', calls.tlsPort, checkInteger(calls.tlsPort, 1, 65535));
    const rangeProblem = checkRelayRange(calls.relayPortMin, calls.relayPortMax);
    c.check('calls.relayPortMin/relayPortMax', [calls.relayPortMin, calls.relayPortMax], rangeProblem);
    c.check('calls.credentialTtlSeconds', calls.credentialTtlSeconds, checkInteger(calls.credentialTtlSeconds, 300, 7 * 86400, ' seconds'));
    c.check('calls.userQuota', calls.userQuota, checkInteger(calls.userQuota, 1, 10000));
    c.check('calls.totalQuota', calls.totalQuota, checkInteger(calls.totalQuota, 1, 1000000));
    if (callsIn.sharedSecret !== undefined) {
      // The value itself never goes into an error message.
      c.check('calls.sharedSecret', '(redacted)', checkSharedSecret(callsIn.sharedSecret));
    }
    c.check('calls.sharedSecret', undefined, checkDedicatedTurnSecret(calls.placement, callsIn.sharedSecret));
    c.check('calls.dropletSize', calls.dropletSize, checkSizeSlug(calls.dropletSize));
  }
  const turnHost = `${calls.name}.${primaryDomain}`;

  // Name collisions: components with each other, with domains, with the TURN name.
  const owners = new Map<string, string>();
  domainNames.forEach((d, i) => owners.set(d, `domains[${i}]`));
  const componentsOf: ResolvedComponent[][] = [];
  const labelsValid = componentDefs.every((d) => !checkComponentLabel(d.label)) && !patternProblem;
  if (calls.enabled && !checkComponentLabel(calls.name)) {
    const clash = owners.get(turnHost);
    if (clash) c.check('calls.name', calls.name, { problem: `TURN name "${turnHost}" is also ${clash}`, fix: 'choose another TURN name' });
    else owners.set(turnHost, 'calls.name');
  }
  for (const domain of domainNames) {
    const components: ResolvedComponent[] = [];
    if (labelsValid) {
      for (const def of componentDefs) {
        const host = componentName(namePattern, def.label, domain);
        const tooLong = checkDomainName(host);
        if (tooLong) {
          c.check('components.namePattern', namePattern, { problem: `it makes "${host}" for ${def.field} "${def.label}" on ${domain}, which is not a valid DNS name`, fix: 'use shorter labels or a shorter pattern' });
          continue;
        }
        const clash = owners.get(host);
        if (clash) {
          c.check(def.field, def.label, {
            problem: `"${host}" is also ${clash === 'calls.name' ? 'the TURN server name' : clash.startsWith('domains') ? `a served domain (${clash})` : `the name of ${clash}`}`,
            fix: 'give each component, the TURN server and each domain its own name',
          });
        } else {
          owners.set(host, def.field);
          components.push({ kind: def.kind, host });
        }
      }
    }
    componentsOf.push(components);
  }

  // Web, registration, federation
  const web = { bosh: spec.web?.bosh ?? true, websocket: spec.web?.websocket ?? true };
  c.check('web.bosh', web.bosh, checkBoolean(web.bosh));
  c.check('web.websocket', web.websocket, checkBoolean(web.websocket));
  const registration = spec.registration ?? 'invite';
  c.check('registration', registration, checkOneOf(registration, ['invite', 'closed'] as const));
  const federation = { enabled: spec.federation?.enabled ?? true, directTls: spec.federation?.directTls ?? false };
  c.check('federation.enabled', federation.enabled, checkBoolean(federation.enabled));
  c.check('federation.directTls', federation.directTls, checkBoolean(federation.directTls));
  if (!federation.enabled && federation.directTls) {
    c.check('federation.directTls', true, { problem: 'server direct TLS needs federation', fix: 'set federation.enabled to true, or directTls to false' });
  }

  // Ports
  const ports = { ...DEFAULTS.ports, ...(spec.ports ?? {}) };
  for (const key of ['c2s', 'c2sDirectTls', 's2s', 's2sDirectTls'] as const) {
    c.check(`ports.${key}`, ports[key], checkInteger(ports[key], 1, 65535));
  }
  if (p65.enabled) c.check('components.proxy65.port', p65.port, checkInteger(p65.port, 1, 65535));
  const portUses: PortUse[] = [
    ...FIXED_PORTS,
    { field: 'ports.c2s', protocol: 'tcp', port: ports.c2s, purpose: 'client connections' },
    { field: 'ports.c2sDirectTls', protocol: 'tcp', port: ports.c2sDirectTls, purpose: 'client direct TLS' },
  ];
  if (federation.enabled) portUses.push({ field: 'ports.s2s', protocol: 'tcp', port: ports.s2s, purpose: 'server connections' });
  if (federation.directTls) portUses.push({ field: 'ports.s2sDirectTls', protocol: 'tcp', port: ports.s2sDirectTls, purpose: 'server direct TLS' });
  if (p65.enabled) portUses.push({ field: 'components.proxy65.port', protocol: 'tcp', port: p65.port, purpose: 'the SOCKS5 proxy' });
  const turnPortUses: PortUse[] = calls.enabled
    ? [
        { field: 'calls.port', protocol: 'tcp', port: calls.port, purpose: 'STUN/TURN' },
        { field: 'calls.port', protocol: 'udp', port: calls.port, purpose: 'STUN/TURN' },
        { field: 'calls.tlsPort', protocol: 'tcp', port: calls.tlsPort, purpose: 'TURN over TLS' },
        { field: 'calls.tlsPort', protocol: 'udp', port: calls.tlsPort, purpose: 'TURN over DTLS' },
      ]
    : [];
  const relayValid = calls.enabled && !checkRelayRange(calls.relayPortMin, calls.relayPortMax);
  const relay = relayValid ? { min: calls.relayPortMin, max: calls.relayPortMax } : undefined;
  if (dedicatedTurn) {
    // Two hosts: coturn's ports only compete with what the TURN droplet itself listens on.
    c.issues.push(...findPortCollisions(portUses));
    c.issues.push(...findPortCollisions([...TURN_HOST_FIXED_PORTS, ...turnPortUses], relay));
  } else {
    c.issues.push(...findPortCollisions([...portUses, ...turnPortUses], relay));
  }

  // Contacts: service-wide, then each domain's own admins and contacts.
  const contactsIn = section<ContactAddressesSpec>(spec.contacts);
  const contacts = resolveContacts(c, 'contacts', contactsIn, admins, undefined, primaryDomain);
  const served = new Set(domainNames);
  const domains: ResolvedDomain[] = domainSpecs.map(({ name, field, spec: own }, i) => {
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
      ? contacts
      : resolveContacts(c, `${field}.contacts`, section<ContactAddressesSpec>(own.contacts), [...admins, ...ownAdmins], { given: contactsIn, resolved: contacts }, name);
    const zone = own.zone ?? 'create';
    c.check(`${field}.zone`, zone, checkOneOf(zone, ZONE_HOSTINGS));
    return { name, components: componentsOf[i] ?? [], admins: ownAdmins, contacts: domainContacts, zone };
  });

  // Droplet
  const dropletIn = section<DropletSpec>(spec.droplet);
  const droplet = {
    ...DEFAULTS.droplet,
    name: `xmpp-${primaryDomain.replace(/\./g, '-')}`.slice(0, 59).replace(/-+$/, ''),
    sshKeyFingerprints: [] as readonly string[],
    ...dropletIn,
  };
  c.check('droplet.name', droplet.name, checkDropletName(droplet.name));
  const turnDropletName = `${droplet.name}-turn`;
  if (dedicatedTurn && !checkDropletName(droplet.name) && checkDropletName(turnDropletName)) {
    c.check('droplet.name', droplet.name, {
      problem: `the TURN droplet is named after it ("${turnDropletName}"), which is longer than 59 characters`,
      fix: 'shorten droplet.name to at most 54 characters',
    });
  }
  c.check('droplet.region', droplet.region, checkRegionSlug(droplet.region));
  c.check('droplet.size', droplet.size, checkSizeSlug(droplet.size) ?? checkDropletMemory(droplet.size, estimateProsodyMemoryMiB({ domains }), domains.length));
  c.check('droplet.image', droplet.image, checkImage(droplet.image));
  c.check('droplet.ipv6', droplet.ipv6, checkBoolean(droplet.ipv6));
  c.check('droplet.reservedIpv6', dropletIn.reservedIpv6, checkReservedIpv6(dropletIn.reservedIpv6, droplet.region, droplet.ipv6));
  // Where DigitalOcean offers it, unless declined; never without IPv6.
  const reservedIpv6 = droplet.ipv6 === true && (dropletIn.reservedIpv6 ?? (typeof droplet.region === 'string' && offersReservedIpv6(droplet.region)));
  c.check('droplet.monitoring', droplet.monitoring, checkBoolean(droplet.monitoring));
  c.check('droplet.backups', droplet.backups, checkBoolean(droplet.backups));
  c.check('droplet.volumeSizeGib', droplet.volumeSizeGib, checkInteger(droplet.volumeSizeGib, 1, 16384, ' GiB'));
  if (!Array.isArray(droplet.sshKeyFingerprints)) {
    c.check('droplet.sshKeyFingerprints', droplet.sshKeyFingerprints, { problem: 'must be a list', fix: 'write ["aa:bb:…"]' });
  } else {
    droplet.sshKeyFingerprints.forEach((k, i) => c.check(`droplet.sshKeyFingerprints[${i}]`, k, checkSshKey(k)));
  }

  // SSH sources
  const adminSourceCidrs = spec.adminSourceCidrs ?? [];
  if (!Array.isArray(adminSourceCidrs)) {
    c.check('adminSourceCidrs', adminSourceCidrs, { problem: 'must be a list', fix: 'write ["203.0.113.7/32"]' });
  } else {
    adminSourceCidrs.forEach((cidr, i) => c.check(`adminSourceCidrs[${i}]`, cidr, checkSourceCidr(cidr)));
  }

  // DNS and ACME
  const ttlSeconds = spec.dns?.ttlSeconds ?? DEFAULTS.dns.ttlSeconds;
  c.check('dns.ttlSeconds', ttlSeconds, checkInteger(ttlSeconds, 30, 86400, ' seconds'));
  if (!isObject(spec.acme)) {
    c.check('acme.email', undefined, { problem: "Let's Encrypt needs a contact address", fix: `set acme: { email: "admin@${primaryDomain}" }` });
  } else {
    c.check('acme.email', spec.acme.email, checkEmail(spec.acme.email));
    if (spec.acme.staging !== undefined) c.check('acme.staging', spec.acme.staging, checkBoolean(spec.acme.staging));
  }

  if (c.issues.length > 0) throw new SpecValidationError(c.issues);

  return {
    domains,
    primaryDomain,
    admins,
    fileShare: {
      enabled: fs.enabled,
      name: fs.name,
      fileSizeLimitBytes,
      expireAfterSeconds: fs.expireAfterSeconds,
      dailyQuotaBytesPerUser: dailyQuota,
      ...(globalQuota !== undefined ? { globalQuotaBytes: globalQuota } : {}),
    },
    groupChat: { enabled: gc.enabled, name: gc.name, archiveExpireAfterSeconds: gc.archiveExpireAfterSeconds, roomCreation: gc.roomCreation },
    proxy65: { enabled: p65.enabled, name: p65.name, port: p65.port },
    pubsub: { enabled: ps.enabled, name: ps.name },
    calls: {
      enabled: calls.enabled,
      host: turnHost,
      port: calls.port,
      tlsPort: calls.tlsPort,
      relayPortMin: calls.relayPortMin,
      relayPortMax: calls.relayPortMax,
      credentialTtlSeconds: calls.credentialTtlSeconds,
      userQuota: calls.userQuota,
      totalQuota: calls.totalQuota,
      ...(callsIn.sharedSecret !== undefined ? { sharedSecret: callsIn.sharedSecret } : {}),
      placement: calls.placement,
      droplet: { name: turnDropletName, size: calls.dropletSize },
    },
    web,
    registration,
    contacts,
    droplet: {
      name: droplet.name,
      region: droplet.region,
      size: droplet.size,
      image: droplet.image,
      sshKeyFingerprints: [...droplet.sshKeyFingerprints],
      ipv6: droplet.ipv6,
      reservedIpv6,
      monitoring: droplet.monitoring,
      backups: droplet.backups,
      volumeSizeGib: droplet.volumeSizeGib,
      volumeName: `${droplet.name}-data`,
    },
    adminSourceCidrs: [...adminSourceCidrs],
    dns: { ttlSeconds, turnTtlSeconds: Math.min(ttlSeconds, DEFAULTS.dns.turnMaxTtlSeconds) },
    acme: { email: spec.acme.email, staging: spec.acme.staging ?? false },
    federation,
    ports,
  };
}
