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
  declare readonly code: "QMP_COMMAND";
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
  declare readonly code: QmpConnectionErrorCode;
  constructor(code: QmpConnectionErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Stable codes of {@link QmpConnectionError}. */
export type QmpConnectionErrorCode = "QMP_CONNECT" | "QMP_DISCONNECTED";

/**
 * The command's arguments would make QEMU's JSON parser fail, so the command was not sent
 * (code `QMP_ARGUMENTS`): nesting deeper than QEMU's limit of 1024, more than 2^21 tokens,
 * more than 64 MiB, a lone surrogate or a Unicode noncharacter in a string. QEMU answers
 * such input with an error that carries no `id` (and with very deep nesting, QEMU 7.2
 * aborts), so it could never be matched to its caller.
 *
 * @example
 * ```ts
 * try { await qmp.executeRaw("qom-get", { path: "\udc00", property: "x" }); }
 * catch (e) { if (e instanceof QmpArgumentsError) console.log(e.reason); }
 * ```
 */
export class QmpArgumentsError extends QemukitError {
  declare readonly code: "QMP_ARGUMENTS";
  /** The command that was refused. */
  readonly command: string;
  /** What is wrong, e.g. "nesting depth 1102 is over QEMU's limit of 1024". */
  readonly reason: string;
  constructor(command: string, reason: string, options: QemukitErrorOptions = {}) {
    super("QMP_ARGUMENTS", `QMP command ${command} was not sent: ${reason}`, {
      advice:
        "QEMU's JSON parser would reject these arguments without saying which command it meant; fix the value (see details.reason)",
      ...options,
      details: { command, reason, ...(options.details ?? {}) },
    });
    this.command = command;
    this.reason = reason;
  }
}

/**
 * QEMU answered with something that cannot be matched to one command (code `QMP_PROTOCOL`):
 * an error without an `id` while more than one command could own it, typically QEMU's
 * parser refusing a request. Every command it may belong to is rejected with this error
 * rather than risk handing one caller another's reply; `qemuError` holds what QEMU said.
 *
 * @example
 * ```ts
 * try { await qmp.execute("query-status"); }
 * catch (e) { if (e instanceof QmpProtocolError) console.log(e.qemuError); }
 * ```
 */
export class QmpProtocolError extends QemukitError {
  declare readonly code: "QMP_PROTOCOL";
  /** The command rejected. */
  readonly command: string;
  /** QEMU's error description, when the fault was an error reply. */
  readonly qemuError: string | undefined;
  constructor(command: string, message: string, qemuError: string | undefined, options: QemukitErrorOptions = {}) {
    super("QMP_PROTOCOL", message, {
      advice:
        "the command may or may not have run; query the state again before retrying. If it keeps happening, report the command and arguments",
      ...options,
      details: { command, qemuError, ...(options.details ?? {}) },
    });
    this.command = command;
    this.qemuError = qemuError;
  }
}
