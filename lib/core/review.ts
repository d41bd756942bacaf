/**
 * The files a reviewer reads in a pull request: every file the droplet receives, at its real path
 * under `host/`, with the per-domain files both as templates and, but for host-meta, as the host
 * expands them; the redacted user_data; and the zone files. With a dedicated TURN droplet, its
 * redacted user_data and files (under `turn-host/`) as well; and xmpp-doctor's plan. Both adapters write this same map.
 */
import { RenderedHost, renderExpandedFiles, renderProsodyHost, renderTurnHost } from './cloud-init';
import { bundleManifest } from './config-bundle';
import { DOCTOR_PLAN_FILE, renderDoctorPlan } from './doctor-plan';
import { HOST_META_ROOT } from './paths';
import { hasDedicatedTurnDroplet, ResolvedSpec } from './spec';
import { renderZoneFiles, ZoneAddresses } from './zone';

/** The review file naming the configuration bundle (`configDelivery.channel: "spaces"`): its hash and MANIFEST. */
export const REVIEW_BUNDLE_FILE = 'config-bundle.txt';

/** The review file holding every zone, one after another, each from its `$ORIGIN`. */
export const REVIEW_ZONES_FILE = 'dns/zones.txt';

/**
 * `{ relative path: content }`, in a stable order. Never contains a secret. `rendered` are the hosts
 * as already rendered for the droplets (a service plan has them); rendered here when not given.
 */
export function renderReviewFiles(
  spec: ResolvedSpec,
  addresses?: ZoneAddresses,
  rendered: { readonly host: RenderedHost; readonly expandedFiles?: Record<string, string>; readonly turnHost?: RenderedHost } = {
    host: renderProsodyHost(spec),
    turnHost: hasDedicatedTurnDroplet(spec) ? renderTurnHost(spec) : undefined,
  },
): Record<string, string> {
  const files: Record<string, string> = {};
  files['user-data.yaml'] = rendered.host.reviewUserData;
  for (const file of rendered.host.files) {
    if (!file.sensitive) files[`host${file.path}`] = file.content;
  }
  // What the host expands from the templates, as Prosody, nginx and certbot will read it. Not the
  // host-meta documents: one template shows them all, and a thousand domains would mean two
  // thousand near-identical files in every pull request.
  const expanded = rendered.expandedFiles ?? renderExpandedFiles(spec, { hostMeta: false, files: rendered.host.files });
  for (const [path, content] of Object.entries(expanded)) if (!path.startsWith(`${HOST_META_ROOT}/`)) files[`host${path}`] = content;
  if (rendered.turnHost) {
    files['turn-user-data.yaml'] = rendered.turnHost.reviewUserData;
    for (const file of rendered.turnHost.files) {
      if (!file.sensitive) files[`turn-host${file.path}`] = file.content;
    }
  }
  // All zones in one file: with a thousand domains, a thousand small files cost more to write than
  // everything else a synthesis does; a zone's block (from its $ORIGIN) reads the same either way.
  files[REVIEW_ZONES_FILE] = Object.values(renderZoneFiles(spec, addresses)).join('\n');
  // What xmpp-doctor checks the live service against (`xmpp-doctor --plan <this directory>`).
  files[DOCTOR_PLAN_FILE] = renderDoctorPlan(spec, rendered.host.bundle?.sha256);
  if (rendered.host.bundle) {
    // What the stack writes into the bucket, and the droplet applies in place: the files above, less
    // user_data's, in one archive named by its hash.
    files[REVIEW_BUNDLE_FILE] = `sha256 ${rendered.host.bundle.sha256}\n${bundleManifest(rendered.host.bundle.files)}`;
  }
  return files;
}
