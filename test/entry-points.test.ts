/**
 * What each entry point loads, checked in a fresh node process (jest's module registry is not
 * node's): cdktf users need not install Pulumi, Pulumi users need not install cdktf, and neither
 * loads its provider's package index (every resource module of the provider).
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..');

function modulesLoadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`loading ${entry} failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as string[]).map((p) => p.slice(ROOT.length + 1));
}

describe.each([
  ['xmpp-constructs (core)', './lib', ['lib/core/spec.ts', 'node_modules/yaml/'], ['node_modules/cdktf/', 'node_modules/@cdktf/', 'node_modules/@pulumi/', 'node_modules/constructs/']],
  ['xmpp-constructs/cdktf', './lib/cdktf', ['node_modules/cdktf/', 'node_modules/@cdktf/provider-digitalocean/lib/droplet/'], ['node_modules/@pulumi/', 'node_modules/@cdktf/provider-digitalocean/lib/index.js']],
  // The doctor is a command for any machine: no engine, and @xmpp/client only once an account is given.
  ['xmpp-constructs/doctor', './lib/doctor', ['lib/doctor/stun.ts', 'lib/core/doctor-plan.ts'], ['node_modules/cdktf/', 'node_modules/@cdktf/', 'node_modules/@pulumi/', 'node_modules/@xmpp/client/']],
  ['xmpp-constructs/pulumi', './lib/pulumi', ['node_modules/@pulumi/pulumi/', 'node_modules/@pulumi/digitalocean/droplet.js'], ['node_modules/cdktf/', 'node_modules/@cdktf/', 'node_modules/@pulumi/digitalocean/index.js']],
])('GIVEN the %s entry point', (_name, entry, mustLoad, mustNotLoad) => {
  const loaded = modulesLoadedBy(entry);
  test.each(mustLoad)('THEN it loads %s', (prefix) => {
    expect(loaded.some((p) => p.startsWith(prefix))).toBe(true);
  });
  test.each(mustNotLoad)('THEN it never loads %s', (prefix) => {
    // A module that does not exist is trivially never loaded: make sure the path is real.
    expect(existsSync(join(ROOT, prefix))).toBe(true);
    expect(loaded.filter((p) => p.startsWith(prefix))).toEqual([]);
  });
});
