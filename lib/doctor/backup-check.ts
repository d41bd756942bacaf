/**
 * Whether the off-host backups (`offsiteBackups`) are fresh, seen two ways:
 * - what the host says: it publishes the outcome of its last run at
 *   https://<primary domain>/.well-known/xmpp-constructs/backup (not secret: a state, times, a
 *   snapshot ID and a line of detail). Always checked.
 * - what the bucket holds: restic writes one object per snapshot under
 *   `<repositoryPrefix>/snapshots/<64 hex>`, and the object's LastModified is when the snapshot was
 *   written. Listing them needs only a key that may read the bucket, never the repository password,
 *   and does not take the host's word for it: a host that lost its volume, or whose clock or status
 *   timer is wrong, cannot make a stale repository look fresh. Checked when a key is given.
 */
import * as aws4 from 'aws4';
import * as https from 'https';
import { basename } from 'path';
import * as tls from 'tls';
import { OFFSITE_SERVICE } from '../core/backup';
import type { DoctorPlan } from '../core/doctor-plan';
import { getHttps } from './http-checks';
import { allAddresses, DoctorContext, message, withDeadline } from './net';
import { CheckResult, CheckStatus } from './report';

export type PlannedOffsiteBackups = NonNullable<DoctorPlan['offsiteBackups']>;

// ------------------------------------------------------------------------------------------------
// What the host says.
// ------------------------------------------------------------------------------------------------

/**
 * How the host's last off-host backup ended: `refused` when the repository holds another data
 * volume's backups (the operator restores from it or starts a new history), `never` before the first.
 */
export type BackupState = 'ok' | 'failed' | 'refused' | 'never';
const STATES: readonly BackupState[] = ['ok', 'failed', 'refused', 'never'];

/** The host's status document, read. Times are seconds since 1970, 0 for "never". */
export interface BackupStatus {
  readonly state: BackupState;
  /** When the last backup succeeded. */
  readonly lastSuccess: number;
  /** When the last backup was tried, whatever its outcome. */
  readonly lastAttempt: number;
  /** restic's short snapshot ID; absent when the host wrote `-`. */
  readonly snapshot?: string;
  /** One line of free text from the host, possibly empty. */
  readonly detail: string;
}

/**
 * The status document: `key value` lines (`state`, `last-success`, `last-attempt`, `snapshot`,
 * `detail`). Undefined when it is not one (an HTML page, a truncated file): a state the doctor does
 * not know or a time that is not a number must not pass for a fresh backup. Unknown keys are
 * ignored, so a later host may say more.
 */
export function parseBackupStatus(text: string): BackupStatus | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z][a-z-]*)(?: (.*))?$/.exec(line.replace(/\r$/, ''));
    if (m && !fields.has(m[1])) fields.set(m[1], (m[2] ?? '').trim());
  }
  const state = fields.get('state') as BackupState | undefined;
  const time = (key: string): number | undefined => {
    const value = fields.get(key);
    return value !== undefined && /^\d{1,12}$/.test(value) ? Number(value) : undefined;
  };
  const lastSuccess = time('last-success');
  const lastAttempt = time('last-attempt');
  if (state === undefined || !STATES.includes(state) || lastSuccess === undefined || lastAttempt === undefined) return undefined;
  const snapshot = fields.get('snapshot');
  return {
    state,
    lastSuccess,
    lastAttempt,
    ...(snapshot && snapshot !== '-' ? { snapshot } : {}),
    detail: fields.get('detail') ?? '',
  };
}

/** A check's outcome, before it gets its id, group and title. */
export interface Verdict {
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

const UNIT = basename(OFFSITE_SERVICE, '.service');
/** Where the reason for a failed or missed backup is: the unit's state and its log, on the host. */
export const LOOK_ON_THE_HOST = `on the host, \`systemctl status ${UNIT}\` says when it last ran and how it ended, \`journalctl -u ${UNIT}\` shows restic's output (\`sudo systemctl start ${UNIT}\` runs it now)`;

/** `seconds` as people say it: "just now", "12 min", "5 h", "3 days". */
export function formatAge(seconds: number): string {
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} days ago`;
}

/**
 * The verdict on the host's answer (its HTTP status and body) at `now`: pass for a success within
 * `freshHours`; fail for a failed or refused run, or a success older than that; warn when there is
 * no backup yet, or no document (a host of an earlier release, or one still provisioning).
 */
export function judgeBackupStatus(httpStatus: number, body: string, now: Date, planned: Pick<PlannedOffsiteBackups, 'freshHours' | 'bucket' | 'repositoryPrefix'>): Verdict {
  const repository = `${planned.bucket}/${planned.repositoryPrefix}`;
  if (httpStatus === 404) {
    return {
      status: 'warn',
      detail: 'the host publishes no backup status (HTTP 404)',
      fix: 'a host provisioned by a release of xmpp-constructs without offsiteBackups publishes none: deploy the stack with this release; a host still provisioning publishes it once first boot is done',
    };
  }
  if (httpStatus !== 200) {
    return { status: 'warn', detail: `the host answered HTTP ${httpStatus}`, fix: 'nginx on the primary domain serves the status document: on the host, `sudo nginx -t` and the nginx error log say why it does not' };
  }
  const status = parseBackupStatus(body);
  if (status === undefined) {
    return { status: 'warn', detail: `the host's answer is not a backup status (${JSON.stringify(body.slice(0, 60))})`, fix: 'provision the host with this release of xmpp-constructs' };
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const age = (t: number) => formatAge(Math.max(0, nowSeconds - t));
  const lastGood = status.lastSuccess > 0 ? `the last success was ${age(status.lastSuccess)}` : 'no backup has ever succeeded';
  const quoted = status.detail ? `: ${status.detail}` : '';
  switch (status.state) {
    case 'refused':
      return {
        status: 'fail',
        detail: `the last backup (${age(status.lastAttempt)}) refused to write${quoted}; ${lastGood}`,
        fix: `the repository ${repository} holds the backups of another data volume, and writing this volume's backups there would mix two histories: if this volume should hold that data, restore it (on the host, \`sudo xmpp-constructs-backup restore --from spaces\`); if not, keep those backups and start this volume's own history beside them (on the host, \`sudo xmpp-constructs-backup offsite --new-history\`)`,
      };
    case 'failed':
      return { status: 'fail', detail: `the last backup (${age(status.lastAttempt)}) failed${quoted}; ${lastGood}`, fix: LOOK_ON_THE_HOST };
    case 'never':
      return {
        status: 'warn',
        detail: 'the host has made no off-host backup yet',
        fix: `the first runs within a day of provisioning (the timer waits up to an hour more); ${LOOK_ON_THE_HOST}`,
      };
    case 'ok': {
      const ageSeconds = nowSeconds - status.lastSuccess;
      const what = `the last backup${status.snapshot ? ` (snapshot ${status.snapshot})` : ''} succeeded ${age(status.lastSuccess)}`;
      if (status.lastSuccess === 0) return { status: 'warn', detail: 'the host says "ok" but names no time of success', fix: 'provision the host with this release of xmpp-constructs' };
      if (ageSeconds > planned.freshHours * 3600) {
        return { status: 'fail', detail: `${what} (more than ${planned.freshHours} h): the daily backup has stopped running`, fix: LOOK_ON_THE_HOST };
      }
      return { status: 'pass', detail: what };
    }
  }
}

// ------------------------------------------------------------------------------------------------
// What the bucket holds.
// ------------------------------------------------------------------------------------------------

/** A key that may read the backup bucket, and the environment variables it came from (for messages). */
export interface SpacesCredentials {
  /** The key's ID (Spaces shows it as the "Access Key"). */
  readonly accessKeyId: string;
  /** The key's secret: it signs the requests and is never sent or printed. */
  readonly secretAccessKey: string;
  /** E.g. "XMPP_DOCTOR_SPACES_KEY and XMPP_DOCTOR_SPACES_SECRET". */
  readonly source: string;
}

/** The environment variables the key is read from, in order of preference. */
export const SPACES_KEY_VARIABLES = [
  // The doctor's own, so that a read-only key can be given to it alone.
  { key: 'XMPP_DOCTOR_SPACES_KEY', secret: 'XMPP_DOCTOR_SPACES_SECRET' },
  // What the DigitalOcean Terraform provider reads too: often set already where the stack is deployed.
  { key: 'SPACES_ACCESS_KEY_ID', secret: 'SPACES_SECRET_ACCESS_KEY' },
] as const;

/**
 * The key from `env`, or undefined when none is set. Throws (a message naming the variable and the
 * fix) when the doctor's own pair is set by half: that is a mistake, not a wish to skip the check.
 * A half-set provider pair is someone else's business, and ignored.
 */
export function spacesCredentialsFrom(env: NodeJS.ProcessEnv): SpacesCredentials | undefined {
  const [own, provider] = SPACES_KEY_VARIABLES;
  const ownKey = env[own.key];
  const ownSecret = env[own.secret];
  if (ownKey || ownSecret) {
    if (!ownKey || !ownSecret) {
      const [set, unset] = ownKey ? [own.key, own.secret] : [own.secret, own.key];
      throw new Error(`${set} is set but ${unset} is not. Fix: export both, the ID and the secret of a Spaces key that may read the backup bucket`);
    }
    return { accessKeyId: ownKey, secretAccessKey: ownSecret, source: `${own.key} and ${own.secret}` };
  }
  const providerKey = env[provider.key];
  const providerSecret = env[provider.secret];
  if (providerKey && providerSecret) return { accessKeyId: providerKey, secretAccessKey: providerSecret, source: `${provider.key} and ${provider.secret}` };
  return undefined;
}

/** A snapshot object: restic's full snapshot ID, and when the object was written. */
export interface SnapshotObject {
  readonly id: string;
  readonly written: Date;
}

/** A failed S3 request: its HTTP status and S3's error code, when the body names one. */
export class SpacesError extends Error {
  constructor(readonly status: number, readonly code: string | undefined, text: string) {
    super(text);
    this.name = 'SpacesError';
  }
}

/** One page of a ListObjectsV2 answer. */
export interface ListingPage {
  readonly objects: readonly { readonly key: string; readonly lastModified: string }[];
  readonly truncated: boolean;
  readonly nextToken?: string;
}

const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name]);

const element = (xml: string, name: string): string | undefined => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
};

/**
 * The keys, times and continuation of a ListObjectsV2 answer. Minimal on purpose: these few
 * elements are all the doctor reads, and an XML library would be a dependency for them alone.
 */
export function parseListing(xml: string): ListingPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new Error(`not a ListObjectsV2 answer: ${JSON.stringify(xml.slice(0, 80))}`);
  const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({ key: element(m[1], 'Key') ?? '', lastModified: element(m[1], 'LastModified') ?? '' }));
  const truncated = element(xml, 'IsTruncated') === 'true';
  const nextToken = element(xml, 'NextContinuationToken');
  return { objects, truncated, ...(nextToken ? { nextToken } : {}) };
}

/** The snapshot objects among a listing's: keys `…/snapshots/<64 hex>` with a readable time. */
export function snapshotsOf(objects: ListingPage['objects']): SnapshotObject[] {
  return objects.flatMap(({ key, lastModified }) => {
    const id = /snapshots\/([0-9a-f]{64})$/.exec(key)?.[1];
    const written = new Date(lastModified);
    return id !== undefined && !Number.isNaN(written.getTime()) ? [{ id, written }] : [];
  });
}

/** Pages followed at most: a thousand snapshots each, far beyond any retention; a server repeating its token ends here. */
const MAX_PAGES = 100;
/** A page is some 300 bytes a snapshot; whatever answers larger is not a listing. */
const MAX_BODY = 8 * 1024 * 1024;

/**
 * Every snapshot object of the repository, listed with ListObjectsV2 (path-style, the way restic
 * reaches Spaces) and signed with AWS Signature V4. The signature is dated by the real clock, not
 * `ctx.now`: Spaces refuses requests more than 15 minutes off. TLS is verified, trusting the
 * system's roots and --ca-file's: the request carries a signature made with the key.
 */
export async function listSnapshots(ctx: DoctorContext, planned: Pick<PlannedOffsiteBackups, 'endpoint' | 'region' | 'bucket' | 'repositoryPrefix'>, credentials: SpacesCredentials): Promise<SnapshotObject[]> {
  const endpoint = new URL(planned.endpoint);
  const prefix = `${planned.repositoryPrefix}/snapshots/`;
  const snapshots: SnapshotObject[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = [
      'list-type=2',
      `prefix=${encodeURIComponent(prefix)}`,
      ...(token !== undefined ? [`continuation-token=${encodeURIComponent(token)}`] : []),
    ].join('&');
    const xml = await ctx.limit(() => signedGet(ctx, endpoint, `/${encodeURIComponent(planned.bucket)}?${query}`, planned.region, credentials));
    const listing = parseListing(xml);
    snapshots.push(...snapshotsOf(listing.objects));
    if (!listing.truncated) return snapshots;
    if (listing.nextToken === undefined || listing.nextToken === token) throw new Error('the listing is truncated but names no next page');
    token = listing.nextToken;
  }
  throw new Error(`more than ${MAX_PAGES} pages of snapshots; the doctor stops there`);
}

function signedGet(ctx: DoctorContext, endpoint: URL, path: string, region: string, credentials: SpacesCredentials): Promise<string> {
  const signed = aws4.sign({
    service: 's3',
    region,
    method: 'GET',
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path,
    headers: { Accept: 'application/xml' },
  }, { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey });
  const request = new Promise<string>((resolve, reject) => {
    const req = https.request({
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : 443,
      path,
      method: 'GET',
      headers: signed.headers,
      ...(ctx.extraCa.length > 0 ? { ca: [...tls.rootCertificates, ...ctx.extraCa] } : {}),
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
        else res.destroy(new Error(`the answer is larger than ${MAX_BODY} bytes`));
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status === 200) resolve(body);
        else reject(new SpacesError(status, element(body, 'Code'), `HTTP ${status}${element(body, 'Code') ? ` ${element(body, 'Code')}` : ''}${element(body, 'Message') ? `: ${element(body, 'Message')}` : ''}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withDeadline(request, ctx.timeoutMs, `GET ${endpoint.origin}${path.split('?')[0]}`);
}

/** The verdict on the snapshots found at `now`: the newest must be younger than `freshHours`. */
export function judgeSnapshots(snapshots: readonly SnapshotObject[], now: Date, planned: Pick<PlannedOffsiteBackups, 'freshHours' | 'bucket' | 'repositoryPrefix'>): Verdict {
  const repository = `${planned.bucket}/${planned.repositoryPrefix}`;
  if (snapshots.length === 0) {
    return {
      status: 'fail',
      detail: `no snapshot in ${repository}`,
      fix: `the host writes the first within a day of provisioning, into the bucket and folder named here; ${LOOK_ON_THE_HOST}`,
    };
  }
  const newest = snapshots.reduce((a, b) => (b.written > a.written ? b : a));
  const ageSeconds = Math.max(0, Math.floor((now.getTime() - newest.written.getTime()) / 1000));
  const detail = `the newest of ${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}, ${newest.id.slice(0, 8)}, was written ${formatAge(ageSeconds)}`;
  if (ageSeconds > planned.freshHours * 3600) {
    return { status: 'fail', detail: `${detail} (more than ${planned.freshHours} h): the daily backup has stopped reaching the bucket`, fix: LOOK_ON_THE_HOST };
  }
  return { status: 'pass', detail };
}

/** The verdict on a listing that failed: what the answer means for the key, the bucket or the network. */
export function judgeListingError(error: unknown, planned: Pick<PlannedOffsiteBackups, 'endpoint' | 'bucket'>, credentials: SpacesCredentials): Verdict {
  if (error instanceof SpacesError) {
    if (error.status === 403) {
      const why = error.code === 'InvalidAccessKeyId' ? 'Spaces knows no such key'
        : error.code === 'SignatureDoesNotMatch' ? 'the secret does not belong to the key'
          : error.code === 'RequestTimeTooSkewed' ? 'this machine\'s clock is more than 15 minutes off'
            : `the key may not read ${planned.bucket}`;
      return {
        status: 'fail',
        detail: `${planned.endpoint} refused to list ${planned.bucket} (${error.message}): ${why}`,
        fix: error.code === 'RequestTimeTooSkewed'
          ? 'set this machine\'s clock right (NTP)'
          : `give in ${credentials.source} a Spaces key with read access to the bucket ${planned.bucket} (the repository password is not needed)`,
      };
    }
    if (error.status === 404) {
      return { status: 'fail', detail: `${planned.endpoint} has no bucket ${planned.bucket} (${error.message})`, fix: 'deploy the stack (it creates the bucket unless offsiteBackups.createBucket is false; then create it by hand), or correct offsiteBackups.bucket and offsiteBackups.spacesRegion' };
    }
    return { status: 'fail', detail: `listing ${planned.bucket} at ${planned.endpoint} failed: ${error.message}`, fix: 'try again later; DigitalOcean\'s status page says whether Spaces is troubled' };
  }
  return { status: 'fail', detail: `listing ${planned.bucket} at ${planned.endpoint} failed: ${message(error)}`, fix: `check that this machine reaches ${planned.endpoint} over HTTPS` };
}

// ------------------------------------------------------------------------------------------------
// The group.
// ------------------------------------------------------------------------------------------------

export async function checkBackup(ctx: DoctorContext, plan: DoctorPlan, credentials: SpacesCredentials | undefined): Promise<CheckResult[]> {
  const planned = plan.offsiteBackups;
  if (!planned) return [];
  const [hostSays, bucketHolds] = await Promise.all([checkBackupStatus(ctx, planned), checkSnapshots(ctx, planned, credentials)]);
  return [...hostSays, bucketHolds];
}

async function checkBackupStatus(ctx: DoctorContext, planned: PlannedOffsiteBackups): Promise<CheckResult[]> {
  const url = new URL(planned.statusUrl);
  const id = `backup:${url.host}`;
  const title = `the host's last off-host backup succeeded less than ${planned.freshHours} h ago`;
  const addresses = await allAddresses(ctx, url.hostname);
  if ('problem' in addresses) {
    return [{ id, group: 'backup', title, status: 'warn', detail: addresses.problem, fix: 'see the DNS checks; the host publishes its backup status through nginx on the primary domain' }];
  }
  return Promise.all(addresses.map(async (address): Promise<CheckResult> => {
    const at = addresses.length > 1 ? `${address}: ` : '';
    try {
      const res = await ctx.limit(() => getHttps(ctx, address, url.hostname, url.pathname, url.port ? Number(url.port) : undefined));
      const verdict = judgeBackupStatus(res.status, res.body, ctx.now(), planned);
      return { id, group: 'backup', title, ...verdict, detail: `${at}${verdict.detail}` };
    } catch (error) {
      return { id, group: 'backup', title, status: 'warn', detail: `${at}${message(error)}`, fix: 'see the TLS and port checks; the host publishes its backup status through nginx on the primary domain' };
    }
  }));
}

async function checkSnapshots(ctx: DoctorContext, planned: PlannedOffsiteBackups, credentials: SpacesCredentials | undefined): Promise<CheckResult> {
  const repository = `${planned.bucket}/${planned.repositoryPrefix}`;
  const id = `backup:${repository}`;
  const title = `the newest snapshot in ${repository} is less than ${planned.freshHours} h old`;
  if (credentials === undefined) {
    const [own] = SPACES_KEY_VARIABLES;
    return {
      id, group: 'backup', title, status: 'skip',
      detail: `no key to read the bucket: to check it, set ${own.key} and ${own.secret} to a Spaces key with read access to ${planned.bucket} (the repository password is not needed)`,
    };
  }
  try {
    const snapshots = await listSnapshots(ctx, planned, credentials);
    return { id, group: 'backup', title, ...judgeSnapshots(snapshots, ctx.now(), planned) };
  } catch (error) {
    return { id, group: 'backup', title, ...judgeListingError(error, planned, credentials) };
  }
}
