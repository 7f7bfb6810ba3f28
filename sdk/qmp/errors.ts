/**
 * Errors raised by the QMP client.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/**
 * QEMU answered a command with `{"error": {...}}`. `errorClass` is QMP's class
 * (`GenericError`, `CommandNotFound`, `DeviceNotFound`, ...), `desc` QEMU's own text.
 *
 * @example
 * ```ts
 * try { await qmp.executeRaw("device_del", { id: "nope" }); }
 * catch (e) { if (e instanceof QmpCommandError && e.errorClass === "DeviceNotFound") { ... } }
 * ```
 */
export class QmpCommandError extends QemukitError {
  /** QMP error class, e.g. `GenericError` or `CommandNotFound`. */
  readonly errorClass: string;
  /** QEMU's description of the failure. */
  readonly desc: string;
  /** The command that failed. */
  readonly command: string;
  constructor(command: string, errorClass: string, desc: string, options: QemukitErrorOptions = {}) {
    super("QMP_COMMAND", `QMP command ${command} failed: ${desc} (${errorClass})`, {
      ...options,
      details: { command, errorClass, desc, ...(options.details ?? {}) },
    });
    this.errorClass = errorClass;
    this.desc = desc;
    this.command = command;
  }
}

/**
 * The QMP connection could not be set up (`QMP_CONNECT`: no socket, no or bad greeting,
 * failed negotiation) or was lost (`QMP_DISCONNECTED`: every pending command rejects with it).
 *
 * @example
 * ```ts
 * try { await qmp.execute("query-status"); }
 * catch (e) { if (e instanceof QmpConnectionError && e.code === "QMP_DISCONNECTED") { ... } }
 * ```
 */
export class QmpConnectionError extends QemukitError {
  constructor(code: "QMP_CONNECT" | "QMP_DISCONNECTED", message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
