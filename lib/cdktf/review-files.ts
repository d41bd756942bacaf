import { mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { TerraformStack } from 'cdktf';
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { Construct } from 'constructs';

/**
 * Writes `files` next to the synthesized stack, under `stacks/<stack>/review/<name>/`, so a
 * pull request shows what the droplet will run. cdktf calls this during `synth`.
 */
export function writeReviewFilesOnSynth(construct: Construct, name: string, files: { readonly [path: string]: string }): void {
  addCustomSynthesis(construct, {
    onSynthesize(session) {
      const stack = TerraformStack.of(construct);
      const base = join(session.outdir, session.manifest.forStack(stack).workingDirectory, 'review', name);
      for (const [path, content] of Object.entries(files)) {
        const target = join(base, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
    },
  });
}
