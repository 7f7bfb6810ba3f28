#!/usr/bin/env bash
# The whole test suite: typecheck, vitest (unit + real QEMU under TCG; includes packing,
# installing and typechecking the tarballs), the Deno smoke test and the Deno/JSR checks.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[test] typecheck (tsc --noEmit)"
node_modules/.bin/tsc -p tsconfig.json --noEmit
echo "[test] vitest"
node_modules/.bin/vitest run "$@"
echo "[test] deno smoke test"
node_modules/.bin/deno run -A test/deno/smoke.ts
echo "[test] deno check of every entry point, deno publish --dry-run"
bash scripts/deno-checks.sh
