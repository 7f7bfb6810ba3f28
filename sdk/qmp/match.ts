/**
 * Partial deep matching of event data, used by `waitFor(name, { match })`. Pure.
 * @module
 */

/**
 * True when every key in `pattern` is present in `value` with a matching value: objects
 * match recursively (extra keys in `value` are fine), arrays element by element with the
 * same length, everything else by `===` (a `number` and a `bigint` of equal value match).
 *
 * @example
 * ```ts
 * matchesPartial({ device: "ide0", tray: { open: true } }, { device: "ide0" }); // true
 * ```
 */
export function matchesPartial(value: unknown, pattern: unknown): boolean {
  if (pattern === value) return true;
  if (typeof pattern === "bigint" || typeof value === "bigint") {
    // Both as bigints: equal exactly when they denote the same integer, as `1 == 1n` decides.
    const v = integerOf(value);
    return v !== undefined && v === integerOf(pattern);
  }
  if (pattern === null || typeof pattern !== "object" || value === null || typeof value !== "object") return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return false;
    return pattern.every((p, i) => matchesPartial(value[i], p));
  }
  for (const [key, p] of Object.entries(pattern)) {
    if (!Object.hasOwn(value, key)) return false;
    if (!matchesPartial((value as Record<string, unknown>)[key], p)) return false;
  }
  return true;
}

/** `x` as a bigint when it is a bigint or an integral number, else undefined. */
function integerOf(x: unknown): bigint | undefined {
  if (typeof x === "bigint") return x;
  return typeof x === "number" && Number.isInteger(x) ? BigInt(x) : undefined;
}
