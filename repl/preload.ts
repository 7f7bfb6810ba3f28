/**
 * Loading the REPL's scope from the TypeScript sources (Deno, and Node without the bundle):
 * the SDK's modules, then zx and the recipes.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { LatePreload } from "./types.ts";

/**
 * Repository root (or, for the compiled copy, the installed package's `dist/`): where
 * `package.json`'s node_modules and the generated QMP names are looked up from.
 */
export const root: string = fileURLToPath(new URL("..", import.meta.url));

/**
 * Imports the SDK's root module into one object. A literal specifier, so the compiled copy
 * (dist/repl/preload.js) imports dist/sdk/mod.js.
 *
 * @example
 * ```ts
 * const sdk = await loadSdk(); typeof sdk.vm; // "function"
 * ```
 */
export async function loadSdk(): Promise<Record<string, unknown>> {
  return { ...(await import("../sdk/mod.ts")) };
}

/**
 * Imports zx and the recipes (recipes that fail to load are reported, not fatal).
 *
 * @example
 * ```ts
 * const { $, recipes } = await loadLate();
 * ```
 */
export async function loadLate(warn: (message: string) => void = (m) => console.error(m)): Promise<LatePreload> {
  const zx = (await import("zx")) as unknown as Record<string, unknown>;
  let r: { recipes?: LatePreload["recipes"]; Reporter?: LatePreload["Reporter"] } = {};
  try {
    r = await import("../recipes/index.ts");
  } catch (e) {
    warn(`qemukit: recipes not loaded: ${(e as Error).message.split("\n")[0]}`);
  }
  return { $: zx.$, zx, recipes: r.recipes ?? {}, ...(r.Reporter ? { Reporter: r.Reporter } : {}) };
}
