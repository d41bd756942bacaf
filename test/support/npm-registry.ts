/**
 * The npm registry, as the rehearsal's droplets reach it: "registry.npmjs.org" answering over HTTPS
 * in the outside namespace with exactly the tarballs a droplet installs (the web client's), byte for
 * byte the registry's own. The harness starts it like the Spaces stand-in:
 *   node -r ts-node/register npm-registry.ts --config <file>
 * and it prints one line "listening <url>" when it accepts connections. Each request is logged as a
 * JSON line (method, path, status) to `requestLog`.
 *
 * The tarballs come from the real registry once (`npm pack`, through npm's cache: the test command's
 * `npm ci` has fetched the same release as a devDependency) and are kept under TARBALL_CACHE, each
 * checked against the integrity the library pins before any rehearsal serves it.
 */
import { spawnSync } from 'child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'fs';
import { createServer } from 'https';
import { join } from 'path';
import { npmIntegrityOf, npmTarballUrl } from '../../lib/core/web-client';

/** Where the tarballs are kept between runs. */
export const TARBALL_CACHE = '/var/cache/xmpp-constructs/npm';

/**
 * The path of `pkg`'s tarball on this machine, fetched with `npm pack` if it is not here yet, and
 * only if its bytes have the pinned integrity.
 */
export function pinnedTarball(pkg: { readonly name: string; readonly version: string; readonly integrity: string }): string {
  const file = join(TARBALL_CACHE, `${pkg.name}-${pkg.version}.tgz`);
  if (!existsSync(file)) {
    const incoming = join(TARBALL_CACHE, `.incoming-${process.pid}`);
    mkdirSync(incoming, { recursive: true });
    const r = spawnSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', incoming, '--prefer-offline', '--silent'], { encoding: 'utf8', timeout: 300000 });
    const packed = join(incoming, `${pkg.name}-${pkg.version}.tgz`);
    if (r.status !== 0 || !existsSync(packed)) throw new Error(`npm pack ${pkg.name}@${pkg.version} failed (exit ${r.status}): ${r.stderr}`);
    renameSync(packed, file);
  }
  const integrity = npmIntegrityOf(readFileSync(file));
  if (integrity !== pkg.integrity) throw new Error(`${file} has integrity ${integrity}, not the pinned ${pkg.integrity}: remove it and check the pin`);
  return file;
}

/** The URL path the registry serves `pkg`'s tarball at. */
export function tarballPath(pkg: { readonly name: string; readonly version: string }): string {
  return new URL(npmTarballUrl(pkg)).pathname;
}

export interface RegistryConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsKeyFile: string;
  readonly tlsCertFile: string;
  /** URL path → file served there. */
  readonly files: Readonly<Record<string, string>>;
  readonly requestLog?: string;
}

function main(argv: readonly string[]): void {
  const i = argv.indexOf('--config');
  if (i < 0 || argv[i + 1] === undefined) throw new Error('usage: npm-registry.ts --config <file>');
  const config = JSON.parse(readFileSync(argv[i + 1], 'utf8')) as RegistryConfig;
  const server = createServer({ key: readFileSync(config.tlsKeyFile), cert: readFileSync(config.tlsCertFile) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://registry.npmjs.org').pathname;
    const file = config.files[path];
    const status = req.method !== 'GET' && req.method !== 'HEAD' ? 405 : file === undefined ? 404 : 200;
    if (config.requestLog !== undefined) appendFileSync(config.requestLog, `${JSON.stringify({ method: req.method, path, status })}\n`);
    if (status !== 200) {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: status === 404 ? 'Not found' : 'Method not allowed' }));
      return;
    }
    const body = readFileSync(file!);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.listen(config.port, config.host, () => process.stdout.write(`listening https://${config.host}:${config.port}\n`));
}

if (require.main === module) main(process.argv.slice(2));
