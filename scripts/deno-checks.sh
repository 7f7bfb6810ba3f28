#!/usr/bin/env bash
# Deno/JSR readiness: `deno check` of every entry point deno.json exports (both packages), and
# `deno publish --dry-run` of both (no slow types). Offline: the workspace resolves
# jsr:@qemu-types/qmp to packages/qmp-types, npm packages come from node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=node_modules/.bin/deno
mapfile -t entries < <(node -e '
  for (const dir of [".", "packages/qmp-types"]) {
    const { exports } = JSON.parse(require("fs").readFileSync(dir + "/deno.json", "utf8"));
    for (const f of typeof exports === "string" ? [exports] : Object.values(exports)) console.log(require("path").join(dir, f));
  }')
"$deno" check "${entries[@]}"
"$deno" publish --dry-run --allow-dirty
(cd packages/qmp-types && "../../$deno" publish --dry-run --allow-dirty)
