/**
 * The REPL preload for Deno's own REPL: puts the SDK, zx's `$` and the recipes on
 * `globalThis`. `deno repl --eval-file` evaluates its file as REPL input, where relative
 * imports resolve against the current directory, so `qemukit repl --deno` passes a generated
 * one-line file that imports this module by absolute URL.
 *
 * @example
 * ```sh
 * deno repl -A --eval "await (await import('file://$PWD/repl/deno.ts')).install()"
 * ```
 * @module
 */
import { loadLate, loadSdk } from "./preload.ts";

/**
 * Loads the SDK, zx and the recipes into `target` (default `globalThis`). Returns the names
 * it defined.
 *
 * @example
 * ```ts
 * const names = await install(); // ["vm", "overlay", "image", ..., "$", "recipes"]
 * ```
 */
export async function install(
  target: Record<string, unknown> = globalThis as unknown as Record<string, unknown>,
): Promise<string[]> {
  const scope: Record<string, unknown> = await loadSdk();
  const late = await loadLate();
  Object.assign(scope, { $: late.$, zx: late.zx });
  scope.recipes = Object.fromEntries(
    Object.entries(late.recipes).map(([id, r]) => [id, Object.assign((o?: Record<string, unknown>) => r.run(o), r)]),
  );
  Object.assign(target, scope);
  const version = typeof scope.VERSION === "string" ? ` ${scope.VERSION}` : "";
  const main = ["vm", "overlay", "image", "guests", "host", "verify", "attach", "list", "$", "recipes"].filter(
    (k) => k in scope,
  );
  console.log(
    `qemukit${version} in Deno's REPL: ${Object.keys(scope).length} names in scope (${main.join(", ")}, ...)`,
  );
  return Object.keys(scope);
}
