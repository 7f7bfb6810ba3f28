#!/usr/bin/env bash
# The whole test suite: typecheck, vitest (unit + real QEMU under TCG), and the Deno smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[test] typecheck (tsc --noEmit)"
node_modules/.bin/tsc -p tsconfig.json --noEmit
echo "[test] vitest"
node_modules/.bin/vitest run "$@"
echo "[test] deno smoke test"
node_modules/.bin/deno run -A test/deno/smoke.ts
