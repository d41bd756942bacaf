/**
 * The supported platforms, and which one a droplet runs. `droplet.image` selects it; a numeric
 * snapshot ID says nothing about its Debian, so `droplet.platform` must name it then.
 */
import type { Problem } from '../rules';
import { DEBIAN_12 } from './debian-12';
import { DEBIAN_13 } from './debian-13';
import { Platform, PLATFORM_NAMES, PlatformName } from './platform';

export type { Platform, PlatformName } from './platform';
export { PLATFORM_NAMES } from './platform';

export const PLATFORMS: Readonly<Record<PlatformName, Platform>> = { 'debian-13': DEBIAN_13, 'debian-12': DEBIAN_12 };

/** The images `droplet.image` accepts by slug, newest first. */
export const SUPPORTED_IMAGES: readonly string[] = PLATFORM_NAMES.map((name) => PLATFORMS[name].image);

/**
 * The platform a droplet with this image and declared platform runs. Invalid input (reported by
 * `checkImage` and `checkPlatform`) still gives a platform, so that validation goes on to report
 * every other problem.
 */
export function platformOfImage(image: unknown, declared?: unknown): Platform {
  const bySlug = PLATFORM_NAMES.find((name) => PLATFORMS[name].image === image);
  const named = PLATFORM_NAMES.find((name) => name === declared);
  return PLATFORMS[bySlug ?? named ?? PLATFORM_NAMES[0]];
}

/** The platform a resolved spec's droplet runs. */
export function platformOf(spec: { readonly droplet: { readonly platform: PlatformName } }): Platform {
  return PLATFORMS[spec.droplet.platform];
}

const IMAGE_LIST = SUPPORTED_IMAGES.map((image) => `"${image}"`).join(' or ');

/** `droplet.image`: a supported slug, or the numeric ID of a snapshot of one. */
export function checkImage(value: unknown): Problem | undefined {
  if (typeof value === 'string' && (SUPPORTED_IMAGES.includes(value) || /^[0-9]+$/.test(value))) return undefined;
  return {
    problem: `not a supported image (the rendered configuration is written for ${SUPPORTED_IMAGES.join(' and ')})`,
    fix: `use ${IMAGE_LIST}, or the numeric ID of a snapshot of one together with droplet.platform`,
  };
}

/**
 * `droplet.platform`: must name a platform, must agree with a slug image, and is required for a
 * numeric snapshot ID (whose Debian release the synthesis cannot see).
 */
export function checkPlatform(value: unknown, image: unknown): Problem | undefined {
  const names = PLATFORM_NAMES.map((name) => `"${name}"`).join(' or ');
  if (value === undefined) {
    return typeof image === 'string' && /^[0-9]+$/.test(image)
      ? { problem: `is required with a snapshot image ("${image}"): the snapshot's Debian release decides the configuration`, fix: `set droplet.platform to ${names}` }
      : undefined;
  }
  if (typeof value !== 'string' || !(PLATFORM_NAMES as readonly string[]).includes(value)) {
    return { problem: `must be ${names}`, fix: `use ${names}, or leave it out to follow droplet.image` };
  }
  const bySlug = PLATFORM_NAMES.find((name) => PLATFORMS[name].image === image);
  if (bySlug !== undefined && bySlug !== value) {
    return { problem: `contradicts droplet.image "${String(image)}", which is ${bySlug}`, fix: `remove droplet.platform, or set it to "${bySlug}"` };
  }
  return undefined;
}
