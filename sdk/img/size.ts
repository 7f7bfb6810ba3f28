/**
 * Image sizes: bytes as a number or bigint, or strings like "2G", "512M", "1.5T", "10GiB".
 * Units are binary (K = 1024), as in qemu-img. The result is an exact bigint, because
 * raw and vmdk images may be larger than 2^53 bytes, where numbers lose precision.
 * The grammar is shared with sdk/spec's `parseSize` (sdk/util/size.ts), which returns a
 * number for VM memory sizes; disks need the wider range.
 * @module
 */
import { parseSizeText, SIZE_UNIT_LETTERS } from "../util/size.ts";
import { ImageError } from "./errors.ts";

/** A size accepted by the image API. */
export type Size = number | bigint | string;

function invalid(size: unknown, why: string): ImageError {
  return new ImageError("SIZE_INVALID", `invalid size ${typeof size === "string" ? JSON.stringify(size) : String(size)}: ${why}`, {
    advice: `give bytes (1073741824) or a number with a binary unit: "512M", "2G", "1.5T" (${SIZE_UNIT_LETTERS}; "GiB" also works)`,
    details: { size: typeof size === "bigint" ? size.toString() : size },
  });
}

/**
 * Parses a size to exact bytes. Zero and negative sizes are invalid.
 *
 * @example
 * ```ts
 * parseImageSize("1.5T"); // 1649267441664n
 * parseImageSize(4096);   // 4096n
 * parseImageSize("2 GiB"); // 2147483648n
 * ```
 * @throws {ImageError} SIZE_INVALID
 */
export function parseImageSize(size: Size): bigint {
  const bytes = parseSignedSize(size);
  if (bytes <= 0n) throw invalid(size, "an image must be larger than 0 bytes");
  return bytes;
}

/** Like {@link parseImageSize} but allows a leading sign and zero (for relative resizes). */
export function parseSignedSize(size: Size): bigint {
  if (typeof size === "bigint") return size;
  if (typeof size === "number") {
    if (!Number.isSafeInteger(size)) throw invalid(size, "not a whole number of bytes (use a bigint or a string above 2^53)");
    return BigInt(size);
  }
  if (typeof size !== "string") throw invalid(size, "expected a number, bigint or string");
  const parsed = parseSizeText(size);
  if (!parsed.ok) throw invalid(size, parsed.problem === "fraction" ? "not a whole number of bytes" : "not a size");
  return parsed.bytes;
}

/**
 * Formats bytes the way qemu-img does: "64 MiB", "1.5 GiB", "512 B".
 *
 * @example
 * ```ts
 * formatSize(67108864n); // "64 MiB"
 * ```
 */
export function formatSize(bytes: bigint | number): string {
  const b = BigInt(bytes);
  const names = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  while (i < names.length - 1 && b >= 1024n ** BigInt(i + 1)) i++;
  if (i === 0) return `${b} B`;
  const v = Number(b * 1000n / 1024n ** BigInt(i)) / 1000;
  // qemu-img prints three significant digits (%0.3g)
  return `${Number(v.toPrecision(3))} ${names[i]}`;
}
