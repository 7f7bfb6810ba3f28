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
    return (typeof value === "number" || typeof value === "bigint") &&
      (typeof pattern === "number" || typeof pattern === "bigint") &&
      // deno-lint-ignore eqeqeq
      value == pattern;
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
