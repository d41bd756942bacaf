/**
 * Writes the review files (`renderReviewFiles`) to disk for both adapters. Node-only, so it lives
 * outside the pure core.
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import { dirname, join, relative, resolve, sep } from 'path';

/**
 * Make `directory` hold exactly `files` (`{ relative path: content }`): write each, and delete
 * files a previous run wrote that are no longer rendered (a removed domain's zone file), so the
 * directory never shows a reviewer stale configuration. Only regular files below `directory` are
 * deleted; then emptied subdirectories.
 */
export function writeReviewFiles(directory: string, files: { readonly [path: string]: string }): void {
  const wanted = new Set(Object.keys(files).map((p) => join(p)));
  for (const path of wanted) {
    if (path.startsWith('..') || path.startsWith(sep)) throw new Error(`review file path ${JSON.stringify(path)} leaves the review directory`);
  }
  removeStale(directory, directory, wanted);
  const root = resolve(directory);
  mkdirSync(root, { recursive: true });
  const made = new Set<string>([root]);
  // One mkdir per directory, parents first: a recursive mkdir per file costs a walk each time, and
  // a synthesis writes a few dozen nested directories.
  const ensureDirectory = (path: string): void => {
    if (made.has(path) || dirname(path) === path) return;
    ensureDirectory(dirname(path));
    try {
      mkdirSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    made.add(path);
  };
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    ensureDirectory(dirname(target));
    writeFileSync(target, content);
  }
}

function removeStale(root: string, directory: string, wanted: ReadonlySet<string>): void {
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      removeStale(root, path, wanted);
      if (readdirSync(path).length === 0) rmdirSync(path);
    } else if (entry.isFile() && !wanted.has(relative(root, path))) {
      rmSync(path);
    }
  }
}
