/**
 * What the template cache holds, and pruning it. Only directories qemukit made are ever
 * touched: `template-<16 hex>` under the templates root, holding a `guest.json` whose name
 * is `template` and a `template.json` (plus the build cache's own temp directories of dead
 * processes). Anything else there is left alone.
 * @module
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { cleanStale, du, readManifest } from "../guests/cache.ts";
import { list as listVms } from "../machine/attach.ts";
import { readMetadata } from "../machine/run-dir.ts";
import { type FileIdentity, TEMPLATE_FORMAT_VERSION } from "./key.ts";
import { TEMPLATE_FILE, type TemplateInfo, templatesRoot } from "./template.ts";

/** One template in the cache. */
export interface TemplateListing {
  readonly dir: string;
  readonly hash: string;
  /** Bytes on disk (state + frozen layers). */
  readonly bytes: number;
  readonly builtAt: string;
  readonly memoryMiB: number;
  /** What it boots: the first disk's base, or the kernel. */
  readonly boots: string;
  /**
   * Why it can no longer be used, when a file it was made from changed or vanished (a new
   * template is made on the next use); undefined when it is current.
   */
  readonly stale?: string;
  /** Names of running clones restored from it. */
  readonly clones: readonly string[];
}

const DIR_RE = /^template-[0-9a-f]{16}$/;

/** Checks the recorded file identities against the files now. */
async function staleness(files: readonly FileIdentity[]): Promise<string | undefined> {
  for (const f of files) {
    const st = await stat(f.path).catch(() => undefined);
    if (!st) return `${f.path} is gone`;
    if (st.size !== f.size || st.mtimeMs !== f.mtimeMs || st.ino !== f.ino) return `${f.path} changed`;
  }
  return undefined;
}

/** Running clones by template directory. */
async function clonesByTemplate(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const v of await listVms().catch(() => [])) {
    const t = (await readMetadata(v.runDir))?.template;
    if (t) out.set(t, [...(out.get(t) ?? []), v.name]);
  }
  return out;
}

/**
 * Lists the templates in the cache, newest first.
 *
 * @example
 * ```ts
 * for (const t of await listTemplates()) console.log(t.dir, t.stale ?? "current", t.clones.length);
 * ```
 */
export async function listTemplates(options: { cacheRoot?: string } = {}): Promise<TemplateListing[]> {
  const root = templatesRoot(options.cacheRoot);
  const names = await readdir(root).catch(() => [] as string[]);
  const clones = await clonesByTemplate();
  const out: TemplateListing[] = [];
  for (const n of names) {
    if (!DIR_RE.test(n)) continue;
    const dir = join(root, n);
    const manifest = await readManifest(dir);
    if (manifest?.name !== "template") continue;
    let info: TemplateInfo;
    try {
      info = JSON.parse(await readFile(join(dir, TEMPLATE_FILE), "utf8")) as TemplateInfo;
    } catch {
      continue;
    }
    const recipe = manifest.recipe as { files?: FileIdentity[]; version?: number };
    const stale =
      recipe.version !== TEMPLATE_FORMAT_VERSION
        ? `made by another qemukit (template format ${recipe.version}, this one makes ${TEMPLATE_FORMAT_VERSION})`
        : await staleness(recipe.files ?? []);
    const first = info.spec.disks[0]?.source;
    const boots = first
      ? first.kind === "overlay"
        ? first.base
        : first.path
      : (info.spec.kernel?.kernel ?? "(nothing)");
    out.push({
      dir,
      hash: manifest.hash,
      bytes: await du(dir),
      builtAt: manifest.builtAt,
      memoryMiB: info.spec.memoryMiB,
      boots,
      ...(stale ? { stale } : {}),
      clones: clones.get(dir) ?? [],
    });
  }
  return out.sort((a, b) => b.builtAt.localeCompare(a.builtAt));
}

/**
 * Removes stale templates (or all with `all: true`), except those with running clones,
 * and temp directories of builds whose process died. Returns the removed directories.
 *
 * @example
 * ```ts
 * await pruneTemplates();              // only templates whose files changed
 * await pruneTemplates({ all: true }); // every template without running clones
 * ```
 */
export async function pruneTemplates(options: { cacheRoot?: string; all?: boolean } = {}): Promise<string[]> {
  const root = templatesRoot(options.cacheRoot);
  const removed = (await cleanStale(root)).map((n) => join(root, n));
  for (const t of await listTemplates(options)) {
    if (t.clones.length > 0) continue;
    if (!options.all && !t.stale) continue;
    await rm(t.dir, { recursive: true, force: true });
    removed.push(t.dir);
  }
  return removed;
}
