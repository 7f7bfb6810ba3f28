/**
 * What the guest cache holds for each built-in guest.
 * @module
 */
import { basename, join } from "node:path";
import { builtDirs, du, guestsRoot, readManifest, recipeHash } from "./cache.ts";
import type { GuestListing, GuestName } from "./types.ts";
import { GUEST_NAMES } from "./types.ts";

/** Computes the current recipe of a guest without building it. */
export type RecipeOf = (name: GuestName) => Promise<unknown>;

/**
 * Lists the built-in guests: built or not for the current recipe, size, build time,
 * and older builds still in the cache.
 */
export async function listGuests(recipeOf: RecipeOf, cacheRoot?: string): Promise<GuestListing[]> {
  const out: GuestListing[] = [];
  for (const name of GUEST_NAMES) {
    const hash = recipeHash(await recipeOf(name));
    const dir = join(guestsRoot(cacheRoot), `${name}-${hash}`);
    const manifest = await readManifest(dir);
    const stale = (await builtDirs(name, cacheRoot)).filter((d) => basename(d) !== basename(dir));
    out.push({
      name,
      built: manifest !== undefined,
      hash,
      dir,
      ...(manifest ? { bytes: await du(dir), buildSeconds: manifest.buildSeconds } : {}),
      stale,
    });
  }
  return out;
}
