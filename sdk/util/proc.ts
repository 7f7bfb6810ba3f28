/**
 * Process liveness from /proc (Linux only, like QEMU/KVM itself).
 * @module
 */
import { readFileSync } from "node:fs";

/**
 * True while `pid` exists and is not a zombie. A zombie has exited already; its
 * parent (init, or a container's pid 1 that never reaps) just has not collected it.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the parenthesised command name, which may itself hold ")".
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
