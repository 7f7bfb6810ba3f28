/**
 * Names the VM holding an image lock, for the image layer's ImageLockedError and for our
 * own start errors: first among this process's VMs, then among every qemukit run
 * directory (another script's VM).
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { registerLockHolderLookup } from "../img/lock-holders.ts";
import { runRoot } from "../util/dirs.ts";
import { isAlive } from "./proc.ts";
import { METADATA_FILE } from "./run-dir.ts";
import type { VmMetadata } from "./types.ts";

const held = new Map<string, string>();
let registered = false;

/** Records that VM `name` opened these images; returns a function that forgets them. */
export function holdImages(name: string, paths: readonly string[]): () => void {
  if (!registered) {
    registered = true;
    registerLockHolderLookup(lockHolder);
  }
  const abs = paths.map((p) => resolve(p));
  for (const p of abs) held.set(p, name);
  return () => {
    for (const p of abs) if (held.get(p) === name) held.delete(p);
  };
}

/** The name of a running qemukit VM using `path`, or undefined. Synchronous (lookup contract). */
export function lockHolder(path: string): string | undefined {
  const abs = resolve(path);
  const mine = held.get(abs);
  if (mine) return mine;
  let entries: string[];
  try {
    entries = readdirSync(runRoot());
  } catch {
    return undefined;
  }
  for (const e of entries) {
    try {
      const meta = JSON.parse(readFileSync(join(runRoot(), e, METADATA_FILE), "utf8")) as VmMetadata;
      if (meta.pid !== undefined && isAlive(meta.pid) && meta.argv.some((a) => a.includes(abs))) return meta.name;
    } catch {
      /* not a run directory, or half-written */
    }
  }
  return undefined;
}
