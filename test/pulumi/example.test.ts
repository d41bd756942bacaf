/**
 * examples/pulumi-basic runs (against the mock cloud) and asks for the same service as the cdktf
 * example: the same records, firewall, droplet and user_data from the same declaration.
 */
import * as pulumi from '@pulumi/pulumi';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { XmppService as CdktfXmppService } from '../../lib/cdktf';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { newStack, synth } from '../cdktf/synth';
import { inventoryFromCdktf, inventoryFromPulumi } from './inventory';
import { installMocks, runProgram, valueOf } from './mocks';

const reviewDirectory = mkdtempSync(join(tmpdir(), 'xc-pulumi-example-'));
afterAll(() => rmSync(reviewDirectory, { recursive: true, force: true }));

beforeAll(async () => {
  await installMocks('xmpp-example');
  pulumi.runtime.setAllConfig({
    'xmpp-example:adminSourceCidrs': JSON.stringify(exampleSpec.adminSourceCidrs),
    'xmpp-example:sshKeyFingerprints': JSON.stringify(exampleSpec.droplet?.sshKeyFingerprints),
    'xmpp-example:reviewDirectory': reviewDirectory,
  });
});

describe('GIVEN examples/pulumi-basic configured like the cdktf example', () => {
  test('THEN it asks DigitalOcean for exactly what the cdktf example does, exports the same outputs and writes the review files', async () => {
    const { cloud, result } = await runProgram(() => require('../../examples/pulumi-basic/index') as { [name: string]: pulumi.Output<unknown> });

    const stack = newStack();
    new CdktfXmppService(stack, 'Xmpp', { spec: exampleSpec, writeReviewFiles: false });
    const out = synth(stack);
    expect(inventoryFromPulumi(cloud)).toEqual(inventoryFromCdktf(out));

    expect(Object.keys(result).sort()).toEqual(Object.keys(out.output ?? {}).map((k) => k.replace(/^Xmpp_/, '')).sort());
    expect(await valueOf(result.domains)).toEqual(['example.net']);
    expect(existsSync(join(reviewDirectory, 'xmpp', 'host', 'etc', 'prosody', 'prosody.cfg.lua'))).toBe(true);
  });
});

describe('GIVEN examples/pulumi-basic/Pulumi.yaml', () => {
  const dir = join(__dirname, '..', '..', 'examples', 'pulumi-basic');
  const project = parse(readFileSync(join(dir, 'Pulumi.yaml'), 'utf8'));
  const program = readFileSync(join(dir, 'index.ts'), 'utf8');

  test('THEN it names a Node.js TypeScript program that exists, under the project name the tests configure', () => {
    expect(project).toMatchObject({ name: 'xmpp-example', runtime: { name: 'nodejs', options: { typescript: true } }, main: 'index.ts' });
    expect(existsSync(join(dir, project.main))).toBe(true);
  });

  test('THEN every configuration key the program reads is declared, with a description, and the secret one as secret', () => {
    const used = [...program.matchAll(/config\.(?:get|getObject<[^>]+>|require|getSecret|requireSecret)\('([^']+)'\)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(3);
    for (const key of used) expect(project.config[key]?.description).toEqual(expect.any(String));
    expect(project.config.turnSecret.secret).toBe(true);
  });
});
