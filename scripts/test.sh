#!/usr/bin/env bash
# The whole test suite: lint and format check (Biome), typecheck, vitest (the unit and integration projects, real QEMU under
# TCG; includes packing, installing and typechecking the tarballs) with a v8 coverage summary
# and floor, the Deno smoke test and the Deno/JSR checks.
#   npm run test:unit          the unit project alone (no QEMU, quick)
#   npm run test:integration   the integration project alone
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[test] lint and format (biome check)"
node_modules/.bin/biome check .
echo "[test] typecheck (tsc --noEmit)"
node_modules/.bin/tsc -p tsconfig.json --noEmit
# The coverage floor is for the whole suite; a run of a few named files skips it.
coverage=(--coverage)
[ $# -eq 0 ] || coverage=()
echo "[test] vitest: unit and integration projects${coverage:+, v8 coverage}"
node_modules/.bin/vitest run "${coverage[@]}" "$@"
echo "[test] deno smoke test"
node_modules/.bin/deno run -A test/deno/smoke.ts
echo "[test] deno check of every entry point, deno publish --dry-run"
bash scripts/deno-checks.sh
