/**
 * A JSON parser that keeps 64-bit integers exact. qemu-img prints sizes and offsets as
 * unsigned 64-bit integers; `JSON.parse` rounds anything above 2^53 - 1. Here an integer
 * literal outside the safe range becomes a `bigint`; everything else matches `JSON.parse`.
 * Node 20 has no reviver source access, so this is a small recursive-descent parser.
 * @module
 */

/** A parsed JSON value; integers beyond Number.MAX_SAFE_INTEGER are bigints. */
export type LosslessJson = null | boolean | number | bigint | string | LosslessJson[] | { [k: string]: LosslessJson };

/**
 * Parses JSON text, keeping unsafe integers as bigint.
 *
 * @example
 * ```ts
 * parseJsonLossless('{"n": 18446744073709551615}'); // { n: 18446744073709551615n }
 * ```
 */
export function parseJsonLossless(text: string): LosslessJson {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const value = (): LosslessJson => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: { [k: string]: LosslessJson } = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const k = str();
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        obj[k] = value();
        ws();
        const d = text[i++];
        if (d === "}") return obj;
        if (d !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: LosslessJson[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const d = text[i++];
        if (d === "]") return arr;
        if (d !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    return num();
  };
  const str = (): string => {
    const start = i;
    i++;
    let plain = true;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        plain = false;
        i += 2;
      } else i++;
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    return plain ? text.slice(start + 1, i - 1) : (JSON.parse(text.slice(start, i)) as string);
  };
  const num = (): number | bigint => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail("unexpected character");
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const out = value();
  ws();
  if (i !== text.length) fail("trailing characters");
  return out;
}

/** A JSON number (or bigint) as an exact bigint; undefined stays undefined. */
export function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** JSON.stringify that writes bigints as plain JSON integers (for --json output). */
export function stringifyLossless(value: unknown, indent = 2): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v !== "bigint") return v;
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    },
    indent,
  );
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, n: string) => marks[Number(n)]!);
}
