/**
 * QMP command names for completion when no VM is reachable: the list last read from a live
 * QEMU (kept in the cache directory), else the names the @qemu-types/qmp baseline lists.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir } from "../sdk/util/dirs.ts";

/** File holding the last live command list. */
export function qmpNamesCachePath(): string {
  return join(cacheDir(), "repl", "qmp-commands.json");
}

/** Reads the cached list; empty when there is none. */
export function readCachedQmpNames(): readonly string[] {
  try {
    const names = JSON.parse(readFileSync(qmpNamesCachePath(), "utf8")) as unknown;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
  } catch {
    return [];
  }
}

/** Saves a live list for later sessions (atomically; failures only cost a completion). */
export function writeCachedQmpNames(names: readonly string[]): void {
  const file = qmpNamesCachePath();
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(names));
    renameSync(tmp, file);
  } catch {
    // Read-only cache: completion falls back to the baseline.
  }
}

let baseline: readonly string[] | undefined;

/** The generated types of @qemu-types/qmp: the workspace copy, else the installed package. */
function generatedTypesFile(root: string): string {
  const candidates = [join(root, "packages", "qmp-types", "src", "generated.ts")];
  for (let dir = root; ; dir = dirname(dir)) {
    // An installed @qemu-types/qmp ships compiled declarations only.
    candidates.push(join(dir, "node_modules", "@qemu-types", "qmp", "dist", "generated.d.ts"));
    if (dirname(dir) === dir) break;
  }
  return candidates.find((f) => existsSync(f)) ?? candidates[0]!;
}

/**
 * Command names of the @qemu-types/qmp baseline, read from the keys of its generated
 * `QmpCommands` interface (the package ships types only). Read once, on first use.
 *
 * @example
 * ```ts
 * baselineQmpNames(root).includes("query-status"); // true
 * ```
 */
export function baselineQmpNames(root: string): readonly string[] {
  if (baseline) return baseline;
  try {
    const text = readFileSync(generatedTypesFile(root), "utf8");
    const body = /export interface QmpCommands \{\n([\s\S]*?)\n\}/.exec(text)?.[1] ?? "";
    baseline = [...body.matchAll(/^\s+"?([\w-]+)"?\??:/gm)].map((m) => m[1]!).sort();
  } catch {
    baseline = [];
  }
  return baseline;
}
