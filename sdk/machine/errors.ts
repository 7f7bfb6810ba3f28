/**
 * Errors of the machine layer: a VM that could not start, and operations on a VM that
 * cannot be done in its current state.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link VmStartError}. */
export type VmStartErrorCode =
  | "VM_START" // QEMU could not be started, or the guest did not become ready
  | "RUN_DIR_EXISTS" // the run directory exists and is not one qemukit made
  | "VM_RUNNING" // a VM of that name is running
  | "VM_STARTING"; // a VM of that name is being started by another process

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
  declare readonly code: VmStartErrorCode;
  /** The argv that was run (program first), or empty when QEMU was never spawned. */
  readonly argv: readonly string[];
  /** What QEMU printed on stderr (trimmed), or "" when it never ran. */
  readonly qemuMessage: string;
  constructor(
    message: string,
    argv: readonly string[],
    qemuMessage: string,
    options: QemukitErrorOptions & { readonly code?: VmStartErrorCode } = {},
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

/** Stable codes of {@link VmError}. */
export type VmErrorCode =
  | "VM_EXITED" // the VM has exited (or exited before it was ready)
  | "VM_NOT_FOUND" // attach(): no such running VM
  | "VM_BUSY" // attach(): another process or client holds the VM's monitor
  | "VM_SNAPSHOT" // an internal snapshot could not be saved, loaded or deleted, or a bad tag
  | "VM_STUCK" // QEMU did not exit even after SIGKILL
  | "VM_NO_FORWARD" // forwardedPort(): the VM has no forward to that guest port
  | "VM_IO_ERROR" // QEMU stopped the guest on a host I/O error (disk full, ...)
  | "VM_NAME" // a VM name or attach() argument that would leave the run root
  | "RUN_ROOT_UNSAFE" // the run root is not a private directory of this user
  | "NO_CONSOLE" // the VM has no serial console connection
  | "CONSOLE_CLOSED" // the console connection ended
  | "CONSOLE_CONNECT"; // the console socket could not be connected

/**
 * An operation on a VM failed; `code` says which way (see {@link VmErrorCode}).
 *
 * @example
 * ```ts
 * try { await attach("web1"); }
 * catch (e) { if (e instanceof VmError && e.code === "VM_NOT_FOUND") console.log(await list()); }
 * ```
 */
export class VmError extends QemukitError {
  declare readonly code: VmErrorCode;
  constructor(code: VmErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * A guest command run with `console.run()` exited with a non-zero status (code
 * `GUEST_COMMAND`). `exitCode` and `output` are the command's; pass `{ nothrow: true }` to
 * get them as a result instead.
 *
 * @example
 * ```ts
 * try { await m.console.run("test -e /etc/nope"); }
 * catch (e) { if (e instanceof GuestCommandError) console.log(e.exitCode, e.output); }
 * ```
 */
export class GuestCommandError extends QemukitError {
  declare readonly code: "GUEST_COMMAND";
  /** The command line as sent. */
  readonly command: string;
  /** The shell's `$?`. */
  readonly exitCode: number;
  /** What the command printed (stdout and stderr together). */
  readonly output: string;
  constructor(command: string, exitCode: number, output: string, options: QemukitErrorOptions = {}) {
    const tail = output.trim() ? `: ${output.trim().split("\n").slice(-5).join("\n")}` : "";
    super("GUEST_COMMAND", `guest command ${JSON.stringify(command)} exited with status ${exitCode}${tail}`, {
      advice: "check the command in the guest, or pass { nothrow: true } to get the status instead of an error",
      ...options,
      details: { command, exitCode, output, ...(options.details ?? {}) },
    });
    this.command = command;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** Quotes one argv element for display only (copy-pasteable into sh). */
export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
