/**
 * The shape of a CLI (sub)command. Each concept contributes its commands from
 * `sdk/cli/commands/<name>.ts`; `sdk/cli/main.ts` wires them into the `qemukit` tree.
 * @module
 */

/** Streams and terminal facts a command writes to; swapped in tests. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A `qemukit` command or command group. */
export interface CliCommand {
  /** Word typed on the command line, e.g. `check` in `qemukit host check`. */
  readonly name: string;
  /** One line for the parent's `--help` listing. */
  readonly summary: string;
  /** Full help text shown by `--help` (usage line, options, examples). */
  readonly help: string;
  /** Child commands (a group like `guest` has `build` and `list`). */
  readonly subcommands?: readonly CliCommand[];
  /**
   * Runs the command with the arguments after its name. Returns the exit code.
   * Bad arguments: throw {@link UsageError} (exit 2). Other QemukitErrors print message + advice (exit 1).
   */
  readonly run?: (args: readonly string[], io: CliIO) => Promise<number>;
}

/** Wrong flags or arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
