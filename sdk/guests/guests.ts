/**
 * The `guests` namespace: build-if-needed accessors and the cache listing.
 * @module
 */
import { rm } from "node:fs/promises";
import { debian, debianRecipe } from "./debian.ts";
import { installer, installerRecipe } from "./installer.ts";
import { listGuests } from "./list.ts";
import { tiny, tinyRecipe } from "./tiny.ts";
import type { BuildOptions, Guest, GuestListing, GuestName } from "./types.ts";

/** Builds (if needed) the guest called `name` and describes it. */
export function buildGuest(name: GuestName, options: BuildOptions = {}): Promise<Guest> {
  switch (name) {
    case "tiny":
      return tiny(options);
    case "debian":
      return debian(options);
    case "installer":
      return installer(options);
  }
}

/**
 * Lists the built-in guests and whether the cache holds a build of their current recipe.
 *
 * @example
 * ```ts
 * for (const g of await guests.list()) console.log(g.name, g.built ? g.dir : "not built");
 * ```
 */
export function list(options: { readonly cacheDir?: string } = {}): Promise<GuestListing[]> {
  const recipes = { tiny: tinyRecipe, debian: debianRecipe, installer: installerRecipe };
  return listGuests(async (name) => (await recipes[name]()).recipe, options.cacheDir);
}

/**
 * Removes the cached builds `list()` proves stale (an older recipe version of the same guest,
 * or the current version built from inputs that changed), never builds that may belong to
 * another copy of qemukit; returns the removed directories. Overlays whose backing file is
 * one of them stop working.
 *
 * @example
 * ```ts
 * const removed = await guests.prune();
 * ```
 */
export async function prune(options: { readonly cacheDir?: string } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const g of await list(options)) {
    for (const dir of g.stale) {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/**
 * The built-in guests. Each accessor builds on first use (cached under
 * `cacheDir()/guests`, keyed by the recipe) and is instant afterwards.
 *
 * @example
 * ```ts
 * const t = await guests.tiny();       // { kernel, initrd, append, prompt, memoryMiB }
 * const d = await guests.debian();     // { image: ".../debian-12.qcow2", format: "qcow2", prompt }
 * const i = await guests.installer();  // { iso, sha512sums, signature, publicKey, fingerprint }
 * ```
 */
export const guests = { tiny, debian, installer, list, prune, build: buildGuest } as const;
