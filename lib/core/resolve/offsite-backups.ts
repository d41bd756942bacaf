/** `offsiteBackups`: the bucket, its region, the retention, and the password that encrypts the backups. */
import { DEFAULTS, defaultBackupBucket } from '../defaults';
import { checkBackupPassword, checkBucketName, checkInteger, checkSpacesRegion } from '../rules';
import { BackupRetentionSpec, OffsiteBackupsSpec, ResolvedConfigDelivery, ResolvedOffsiteBackups } from '../spec';
import { IssueCollector, isObject, section } from './collector';

/**
 * Stands in for a backup password known only at deploy time (a sensitive Terraform variable, a Pulumi
 * secret): the spec is validated and rendered with it, and the adapter puts its engine's value where
 * it stands in user_data. It passes `checkBackupPassword`, and nobody would choose it.
 */
export const DEPLOY_TIME_BACKUP_PASSWORD_PLACEHOLDER = 'xmpp-constructs-deploy-time-backup-passphrase-placeholder';

/** The off-host backups, or undefined when none are declared (then nothing is created). */
export function resolveOffsiteBackups(
  declared: OffsiteBackupsSpec | undefined,
  droplet: { readonly name: string; readonly region: string },
  configDelivery: ResolvedConfigDelivery,
  c: IssueCollector,
): ResolvedOffsiteBackups | undefined {
  if (declared === undefined) return undefined;
  if (!isObject(declared)) {
    c.check('offsiteBackups', declared, { problem: 'must be an object', fix: 'write offsiteBackups: { password: <a secret of at least 16 characters> }' });
    return undefined;
  }
  const backups = { ...DEFAULTS.offsiteBackups, ...declared };
  // The password is a secret: the message names the field and what is wrong, never the value.
  const passwordProblem = checkBackupPassword(backups.password);
  c.check('offsiteBackups.password', '(not shown: a password is a secret)', passwordProblem);
  const region = backups.spacesRegion ?? droplet.region;
  c.check(backups.spacesRegion === undefined ? 'droplet.region' : 'offsiteBackups.spacesRegion', region, checkSpacesRegion(region, backups.spacesRegion === undefined, 'offsiteBackups.spacesRegion'));
  const bucket = backups.bucket ?? defaultBackupBucket(droplet.name);
  c.check('offsiteBackups.bucket', bucket, checkBucketName(bucket));
  if (configDelivery.channel === 'spaces' && configDelivery.bucket === bucket) {
    c.check('offsiteBackups.bucket', bucket, {
      problem: 'is also configDelivery.bucket: the droplet may only read the configuration bucket, and must write its backups',
      fix: 'leave offsiteBackups.bucket out (it defaults to `<droplet.name>-backups`) or name another bucket',
    });
  }
  c.check('offsiteBackups.createBucket', backups.createBucket, typeof backups.createBucket === 'boolean' ? undefined : { problem: 'must be true or false', fix: 'write true to let the stack create the bucket, false when it exists already' });
  const keep = resolveRetention(backups.keep, c);
  return {
    password: typeof backups.password === 'string' ? backups.password : '',
    bucket,
    createBucket: backups.createBucket === true,
    region,
    repositoryPrefix: droplet.name,
    keep,
  };
}

function resolveRetention(declared: BackupRetentionSpec | undefined, c: IssueCollector): ResolvedOffsiteBackups['keep'] {
  if (declared !== undefined && !isObject(declared)) {
    c.check('offsiteBackups.keep', declared, { problem: 'must be an object', fix: 'write keep: { daily: 7, weekly: 4, monthly: 6 }' });
  }
  const keep = { ...DEFAULTS.backupRetention, ...section<BackupRetentionSpec>(declared) };
  // At least one daily snapshot, or the newest backup could be forgotten as soon as it is made.
  c.check('offsiteBackups.keep.daily', keep.daily, checkInteger(keep.daily, 1, 366));
  c.check('offsiteBackups.keep.weekly', keep.weekly, checkInteger(keep.weekly, 0, 520));
  c.check('offsiteBackups.keep.monthly', keep.monthly, checkInteger(keep.monthly, 0, 120));
  return { daily: keep.daily, weekly: keep.weekly, monthly: keep.monthly };
}
