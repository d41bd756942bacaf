/**
 * The service is planned once and passed down: a synthesis resolves the declaration and renders
 * each per-domain file once, whatever the number of constructs and copies (user_data, review files,
 * NginxProxy.files) that use them; and the core holds no state between plans.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { XmppService as CdktfXmppService } from '../../lib/cdktf';
import { renderNginxFiles } from '../../lib/core/nginx';
import * as nginx from '../../lib/core/nginx';
import * as prosody from '../../lib/core/prosody';
import { planService } from '../../lib/core/service-plan';
import * as validate from '../../lib/core/validate';
import { XmppService as PulumiXmppService } from '../../lib/pulumi';
import { installMocks, runProgram } from '../pulumi/mocks';
import { newStack, synth } from '../cdktf/synth';
import { dedicatedTurnSpec, fullSpec, minimalSpec } from '../support/specs';

const never = (_value: unknown): _value is never => false;

beforeAll(() => installMocks());
afterEach(() => jest.restoreAllMocks());

describe('GIVEN a whole service', () => {
  test.each([
    ['cdktf', async () => {
      const stack = newStack();
      new CdktfXmppService(stack, 'Xmpp', { spec: fullSpec });
      synth(stack);
    }],
    ['Pulumi', async () => {
      await runProgram(() => new PulumiXmppService('xmpp', { spec: fullSpec }));
    }],
  ])('WHEN %s builds it with its review files THEN the declaration is resolved once, and prosody.cfg.lua and the nginx site rendered once', async (_engine, build) => {
    const resolveSpec = jest.spyOn(validate, 'resolveSpec');
    const prosodyConfig = jest.spyOn(prosody, 'prosodyConfig');
    const nginxSite = jest.spyOn(nginx, 'nginxSite');
    await build();
    expect(resolveSpec).toHaveBeenCalledTimes(1);
    expect(prosodyConfig).toHaveBeenCalledTimes(1);
    expect(nginxSite).toHaveBeenCalledTimes(1);
  });
});

describe('planService', () => {
  test.each([['minimal', minimalSpec], ['full', fullSpec], ['dedicated TURN', dedicatedTurnSpec]])('GIVEN the %s spec THEN its nginx files are those renderNginxFiles renders, in the same order', (_name, spec) => {
    const plan = planService(spec, never);
    const alone = renderNginxFiles(plan.spec);
    expect(Object.keys(plan.nginxFiles)).toEqual(Object.keys(alone));
    expect(plan.nginxFiles).toEqual(alone);
  });

  test('GIVEN the same declaration planned twice THEN the plans are equal and share nothing mutable', () => {
    const a = planService(fullSpec, never);
    const b = planService(fullSpec, never);
    expect(b.reviewFiles()).toEqual(a.reviewFiles());
    expect(b.host.rendered.userData).toBe(a.host.rendered.userData);
    expect(b.spec).not.toBe(a.spec);
  });
});

/**
 * Module-level state in lib/core: a `let` or `var` at the top of a module, or a top-level constant
 * holding a Map, Set, WeakMap or WeakRef that starts empty (one built from a fixed list is a lookup
 * table). A cache there would make the core's output depend on what was planned before.
 */
function moduleLevelState(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const mutable = (statement.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) !== ts.NodeFlags.Const;
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      const collection = init && ts.isNewExpression(init) && /^(Map|Set|WeakMap|WeakSet|WeakRef)$/.test(init.expression.getText()) && (init.arguments ?? []).length === 0;
      if (mutable || collection) found.push(`${path.relative(process.cwd(), file)}: ${declaration.name.getText()}`);
    }
  }
  return found;
}

describe('lib/core', () => {
  const root = path.join(__dirname, '../../lib/core');
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

  test('THEN no module holds state of its own (no caches: every plan starts afresh)', () => {
    expect(files(root).length).toBeGreaterThan(20);
    expect(files(root).flatMap(moduleLevelState)).toEqual([]);
  });

  test('THEN the check finds a module-level cache when there is one', () => {
    const probe = path.join(fs.mkdtempSync('/tmp/core-state-'), 'probe.ts');
    fs.writeFileSync(probe, 'let last: string | undefined;\nconst bySpec = new WeakMap<object, string>();\nexport const LIMIT = 3;\nconst WORDS = new Set([\'and\']);\n');
    expect(moduleLevelState(probe).map((f) => f.split(': ')[1])).toEqual(['last', 'bySpec']);
    fs.rmSync(path.dirname(probe), { recursive: true });
  });
});
