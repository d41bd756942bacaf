/**
 * xmpp-doctor: checks a live deployment from outside against what was planned. Node-only (it
 * talks to the network), so it lives beside the pure core, never inside it; the core's
 * `planDoctorChecks` says what to check.
 */
import { promises as dns } from 'dns';
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import type { AddressSource } from '../core/dns';
import { DOCTOR_PLAN_FILE, DOCTOR_PLAN_FORMAT, DoctorPlan, DoctorPlanFile, expandDoctorPlan, planDoctorChecks } from '../core/doctor-plan';
import { resolveSpec } from '../core/validate';
import { checkBackup, SpacesCredentials } from './backup-check';
import { checkBundle } from './bundle-check';
import { checkDns } from './dns-checks';
import { checkHostMeta } from './http-checks';
import { concurrencyLimit, DoctorContext } from './net';
import { checkPorts } from './port-checks';
import { CheckGroup, CheckResult, DoctorReport, summarize } from './report';
import { checkTls } from './tls-checks';
import { checkTurn, DoctorAccount } from './turn-checks';
import { checkVolume } from './volume-check';

export type { CheckGroup, CheckResult, CheckStatus, DoctorReport } from './report';
export type { DoctorAccount } from './turn-checks';
export type { AddressSource } from '../core/dns';
export { DOCTOR_PLAN_FORMAT } from '../core/doctor-plan';
export type { DoctorPlan, PlannedPort, PlannedRecord, PlannedTlsEndpoint, TlsMode } from '../core/doctor-plan';
export { formatReport, EXIT } from './report';
export { parseBundleStatus } from './bundle-check';
export { parseVolumeStatus } from './volume-check';
export type { VolumeStatus } from './volume-check';
export type { BundleStatus } from './bundle-check';
export { parseBackupStatus, spacesCredentialsFrom } from './backup-check';
export type { BackupState, BackupStatus, SpacesCredentials } from './backup-check';

/** A doctor failure that is the user's to fix (a bad argument, an unreadable plan): no stack trace. */
export class DoctorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DoctorUsageError';
  }
}

export interface DoctorOptions {
  /** DNS servers to ask (`ip` or `ip:port`) instead of the system's. @default - the system's resolver */
  readonly resolvers?: readonly string[];
  /** PEM text of CAs to trust besides the system's roots. @default - none */
  readonly extraCa?: readonly string[];
  /** The deployed addresses, where known (`tofu output`), to compare A/AAAA records with. @default - records are compared with each other */
  readonly addresses?: Partial<Record<AddressSource, string>>;
  /** An account for the TURN allocation check. @default - that check is skipped */
  readonly account?: DoctorAccount;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default 14 */
  readonly minValidDays?: number;
  /** Only these groups of checks. @default - all */
  readonly only?: readonly CheckGroup[];
  /** @default - the clock */
  readonly now?: () => Date;
  /** Network operations (connections, handshakes, requests) at a time. @default 16 */
  readonly parallel?: number;
  /** The configuration bundle the host must run (its SHA-256). @default - the plan's */
  readonly bundle?: string;
  /**
   * Wait up to this long for the host to run the planned bundle before any other check, so checks
   * of what the change brings (a new domain's records and certificate) do not race it.
   * @default 0 (look once, with the other checks)
   */
  readonly waitBundleSeconds?: number;
  /**
   * A Spaces key that may read the backup bucket, to see the newest snapshot there (see
   * `spacesCredentialsFrom`). Read access is enough; the repository password is never needed.
   * @default - the bucket is not looked at; the host's own status still is
   */
  readonly spacesCredentials?: SpacesCredentials;
}

/** Run every check of `plan` and summarize. Never throws for what it finds; only for bad options. */
export async function runDoctor(plan: DoctorPlan, options: DoctorOptions = {}): Promise<DoctorReport> {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
  if (options.resolvers && options.resolvers.length > 0) {
    try {
      resolver.setServers([...options.resolvers]);
    } catch (error) {
      throw new DoctorUsageError(`--resolver ${options.resolvers.join(',')}: ${(error as Error).message}. Fix: give IP addresses, e.g. --resolver 1.1.1.1 or --resolver [2001:db8::53]:53`);
    }
  }
  const ctx: DoctorContext = {
    resolver,
    extraCa: options.extraCa ?? [],
    timeoutMs: options.timeoutMs ?? 5000,
    minValidDays: options.minValidDays ?? 14,
    now: options.now ?? (() => new Date()),
    limit: concurrencyLimit(options.parallel ?? 16),
  };
  const wanted = (group: CheckGroup) => options.only === undefined || options.only.includes(group);
  // The bundle first, when waiting for it: what the others check may arrive with it.
  const bundle = wanted('bundle') ? await checkBundle(ctx, plan, { expected: options.bundle, waitSeconds: options.waitBundleSeconds }) : [];
  const groups: Promise<CheckResult[]>[] = [
    Promise.resolve(bundle),
    wanted('dns') ? checkDns(ctx, plan, options.addresses) : Promise.resolve([]),
    wanted('tls') ? checkTls(ctx, plan) : Promise.resolve([]),
    wanted('http') ? checkHostMeta(ctx, plan) : Promise.resolve([]),
    wanted('ports') ? checkPorts(ctx, plan) : Promise.resolve([]),
    wanted('turn') ? checkTurn(ctx, plan, options.account) : Promise.resolve([]),
    wanted('volume') ? checkVolume(ctx, plan) : Promise.resolve([]),
    wanted('backup') ? checkBackup(ctx, plan, options.spacesCredentials) : Promise.resolve([]),
  ];
  return summarize((await Promise.all(groups)).flat());
}

/** Parse and check a plan file's text. */
export function parseDoctorPlan(text: string, source: string): DoctorPlan {
  let plan: DoctorPlanFile;
  try {
    plan = JSON.parse(text) as DoctorPlanFile;
  } catch (error) {
    throw new DoctorUsageError(`${source} is not JSON (${(error as Error).message}). Fix: point --plan at the doctor-plan.json the synthesis wrote`);
  }
  if (plan === null || typeof plan !== 'object' || plan.format !== DOCTOR_PLAN_FORMAT) {
    throw new DoctorUsageError(`${source} is not a doctor plan of format ${DOCTOR_PLAN_FORMAT} (format: ${JSON.stringify((plan as { format?: unknown } | null)?.format)}). Fix: synthesize again with this version of xmpp-constructs`);
  }
  return expandDoctorPlan(plan);
}

/**
 * The plan at `path`: a doctor-plan.json, or a directory holding exactly one below it (a review
 * directory, a synthesized stack, cdktf.out).
 */
export function loadDoctorPlan(path: string): DoctorPlan {
  if (!existsSync(path)) throw new DoctorUsageError(`--plan ${path}: no such file or directory. Fix: synthesize first (npm run synth / cdktf synth), then give the stack's directory`);
  if (statSync(path).isFile()) return parseDoctorPlan(readFileSync(path, 'utf8'), path);
  const found = findPlans(path, 6);
  if (found.length === 0) throw new DoctorUsageError(`--plan ${path}: no ${DOCTOR_PLAN_FILE} below it. Fix: synthesize with review files on (the default), or give the file itself`);
  if (found.length > 1) throw new DoctorUsageError(`--plan ${path}: ${found.length} plans below it (${found.join(', ')}). Fix: give one of them`);
  return parseDoctorPlan(readFileSync(found[0], 'utf8'), found[0]);
}

function findPlans(directory: string, depth: number): string[] {
  const here = join(directory, DOCTOR_PLAN_FILE);
  if (existsSync(here)) return [here];
  if (depth === 0) return [];
  return readdirSync(directory, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
    .flatMap((e) => findPlans(join(directory, e.name), depth - 1));
}

/**
 * The plan of the library's defaults for `domains`, for `xmpp-doctor example.net` without a
 * synthesized stack: what xmpp-constructs would have deployed with nothing but the domain set.
 */
export function defaultDoctorPlan(domains: readonly string[]): DoctorPlan {
  try {
    return planDoctorChecks(resolveSpec({ domains, admins: [`admin@${domains[0]}`], acme: { email: `hostmaster@${domains[0]}` } }));
  } catch (error) {
    throw new DoctorUsageError(`${domains.join(' ')}: ${(error as Error).message}`);
  }
}

/** `plan` narrowed to the names in or below `domains`. */
export function narrowPlan(plan: DoctorPlan, domains: readonly string[]): DoctorPlan {
  const unknown = domains.filter((d) => !plan.domains.includes(d));
  if (unknown.length > 0) throw new DoctorUsageError(`${unknown.join(', ')}: not in the plan, which serves ${plan.domains.slice(0, 5).join(', ')}${plan.domains.length > 5 ? ', …' : ''}. Fix: name a planned domain, or leave the domains out`);
  const within = (name: string) => domains.some((d) => name === d || name.endsWith(`.${d}`));
  return {
    ...plan,
    domains: plan.domains.filter(within),
    records: plan.records.filter((r) => within(r.name)),
    tlsEndpoints: plan.tlsEndpoints.filter((e) => domains.includes(e.certificate) || within(e.name)),
    hostMeta: plan.hostMeta.filter((h) => within(h.domain)),
    openTcpPorts: plan.openTcpPorts.filter((p) => within(p.host)),
    closedTcpPorts: plan.closedTcpPorts.filter((p) => within(p.host)),
    ...(plan.turn && (within(plan.turn.host) || domains.includes(plan.turn.credentialsFrom)) ? { turn: plan.turn } : { turn: undefined }),
  };
}
