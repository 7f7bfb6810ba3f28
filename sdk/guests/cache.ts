/**
 * The guest cache: `<cache>/guests/<name>-<hash>/`, one directory per recipe. The hash covers
 * the recipe's explicit `version` and its inputs (package versions, module lists, command
 * line), never the file that runs it, so the TypeScript sources and the compiled package
 * share builds; a change to a build script that changes its result bumps the version.
 * A build happens in a temp directory beside it and is renamed into place only
 * when complete, so an interrupted build never looks done. A lock file keeps two
 * processes from building the same recipe at once.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir } from "../util/dirs.ts";
import { diskFull } from "./debian-packages.ts";
import { looksLikeDiskFull } from "./errors.ts";
import type { GuestName } from "./types.ts";
import { isAlive } from "../util/proc.ts";

/** What a finished build leaves in `guest.json`. */
export interface BuildManifest {
  /** The guest's name, or a template's kind-prefixed name (`template`). */
  readonly name: string;
  readonly hash: string;
  readonly recipe: unknown;
  readonly builtAt: string;
  readonly buildSeconds: number;
  /** Guest-specific facts (file names, kernel release, fingerprint...). */
  readonly facts: Readonly<Record<string, string>>;
}

/** The manifest file name inside a build directory. */
export const MANIFEST = "guest.json";

/** Root of the guest cache. */
export function guestsRoot(root = cacheDir()): string {
  return join(root, "guests");
}

/**
 * Hash of a recipe: any JSON value; keys are sorted so order does not matter.
 *
 * @example
 * ```ts
 * recipeHash({ version: 3, kernel: "6.1.192-2" }); // "3f1c0a9b2e4d5f60"
 * ```
 */
export function recipeHash(recipe: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(canon(recipe)))
    .digest("hex")
    .slice(0, 16);
}

/** Reads the manifest of a complete build, or undefined when there is none. */
export async function readManifest(dir: string): Promise<BuildManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as BuildManifest;
  } catch {
    return undefined;
  }
}

const TMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;

/** Removes temp directories left by builds whose process is gone (killed, crashed). */
export async function cleanStale(root: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = TMP_RE.exec(n) ?? /^\.(.+)\.old-(\d+)-[0-9a-f]+$/.exec(n);
    if (m && !isAlive(Number(m[2]))) {
      await rm(join(root, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

async function takeLock(lock: string, isDone: () => Promise<boolean>): Promise<"locked" | "done"> {
  for (;;) {
    try {
      const fh = await open(lock, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return "locked";
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = Number((await readFile(lock, "utf8").catch(() => "")).trim());
    if (owner && !isAlive(owner)) {
      await unlink(lock).catch(() => {});
      continue;
    }
    // Another process is building the same recipe: wait for it instead of doubling the work.
    await new Promise((r) => setTimeout(r, 300));
    if (await isDone()) return "done";
  }
}

/** Options for {@link cachedBuild}. */
export interface CachedBuildOptions {
  /** Prefix of the build directory's name: a guest name, or `template`. */
  readonly name: string;
  readonly recipe: unknown;
  readonly force?: boolean;
  readonly cacheRoot?: string;
  /** The directory builds go in, instead of `<cacheRoot>/guests` (templates use `<cacheRoot>/templates`). */
  readonly root?: string;
  /** Fills `tmpDir` and returns the manifest facts. Runs only on a cache miss. */
  readonly build: (tmpDir: string) => Promise<Record<string, string>>;
}

/**
 * Returns the build directory of a recipe, building it first if needed.
 *
 * @example
 * ```ts
 * const { dir, manifest } = await cachedBuild({ name: "tiny", recipe, build: async (tmp) => ({ kernel: "vmlinuz" }) });
 * ```
 */
export async function cachedBuild(
  options: CachedBuildOptions,
): Promise<{ dir: string; manifest: BuildManifest; built: boolean }> {
  const root = options.root ?? guestsRoot(options.cacheRoot);
  const hash = recipeHash(options.recipe);
  const dir = join(root, `${options.name}-${hash}`);
  if (!options.force) {
    const m = await readManifest(dir);
    if (m) return { dir, manifest: m, built: false };
  }
  await mkdir(root, { recursive: true });
  await cleanStale(root);
  const lock = join(root, `${options.name}-${hash}.lock`);
  const startedAt = Date.now();
  const got = await takeLock(lock, async () => !options.force && (await readManifest(dir)) !== undefined);
  if (got === "done") return { dir, manifest: (await readManifest(dir))!, built: false };
  const rand = () => Math.floor(Math.random() * 0xffffffff).toString(16);
  const tmp = join(root, `.${options.name}-${hash}.tmp-${process.pid}-${rand()}`);
  try {
    if (!options.force) {
      const m = await readManifest(dir);
      if (m) return { dir, manifest: m, built: false };
    }
    await mkdir(tmp);
    const facts = await options.build(tmp);
    const manifest: BuildManifest = {
      name: options.name,
      hash,
      recipe: options.recipe,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
      facts,
    };
    await writeFile(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o444 });
    if (await exists(dir)) {
      const old = join(root, `.${options.name}-${hash}.old-${process.pid}-${rand()}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
    return { dir, manifest, built: true };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (looksLikeDiskFull(e)) throw diskFull(options.name, e);
    throw e;
  } finally {
    await unlink(lock).catch(() => {});
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Total bytes of the regular files under `dir`. */
export async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else if (e.isFile()) total += (await stat(p)).blocks * 512;
  }
  return total;
}

/** Build directories of `name` in the cache, complete ones only. */
export async function builtDirs(name: GuestName, cacheRoot?: string): Promise<string[]> {
  const root = guestsRoot(cacheRoot);
  const names = await readdir(root).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names) {
    if (!n.startsWith(`${name}-`) || n.endsWith(".lock")) continue;
    if (await readManifest(join(root, n))) out.push(join(root, n));
  }
  return out;
}
