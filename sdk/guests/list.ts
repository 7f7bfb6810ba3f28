/**
 * What the guest cache holds for each built-in guest.
 * @module
 */
import { basename, join } from "node:path";
import { type BuildManifest, builtDirs, du, guestsRoot, readManifest, recipeHash } from "./cache.ts";
import type { GuestListing, GuestName } from "./types.ts";
import { GUEST_NAMES } from "./types.ts";

/** Computes the current recipe of a guest without building it. */
export type RecipeOf = (name: GuestName) => Promise<unknown>;

function versionOf(recipe: unknown): number | undefined {
  const v = (recipe as { version?: unknown } | null)?.version;
  return typeof v === "number" ? v : undefined;
}

/**
 * True when a build can be proven useless to every copy of qemukit: a recipe of the same
 * guest with an older version, or the current version with other inputs (the host's
 * packages changed; every copy with this version computes the current inputs). Builds of
 * newer versions, or in a format this copy does not know, may belong to another copy.
 */
function provablyStale(name: GuestName, current: unknown, manifest: BuildManifest): boolean {
  const recipe = manifest.recipe as { guest?: unknown } | undefined;
  const mine = versionOf(current);
  const theirs = versionOf(recipe);
  if (manifest.name !== name || recipe?.guest !== name || mine === undefined || theirs === undefined) return false;
  return theirs < mine || (theirs === mine && manifest.hash !== recipeHash(current));
}

/**
 * Lists the built-in guests: built or not for the current recipe, size, build time, builds
 * that are provably stale, and other builds this copy cannot judge.
 */
export async function listGuests(recipeOf: RecipeOf, cacheRoot?: string): Promise<GuestListing[]> {
  const out: GuestListing[] = [];
  for (const name of GUEST_NAMES) {
    const recipe = await recipeOf(name);
    const hash = recipeHash(recipe);
    const dir = join(guestsRoot(cacheRoot), `${name}-${hash}`);
    const manifest = await readManifest(dir);
    const stale: string[] = [];
    const others: string[] = [];
    for (const d of await builtDirs(name, cacheRoot)) {
      if (basename(d) === basename(dir)) continue;
      const m = await readManifest(d);
      (m && provablyStale(name, recipe, m) ? stale : others).push(d);
    }
    out.push({
      name,
      built: manifest !== undefined,
      hash,
      dir,
      ...(manifest ? { bytes: await du(dir), buildSeconds: manifest.buildSeconds } : {}),
      stale,
      others,
    });
  }
  return out;
}
