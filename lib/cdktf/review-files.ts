import { join } from 'path';
import { TerraformStack } from 'cdktf';
import { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
import { Construct } from 'constructs';
import { writeReviewFiles } from '../review-writer';

/**
 * Writes `files` next to the synthesized stack, under `stacks/<stack>/review/<name>/`, so a
 * pull request shows what the droplet will run. cdktf calls this during `synth`.
 */
export function writeReviewFilesOnSynth(construct: Construct, name: string, files: { readonly [path: string]: string }): void {
  addCustomSynthesis(construct, {
    onSynthesize(session) {
      const stack = TerraformStack.of(construct);
      writeReviewFiles(join(session.outdir, session.manifest.forStack(stack).workingDirectory, 'review', name), files);
    },
  });
}
