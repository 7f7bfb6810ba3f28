/**
 * The qemukit REPL: node:repl with TypeScript input, the SDK, zx and the recipes in scope,
 * qemukit completions and dot commands, and VMs stopped when the session ends. Users start
 * it with `qemukit repl` (or `node repl/launch.js`, the bundled fast path); these exports
 * are for embedding and tests.
 *
 * @example
 * ```ts
 * import { start } from "./repl/mod.ts";
 * const { closed } = await start({ historyPath: null, exitProcess: false });
 * await closed;
 * ```
 * @module
 */
export { startRepl } from "./main.ts";
export type { ReplHandle } from "./main.ts";
export { start } from "./start.ts";
export { install as installDeno } from "./deno.ts";
export { loadLate, loadSdk, sdkModuleUrls } from "./preload.ts";
export { completeLine, lookupPath, qmpCommandNames, wrapCompleter } from "./complete.ts";
export type { Completer, CompletionSources, QmpLike } from "./complete.ts";
export { defineCommands, formatVmTable } from "./commands.ts";
export { formatError, isQemukitError, replWriter } from "./format.ts";
export { historyPath } from "./history.ts";
export { baselineQmpNames, readCachedQmpNames, writeCachedQmpNames } from "./qmp-names.ts";
export { VmSession } from "./session.ts";
export type { SessionListing, SessionVm, VmSessionOptions } from "./session.ts";
export { typescriptTranspiler } from "./typescript.ts";
export type { Transpile } from "./typescript.ts";
export type { LatePreload, Recipe, ReplPreload, StartReplOptions } from "./types.ts";
