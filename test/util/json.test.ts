import { describe, expect, it } from "vitest";
import { hasLongDigitRun, parseJsonLossless, stringifyJsonLossless } from "../../sdk/util/json.ts";

describe("parseJsonLossless", () => {
  it("keeps integers beyond 2^53 exact as bigint and safe ones as number", () => {
    const v = parseJsonLossless(
      '{"a": 18446744073709551615, "b": -9223372036854775808, "c": 9007199254740991, "d": 1.5e300, "e": [1, "18446744073709551615"]}',
    ) as Record<string, unknown>;
    expect(v.a).toBe(18446744073709551615n);
    expect(v.b).toBe(-9223372036854775808n);
    expect(v.c).toBe(9007199254740991);
    expect(v.d).toBe(1.5e300);
    expect(v.e).toEqual([1, "18446744073709551615"]);
  });

  it("agrees with JSON.parse on ordinary documents", () => {
    const text = JSON.stringify({
      s: 'q"uo\\te\u00e9\n',
      n: [0, -1, 2.5, 1e-7, -3e2],
      t: true,
      f: false,
      z: null,
      o: { __proto__x: 1 },
    });
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it("rejects malformed text", () => {
    expect(() => parseJsonLossless('{"a": }')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('{"a": 1} x')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('{"a": "unterminated')).toThrow(SyntaxError);
  });

  it("takes JSON.parse's path when told the text has no long digit run", () => {
    expect(parseJsonLossless('{"a": [1, 2.5]}', false)).toEqual({ a: [1, 2.5] });
    // The caller's promise is trusted: a big integer then rounds (2^64 - 1 to 2^64), as with JSON.parse.
    expect((parseJsonLossless('{"a": 18446744073709551615}', false) as { a: unknown }).a).toBe(2 ** 64);
  });

  it("detects long digit runs only when present", () => {
    expect(hasLongDigitRun('{"a": 123456789012345}')).toBe(false);
    expect(hasLongDigitRun('{"a": 1234567890123456}')).toBe(true);
  });
});

describe("stringifyJsonLossless", () => {
  it("writes bigint exactly and round-trips", () => {
    const big = 2n ** 64n - 1n;
    const text = stringifyJsonLossless({ size: big, list: [1n, 2], skip: undefined });
    expect(text).toBe('{"size":18446744073709551615,"list":[1,2]}');
    expect((parseJsonLossless(text) as { size: unknown }).size).toBe(big);
  });

  it("is plain JSON.stringify without bigints", () => {
    const v = { a: [1, "x", null], b: { c: true } };
    expect(stringifyJsonLossless(v)).toBe(JSON.stringify(v));
  });
});

describe("lossless JSON with indentation", () => {
  it("keeps integers above 2^53 exact and the rest like JSON.parse", () => {
    const text = '{"a": 18446744073709551615, "b": [1, -2.5e3, "x\\"y", true, null, {}], "c": 9007199254740993}';
    const v = parseJsonLossless(text) as Record<string, unknown>;
    expect(v.a).toBe(18446744073709551615n);
    expect(v.c).toBe(9007199254740993n);
    expect(v.b).toEqual([1, -2500, 'x"y', true, null, {}]);
    expect(JSON.parse(stringifyJsonLossless(v, 0).replace(/\d{16,}/g, '"$&"'))).toEqual({
      a: "18446744073709551615",
      b: [1, -2500, 'x"y', true, null, {}],
      c: "9007199254740993",
    });
    expect(stringifyJsonLossless({ n: 2n ** 64n }, 2)).toBe('{\n  "n": 18446744073709551616\n}');
  });
});
