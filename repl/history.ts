/**
 * Where the REPL keeps its history.
 * @module
 */
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * History file: `$QEMUKIT_REPL_HISTORY`, else `$XDG_STATE_HOME/qemukit/repl_history`,
 * else `~/.local/state/qemukit/repl_history` (state, not cache: history is worth keeping
 * when caches are cleared).
 *
 * @example
 * ```ts
 * historyPath(); // "/home/me/.local/state/qemukit/repl_history"
 * ```
 */
export function historyPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.QEMUKIT_REPL_HISTORY) return env.QEMUKIT_REPL_HISTORY;
  const state = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(state, "qemukit", "repl_history");
}
