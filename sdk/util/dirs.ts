/**
 * Where qemukit keeps things on disk.
 * @module
 */
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Cache root for built guests and probe results: `$QEMUKIT_CACHE`, else
 * `$XDG_CACHE_HOME/qemukit`, else `~/.cache/qemukit`.
 */
export function cacheDir(): string {
  if (process.env.QEMUKIT_CACHE) return process.env.QEMUKIT_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "qemukit");
}

/**
 * Parent directory of VM run directories. Kept short because unix socket paths are
 * limited to 108 bytes: `$QEMUKIT_RUN_DIR`, else `$XDG_RUNTIME_DIR/qemukit`, else
 * `/tmp/qemukit-<uid>`.
 */
export function runRoot(): string {
  if (process.env.QEMUKIT_RUN_DIR) return process.env.QEMUKIT_RUN_DIR;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, "qemukit");
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return join(tmpdir(), `qemukit-${uid}`);
}
