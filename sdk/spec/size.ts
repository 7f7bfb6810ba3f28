/**
 * Human-readable sizes ("512M", "2G", "1.5 GiB") as QEMU understands them: binary
 * multiples, so "1K" is 1024 bytes.
 * @module
 */
import { SpecError } from "../errors/errors.ts";
import { MAX_EXACT_BYTES, parseSizeText, SIZE_UNIT_LETTERS } from "../util/size.ts";

/**
 * Parse a size into bytes. Numbers are taken as bytes; strings may carry a binary unit
 * (`K`, `M`, `G`, `T`, `P`, `E`, optionally followed by `B` or `iB`). A plain digit
 * string is bytes, as for `qemu-img create`. The grammar and the range (exact numbers up
 * to 8 PiB) are sdk/util/size.ts's, shared with the image layer.
 *
 * Throws {@link SpecError} (`SPEC_SIZE`) for negative, fractional-byte, unknown-unit or
 * unsafe (above 2^53) sizes.
 *
 * @example
 * ```ts
 * parseSize("512M");   // 536870912
 * parseSize("1.5G");   // 1610612736
 * parseSize(4096);     // 4096
 * ```
 */
export function parseSize(s: string | number): number {
  if (typeof s === "number") {
    if (!Number.isFinite(s) || s < 0) throw negativeSize(s);
    if (!Number.isInteger(s)) throw fractionalSize(s);
    if (s > MAX_EXACT_BYTES) throw tooLarge(s);
    return s;
  }
  const parsed = parseSizeText(s);
  if (!parsed.ok) {
    switch (parsed.problem) {
      case "syntax":
        throw new SpecError(`invalid size ${JSON.stringify(s)}`, {
          code: "SPEC_SIZE",
          advice: 'write a number with an optional binary unit, e.g. "512M", "2G" or "10GiB"',
          details: { value: s },
        });
      case "unit":
        throw new SpecError(`unknown size unit ${JSON.stringify(parsed.unit)} in ${JSON.stringify(s)}`, {
          code: "SPEC_SIZE",
          advice: `use one of ${SIZE_UNIT_LETTERS} (binary multiples; KB/KiB/MB/MiB... also accepted)`,
          details: { value: s, unit: parsed.unit },
        });
      case "fraction":
        throw parsed.negative ? negativeSize(s) : fractionalSize(s);
    }
  }
  if (parsed.bytes < 0n) throw negativeSize(s);
  if (parsed.bytes > BigInt(MAX_EXACT_BYTES)) throw tooLarge(s);
  return Number(parsed.bytes);
}

function negativeSize(s: string | number): SpecError {
  return new SpecError(`size ${JSON.stringify(s)} is negative or not a number`, {
    code: "SPEC_SIZE",
    advice: "sizes must be zero or positive",
    details: { value: s },
  });
}

function fractionalSize(s: string | number): SpecError {
  return new SpecError(`size ${JSON.stringify(s)} is not a whole number of bytes`, {
    code: "SPEC_SIZE",
    advice: 'use a smaller unit, e.g. "1536M" instead of "1.5001G"',
    details: { value: s },
  });
}

function tooLarge(s: string | number): SpecError {
  return new SpecError(`size ${JSON.stringify(s)} is too large`, {
    code: "SPEC_SIZE",
    advice: "sizes above 8 PiB cannot be represented exactly; use a smaller size",
    details: { value: s },
  });
}

/** Largest guest RAM qemukit accepts: 16 TiB, far above any host it will run on. */
export const MAX_MEMORY_MIB = 16 * 1024 * 1024;

/**
 * Parse guest memory into MiB. Plain numbers (and digit-only strings) are MiB, as for
 * QEMU's `-m`; strings with a unit are converted. Throws `SPEC_MEMORY` for 0, negative,
 * fractional-MiB or absurd amounts, `SPEC_SIZE` for unknown units.
 *
 * @example
 * ```ts
 * parseMemoryMiB(512);    // 512
 * parseMemoryMiB("2G");   // 2048
 * ```
 */
export function parseMemoryMiB(m: number | string): number {
  let mib: number;
  if (typeof m === "number" || /^\s*-?\d+(\.\d*)?\s*$/.test(m)) {
    mib = Number(m);
  } else {
    try {
      mib = parseSize(m) / 2 ** 20;
    } catch (e) {
      if (e instanceof SpecError && /negative/.test(e.message)) {
        throw memoryError(`guest memory ${JSON.stringify(m)} is negative`, m);
      }
      if (e instanceof SpecError && /too large/.test(e.message)) {
        throw memoryError(`guest memory ${JSON.stringify(m)} is absurdly large (over 16 TiB)`, m);
      }
      throw e;
    }
  }
  if (!Number.isFinite(mib) || mib <= 0) {
    throw memoryError(`guest memory must be positive, got ${JSON.stringify(m)}`, m);
  }
  if (!Number.isInteger(mib)) {
    throw memoryError(`guest memory ${JSON.stringify(m)} is not a whole number of MiB`, m);
  }
  if (mib > MAX_MEMORY_MIB) {
    throw memoryError(`guest memory ${JSON.stringify(m)} is absurdly large (over 16 TiB)`, m);
  }
  return mib;
}

function memoryError(message: string, value: unknown): SpecError {
  return new SpecError(message, {
    code: "SPEC_MEMORY",
    advice: 'give whole MiB as a number (memory(512)) or a size with a unit (memory("2G")); the lab uses 512',
    details: { value },
  });
}
