/**
 * The process-wide reaper: when the script dies by Ctrl-C, SIGTERM, SIGHUP, an uncaught
 * exception or `process.exit()`, it kills every VM this process started without
 * `daemonize` and removes their run directories. (SIGKILL cannot be caught; the
 * parent-death signal set by `setpriv` covers that case.)
 *
 * Handlers are installed only while VMs are running, and a signal is re-raised after
 * cleaning up, so the script's default behaviour (exit with 128+n) is unchanged.
 * @module
 */
import { removeRunDirSync } from "./run-dir.ts";

/** What the reaper needs to know about one VM. */
export interface ReapTarget {
  readonly pid: number;
  readonly runDir: string;
  readonly keep: boolean;
  readonly temporaryFiles: readonly string[];
}

const targets = new Set<ReapTarget>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let installed = false;

function reapAll(): void {
  for (const t of targets) {
    try {
      process.kill(t.pid, "SIGKILL");
    } catch { /* already gone */ }
    if (!t.keep) removeRunDirSync(t.runDir, t.temporaryFiles);
  }
  targets.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  reapAll();
  uninstall();
  // Somebody else handles this signal: they decide whether the process ends.
  if (process.listenerCount(signal) > 0) return;
  process.kill(process.pid, signal);
}

function onExit(): void {
  reapAll();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("exit", onExit);
}

/** Starts watching a VM; returns a function that stops watching it (call it once the VM exited). */
export function registerForReaping(target: ReapTarget): () => void {
  targets.add(target);
  install();
  return () => {
    targets.delete(target);
    if (targets.size === 0) uninstall();
  };
}

/** Number of VMs the reaper currently guards (for tests and diagnostics). */
export function reaperSize(): number {
  return targets.size;
}
