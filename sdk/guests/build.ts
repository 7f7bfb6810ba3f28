/**
 * The shape every built-in guest shares: look the recipe up in the cache, else build it
 * into a temp directory with step progress, and hand back the build directory and the
 * facts its manifest keeps (file names, kernel release, fingerprint...).
 * @module
 */
import { join } from "node:path";
import { cachedBuild } from "./cache.ts";
import { stepReporter, type StepReporter } from "./progress.ts";
import type { BuildOptions, GuestName } from "./types.ts";

/** One guest's build, for {@link buildCached}. */
export interface GuestBuild<Fact extends string> {
  readonly name: GuestName;
  /** The inputs; their hash names the cache entry. */
  readonly recipe: unknown;
  /** Relative durations of the build's steps, one per `progress.step()` call. */
  readonly weights: readonly number[];
  /** Builds into `tmp`; returns the facts the manifest keeps (file names relative to the build). */
  readonly build: (tmp: string, progress: StepReporter) => Promise<Record<Fact, string>>;
}

/** A cached build: its directory and facts, and `file(fact)` for a fact that names a file. */
export interface CachedGuest<Fact extends string> {
  readonly dir: string;
  readonly facts: Readonly<Record<Fact, string>>;
  /** The absolute path of the file a fact names. */
  file(fact: Fact): string;
}

/**
 * Builds `guest` unless the cache holds its recipe already (or `options.force`).
 *
 * @example
 * ```ts
 * const { file } = await buildCached({ name: "tiny", recipe, weights: [1], build: async (tmp, p) => {
 *   p.step("write"); await writeFile(join(tmp, "vmlinuz"), data); return { kernel: "vmlinuz" };
 * } }, options);
 * file("kernel"); // ".../guests/tiny-<hash>/vmlinuz"
 * ```
 */
export async function buildCached<Fact extends string>(
  guest: GuestBuild<Fact>,
  options: BuildOptions,
): Promise<CachedGuest<Fact>> {
  const { dir, manifest } = await cachedBuild({
    name: guest.name,
    recipe: guest.recipe,
    force: options.force,
    cacheRoot: options.cacheDir,
    build: async (tmp) => {
      const progress = stepReporter(guest.name, guest.weights, options.progress);
      const started = Date.now();
      const facts = await guest.build(tmp, progress);
      progress.done((Date.now() - started) / 1000);
      return facts;
    },
  });
  const facts = manifest.facts as Record<Fact, string>;
  return { dir, facts, file: (fact) => join(dir, facts[fact]) };
}
