/**
 * QMP command names for completion when no VM is reachable: the list last read from a live
 * QEMU (kept in the cache directory), else the names the @qemu-types/qmp baseline lists.
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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
