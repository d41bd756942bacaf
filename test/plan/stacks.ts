/** Stacks for the plan tests, synthesized as `cdktf synth` synthesizes them. */
import { App } from 'cdktf';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { XmppStack, XmppStackProps } from '../../lib/cdktf';
import { XmppServiceSpec } from '../../lib/core/spec';
import { ResourceChange } from '../support/terraform/harness';

/** Stack props besides the spec, e.g. `protectVolume: false` for a plan that may replace the volume. */
export type StackOptions = Omit<XmppStackProps, 'spec' | 'writeReviewFiles'>;

/** cdk.tf.json of an `XmppStack` for `spec`. */
export function synthesizeStack(spec: XmppServiceSpec, options: StackOptions = {}): { [key: string]: any } {
  const outdir = mkdtempSync(join(tmpdir(), 'xmpp-plan-synth-'));
  try {
    const app = new App({ outdir, stackTraces: false });
    new XmppStack(app, 'plan', { ...options, spec, writeReviewFiles: false });
    app.synth();
    return JSON.parse(readFileSync(join(outdir, 'stacks', 'plan', 'cdk.tf.json'), 'utf8'));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The service the day-2 tests apply and change: two domains in a region with reserved IPv6. The
 * upgrade test's fixture was synthesized from it with the former DNS layout.
 */
export const TWO_DOMAINS: XmppServiceSpec = {
  domains: ['example.net', 'example.org'],
  admins: ['admin@example.net'],
  acme: { email: 'hostmaster@example.net' },
  droplet: { region: 'ams3', size: 's-1vcpu-1gb', sshKeyFingerprints: ['3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa'] },
  adminSourceCidrs: ['203.0.113.0/24'],
};

/** Engines the plan tests run, or why none can. */
export const NO_ENGINE = 'neither terraform nor tofu is on PATH (this machine kind ships terraform 1.11 at /usr/local/bin; elsewhere install OpenTofu or Terraform)';

/** Changes as `<actions> <type>[<key>]`, sorted: records by their key, zones (one resource each) by their name. */
export function changeKinds(changes: readonly ResourceChange[]): string[] {
  return changes
    .map((c) => {
      const key = c.type === 'digitalocean_domain' ? (c.change.after ?? c.change.before)?.name : c.index;
      return `${c.change.actions.join('+')} ${c.type}${key !== undefined ? `[${String(key)}]` : ''}`;
    })
    .sort();
}
