/**
 * The files a reviewer reads in a pull request: every file the droplet receives, at its real path
 * under `host/`, with the per-domain files both as templates and, but for host-meta, as the host
 * expands them; the redacted user_data; and the zone files. With a dedicated TURN droplet, its
 * redacted user_data and files (under `turn-host/`) as well. Both adapters write this same map.
 */
import { renderCloudInit, renderExpandedFiles, renderHostFiles, renderTurnCloudInit, renderTurnHostFiles } from './cloud-init';
import { HOST_META_ROOT } from './paths';
import { hasDedicatedTurnDroplet, ResolvedSpec } from './spec';
import { renderZoneFiles, ZoneAddresses } from './zone';

/** `{ relative path: content }`, in a stable order. Never contains a secret. */
export function renderReviewFiles(spec: ResolvedSpec, addresses?: ZoneAddresses): Record<string, string> {
  const files: Record<string, string> = {};
  files['user-data.yaml'] = renderCloudInit(spec, { redactSecrets: true });
  for (const file of renderHostFiles(spec)) {
    if (!file.sensitive) files[`host${file.path}`] = file.content;
  }
  // What the host expands from the templates, as Prosody, nginx and certbot will read it. Not the
  // host-meta documents: one template shows them all, and a thousand domains would mean two
  // thousand near-identical files in every pull request.
  for (const [path, content] of Object.entries(renderExpandedFiles(spec))) {
    if (!path.startsWith(`${HOST_META_ROOT}/`)) files[`host${path}`] = content;
  }
  if (hasDedicatedTurnDroplet(spec)) {
    files['turn-user-data.yaml'] = renderTurnCloudInit(spec, { redactSecrets: true });
    for (const file of renderTurnHostFiles(spec)) {
      if (!file.sensitive) files[`turn-host${file.path}`] = file.content;
    }
  }
  for (const [name, content] of Object.entries(renderZoneFiles(spec, addresses))) files[`dns/${name}`] = content;
  return files;
}
