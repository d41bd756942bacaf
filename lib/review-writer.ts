/**
 * Writes the review files (`renderReviewFiles`) to disk for both adapters. Node-only, so it lives
 * outside the pure core.
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import { dirname, join, relative, sep } from 'path';

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
  const made = new Set<string>();
  for (const [path, content] of Object.entries(files)) {
    const target = join(directory, path);
    const parent = dirname(target);
    if (!made.has(parent)) mkdirSync(parent, { recursive: true });
    made.add(parent);
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
