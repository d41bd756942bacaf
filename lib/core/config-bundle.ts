/**
 * The configuration bundle: the host's files (everything user_data used to carry but the bootstrap)
 * as one gzipped tar archive, named by the SHA-256 of its bytes. The stack writes it into a private
 * Spaces bucket; the droplet pulls it, checks it and applies it in place (lib/host/fetch.sh and
 * lib/host/apply.sh).
 *
 * The archive is byte-for-byte deterministic, so its hash changes exactly when a file does: every
 * entry has mtime 0, uid and gid 0, and the files come in the plan's stable order; gzip is pako's
 * (see `gzipBase64`), whose bytes do not depend on the machine synthesizing. Modes and owners are
 * not taken from the archive: its MANIFEST lists each file's mode, owner and path, and the host
 * installs each file with them, as cloud-init's write_files would.
 */
import { createHash } from 'crypto';
import type * as Pako from 'pako';
import { HostFile } from './cloud-init';

/** The bundle's object key in its bucket. */
export const BUNDLE_OBJECT_KEY = 'bundle.tar.gz';
/** The first line of MANIFEST: a format the host's fetch script checks before it applies anything. */
export const BUNDLE_FORMAT_LINE = 'xmpp-constructs-bundle 1';
/** Where the files are inside the archive: `root/<absolute path without its leading slash>`. */
export const BUNDLE_ROOT = 'root';

export interface ConfigBundle {
  /** The files it carries, in order. None holds a secret. */
  readonly files: readonly HostFile[];
  /** The gzipped tar archive, base64-encoded: what the bucket object holds. */
  readonly archiveBase64: string;
  /** The SHA-256 of the archive's bytes, in hex: the bundle's identity, as `sha256sum` prints it. */
  readonly sha256: string;
}

/** MANIFEST: the format line, then `<mode> <owner> <path>` per file. */
export function bundleManifest(files: readonly HostFile[]): string {
  return [BUNDLE_FORMAT_LINE, ...files.map((f) => `${f.permissions} ${f.owner} ${f.path}`), ''].join('\n');
}

/**
 * The bundle of `files`. Refuses a file that holds a secret: the bundle's object and its content
 * land in IaC state and in the bucket, where only what is not secret may go.
 */
export function renderConfigBundle(files: readonly HostFile[]): ConfigBundle {
  const secret = files.find((f) => f.sensitive);
  if (secret) throw new Error(`renderConfigBundle: ${secret.path} holds a secret; secrets travel in user_data, never in the bundle`);
  for (const f of files) {
    if (!/^\/[A-Za-z0-9@._/-]+$/.test(f.path) || f.path.includes('..')) throw new Error(`renderConfigBundle: unexpected path ${JSON.stringify(f.path)}`);
  }
  const entries: [string, Buffer][] = [
    ['MANIFEST', Buffer.from(bundleManifest(files), 'utf8')],
    ...files.map((f): [string, Buffer] => [`${BUNDLE_ROOT}${f.path}`, Buffer.from(f.content, 'utf8')]),
  ];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gzip } = require('pako') as typeof Pako;
  const archive = Buffer.from(gzip(tarArchive(entries), { level: 9 }));
  return { files, archiveBase64: archive.toString('base64'), sha256: createHash('sha256').update(archive).digest('hex') };
}

const BLOCK = 512;

/**
 * A POSIX ustar archive of regular files (directories are implied by the paths; GNU tar creates
 * them). Written here rather than taken from a library: the npm tar writers are asynchronous
 * streams, while synthesis is synchronous, and ustar's header is a fixed 512-byte record.
 */
export function tarArchive(entries: readonly (readonly [string, Buffer])[]): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, body] of entries) {
    blocks.push(ustarHeader(path, body.length), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  // The end of the archive: two zero blocks.
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

function ustarHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const [prefix, name] = splitPath(path);
  const put = (offset: number, length: number, value: string) => header.write(value, offset, length, 'utf8');
  const octal = (offset: number, length: number, value: number) => put(offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
  put(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  put(148, 8, ' '.repeat(8));
  put(156, 1, '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  put(345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

/** ustar keeps up to 100 bytes of name and 155 of prefix, split at a slash. */
function splitPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return [prefix, name];
  }
  throw new Error(`tarArchive: path too long for ustar: ${path}`);
}
