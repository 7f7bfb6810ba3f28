/**
 * JSON for QMP: QEMU sends unsigned 64-bit integers, which `JSON.parse` rounds above 2^53.
 * The lossless parser and writer live in sdk/util/json.ts (qemu-img needs them too); this
 * adds the QMP client's fast path, where the framer already knows whether a message can
 * hold a big integer at all. Pure, no I/O.
 * @module
 */
import { parseJsonLossless, stringifyJsonLossless } from "../util/json.ts";

export { hasLongDigitRun } from "../util/json.ts";

/**
 * Parses one JSON text. Integers outside the safe range become `bigint`; every other
 * number stays a `number`. Use `mayHaveBigInts = false` when the caller already knows the
 * text has no run of 16+ digits (then plain `JSON.parse` is exact and much faster).
 *
 * @example
 * ```ts
 * parseQmpJson('{"size": 18446744073709551615}').size; // 18446744073709551615n
 * ```
 */
export function parseQmpJson(text: string, mayHaveBigInts = true): any {
  if (!mayHaveBigInts) return JSON.parse(text);
  return parseJsonLossless(text);
}

/**
 * `JSON.stringify` that writes `bigint` values as exact JSON integers (compact, for the wire).
 *
 * @example
 * ```ts
 * stringifyQmpJson({ value: 2n ** 64n - 1n }); // '{"value":18446744073709551615}'
 * ```
 */
export function stringifyQmpJson(value: unknown): string {
  return stringifyJsonLossless(value);
}
