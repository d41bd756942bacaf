/**
 * The rules a declaration is checked against. Each is an exported pure function returning
 * `undefined` when the value is fine, or a `Problem` (what is wrong, how to fix it); `resolveSpec`
 * (validate.ts) runs them section by section and reports every problem at once.
 */
import { domainToASCII } from 'url';
import * as ipaddr from 'ipaddr.js';
import { offersReservedIpv6, offersSpaces, RESERVED_IPV6_REGIONS, SPACES_REGIONS } from './regions';
import { CONFIG_CHANNELS, ResolvedSpec } from './spec';
import { PlatformName, platformOf } from './platforms';
import { UPLOADS_MAX_SHARE_OF_VOLUME } from './defaults';

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

/** The shortest and longest time messages, files or a room's history may be kept, in seconds. */
export const MIN_RETENTION_SECONDS = 3600;
export const MAX_RETENTION_SECONDS = 10 * 365 * 86400;

/** A retention in seconds: from an hour to ten years. */
export function checkRetention(value: unknown): Problem | undefined {
  return checkInteger(value, MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS, ' seconds (1 hour to 10 years)');
}

/** Whole days as "7 days", anything else as seconds: for messages. */
function durationText(seconds: number): string {
  return seconds % 86400 === 0 ? `${seconds / 86400} day${seconds === 86400 ? '' : 's'}` : `${seconds} seconds`;
}

/**
 * `components.fileShare.expireAfterSeconds` against the history that links the files: a file kept
 * longer than every message that could link it is an orphan nobody can find again, holding space
 * and whatever it shows. `roomHistorySeconds` is undefined without group chat.
 */
export function checkUploadRetention(uploadSeconds: unknown, historySeconds: unknown, roomHistorySeconds?: unknown): Problem | undefined {
  if (typeof uploadSeconds !== 'number' || typeof historySeconds !== 'number') return undefined;
  const longest = Math.max(historySeconds, typeof roomHistorySeconds === 'number' ? roomHistorySeconds : 0);
  if (uploadSeconds <= longest) return undefined;
  const which = longest === historySeconds ? 'historyExpireAfterSeconds' : 'components.groupChat.archiveExpireAfterSeconds';
  return {
    problem: `uploads would be kept ${durationText(uploadSeconds)}, longer than any message that links them (${which}: ${durationText(longest)})`,
    fix: `remove components.fileShare.expireAfterSeconds so that files follow historyExpireAfterSeconds, or set it to at most ${longest}, or raise historyExpireAfterSeconds to ${uploadSeconds}`,
  };
}

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

/** `configDelivery.channel`: one of CONFIG_CHANNELS. */
export function checkConfigChannel(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !(CONFIG_CHANNELS as readonly string[]).includes(value)) {
    return { problem: `must be one of ${CONFIG_CHANNELS.map((c) => `"${c}"`).join(', ')}`, fix: 'use "spaces" to apply changes in place, or "user-data" (the default) to replace the droplet on every change' };
  }
  return undefined;
}

/** `configDelivery.spacesRegion` (or the droplet's region it defaults to): a region with Spaces. */
export function checkSpacesRegion(value: unknown, defaulted: boolean, field = 'configDelivery.spacesRegion'): Problem | undefined {
  if (typeof value === 'string' && offersSpaces(value)) return undefined;
  const list = SPACES_REGIONS.map((r) => `"${r}"`).join(', ');
  return defaulted
    ? { problem: `the droplet's region has no Spaces, and the bucket's region follows it`, fix: `set ${field} to a region with Spaces: ${list}` }
    : { problem: 'not a region with Spaces', fix: `use one of ${list}` };
}

/** Spaces bucket names: 3 to 63 lower-case letters, digits and hyphens, a letter or digit at each end. */
export function checkBucketName(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !/^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/.test(value)) {
    return { problem: 'not a valid Spaces bucket name: 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit', fix: 'use a name such as "xmpp-example-net-config"; it must be unique across all of Spaces' };
  }
  return undefined;
}

/** The shortest `offsiteBackups.password`: long enough that guessing it is hopeless even offline. */
export const MIN_BACKUP_PASSWORD_LENGTH = 16;
/**
 * The longest `offsiteBackups.password`, in UTF-8 bytes: far more than any password needs, and a
 * bound on what one supplied at deploy time adds to the user_data (DigitalOcean's 64 KiB).
 */
export const MAX_BACKUP_PASSWORD_BYTES = 256;

/**
 * `offsiteBackups.password`: at least MIN_BACKUP_PASSWORD_LENGTH characters and at most
 * MAX_BACKUP_PASSWORD_BYTES bytes on one line, without whitespace at either end (restic trims it
 * from its password file), and not a placeholder left in a copied example.
 */
export function checkBackupPassword(value: unknown): Problem | undefined {
  const fix = 'generate one with `openssl rand -base64 32`, keep a copy away from DigitalOcean, and pass it (preferably as a sensitive Terraform variable or a Pulumi secret)';
  if (typeof value !== 'string') return { problem: 'must be a string', fix };
  if (value.length < MIN_BACKUP_PASSWORD_LENGTH) return { problem: `is ${value.length} characters long; it must have at least ${MIN_BACKUP_PASSWORD_LENGTH}`, fix };
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_BACKUP_PASSWORD_BYTES) return { problem: `is ${bytes} bytes long; it may have at most ${MAX_BACKUP_PASSWORD_BYTES}`, fix };
  if (/[\r\n\0]/.test(value)) return { problem: 'holds a line break or NUL character', fix };
  // restic reads the password file with its surrounding whitespace trimmed.
  if (value.trim() !== value) return { problem: 'begins or ends with whitespace', fix };
  if (/change.?me|example|password/i.test(value)) return { problem: 'looks like a placeholder from an example', fix };
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

/**
 * Opening SSH (`adminSourceCidrs`) is only useful with a key: the droplet turns password logins off,
 * so without one port 22 would be open to the listed networks while nobody could log in.
 * Malformed lists are reported by their own checks.
 */
export function checkSshAccess(adminSourceCidrs: unknown, sshKeyFingerprints: unknown): Problem | undefined {
  if (!Array.isArray(adminSourceCidrs) || adminSourceCidrs.length === 0) return undefined;
  if (!Array.isArray(sshKeyFingerprints) || sshKeyFingerprints.length > 0) return undefined;
  return {
    problem: `adminSourceCidrs opens SSH (port 22) to ${adminSourceCidrs.join(', ')}, but the droplet gets no SSH key and password logins are off, so nobody could log in`,
    fix: 'add your key to droplet.sshKeyFingerprints (its MD5 fingerprint "aa:bb:…" or numeric ID from `doctl compute ssh-key list`), or leave adminSourceCidrs empty to keep SSH closed and use the DigitalOcean console',
  };
}

/** The web client finds its transport through host-meta: it needs WebSocket or BOSH served. */
export function checkWebClientTransports(client: unknown, websocket: unknown, bosh: unknown): Problem | undefined {
  if (client !== true || websocket === true || bosh === true) return undefined;
  return { problem: 'is on, but neither web.websocket nor web.bosh is: the web client would have no way to connect', fix: 'turn web.websocket (or web.bosh) on, or set web.client: false' };
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

/** The longest `calls.sharedSecret` (printable ASCII, so as many bytes). */
export const MAX_SHARED_SECRET_LENGTH = 512;

/** A user-supplied TURN secret goes into two daemons' configs: long and without whitespace or quotes. */
export function checkSharedSecret(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !new RegExp(`^[\\x21-\\x7e]{32,${MAX_SHARED_SECRET_LENGTH}}$`).test(value) || /["'\\]/.test(value)) {
    return { problem: `must be 32 to ${MAX_SHARED_SECRET_LENGTH} printable ASCII characters without spaces, quotes or backslashes`, fix: 'generate one with `openssl rand -hex 32`, or leave it unset to have the host generate it' };
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

// ---------------------------------------------------------------------------------------------
// Component names
// ---------------------------------------------------------------------------------------------

const LABEL_PLACEHOLDER = '{label}';
const DOMAIN_PLACEHOLDER_IN_PATTERN = '{domain}';

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

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/** Prosody may take up to this share of the droplet's memory; nginx, coturn, certbot and the OS need the rest. */
export const PROSODY_MEMORY_SHARE = 0.5;

/**
 * How much memory Prosody needs for the spec's domains and components on its platform, in MiB
 * (rounded up): the platform's measured base plus its figure per host (each domain and each
 * component is a host), plus its figure per group chat that subscribes to a blocklist (where the
 * server federates; assumed when `federation` is not given). test/core/prosody.test.ts holds each
 * platform's real Prosody serving hundreds of domains to this estimate.
 */
export function estimateProsodyMemoryMiB(
  spec: Pick<ResolvedSpec, 'domains'> & { readonly droplet: { readonly platform: PlatformName }; readonly federation?: { readonly enabled: boolean } },
): number {
  const hosts = spec.domains.reduce((n, d) => n + 1 + d.components.length, 0);
  const platform = platformOf(spec).prosody;
  const blocklisted = (spec.federation?.enabled ?? true) && platform.abuse.mucFederatedModules.length > 0
    ? spec.domains.reduce((n, d) => n + d.components.filter((c) => c.kind === 'groupChat').length, 0)
    : 0;
  const { baseMiB, perHostMiB, perBlocklistedGroupChatMiB } = platform.memory;
  return Math.ceil(baseMiB + perHostMiB * hosts + perBlocklistedGroupChatMiB * blocklisted);
}

/** The memory a DigitalOcean size slug names (`s-1vcpu-1gb`, `s-1vcpu-512mb-10gb`), in MiB; undefined when it names none. */
export function dropletMemoryMiB(size: string): number | undefined {
  const m = /-(\d+)(gb|mb)(?:-|$)/.exec(size);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'gb' ? 1024 : 1);
}


/** `calls.totalMaxMbps`: a whole number of Mbit/s that holds at least one allocation's share. */
export function checkTurnCapacity(totalMaxMbps: unknown, allocationMaxKbps: unknown): Problem | undefined {
  const bad = checkInteger(totalMaxMbps, 1, 100000, ' Mbit/s');
  if (bad || typeof allocationMaxKbps !== 'number') return bad;
  if ((totalMaxMbps as number) * 1000 < allocationMaxKbps) {
    return {
      problem: `is less than one allocation may use (calls.allocationMaxKbps ${allocationMaxKbps} kbit/s)`,
      fix: `raise calls.totalMaxMbps to at least ${Math.ceil(allocationMaxKbps / 1000)}, or lower calls.allocationMaxKbps`,
    };
  }
  return undefined;
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

/**
 * An explicit `components.fileShare.globalQuotaBytes` against the data volume: each domain's upload
 * service keeps up to that much, and together they may take at most UPLOADS_MAX_SHARE_OF_VOLUME of
 * the volume, which also holds messages, accounts and the daily archives.
 */
export function checkGlobalQuotaFitsVolume(quotaBytes: number, domainCount: number, volumeSizeGib: number): Problem | undefined {
  const volumeBytes = volumeSizeGib * 1024 ** 3;
  const allowed = Math.floor(volumeBytes * UPLOADS_MAX_SHARE_OF_VOLUME);
  const total = quotaBytes * domainCount;
  if (total <= allowed) return undefined;
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1).replace(/\.0$/, '')} GiB`;
  const times = domainCount === 1 ? '' : ` × ${domainCount} domains (one upload service each) = ${gib(total)}`;
  return {
    problem: `${gib(quotaBytes)} of uploads${times} is more than the ${volumeSizeGib} GiB data volume (droplet.volumeSizeGib) can hold beside messages and backups: uploads may take at most ${UPLOADS_MAX_SHARE_OF_VOLUME * 100}% of it (${gib(allowed)})`,
    fix: `lower it to at most ${Math.floor(allowed / domainCount)}, raise droplet.volumeSizeGib to at least ${Math.ceil(total / (1024 ** 3 * UPLOADS_MAX_SHARE_OF_VOLUME))}, or leave it unset to derive it from the volume`,
  };
}

// ---------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------

/** Where DigitalOcean sends an alert: an e-mail address (of the account or a team member). */
export function checkAlertEmail(value: unknown): Problem | undefined {
  // A `mailto:` URI is what `contacts` take; here DigitalOcean wants the bare address.
  if (typeof value === 'string' && /^mailto:/i.test(value)) {
    return { problem: 'not an e-mail address but a mailto: URI', fix: `write the address alone: "${value.replace(/^mailto:/i, '')}"` };
  }
  if (checkEmail(value)) {
    return { problem: 'not an e-mail address', fix: 'give an address of your DigitalOcean account or team, such as "ops@example.net"' };
  }
  return undefined;
}

/** The list of alert recipients: DigitalOcean rejects an alert that notifies nobody. */
export function checkAlertEmails(value: unknown): Problem | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return { problem: 'alerts need at least one e-mail address to go to', fix: 'write alerts: { emails: ["ops@example.net"] }, or leave alerts out to have none' };
  }
  return undefined;
}

/** A Slack incoming webhook, the only kind of URL DigitalOcean posts alerts to. */
export function checkSlackWebhookUrl(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || !/^https:\/\/hooks\.slack\.com\/[\x21-\x7e]+$/.test(value)) {
    return {
      problem: 'not a Slack incoming webhook (https://hooks.slack.com/…)',
      fix: 'copy the webhook URL from the Slack app\'s "Incoming Webhooks" page, e.g. "https://hooks.slack.com/services/T000/B000/XXXX"',
    };
  }
  return undefined;
}

/** The Slack channel named in the alert. */
export function checkSlackChannel(value: unknown): Problem | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    return { problem: 'the Slack channel must be named', fix: 'write the channel the webhook posts to, e.g. "ops-alerts"' };
  }
  return undefined;
}

/**
 * Memory, CPU and disk alerts are computed from what DigitalOcean's metrics agent reports: without
 * the agent they would never fire, which is worse than having none. Not switched on silently: the
 * user turned it off, and installing an agent on their droplet is theirs to decide.
 */
export function checkAlertsNeedMonitoring(alertsDeclared: boolean, monitoring: unknown): Problem | undefined {
  if (alertsDeclared && monitoring === false) {
    return {
      problem: 'alerts watch memory, CPU and disk through DigitalOcean\'s metrics agent, which droplet.monitoring = false leaves out, so they would never fire',
      fix: 'set droplet.monitoring to true (the default), or leave alerts out',
    };
  }
  return undefined;
}
