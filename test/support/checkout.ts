/** A copy of this checkout's working tree, for tests that run the README's commands as a user would. */
import { spawnSync } from 'child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync } from 'fs';
import { dirname, join } from 'path';

const ROOT = join(__dirname, '..', '..');

/**
 * Copies the checkout's working-tree files (`git ls-files -co --exclude-standard`, so uncommitted work
 * is included and node_modules, dist and cdktf.out are not) into `dir`; returns how many.
 */
export function copyCheckout(dir: string): number {
  const listed = spawnSync('git', ['ls-files', '-z', '-c', '-o', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (listed.status !== 0) throw new Error(`listing the checkout's files needs git and a work tree at ${ROOT}:\nexit ${listed.status}\n${listed.stdout}${listed.stderr}`);
  let copied = 0;
  for (const file of new Set(listed.stdout.split('\0').filter(Boolean))) {
    const from = join(ROOT, file);
    if (!existsSync(from) && !isSymlink(from)) continue; // tracked, deleted in the work tree
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    if (isSymlink(from)) symlinkSync(readlinkSync(from), to);
    else if (statSync(from).isFile()) copyFileSync(from, to); // keeps the mode: scripts stay executable
    else continue; // a submodule's directory
    copied++;
  }
  return copied;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
