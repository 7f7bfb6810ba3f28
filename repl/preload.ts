/**
 * Loading the REPL's scope from the TypeScript sources (Deno, and Node without the bundle):
 * the SDK's modules, then zx and the recipes.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LatePreload } from "./types.ts";

const here = (rel: string) => new URL(rel, import.meta.url);

/** Repository (or package) root. */
export const root: string = fileURLToPath(here(".."));

/**
 * SDK modules that exist now: sdk/mod.ts once everything it re-exports exists, else the
 * concept modules that do (the same rule as the bundle's entry in launch.js).
 */
export function sdkModuleUrls(): URL[] {
  const mod = here("../sdk/mod.ts");
  if (!existsSync(mod)) return [];
  const refs = [...readFileSync(mod, "utf8").matchAll(/from\s+"(\.\/[^"]+\.ts)"/g)].map((m) => new URL(m[1]!, mod));
  return refs.every((u) => existsSync(u)) ? [mod] : refs.filter((u) => existsSync(u));
}

/**
 * Imports the SDK's exports into one object.
 *
 * @example
 * ```ts
 * const sdk = await loadSdk(); typeof sdk.vm; // "function"
 * ```
 */
export async function loadSdk(): Promise<Record<string, unknown>> {
  const sdk: Record<string, unknown> = {};
  for (const url of sdkModuleUrls()) Object.assign(sdk, await import(url.href));
  return sdk;
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
  const zx = await import("zx") as unknown as Record<string, unknown>;
  const url = here("../recipes/index.ts");
  let r: { recipes?: LatePreload["recipes"]; Reporter?: LatePreload["Reporter"] } = {};
  if (existsSync(url)) {
    try {
      r = await import(url.href);
    } catch (e) {
      warn(`qemukit: recipes not loaded: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return { $: zx.$, zx, recipes: r.recipes ?? {}, ...(r.Reporter ? { Reporter: r.Reporter } : {}) };
}
