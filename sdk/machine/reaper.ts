/**
 * The machine layer's reaper: when the script dies by Ctrl-C, SIGTERM, SIGHUP, an uncaught
 * exception or `process.exit()`, it kills every VM this process started without
 * `daemonize` (and any VM still starting) and removes their run directories. (SIGKILL
 * cannot be caught; the parent-death signal set by `setpriv` kills QEMU then, and list()
 * removes the run directory, found by its marker, on the next run.)
 * @module
 */
import { readFileSync } from "node:fs";
import { onFatalExit } from "../util/exit-guard.ts";
import { isOurQemu } from "./proc.ts";
import { removeRunDirSync } from "./run-dir.ts";

/** What the reaper needs to know about one VM. `pid` is filled in once QEMU runs. */
export interface ReapTarget {
  pid?: number;
  /**
   * QEMU's pidfile, for a daemonizing start whose pid is not known yet: the daemon has left
   * the parent-death signal behind (it is cleared across fork), so it must be found here.
   */
  pidFile?: string;
  readonly runDir: string;
  readonly keep: boolean;
  readonly temporaryFiles: readonly string[];
}

let guarded = 0;

/** Starts watching a VM; returns a function that stops watching it (call it once the VM exited). */
export function registerForReaping(target: ReapTarget): () => void {
  guarded++;
  const off = onFatalExit(() => {
    let pid = target.pid;
    if (pid === undefined && target.pidFile) {
      try {
        const p = Number(readFileSync(target.pidFile, "utf8").trim());
        if (p > 0 && isOurQemu(p, target.runDir)) pid = p;
      } catch {
        /* QEMU has not written it: its parent dies with us, and the daemon with it */
      }
    }
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    if (!target.keep) removeRunDirSync(target.runDir, target.temporaryFiles);
  });
  let done = false;
  return () => {
    if (done) return;
    done = true;
    guarded--;
    off();
  };
}

/** Number of VMs the reaper currently guards (for tests and diagnostics). */
export function reaperSize(): number {
  return guarded;
}
