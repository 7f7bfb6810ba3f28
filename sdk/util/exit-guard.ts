/**
 * One process-wide set of synchronous clean-up actions run when the script dies by
 * Ctrl-C, SIGTERM, SIGHUP, an uncaught exception or `process.exit()`. The machine layer
 * kills its VMs here, the image layer removes the temp files it is writing.
 *
 * The handlers are installed with the first action and stay installed (a signal that
 * arrived just before the last action was unregistered would otherwise be dropped with the
 * handler, and the script would not die); after cleaning up, a signal is re-raised with the
 * default disposition, so the script's behaviour (exit with 128+n) is unchanged.
 * SIGKILL cannot be caught: the parent-death signal and the next run's sweeps cover it.
 * @module
 */

const actions = new Set<() => void>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
let installed = false;

function runAll(): void {
  const all = [...actions];
  actions.clear();
  for (const a of all) {
    try {
      a();
    } catch {
      /* best effort while the process dies */
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  uninstall();
  // Somebody else handles this signal: they decide whether the process ends.
  if (process.listenerCount(signal) > 0) return;
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", runAll);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("exit", runAll);
}

/**
 * Runs `action` (synchronously: no promise settles while the process dies) if the script
 * dies while it is registered. Returns the function that unregisters it.
 *
 * @example
 * ```ts
 * const off = onFatalExit(() => rmSync(tmp, { force: true }));
 * try { await writeTheFile(tmp); } finally { off(); }
 * ```
 */
export function onFatalExit(action: () => void): () => void {
  actions.add(action);
  install();
  return () => void actions.delete(action);
}
