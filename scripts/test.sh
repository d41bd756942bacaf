#!/usr/bin/env bash
# The test command (npm test, and .ci/run): on a fresh Debian 12 machine it installs everything
# the tests need, then runs the whole suite. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

# This machine's tools: image building, the rehearsal's cloud, the checks of rendered files. The
# droplet's own packages run inside its platform image, built below.
packages=$(npx --no-install ts-node --transpile-only scripts/test-packages.ts)
echo "== apt-get install $packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null

echo "== type check (the suite, and the package as built)"
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p tsconfig.build.json

echo "== platform images (built from Debian's archive once a week, then cached)"
npx --no-install ts-node --transpile-only test/support/platform.ts

echo "== jest"
# The counts go to a file as well as to the usual report, for the summary line below.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
jest_status=0
# Two workers, not jest's default of one on two cores: the suite waits on booting droplets, daemons
# and the engine about as much as it computes, so a second worker fills that time (on the 2-core CI
# machine kind, a cached run took 14 min with two workers and 21 min with one). Extra arguments
# come after, so `npm test -- --maxWorkers=1` still wins.
npx --no-install jest --json --outputFile="$results" --maxWorkers=2 "$@" || jest_status=$?

# One plain line saying how much ran: a suite that passes by skipping shows it here.
if ! summary=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results" 2>/dev/null); then
  echo "jest: no results (it exited with $jest_status before reporting)" >&2
  exit $((jest_status == 0 ? 1 : jest_status))
fi
echo "$summary"

# Under CI a test that cannot run must not pass as skipped (test/support/tools.ts makes those
# fail; this catches any other skip). CI counts as set when non-empty and not "false", as there.
ci=${CI:-}
skipped=${summary##*failed, }
skipped=${skipped%% skipped}
if [ -n "$ci" ] && [ "${ci,,}" != false ] && [ "$skipped" -gt 0 ]; then
  echo "$skipped tests skipped under CI: a skipped test is a failure here" >&2
  exit $((jest_status == 0 ? 1 : jest_status))
fi
exit "$jest_status"
