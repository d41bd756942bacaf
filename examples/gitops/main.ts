/**
 * The cdktf app the GitOps workflow (./workflow.yml) synthesizes: the example service, with its
 * Terraform state in a DigitalOcean Spaces bucket instead of a local file, so that the pull-request
 * plans and the apply on main all see the same state.
 *
 *   XMPP_STATE_BUCKET=my-xmpp-state XMPP_STATE_REGION=ams3 npx ts-node --transpile-only examples/gitops/main.ts
 *
 * Synthesis needs no credentials and no network: the bucket is only contacted by `tofu init`, with
 * the Spaces keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (never written into the JSON).
 * See ./README.md.
 */
import { App, S3Backend, S3BackendConfig, TerraformStack } from 'cdktf';
// In your own project: import { XmppStack } from 'xmpp-constructs/cdktf';
import { XmppStack } from '../../lib/cdktf';
import { exampleSpec } from '../cdktf-basic/spec';

/** The stack id: the workflow's XMPP_STACK must be the same (it names cdktf.out/stacks/<id>/). */
export const STACK_ID = 'xmpp';

/** What {@link spacesBackendConfig} reads; the workflow sets them from repository variables. */
export interface StateEnvironment {
  /** Name of the Spaces bucket holding the state (required). */
  readonly XMPP_STATE_BUCKET?: string;
  /** The bucket's Spaces region, e.g. `ams3`, `fra1`, `nyc3` (required). */
  readonly XMPP_STATE_REGION?: string;
  /** Object key of the state. Default `xmpp/<stack id>.tfstate`. */
  readonly XMPP_STATE_KEY?: string;
  /** `true` (default) or `false`: whether to take OpenTofu/Terraform's S3 lock file (see README). */
  readonly XMPP_STATE_LOCKFILE?: string;
}

/** A problem with the state variables: reported as a message, without a stack trace. */
export class StateConfigError extends Error {
  override readonly name = 'StateConfigError';
}

/**
 * The S3 backend settings for a Spaces bucket, from `env`. Throws one error naming every missing or
 * malformed variable, its value and the fix, in the style of the library's spec validation.
 */
export function spacesBackendConfig(env: StateEnvironment, stackId: string = STACK_ID): { config: S3BackendConfig; useLockfile: boolean } {
  const problems: string[] = [];
  // GitHub Actions passes an unset repository variable (`${{ vars.X }}`) as an empty string, not as
  // an absent one: empty means unset, and an optional variable then takes its default.
  const bucket = (env.XMPP_STATE_BUCKET ?? '').trim();
  const region = (env.XMPP_STATE_REGION ?? '').trim();
  const lockfile = (env.XMPP_STATE_LOCKFILE ?? '').trim().toLowerCase() || 'true';
  const key = (env.XMPP_STATE_KEY ?? '').trim() || `xmpp/${stackId}.tfstate`;

  if (bucket === '') {
    problems.push('XMPP_STATE_BUCKET is not set: the Spaces bucket that holds the state. Fix: create a bucket and set XMPP_STATE_BUCKET=<its name> (in GitHub: a repository variable)');
  } else if (bucket.includes('digitaloceanspaces.com') || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    problems.push(`XMPP_STATE_BUCKET = ${JSON.stringify(bucket)}: not a bucket name (3-63 lower-case letters, digits, hyphens). Fix: give the bucket's name only, not its URL or endpoint`);
  }
  if (region === '') {
    problems.push('XMPP_STATE_REGION is not set: the bucket\'s Spaces region. Fix: set XMPP_STATE_REGION=<region>, e.g. ams3, fra1, nyc3, sfo3, sgp1 (in GitHub: a repository variable)');
  } else if (!/^[a-z]{3}[0-9]$/.test(region)) {
    problems.push(`XMPP_STATE_REGION = ${JSON.stringify(region)}: not a Spaces region slug. Fix: give the slug only, e.g. "ams3" for https://ams3.digitaloceanspaces.com`);
  }
  if (key.startsWith('/') || key.endsWith('/')) {
    problems.push(`XMPP_STATE_KEY = ${JSON.stringify(key)}: an object key neither starts nor ends with "/". Fix: e.g. "xmpp/${stackId}.tfstate"`);
  }
  if (lockfile !== 'true' && lockfile !== 'false') {
    problems.push(`XMPP_STATE_LOCKFILE = ${JSON.stringify(env.XMPP_STATE_LOCKFILE)}: must be "true" or "false". Fix: leave it unset for "true"`);
  }
  if (problems.length > 0) {
    throw new StateConfigError(`Cannot configure the state backend (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  return {
    config: {
      bucket,
      key,
      endpoints: { s3: `https://${region}.digitaloceanspaces.com` },
      // The S3 backend insists on an AWS region name; Spaces ignores it (the endpoint picks the
      // region), so any valid one does and the checks below keep it from being looked up.
      region: 'us-east-1',
      // Spaces is not AWS: there is no STS to validate keys against, no account id, no EC2 metadata
      // service, and it does not accept the flexible checksums newer AWS SDKs send by default.
      // These are the settings DigitalOcean documents for Terraform >= 1.6.3 / OpenTofu.
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipRegionValidation: true,
      skipS3Checksum: true,
      // Spaces serves virtual-hosted addressing (<bucket>.<region>.digitaloceanspaces.com), but its
      // wildcard certificate covers one label only: a name with dots needs path-style requests.
      usePathStyle: bucket.includes('.'),
    },
    useLockfile: lockfile === 'true',
  };
}

/** The example service in a stack whose state lives in Spaces. */
export function buildApp(env: StateEnvironment, outdir?: string): App {
  const { config, useLockfile } = spacesBackendConfig(env);
  // stackTraces: false keeps absolute paths of this machine out of the synthesized JSON.
  const app = new App({ stackTraces: false, outdir });
  new XmppStack(app, STACK_ID, {
    spec: exampleSpec,
    backend: (stack: TerraformStack) => {
      const backend = new S3Backend(stack, config);
      // cdktf 0.21 predates `use_lockfile` (OpenTofu >= 1.10, Terraform >= 1.10), so it goes in as
      // a raw override. The workflow's concurrency group is what serializes applies either way.
      if (useLockfile) backend.addOverride('use_lockfile', true);
      return backend;
    },
  });
  return app;
}

if (require.main === module) {
  let app: App;
  try {
    app = buildApp(process.env);
  } catch (error) {
    // A missing variable is a setup step, not a bug: say which, without a stack trace.
    if (!(error instanceof StateConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  app.synth();
}
