/**
 * Starts the REPL straight from the TypeScript sources (under tsx): the fallback when the
 * bundle cannot be written, and `QEMUKIT_REPL_NO_BUNDLE=1` for debugging the REPL itself.
 * @module
 */
import { type ReplHandle, startRepl } from "./main.ts";
import { loadLate, loadSdk, root } from "./preload.ts";
import type { StartReplOptions } from "./types.ts";

/**
 * Loads the SDK from source and starts the REPL.
 *
 * @example
 * ```ts
 * await start({ historyPath: null });
 * ```
 */
export async function start(options: StartReplOptions = {}): Promise<ReplHandle> {
  return startRepl({ root, sdk: await loadSdk(), late: () => loadLate(), ...options });
}
