/**
 * Strict flag parsing for CLI commands: unknown flags are usage errors, not silently ignored.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./command.ts";

/** Options accepted by {@link parseFlags}: the node:util parseArgs option table. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flag values: booleans and strings (arrays for `multiple`). */
export type ParsedFlags<O extends FlagSpec> = {
  [K in keyof O]?: O[K] extends { multiple: true }
    ? O[K] extends { type: "boolean" }
      ? boolean[]
      : string[]
    : O[K] extends { type: "boolean" }
      ? boolean
      : string;
};

/**
 * Parses `args` against `options`; throws {@link UsageError} on an unknown flag or a missing value.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
 * ```
 */
export function parseFlags<O extends FlagSpec>(
  args: readonly string[],
  options: O,
  maxPositionals = Infinity,
): { values: ParsedFlags<O>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > maxPositionals) {
      throw new UsageError(`unexpected argument: ${parsed.positionals[maxPositionals]}`);
    }
    return parsed as { values: ParsedFlags<O>; positionals: string[] };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}
