/**
 * Errors of the web console.
 *
 * | code | when |
 * |---|---|
 * | `WEB_VNC_UNPROTECTED` | the VM's VNC port is reachable beyond loopback and has no password auth |
 * | `WEB_ASSETS` | noVNC's or xterm.js's files cannot be found (a broken install) |
 * | `WEB_LISTEN` | the web server could not listen on the address asked for |
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link WebError}. */
export type WebErrorCode =
  | "WEB_VNC_UNPROTECTED" // VNC listens beyond loopback without password auth
  | "WEB_ASSETS" // noVNC or xterm.js files not found
  | "WEB_LISTEN"; // the HTTP server could not bind

/**
 * The web console could not be served. `code` says why (see the module table).
 *
 * @example
 * ```ts
 * try { await m.web(); }
 * catch (e) { if (e instanceof WebError && e.code === "WEB_VNC_UNPROTECTED") console.log(e.advice); }
 * ```
 */
export class WebError extends QemukitError {
  declare readonly code: WebErrorCode;
  constructor(code: WebErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
