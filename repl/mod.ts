/**
 * `qemukit/repl`: the qemukit REPL (node:repl with TypeScript input, the SDK, zx and the
 * recipes in scope, qemukit completions and dot commands, VMs stopped when the session ends),
 * for embedding. Users start it with `qemukit repl`.
 *
 * @example
 * ```ts
 * import { start } from "qemukit/repl";
 * const { closed } = await start({ historyPath: null, exitProcess: false });
 * await closed;
 * ```
 * @module
 */
export { startRepl } from "./main.ts";
export type { ReplHandle } from "./main.ts";
export { start } from "./start.ts";
export type { LatePreload, Recipe, ReplPreload, StartReplOptions } from "./types.ts";
