/**
 * Every error qemukit throws on purpose is a {@link QemukitError}: it carries a stable
 * `code` that scripts can switch on, an `advice` line that says what to do, and the
 * original error as `cause` when there was one.
 *
 * @example
 * ```ts
 * try { await image.info("missing.qcow2"); }
 * catch (e) { if (e instanceof QemukitError && e.code === "IMAGE_NOT_FOUND") { ... } }
 * ```
 * @module
 */

/** Options shared by every qemukit error. */
export interface QemukitErrorOptions {
  /** What the user can do about it; appended to the message. */
  readonly advice?: string;
  /** The underlying error, kept for debugging. */
  readonly cause?: unknown;
  /** Extra structured facts (paths, argv, QMP class...) for programs and the REPL. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Base class of all qemukit errors. `code` is stable across releases. */
export class QemukitError extends Error {
  /** Stable machine-readable code, e.g. `SPEC_INVALID`, `IMAGE_LOCKED`. */
  readonly code: string;
  /** What to do about it, or `undefined` when there is nothing to add. */
  readonly advice: string | undefined;
  /** Structured facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: QemukitErrorOptions = {}) {
    super(options.advice ? `${message}\n  → ${options.advice}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.advice = options.advice;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** The message without the advice line. */
  get summary(): string {
    return this.advice ? this.message.slice(0, this.message.indexOf("\n  → ")) : this.message;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

/** Stable codes of {@link SpecError}. */
export type SpecErrorCode =
  | "SPEC_INVALID"
  | "SPEC_VALUE"
  | "SPEC_CONFLICT"
  | "SPEC_PATH"
  | "SPEC_NAME"
  | "SPEC_MEMORY"
  | "SPEC_SMP"
  | "SPEC_SIZE"
  | "SPEC_FORMAT"
  | "SPEC_PORT"
  | "SPEC_VNC_DISPLAY"
  | "SPEC_DISK_SLOT"
  | "SPEC_PARSE"
  | "SPEC_SHELL_SYNTAX";

/** An invalid VM description (builder or parsed command line). Thrown before any I/O. */
export class SpecError extends QemukitError {
  declare readonly code: SpecErrorCode;
  constructor(message: string, options: QemukitErrorOptions & { readonly code?: SpecErrorCode } = {}) {
    super(options.code ?? "SPEC_INVALID", message, options);
  }
}

/** A program qemukit needs (qemu-system-x86_64, qemu-img, gpgv, mmdebstrap...) is missing. */
export class ToolNotFoundError extends QemukitError {
  declare readonly code: "TOOL_NOT_FOUND";
  /** The program that was looked for. */
  readonly tool: string;
  constructor(tool: string, debianPackage: string | undefined, options: QemukitErrorOptions = {}) {
    super("TOOL_NOT_FOUND", `${tool} was not found on PATH`, {
      advice:
        options.advice ??
        (debianPackage
          ? `install it with: sudo apt-get install ${debianPackage}   (or run: npm run setup)`
          : "install it and make sure it is on PATH"),
      ...options,
      details: { tool, debianPackage, ...(options.details ?? {}) },
    });
    this.tool = tool;
  }
}

/** Something did not happen within its time limit. */
export class TimeoutError extends QemukitError {
  declare readonly code: "TIMEOUT";
  constructor(what: string, ms: number, options: QemukitErrorOptions = {}) {
    super("TIMEOUT", `${what} did not happen within ${ms} ms`, {
      advice: options.advice ?? "pass a longer { timeout } if the machine is slow (TCG is 10-50x slower than KVM)",
      ...options,
      details: { ms, ...(options.details ?? {}) },
    });
  }
}

/** A child process (qemu-img, gpgv, mmdebstrap...) failed. */
export class ProcessError extends QemukitError {
  declare readonly code: "PROCESS_FAILED";
  /** argv of the failed process, program first. */
  readonly argv: readonly string[];
  /** Exit code, or null when killed by a signal. */
  readonly exitCode: number | null;
  /** What the process wrote to stderr. */
  readonly stderr: string;
  constructor(
    argv: readonly string[],
    exitCode: number | null,
    stderr: string,
    options: QemukitErrorOptions & { readonly signal?: string | null } = {},
  ) {
    const how = exitCode === null ? `was killed by ${options.signal ?? "a signal"}` : `exited with code ${exitCode}`;
    const tail = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-5).join("\n")}` : "";
    super("PROCESS_FAILED", `${argv[0]} ${how}${tail}`, {
      ...options,
      details: { argv, exitCode, stderr, ...(options.details ?? {}) },
    });
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/**
 * The caller aborted the operation through its `AbortSignal` (code `ABORTED`). `cause` is
 * the signal's reason. Every wait in qemukit that takes a `signal` rejects with this.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 1000);
 * try { await m.console.run("sleep 60", { signal: ac.signal }); }
 * catch (e) { if (e instanceof AbortError) console.log("stopped:", e.message); }
 * ```
 */
export class AbortError extends QemukitError {
  declare readonly code: "ABORTED";
  constructor(what: string, options: QemukitErrorOptions = {}) {
    super("ABORTED", `${what} was aborted`, options);
  }
}
