/**
 * Strict flag parsing for CLI commands: unknown flags are usage errors, not silently ignored.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./command.ts";

/** Options accepted by {@link parseFlags}: the node:util parseArgs option table. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` against `options`; throws {@link UsageError} on an unknown flag or a missing value.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
 * ```
 */
export function parseFlags<O extends FlagSpec>(args: readonly string[], options: O, maxPositionals = Infinity) {
  try {
    const parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > maxPositionals) {
      throw new UsageError(`unexpected argument: ${parsed.positionals[maxPositionals]}`);
    }
    return parsed;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}
