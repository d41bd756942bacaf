/** `components`: file sharing, group chat, proxy65 and pubsub, and the names they get on each domain. */
import { DEFAULTS, defaultDailyQuotaBytesPerUser, defaultGlobalQuotaBytes } from '../defaults';
import {
  checkBoolean,
  checkComponentLabel,
  checkComponentNamePattern,
  checkDomainName,
  checkFileSizeLimit,
  checkGlobalQuotaFitsVolume,
  checkInteger,
  checkOneOf,
  checkRetention,
  checkUploadRetention,
  componentName,
  MIN_FILE_SIZE_LIMIT_BYTES,
} from '../rules';
import { ComponentKind, ComponentsSpec, ResolvedComponent, ResolvedSpec, ROOM_CREATION_POLICIES } from '../spec';
import { IssueCollector, section } from './collector';

/** An enabled component, with the field its label comes from (for messages). */
interface EnabledComponent {
  readonly kind: ComponentKind;
  readonly field: string;
  readonly label: string;
}

export interface ResolvedComponents extends Pick<ResolvedSpec, 'groupChat' | 'proxy65' | 'pubsub'> {
  /** The global quota as declared: it is derived from, or checked against, the volume later (`resolveUploadQuota`). */
  readonly fileShare: Omit<ResolvedSpec['fileShare'], 'globalQuotaBytes'> & { readonly globalQuotaBytes?: number };
  readonly namePattern: string;
  /** Whether every enabled component's label and the pattern are valid, so names can be made. */
  readonly namesValid: boolean;
  readonly enabled: readonly EnabledComponent[];
}

/** `historySeconds` (the resolved `historyExpireAfterSeconds`) is what files and room history keep unless overridden. */
export function resolveComponents(declared: ComponentsSpec | undefined, historySeconds: number, c: IssueCollector): ResolvedComponents {
  const comps = section<ComponentsSpec>(declared);
  const fs = { ...DEFAULTS.fileShare, expireAfterSeconds: historySeconds, ...(comps.fileShare ?? {}) };
  const gc = { ...DEFAULTS.groupChat, archiveExpireAfterSeconds: historySeconds, ...(comps.groupChat ?? {}) };
  const p65 = { ...DEFAULTS.proxy65, ...(comps.proxy65 ?? {}) };
  const ps = { ...DEFAULTS.pubsub, ...(comps.pubsub ?? {}) };
  c.check('components.fileShare.enabled', fs.enabled, checkBoolean(fs.enabled));
  c.check('components.groupChat.enabled', gc.enabled, checkBoolean(gc.enabled));
  c.check('components.proxy65.enabled', p65.enabled, checkBoolean(p65.enabled));
  c.check('components.pubsub.enabled', ps.enabled, checkBoolean(ps.enabled));
  const fileSizeLimitBytes = fs.fileSizeLimitBytes;
  c.check('components.fileShare.fileSizeLimitBytes', fileSizeLimitBytes, checkFileSizeLimit(fileSizeLimitBytes));
  c.check('components.fileShare.expireAfterSeconds', fs.expireAfterSeconds, checkRetention(fs.expireAfterSeconds) ?? (fs.enabled === true ? checkUploadRetention(fs.expireAfterSeconds, historySeconds, gc.enabled === true ? gc.archiveExpireAfterSeconds : undefined) : undefined));
  const dailyQuota = comps.fileShare?.dailyQuotaBytesPerUser ?? defaultDailyQuotaBytesPerUser(fileSizeLimitBytes);
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
  c.check('components.groupChat.archiveExpireAfterSeconds', gc.archiveExpireAfterSeconds, checkRetention(gc.archiveExpireAfterSeconds));
  c.check('components.groupChat.roomCreation', gc.roomCreation, checkOneOf(gc.roomCreation, ROOM_CREATION_POLICIES));

  const enabled = [
    { kind: 'fileShare' as const, field: 'components.fileShare.name', enabled: fs.enabled, label: fs.name },
    { kind: 'groupChat' as const, field: 'components.groupChat.name', enabled: gc.enabled, label: gc.name },
    { kind: 'proxy65' as const, field: 'components.proxy65.name', enabled: p65.enabled, label: p65.name },
    { kind: 'pubsub' as const, field: 'components.pubsub.name', enabled: ps.enabled, label: ps.name },
  ].filter((d) => d.enabled === true);
  for (const def of enabled) c.check(def.field, def.label, checkComponentLabel(def.label));
  const namePattern = comps.namePattern ?? DEFAULTS.components.namePattern;
  const patternProblem = checkComponentNamePattern(namePattern);
  c.check('components.namePattern', namePattern, patternProblem);

  return {
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
    namePattern,
    namesValid: enabled.every((d) => !checkComponentLabel(d.label)) && !patternProblem,
    enabled,
  };
}

/**
 * `components.fileShare.globalQuotaBytes`, which needs the volume's size and the number of domains:
 * derived from them when not declared (`defaultGlobalQuotaBytes`), checked against them when it is.
 */
export function resolveUploadQuota(
  fileShare: ResolvedComponents['fileShare'],
  volumeSizeGib: unknown,
  domainCount: number,
  c: IssueCollector,
): ResolvedSpec['fileShare'] {
  const volumeKnown = typeof volumeSizeGib === 'number' && checkInteger(volumeSizeGib, 1, 16384) === undefined;
  const size = volumeKnown ? (volumeSizeGib as number) : DEFAULTS.droplet.volumeSizeGib!;
  const declared = fileShare.globalQuotaBytes;
  if (declared === undefined) return { ...fileShare, globalQuotaBytes: defaultGlobalQuotaBytes(size, domainCount, fileShare.fileSizeLimitBytes) };
  if (fileShare.enabled === true && volumeKnown && checkInteger(declared, MIN_FILE_SIZE_LIMIT_BYTES, Number.MAX_SAFE_INTEGER) === undefined) {
    c.check('components.fileShare.globalQuotaBytes', declared, checkGlobalQuotaFitsVolume(declared, domainCount, size));
  }
  return { ...fileShare, globalQuotaBytes: declared };
}

/**
 * Each domain's component names, and any name used twice: components with each other, with a
 * served domain, or with the TURN name. Returns the components of each domain, in `names` order.
 */
export function resolveComponentHosts(
  names: readonly string[],
  components: ResolvedComponents,
  turn: { readonly enabled: boolean; readonly name: string; readonly host: string },
  c: IssueCollector,
): ResolvedComponent[][] {
  const owners = new Map<string, string>();
  names.forEach((d, i) => owners.set(d, `domains[${i}]`));
  if (turn.enabled && !checkComponentLabel(turn.name)) {
    const clash = owners.get(turn.host);
    if (clash) c.check('calls.name', turn.name, { problem: `TURN name "${turn.host}" is also ${clash}`, fix: 'choose another TURN name' });
    else owners.set(turn.host, 'calls.name');
  }
  const { namePattern } = components;
  return names.map((domain) => {
    const resolved: ResolvedComponent[] = [];
    if (!components.namesValid) return resolved;
    for (const def of components.enabled) {
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
        resolved.push({ kind: def.kind, host });
      }
    }
    return resolved;
  });
}
