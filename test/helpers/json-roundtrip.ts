/**
 * What "a result serializes" means in qemukit: `JSON.stringify` does not throw and
 * `JSON.parse` of its output equals the result, where a value with `toJSON` (a `Date`,
 * a guest's prompt pattern) reads back as what that returns. Anything else JSON cannot
 * carry (bigint, Map, Set, a plain RegExp, functions, class instances, NaN) fails the
 * check with the path to it, instead of vanishing silently.
 */
import { expect } from "vitest";

/** The value JSON would carry: Dates as ISO strings; throws on anything JSON would lose. */
export function jsonShape(v: unknown, path = "result"): unknown {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`${path} is ${v}, which JSON writes as null`);
    return v;
  }
  const withJson = v as { toJSON?: () => unknown } | undefined;
  if (typeof v === "object" && typeof withJson?.toJSON === "function") return jsonShape(withJson.toJSON(), path);
  if (Array.isArray(v)) return v.map((x, i) => jsonShape(x, `${path}[${i}]`));
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`${path} is a ${proto?.constructor?.name ?? "non-plain object"}, which JSON cannot carry`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = jsonShape(x, `${path}.${k}`);
    return out;
  }
  throw new Error(`${path} is a ${typeof v}, which JSON cannot carry`);
}

/** Asserts that `value` survives JSON.stringify and reads back equal; returns the text. */
export function expectJsonRoundTrip(value: unknown): string {
  const text = JSON.stringify(value);
  expect(text).toBeTypeOf("string");
  expect(JSON.parse(text)).toStrictEqual(jsonShape(value));
  return text;
}
