/**
 * Lossless JSON for qemu-img's `--output=json`: sizes and offsets are unsigned 64-bit
 * integers. The parser lives in sdk/util/json.ts (the QMP client shares it); the typed
 * results here turn byte-count fields into bigint with {@link toBigInt}, whatever their size.
 * @module
 */
import { stringifyJsonLossless } from "../util/json.ts";

export { parseJsonLossless, toBigInt, type LosslessJson } from "../util/json.ts";

/**
 * JSON.stringify that writes bigints as plain JSON integers (for --json output),
 * indented by `indent` (2 unless given).
 *
 * @example
 * ```ts
 * stringifyLossless({ n: 2n ** 64n }, 0); // '{"n":18446744073709551616}'
 * ```
 */
export function stringifyLossless(value: unknown, indent = 2): string {
  return stringifyJsonLossless(value, indent);
}
