import { describe, expect, it } from "vitest";
import { hasLongDigitRun, parseQmpJson, stringifyQmpJson } from "../../sdk/qmp/json.ts";

describe("parseQmpJson", () => {
  it("keeps integers beyond 2^53 exact as bigint and safe ones as number", () => {
    const v = parseQmpJson('{"a": 18446744073709551615, "b": -9223372036854775808, "c": 9007199254740991, "d": 1.5e300, "e": [1, "18446744073709551615"]}');
    expect(v.a).toBe(18446744073709551615n);
    expect(v.b).toBe(-9223372036854775808n);
    expect(v.c).toBe(9007199254740991);
    expect(v.d).toBe(1.5e300);
    expect(v.e).toEqual([1, "18446744073709551615"]);
  });

  it("agrees with JSON.parse on ordinary documents", () => {
    const text = JSON.stringify({ s: 'q"uo\\te\u00e9\n', n: [0, -1, 2.5, 1e-7, -3E+2], t: true, f: false, z: null, o: { __proto__x: 1 } });
    expect(parseQmpJson(text)).toEqual(JSON.parse(text));
  });

  it("rejects malformed text", () => {
    expect(() => parseQmpJson('{"a": }')).toThrow(SyntaxError);
    expect(() => parseQmpJson('{"a": 1} x')).toThrow(SyntaxError);
    expect(() => parseQmpJson('{"a": "unterminated')).toThrow(SyntaxError);
  });

  it("detects long digit runs only when present", () => {
    expect(hasLongDigitRun('{"a": 123456789012345}')).toBe(false);
    expect(hasLongDigitRun('{"a": 1234567890123456}')).toBe(true);
  });
});

describe("stringifyQmpJson", () => {
  it("writes bigint exactly and round-trips", () => {
    const big = 2n ** 64n - 1n;
    const text = stringifyQmpJson({ size: big, list: [1n, 2], skip: undefined });
    expect(text).toBe('{"size":18446744073709551615,"list":[1,2]}');
    expect(parseQmpJson(text).size).toBe(big);
  });

  it("is plain JSON.stringify without bigints", () => {
    const v = { a: [1, "x", null], b: { c: true } };
    expect(stringifyQmpJson(v)).toBe(JSON.stringify(v));
  });
});
