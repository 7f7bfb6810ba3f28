/**
 * Lossless JSON, the one JSON module of qemukit: the QMP client and the qemu-img wrapper
 * both parse with it. QEMU and qemu-img print unsigned 64-bit integers (sizes, offsets,
 * counters); `JSON.parse` rounds anything above 2^53 - 1. Here an integer literal outside
 * the safe range becomes a `bigint` and everything else matches `JSON.parse`; bigints are
 * written back as plain JSON integers. Raw QMP replies keep those bigints; the image
 * layer turns them into numbers or a clear error (qemukit's results serialize with
 * `JSON.stringify`). Node 20 has no reviver source access, hence the small
 * recursive-descent parser. Pure, no I/O.
 * @module
 */

/** A parsed JSON value; integers beyond Number.MAX_SAFE_INTEGER are bigints. */
export type LosslessJson = null | boolean | number | bigint | string | LosslessJson[] | { [k: string]: LosslessJson };

/**
 * Parses one JSON text, keeping integers outside the safe range exact as `bigint`.
 * Malformed text throws a `SyntaxError`, as `JSON.parse` does. Pass `mayHaveBigInts =
 * false` when the caller already knows the text has no run of 16+ digits (the QMP framer
 * does): then plain `JSON.parse` is exact and much faster.
 *
 * @example
 * ```ts
 * parseJsonLossless('{"n": 18446744073709551615}'); // { n: 18446744073709551615n }
 * ```
 */
export function parseJsonLossless(text: string, mayHaveBigInts = true): LosslessJson {
  if (!mayHaveBigInts) return JSON.parse(text) as LosslessJson;
  return new LosslessParser(text).parseDocument();
}

/**
 * True when `text` has a run of 16 or more digits, the only way to exceed 2^53; without
 * one, plain `JSON.parse` is exact and much faster than {@link parseJsonLossless}.
 *
 * @example
 * ```ts
 * hasLongDigitRun('{"a": 123}'); // false
 * ```
 */
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

const isDigit = (c: number) => c >= 48 && c <= 57;

class LosslessParser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parseDocument(): LosslessJson {
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

  private value(): LosslessJson {
    this.ws();
    const c = this.s.charCodeAt(this.pos);
    if (c === 123) return this.object();
    if (c === 91) return this.array();
    if (c === 34) return this.string();
    if (c === 45 || isDigit(c)) return this.number();
    if (this.s.startsWith("true", this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.s.startsWith("false", this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.s.startsWith("null", this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail("unexpected token");
  }

  private object(): { [k: string]: LosslessJson } {
    const out: { [k: string]: LosslessJson } = {};
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 34) this.fail("expected a string key");
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos++) !== 58) this.fail("expected ':'");
      const v = this.value();
      // defineProperty keeps a "__proto__" key as data instead of changing the prototype.
      if (key === "__proto__")
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 125) return out;
      if (c !== 44) this.fail("expected ',' or '}'");
    }
  }

  private array(): LosslessJson[] {
    const out: LosslessJson[] = [];
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
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
    let plain = true;
    for (;;) {
      const c = s.charCodeAt(end);
      if (c === 34) break;
      if (c === 92) {
        plain = false;
        end += 2;
      } else if (Number.isNaN(c)) this.fail("unterminated string");
      else {
        // Raw control characters are invalid JSON; JSON.parse below reports them.
        if (c < 32) plain = false;
        end++;
      }
    }
    this.pos = end + 1;
    return plain ? s.slice(start + 1, end) : (JSON.parse(s.slice(start, end + 1)) as string);
  }

  // JSON's number grammar exactly: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
  private number(): number | bigint {
    const s = this.s;
    const start = this.pos;
    let p = this.pos;
    if (s.charCodeAt(p) === 45) p++;
    if (s.charCodeAt(p) === 48) p++;
    else if (isDigit(s.charCodeAt(p))) while (isDigit(s.charCodeAt(p))) p++;
    else {
      this.pos = p;
      this.fail("bad number");
    }
    let integral = true;
    if (s.charCodeAt(p) === 46) {
      integral = false;
      if (!isDigit(s.charCodeAt(++p))) {
        this.pos = p;
        this.fail("bad number");
      }
      while (isDigit(s.charCodeAt(p))) p++;
    }
    const e = s.charCodeAt(p);
    if (e === 101 || e === 69) {
      integral = false;
      const sign = s.charCodeAt(++p);
      if (sign === 43 || sign === 45) p++;
      if (!isDigit(s.charCodeAt(p))) {
        this.pos = p;
        this.fail("bad number");
      }
      while (isDigit(s.charCodeAt(p))) p++;
    }
    this.pos = p;
    const text = s.slice(start, p);
    const n = Number(text);
    if (integral && !Number.isSafeInteger(n)) return BigInt(text);
    return n;
  }
}

/**
 * `JSON.stringify` that writes `bigint` values as exact JSON integers. `indent` works as
 * `JSON.stringify`'s third argument. Values without bigints take the native path.
 *
 * @example
 * ```ts
 * stringifyJsonLossless({ value: 2n ** 64n - 1n }); // '{"value":18446744073709551615}'
 * ```
 */
export function stringifyJsonLossless(value: unknown, indent?: number | string): string {
  try {
    return JSON.stringify(value, undefined, indent);
  } catch (e) {
    // JSON.stringify throws TypeError on a bigint (and on cycles, which the writer rejects too).
    if (!(e instanceof TypeError)) throw e;
    const gap =
      typeof indent === "number"
        ? " ".repeat(Math.max(0, Math.min(10, Math.floor(indent))))
        : (indent ?? "").slice(0, 10);
    return new LosslessWriter(gap).write("", value, "") ?? "null";
  }
}

class LosslessWriter {
  private readonly stack: object[] = [];
  constructor(private readonly gap: string) {}

  write(key: string, v: unknown, outer: string): string | undefined {
    if (v !== null && (typeof v === "object" || typeof v === "bigint")) {
      const withJson = v as { toJSON?: (key: string) => unknown };
      if (typeof withJson.toJSON === "function") v = withJson.toJSON(key);
    }
    switch (typeof v) {
      case "bigint":
        return v.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
      case "object":
        if (v === null) return "null";
        if (v instanceof Number || v instanceof String || v instanceof Boolean) return JSON.stringify(v);
        if (v instanceof BigInt) return v.valueOf().toString();
        return this.container(v, outer);
      default:
        return JSON.stringify(v);
    }
  }

  private container(v: object, outer: string): string {
    if (this.stack.includes(v)) throw new TypeError("Converting circular structure to JSON");
    this.stack.push(v);
    const inner = outer + this.gap;
    const parts: string[] = [];
    const isArray = Array.isArray(v);
    if (isArray) {
      for (let i = 0; i < v.length; i++) parts.push(this.write(String(i), v[i], inner) ?? "null");
    } else {
      const colon = this.gap ? ": " : ":";
      for (const [k, x] of Object.entries(v)) {
        const w = this.write(k, x, inner);
        if (w !== undefined) parts.push(JSON.stringify(k) + colon + w);
      }
    }
    this.stack.pop();
    const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
    if (parts.length === 0) return open + close;
    if (!this.gap) return open + parts.join(",") + close;
    return `${open}\n${inner}${parts.join(`,\n${inner}`)}\n${outer}${close}`;
  }
}

/**
 * A copy of `re` that `JSON.stringify` writes as its source text, so a result holding a
 * pattern (a guest's shell prompt) still serializes; `new RegExp(text)` rebuilds it.
 *
 * @example
 * ```ts
 * JSON.stringify({ prompt: jsonRegExp(/root@tiny:[^\n#]*# /) }); // '{"prompt":"root@tiny:[^\\n#]*# "}'
 * ```
 */
export function jsonRegExp(re: RegExp): RegExp {
  return Object.defineProperty(new RegExp(re), "toJSON", { value: () => re.source });
}
