/**
 * This package's own Prosody modules (lib/host/mod_*.lua) for a Prosody the tests start outside a
 * droplet: user_data writes them to PROSODY_PLUGIN_DIR, which the rendered configuration names in
 * `plugin_paths`; here they are copied into a directory of the test's own.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'fs';
import { join } from 'path';
import { PROSODY_PLUGIN_DIR } from '../../lib/core/paths';

const HOST_DIR = join(__dirname, '..', '..', 'lib', 'host');

/** `cfg` with this package's Prosody modules copied to `dir/modules`, and plugin_paths naming it. */
export function withPackageModules(cfg: string, dir: string): string {
  const modules = join(dir, 'modules');
  mkdirSync(modules, { recursive: true });
  for (const file of readdirSync(HOST_DIR).filter((f) => /^mod_.*\.lua$/.test(f))) copyFileSync(join(HOST_DIR, file), join(modules, file));
  return cfg.replaceAll(`"${PROSODY_PLUGIN_DIR}"`, `"${modules}"`);
}
