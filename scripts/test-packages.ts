/**
 * Prints the Debian packages the test suite needs: exactly what a droplet installs (from the
 * core, for every representative spec) plus the tools that check rendered output.
 */
import { hostPackages } from '../lib/core/cloud-init';
import { resolveSpec } from '../lib/core/validate';
import { representativeSpecs } from '../test/support/specs';

const CHECK_TOOLS = ['cloud-init', 'bind9-utils', 'pebble', 'lua5.4', 'shellcheck', 'yamllint', 'libxml2-utils', 'iproute2', 'util-linux', 'procps'];

const packages = new Set<string>(CHECK_TOOLS);
for (const [, spec] of representativeSpecs) for (const p of hostPackages(resolveSpec(spec))) packages.add(p);
process.stdout.write([...packages].sort().join(' ') + '\n');
