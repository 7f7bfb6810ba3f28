/**
 * The one size grammar of qemukit: "512M", "2G", "1.5 GiB", "4096". Units are binary, as
 * in QEMU (K = 1024). The result is an exact bigint; each layer wraps it in its own error
 * type and range rules (spec: safe-integer bytes; img: 64-bit image sizes). Pure, no I/O.
 * @module
 */

/** Binary multiples by lower-case unit; `K`, `KB` and `KiB` all mean 1024. */
const UNITS: Readonly<Record<string, bigint>> = (() => {
  const units: Record<string, bigint> = { "": 1n, b: 1n };
  ["k", "m", "g", "t", "p", "e"].forEach((letter, i) => {
    const bytes = 1024n ** BigInt(i + 1);
    units[letter] = units[`${letter}b`] = units[`${letter}ib`] = bytes;
  });
  return units;
})();

/** The unit letters, in the order advice should list them. */
export const SIZE_UNIT_LETTERS = "K, M, G, T, P, E";

/**
 * What {@link parseSizeText} found: exact bytes (signed), or why the text is not a size.
 * `fraction` carries the sign so a caller can report a negative size first.
 */
export type SizeText =
  | { ok: true; bytes: bigint }
  | { ok: false; problem: "syntax" }
  | { ok: false; problem: "unit"; unit: string }
  | { ok: false; problem: "fraction"; negative: boolean };

const SIZE_RE = /^\s*([+-]?)(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$/;

/**
 * Parses a size string to exact bytes: an optional sign, a decimal number, optional
 * spaces and an optional binary unit (`K`, `M`, `G`, `T`, `P`, `E`, each optionally
 * followed by `B` or `iB`, any case). Never throws; the caller chooses the error.
 *
 * @example
 * ```ts
 * parseSizeText("1.5G");  // { ok: true, bytes: 1610612736n }
 * parseSizeText("0.1K");  // { ok: false, problem: "fraction", negative: false }
 * ```
 */
export function parseSizeText(text: string): SizeText {
  const m = SIZE_RE.exec(text);
  if (!m) return { ok: false, problem: "syntax" };
  const [, sign, number, unitName] = m as unknown as [string, string, string, string];
  const unit = UNITS[unitName.toLowerCase()];
  if (unit === undefined) return { ok: false, problem: "unit", unit: unitName };
  const dot = number.indexOf(".");
  const whole = dot < 0 ? number : number.slice(0, dot);
  const frac = dot < 0 ? "" : number.slice(dot + 1);
  const scale = 10n ** BigInt(frac.length);
  const scaled = BigInt((whole + frac) || "0") * unit;
  const negative = sign === "-";
  if (scaled % scale !== 0n) return { ok: false, problem: "fraction", negative };
  const bytes = scaled / scale;
  return { ok: true, bytes: negative ? -bytes : bytes };
}
