/**
 * What QEMU's JSON parser refuses, checked on the client before a command is sent. QEMU
 * answers a request it cannot parse with an error that carries no `id` (it never saw one),
 * so such a request could not be matched to its caller. The limits are QEMU's own
 * (qobject/json-streamer.c: MAX_NESTING 1024, MAX_TOKEN_COUNT 2^21, MAX_TOKEN_SIZE 64 MiB)
 * and what its string parser rejects (measured on QEMU 7.2): lone surrogates (`\udc00`)
 * and Unicode noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF), which it calls "invalid
 * UTF-8". NUL (`\u0000`) and other control characters are accepted. Pure, no I/O.
 * @module
 */
import { Buffer } from "node:buffer";

/** QEMU's nesting limit, counted over the whole request (the envelope object is one level). */
export const QEMU_MAX_NESTING = 1024;
/** QEMU's token limit per request. */
export const QEMU_MAX_TOKENS = 2 ** 21;
/** QEMU's limit on the summed size of a request's tokens, in bytes. */
export const QEMU_MAX_BYTES = 64 * 1024 * 1024;

/** Levels and tokens the envelope adds: `{"execute":"x","arguments":ARGS,"id":N}`. */
const ENVELOPE_LEVELS = 1;
const ENVELOPE_TOKENS = 16;
const ENVELOPE_BYTES = 4096;

/** Characters that need a closer look: surrogates, noncharacters, and `\u` escapes. */
const SUSPECT = /[\uD800-\uDFFF\uFDD0-\uFDEF\uFFFE\uFFFF]|\\u[dD][89a-fA-F]/;

/**
 * Why QEMU would fail to parse a request carrying `argsJson` (compact JSON as
 * `stringifyJsonLossless` writes it), or `undefined` when it parses. Short, ordinary arguments
 * are cleared by one regular-expression test; only long or suspicious ones are scanned.
 *
 * @example
 * ```ts
 * qmpArgumentsProblem('{"path":"/machine"}');          // undefined
 * qmpArgumentsProblem(JSON.stringify({ p: "\udc00" })); // "a lone surrogate ..."
 * ```
 */
export function qmpArgumentsProblem(argsJson: string): string | undefined {
  // Depth and token count need at least one character each; short text cannot reach them.
  if (argsJson.length < 2 * (QEMU_MAX_NESTING - ENVELOPE_LEVELS) && !SUSPECT.test(argsJson)) return undefined;
  if (argsJson.length * 3 > QEMU_MAX_BYTES - ENVELOPE_BYTES) {
    const bytes = Buffer.byteLength(argsJson);
    if (bytes > QEMU_MAX_BYTES - ENVELOPE_BYTES) {
      return `the request is ${bytes} bytes, over QEMU's limit of ${QEMU_MAX_BYTES} (64 MiB)`;
    }
  }
  return scan(argsJson);
}

function scan(s: string): string | undefined {
  let depth = ENVELOPE_LEVELS;
  let maxDepth = depth;
  let tokens = ENVELOPE_TOKENS;
  let inScalar = false; // inside a number or keyword token
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      tokens++;
      inScalar = false;
      const end = scanString(s, i);
      if (typeof end === "string") return end;
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) maxDepth = depth;
      tokens++;
      inScalar = false;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      tokens++;
      inScalar = false;
    } else if (c === 0x3a || c === 0x2c) {
      tokens++;
      inScalar = false;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      inScalar = false;
    } else if (!inScalar) {
      tokens++;
      inScalar = true;
    }
  }
  if (maxDepth > QEMU_MAX_NESTING) {
    return `nesting depth ${maxDepth} (counting the request object) is over QEMU's limit of ${QEMU_MAX_NESTING}`;
  }
  if (tokens > QEMU_MAX_TOKENS)
    return `the request has about ${tokens} JSON tokens, over QEMU's limit of ${QEMU_MAX_TOKENS}`;
  return undefined;
}

/** Checks one string token starting at the quote `start`; returns the closing quote's index or a problem. */
function scanString(s: string, start: number): number | string {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c) {
      if (s.charCodeAt(i + 1) === 0x75) {
        const cp = parseInt(s.slice(i + 2, i + 6), 16);
        // JSON.stringify escapes only control characters and lone surrogates.
        if (cp >= 0xd800 && cp <= 0xdfff) return loneSurrogate(cp);
        i += 5;
      } else i++;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return loneSurrogate(c);
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      if ((cp & 0xfffe) === 0xfffe) return nonCharacter(cp);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return loneSurrogate(c);
    else if ((c >= 0xfdd0 && c <= 0xfdef) || c === 0xfffe || c === 0xffff) return nonCharacter(c);
  }
  return s.length;
}

const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, "0");
const loneSurrogate = (cp: number) =>
  `a string holds a lone surrogate (U+${hex(cp)}), which QEMU's JSON parser rejects; use only well-formed Unicode text (String.prototype.toWellFormed())`;
const nonCharacter = (cp: number) =>
  `a string holds the Unicode noncharacter U+${hex(cp)}, which QEMU's JSON parser rejects as invalid UTF-8`;
