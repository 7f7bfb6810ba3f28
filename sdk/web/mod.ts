/**
 * The web console: a VM's screen (noVNC) and serial console (xterm.js) on a local web page
 * guarded by a per-VM token. Scripts usually call `m.web()` on a running VM.
 *
 * @example
 * ```ts
 * import { startWebConsole } from "qemukit/web";
 * const web = await startWebConsole(m);
 * console.log(web.url);
 * ```
 * @module
 */
export { startWebConsole, WebConsole } from "./server.ts";
export type { WebConsoleVm, WebOptions } from "./server.ts";
export { WebError, type WebErrorCode } from "./errors.ts";
