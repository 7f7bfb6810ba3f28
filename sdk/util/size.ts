/**
 * The one size module of qemukit: the grammar ("512M", "2G", "1.5 GiB", "4096"; units
 * binary, as in QEMU: K = 1024), qemu-img's way of printing sizes, and the range rule.
 * Sizes in qemukit's results are plain numbers, exact up to {@link MAX_EXACT_BYTES}
 * (2^53 - 1 bytes, just under 8 PiB); larger sizes are refused with a clear error rather
 * than rounded. Each layer wraps the grammar in its own error type (spec: `SPEC_SIZE`,
 * img: `SIZE_INVALID`). Pure, no I/O.
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

/**
 * The largest size qemukit holds: 2^53 - 1 bytes (8 PiB), the largest integer a JavaScript
 * number holds exactly. Beyond what qcow2 (2 PiB with its default 64 KiB clusters), vdi,
 * vhdx and vpc allow.
 */
export const MAX_EXACT_BYTES = Number.MAX_SAFE_INTEGER;

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
  const scaled = BigInt(whole + frac || "0") * unit;
  const negative = sign === "-";
  if (scaled % scale !== 0n) return { ok: false, problem: "fraction", negative };
  const bytes = scaled / scale;
  return { ok: true, bytes: negative ? -bytes : bytes };
}

const UNIT_NAMES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/**
 * Formats bytes the way qemu-img does: "64 MiB", "1.5 GiB", "512 B".
 *
 * @example
 * ```ts
 * formatSize(67108864); // "64 MiB"
 * ```
 */
export function formatSize(bytes: number | bigint): string {
  const b = BigInt(bytes);
  let i = 0;
  while (i < UNIT_NAMES.length - 1 && b >= 1024n ** BigInt(i + 1)) i++;
  if (i === 0) return `${b} B`;
  const v = Number((b * 1000n) / 1024n ** BigInt(i)) / 1000;
  // qemu-img prints three significant digits (%0.3g)
  return `${Number(v.toPrecision(3))} ${UNIT_NAMES[i]}`;
}
