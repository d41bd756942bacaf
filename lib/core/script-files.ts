/**
 * The scripts that run on the droplets are plain files in this package (lib/host/*.sh, copied to
 * dist/lib/host by the build), so that they are read, reviewed and shellchecked as what they are.
 * They are the same for every deployment: what varies is in host.env and the templates beside them.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

/** lib/host next to lib/core: the same from the sources (lib/core) and from the build (dist/lib/core). */
const SCRIPTS_DIR = join(__dirname, '..', 'host');

const byName = new Map<string, string>();

/** The text of `lib/host/<name>`, read once per process. */
export function scriptFile(name: string): string {
  let text = byName.get(name);
  if (text === undefined) {
    try {
      text = readFileSync(join(SCRIPTS_DIR, name), 'utf8');
    } catch (e) {
      throw new Error(`xmpp-constructs: cannot read its host script ${join(SCRIPTS_DIR, name)} (${(e as Error).message}); the package is incomplete: lib/host must be installed next to lib/core`);
    }
    byName.set(name, text);
  }
  return text;
}
