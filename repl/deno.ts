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
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (rel: string) => new URL(rel, import.meta.url);

/** SDK modules that exist now: sdk/mod.ts once everything it re-exports has landed. */
function sdkModuleUrls(): URL[] {
  const mod = here("../sdk/mod.ts");
  if (!existsSync(mod)) return [];
  const refs = [...readFileSync(mod, "utf8").matchAll(/from\s+"(\.\/[^"]+\.ts)"/g)].map((m) => new URL(m[1]!, mod));
  return refs.every((u) => existsSync(u)) ? [mod] : refs.filter((u) => existsSync(u));
}

/**
 * Loads the SDK, zx and the recipes into `target` (default `globalThis`). Returns the names
 * it defined.
 *
 * @example
 * ```ts
 * const names = await install(); // ["vm", "overlay", "image", ..., "$", "recipes"]
 * ```
 */
export async function install(target: Record<string, unknown> = globalThis as unknown as Record<string, unknown>): Promise<string[]> {
  const scope: Record<string, unknown> = {};
  for (const url of sdkModuleUrls()) Object.assign(scope, await import(url.href));
  const zx = await import("zx");
  scope.$ = zx.$;
  scope.zx = zx;
  const recipesUrl = here("../recipes/index.ts");
  if (existsSync(fileURLToPath(recipesUrl))) {
    try {
      const r = await import(recipesUrl.href) as { recipes?: Record<string, { run(o?: unknown): Promise<unknown> }> };
      scope.recipes = Object.fromEntries(Object.entries(r.recipes ?? {}).map(([id, rec]) => [id, Object.assign((o?: unknown) => rec.run(o), rec)]));
    } catch (e) {
      console.error(`qemukit: recipes not loaded: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  Object.assign(target, scope);
  const version = typeof scope.VERSION === "string" ? ` ${scope.VERSION}` : "";
  const main = ["vm", "overlay", "image", "guests", "host", "verify", "attach", "list", "$", "recipes"].filter((k) => k in scope);
  console.log(`qemukit${version} in Deno's REPL: ${Object.keys(scope).length} names in scope (${main.join(", ")}, ...)`);
  return Object.keys(scope);
}
