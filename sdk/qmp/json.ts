/**
 * JSON for QMP: QEMU sends unsigned 64-bit integers, which `JSON.parse` rounds above 2^53.
 * {@link parseQmpJson} keeps such integers exact as `bigint`; {@link stringifyQmpJson}
 * writes bigints back as plain JSON integers. Pure, no I/O.
 * @module
 */

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
  return new BigIntJsonParser(text).parseDocument();
}

/** True when `text` has a run of 16 or more digits, the only way to exceed 2^53. */
export function hasLongDigitRun(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 16) return true;
    } else run = 0;
  }
  return false;
}

class BigIntJsonParser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length) this.fail("unexpected trailing text");
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.pos} of JSON text`);
  }

  private ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.pos);
  }

  private value(): unknown {
    this.ws();
    const c = this.s.charCodeAt(this.pos);
    if (c === 123) return this.object();
    if (c === 91) return this.array();
    if (c === 34) return this.string();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.s.startsWith("true", this.pos)) return (this.pos += 4), true;
    if (this.s.startsWith("false", this.pos)) return (this.pos += 5), false;
    if (this.s.startsWith("null", this.pos)) return (this.pos += 4), null;
    return this.fail("unexpected token");
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 125) return this.pos++, out;
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 34) this.fail("expected a string key");
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos++) !== 58) this.fail("expected ':'");
      const v = this.value();
      // defineProperty keeps a "__proto__" key as data instead of changing the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 125) return out;
      if (c !== 44) this.fail("expected ',' or '}'");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 93) return this.pos++, out;
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 93) return out;
      if (c !== 44) this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    let end = start + 1;
    // Find the closing quote, skipping escapes; let JSON.parse do the unescaping.
    for (;;) {
      const c = s.charCodeAt(end);
      if (c === 34) break;
      if (c === 92) end += 2;
      else if (Number.isNaN(c)) this.fail("unterminated string");
      else end++;
    }
    this.pos = end + 1;
    return JSON.parse(s.slice(start, end + 1));
  }

  private number(): number | bigint {
    const s = this.s;
    const start = this.pos;
    let integral = true;
    if (s.charCodeAt(this.pos) === 45) this.pos++;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c >= 48 && c <= 57) this.pos++;
      else if (c === 46 || c === 101 || c === 69 || c === 43 || (c === 45 && !integral)) {
        integral = false;
        this.pos++;
      } else break;
    }
    const text = s.slice(start, this.pos);
    const n = Number(text);
    if (Number.isNaN(n) || text === "-") this.fail("bad number");
    if (integral && !Number.isSafeInteger(n)) return BigInt(text);
    return n;
  }
}

/**
 * `JSON.stringify` that writes `bigint` values as exact JSON integers.
 *
 * @example
 * ```ts
 * stringifyQmpJson({ value: 2n ** 64n - 1n }); // '{"value":18446744073709551615}'
 * ```
 */
export function stringifyQmpJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return writeValue(value) ?? "null";
  }
}

function writeValue(v: unknown): string | undefined {
  switch (typeof v) {
    case "bigint":
      return v.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    case "object": {
      if (v === null) return "null";
      const withJson = v as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === "function") return writeValue(withJson.toJSON());
      if (Array.isArray(v)) return `[${v.map((x) => writeValue(x) ?? "null").join(",")}]`;
      const parts: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        const w = writeValue(x);
        if (w !== undefined) parts.push(`${JSON.stringify(k)}:${w}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return JSON.stringify(v);
  }
}
