/**
 * Every recipe, by id, in the lab's order. The REPL preloads this; `qemukit recipe` and
 * `qemukit lab` run from it.
 *
 * @example
 * ```ts
 * import { recipes } from "./recipes/index.ts";
 * const obs = await recipes["create-disk"].run();
 * ```
 * @module
 */
import * as addDisk from "./add-disk.ts";
import * as checkHost from "./check-host.ts";
import * as convert from "./convert.ts";
import * as createDisk from "./create-disk.ts";
import * as installFromIso from "./install-from-iso.ts";
import * as overlays from "./overlays.ts";
import * as startVm from "./start-vm.ts";
import * as vnc from "./vnc.ts";
import type { Recipe } from "./lib/types.ts";

export type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";
export { Reporter } from "./lib/reporter.ts";

/** Recipe ids in the order of the lab's sections. */
export const recipeIds = [
  "check-host",
  "start-vm",
  "vnc",
  "create-disk",
  "install-from-iso",
  "add-disk",
  "overlays",
  "convert",
] as const;

/** A recipe id. */
export type RecipeId = (typeof recipeIds)[number];

/** The recipes, keyed by id. */
export const recipes = {
  "check-host": checkHost.recipe,
  "start-vm": startVm.recipe,
  vnc: vnc.recipe,
  "create-disk": createDisk.recipe,
  "install-from-iso": installFromIso.recipe,
  "add-disk": addDisk.recipe,
  overlays: overlays.recipe,
  convert: convert.recipe,
} as const satisfies Record<RecipeId, Recipe>;
