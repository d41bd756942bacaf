#!/usr/bin/env bash
# The test command (npm test, and .ci/run): on a fresh Debian 12 machine it installs everything
# the tests need, then runs the whole suite. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

# The same Debian packages the droplet's cloud-init installs, plus the checking tools.
packages=$(npx --no-install ts-node --transpile-only scripts/test-packages.ts)
echo "== apt-get install $packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null

echo "== type check (the suite, and the package as built)"
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p tsconfig.build.json

echo "== jest"
npx --no-install jest "$@"
