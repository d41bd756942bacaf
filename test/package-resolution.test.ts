/**
 * The entry points resolve as consumers' projects resolve them: TypeScript's node10 resolution (what
 * `cdktf init` and `pulumi new typescript` write: CommonJS, no moduleResolution), node16 and bundler,
 * and Node itself at run time. A scratch consumer holds this package.json in node_modules with empty
 * files where the built ones go; TypeScript's own resolver and Node's then look for each subpath.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types: string; default: string } | string> };
const ENTRY_POINTS = Object.entries(pkg.exports).filter(([subpath, target]) => subpath !== './package.json' && typeof target === 'object') as [string, { types: string; default: string }][];

let consumer: string;
beforeAll(() => {
  consumer = mkdtempSync(join(tmpdir(), 'xmpp-consumer-'));
  const installed = join(consumer, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(installed, 'package.json'), JSON.stringify(pkg));
  for (const [, target] of ENTRY_POINTS) {
    for (const file of [target.types, target.default]) {
      mkdirSync(dirname(join(installed, file)), { recursive: true });
      writeFileSync(join(installed, file), file.endsWith('.d.ts') ? 'export {};\n' : 'module.exports = {};\n');
    }
  }
  writeFileSync(join(consumer, 'main.ts'), '');
});
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

const RESOLUTIONS: [string, ts.CompilerOptions][] = [
  ['node10 (cdktf init, pulumi new typescript)', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }],
  ['node16', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }],
  ['bundler', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }],
];

describe.each(RESOLUTIONS)('GIVEN TypeScript\'s %s resolution', (_name, options) => {
  test.each(ENTRY_POINTS)('THEN %s resolves to its declarations', (subpath, target) => {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const resolved = ts.resolveModuleName(specifier, join(consumer, 'main.ts'), options, ts.sys).resolvedModule;
    expect(resolved?.resolvedFileName).toBe(join(consumer, 'node_modules', pkg.name, target.types.replace(/^\.\//, '')));
  });
});

test.each(ENTRY_POINTS)('GIVEN Node at run time THEN %s resolves to its JavaScript', (subpath, target) => {
  const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  expect(require.resolve(specifier, { paths: [consumer] })).toBe(join(consumer, 'node_modules', pkg.name, target.default.replace(/^\.\//, '')));
});
