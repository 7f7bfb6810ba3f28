/**
 * Errors of the machine layer: a VM that could not start, and operations on a VM that
 * cannot be done in its current state.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/**
 * QEMU could not be started (bad option, missing or locked image, port in use...).
 * The message carries QEMU's own words; `argv` is the command line that was tried.
 * Nothing is left behind: no process, no run directory, no overlay.
 *
 * `code` is `VM_START`, or for a start refused before anything ran: `VM_RUNNING` /
 * `VM_STARTING` (the name is taken), `RUN_DIR_EXISTS` (a directory qemukit did not make
 * is in the way), `RUN_ROOT_UNSAFE` (the run root is not private to you).
 *
 * @example
 * ```ts
 * try { await startVm(spec); }
 * catch (e) { if (e instanceof VmStartError) console.error(e.qemuMessage, e.argv.join(" ")); }
 * ```
 */
export class VmStartError extends QemukitError {
  /** The argv that was run (program first), or empty when QEMU was never spawned. */
  readonly argv: readonly string[];
  /** What QEMU printed on stderr (trimmed), or "" when it never ran. */
  readonly qemuMessage: string;
  constructor(
    message: string,
    argv: readonly string[],
    qemuMessage: string,
    options: QemukitErrorOptions & { readonly code?: string } = {},
  ) {
    const said = qemuMessage.trim() ? `\n  QEMU said: ${qemuMessage.trim().split("\n").slice(-6).join("\n    ")}` : "";
    const cmd = argv.length ? `\n  command: ${argv.map(quoteArg).join(" ")}` : "";
    super(options.code ?? "VM_START", `${message}${said}${cmd}`, {
      ...options,
      details: { argv, qemuMessage, ...(options.details ?? {}) },
    });
    this.argv = argv;
    this.qemuMessage = qemuMessage.trim();
  }
}

/**
 * An operation on a VM failed. Codes: `VM_EXITED`, `VM_NOT_FOUND`, `VM_BUSY`, `VM_SNAPSHOT`,
 * `VM_STUCK`, `VM_IO_ERROR`, `VM_NAME`, `RUN_ROOT_UNSAFE`, `NO_CONSOLE`, `CONSOLE_CLOSED`,
 * `CONSOLE_CONNECT`.
 *
 * @example
 * ```ts
 * try { await attach("web1"); }
 * catch (e) { if (e instanceof VmError && e.code === "VM_NOT_FOUND") console.log(await list()); }
 * ```
 */
export class VmError extends QemukitError {
  constructor(code: string, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Quotes one argv element for display only (copy-pasteable into sh). */
export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
