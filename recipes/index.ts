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
import { checkOnLibvirt } from "./lib/libvirt.ts";
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

/**
 * `options.on` is checked before a recipe runs, as the command line does: a recipe that cannot
 * run through libvirt refuses it (`LIBVIRT_UNSUPPORTED`) instead of quietly running here.
 */
function checked<O extends object>(recipe: Recipe<O>): Recipe<O> {
  return {
    ...recipe,
    run: async (options) => {
      if (options?.on !== undefined) checkOnLibvirt(recipe as Recipe, options.on);
      return recipe.run(options);
    },
  };
}

/** The recipes, keyed by id. */
export const recipes = {
  "check-host": checked(checkHost.recipe),
  "start-vm": checked(startVm.recipe),
  vnc: checked(vnc.recipe),
  "create-disk": checked(createDisk.recipe),
  "install-from-iso": checked(installFromIso.recipe),
  "add-disk": checked(addDisk.recipe),
  overlays: checked(overlays.recipe),
  convert: checked(convert.recipe),
} as const satisfies Record<RecipeId, Recipe>;
