/**
 * The scripts that run on the droplets are plain files in this package (lib/host/*.sh, copied to
 * dist/lib/host by the build), so that they are read, reviewed and shellchecked as what they are.
 * They are the same for every deployment: what varies is in host.env and the templates beside them.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

/** lib/host next to lib/core: the same from the sources (lib/core) and from the build (dist/lib/core). */
const SCRIPTS_DIR = join(__dirname, '..', 'host');

/**
 * The text of `lib/host/<name>`. Read on every call, not kept: a plan reads each script once, a few
 * kilobytes in well under a millisecond, and the core keeps no state between plans.
 */
export function scriptFile(name: string): string {
  try {
    return readFileSync(join(SCRIPTS_DIR, name), 'utf8');
  } catch (e) {
    throw new Error(`xmpp-constructs: cannot read its host script ${join(SCRIPTS_DIR, name)} (${(e as Error).message}); the package is incomplete: lib/host must be installed next to lib/core`);
  }
}
