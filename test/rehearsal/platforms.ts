/**
 * Rehearsing on each platform: the example stack with its droplet on a given Debian release. The
 * harness boots the image the stack's droplet names, so a suite that runs once per platform
 * synthesizes the example once per platform and boots each once.
 */
import { Testing } from 'cdktf';
import { XmppStack } from '../../lib/cdktf';
import { PLATFORMS, PlatformName } from '../../lib/core/platforms';
import { XmppServiceSpec } from '../../lib/core/spec';
import { resolveSpec } from '../../lib/core/validate';
import { exampleSpec } from '../../examples/cdktf-basic/spec';
import { SynthesizedStack, synthesizeExample } from './harness';

/** The platforms a suite that must hold on every supported release rehearses, newest first. */
export const REHEARSED_PLATFORMS: readonly PlatformName[] = ['debian-13', 'debian-12'];

/** "Debian 13 (Prosody 13)", for test titles. */
export function platformTitle(platform: PlatformName): string {
  return `${PLATFORMS[platform].label} (${PLATFORMS[platform].prosody.label})`;
}

/** `spec` with its droplet on `platform`'s image; unchanged when that is already the platform it runs. */
export function specOn(spec: XmppServiceSpec, platform: PlatformName): XmppServiceSpec {
  if (resolveSpec(spec).droplet.platform === platform) return spec;
  return { ...spec, droplet: { ...spec.droplet, image: PLATFORMS[platform].image } };
}

/** The example's declaration with its droplet on `platform`. */
export function exampleSpecOn(platform: PlatformName): XmppServiceSpec {
  return specOn(exampleSpec, platform);
}

/**
 * Synthesize `spec` as the example's stack (same construct, same stack name). The example itself on
 * its own platform goes through `npm run synth`'s path (synthesizeExample), byte for byte.
 */
export function synthesizeSpec(spec: XmppServiceSpec): SynthesizedStack {
  if (spec === exampleSpec) return synthesizeExample();
  const app = Testing.app();
  const stack = new XmppStack(app, 'xmpp-example-net', { spec, writeReviewFiles: false });
  return JSON.parse(Testing.synth(stack, true)) as SynthesizedStack;
}

/** The example stack with its droplet on `platform`. */
export function synthesizeExampleOn(platform: PlatformName): SynthesizedStack {
  return synthesizeSpec(exampleSpecOn(platform));
}
