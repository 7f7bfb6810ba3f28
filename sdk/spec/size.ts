/**
 * Human-readable sizes ("512M", "2G", "1.5 GiB") as QEMU understands them: binary
 * multiples, so "1K" is 1024 bytes.
 * @module
 */
import { SpecError } from "../errors/errors.ts";

const UNITS: Readonly<Record<string, number>> = {
  "": 1, b: 1,
  k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10,
  m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20,
  g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30,
  t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40,
  p: 2 ** 50, pb: 2 ** 50, pib: 2 ** 50,
  e: 2 ** 60, eb: 2 ** 60, eib: 2 ** 60,
};

const SIZE_RE = /^\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-zA-Z]*)\s*$/;

/**
 * Parse a size into bytes. Numbers are taken as bytes; strings may carry a binary unit
 * (`K`, `M`, `G`, `T`, `P`, `E`, optionally followed by `B` or `iB`). A plain digit
 * string is bytes, as for `qemu-img create`.
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
  let bytes: number;
  if (typeof s === "number") {
    bytes = s;
  } else {
    const m = SIZE_RE.exec(s);
    if (!m) {
      throw new SpecError(`invalid size ${JSON.stringify(s)}`, {
        code: "SPEC_SIZE",
        advice: 'write a number with an optional binary unit, e.g. "512M", "2G" or "10GiB"',
        details: { value: s },
      });
    }
    const unit = UNITS[m[2].toLowerCase()];
    if (unit === undefined) {
      throw new SpecError(`unknown size unit ${JSON.stringify(m[2])} in ${JSON.stringify(s)}`, {
        code: "SPEC_SIZE",
        advice: "use one of K, M, G, T, P, E (binary multiples; KB/KiB/MB/MiB... also accepted)",
        details: { value: s, unit: m[2] },
      });
    }
    bytes = Number(m[1]) * unit;
  }
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new SpecError(`size ${JSON.stringify(s)} is negative or not a number`, {
      code: "SPEC_SIZE",
      advice: "sizes must be zero or positive",
      details: { value: s },
    });
  }
  if (!Number.isInteger(bytes)) {
    throw new SpecError(`size ${JSON.stringify(s)} is not a whole number of bytes`, {
      code: "SPEC_SIZE",
      advice: "use a smaller unit, e.g. \"1536M\" instead of \"1.5001G\"",
      details: { value: s },
    });
  }
  if (bytes > Number.MAX_SAFE_INTEGER) {
    throw new SpecError(`size ${JSON.stringify(s)} is too large`, {
      code: "SPEC_SIZE",
      advice: "sizes above 8 PiB cannot be represented exactly; use a smaller size",
      details: { value: s },
    });
  }
  return bytes;
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
