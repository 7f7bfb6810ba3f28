/**
 * Image formats qemukit creates and opens, image sizes, and the formats' size limits
 * (measured against qemu-img 7.2, checked before qemu-img runs so the error can say what
 * to do). Sizes are bytes as plain numbers, exact up to 2^53 - 1 (8 PiB); the grammar is
 * sdk/util/size.ts, shared with the spec layer.
 * @module
 */
import { checkFormatWith, IMAGE_FORMATS, isImageFormat } from "../spec/format.ts";
import type { ImageFormat } from "../spec/types.ts";
import { formatSize, MAX_EXACT_BYTES, parseSizeText, SIZE_UNIT_LETTERS } from "../util/size.ts";
import { ImageError } from "./errors.ts";

export type { ImageFormat };
// The list is the spec layer's (pure, so this layer may depend on it); only the error differs.
export { IMAGE_FORMATS, isImageFormat };

/** Formats whose images can have a backing file. */
export const BACKING_FORMATS: readonly ImageFormat[] = ["qcow2", "qed", "vmdk"];

/** A size accepted by the image API: bytes, or a string with a binary unit ("2G"). */
export type Size = number | bigint | string;

const TOO_LARGE = "above 2^53 - 1 bytes (8 PiB), the largest size qemukit handles";

function invalidSize(size: unknown, why: string): ImageError {
  return new ImageError(
    "SIZE_INVALID",
    `invalid size ${typeof size === "string" ? JSON.stringify(size) : String(size)}: ${why}`,
    {
      advice:
        why === TOO_LARGE
          ? "pick a size up to 8P (qcow2 reaches 2 PiB with its default 64 KiB clusters; 8 PiB with 128 KiB)"
          : `give bytes (1073741824) or a number with a binary unit: "512M", "2G", "1.5T" (${SIZE_UNIT_LETTERS}; "GiB" also works)`,
      details: { size: typeof size === "bigint" ? size.toString() : size },
    },
  );
}

/**
 * Parses a size to bytes, a plain number. Zero and negative sizes are invalid, and so
 * are sizes above 2^53 - 1 bytes (8 PiB), which a number cannot hold exactly.
 *
 * @example
 * ```ts
 * parseImageSize("1.5T");   // 1649267441664
 * parseImageSize(4096);     // 4096
 * parseImageSize("2 GiB");  // 2147483648
 * ```
 * @throws {ImageError} SIZE_INVALID
 */
export function parseImageSize(size: Size): number {
  const bytes = parseSignedSize(size);
  if (bytes <= 0) throw invalidSize(size, "an image must be larger than 0 bytes");
  return bytes;
}

/** Like {@link parseImageSize} but allows a leading sign and zero (for relative resizes). */
export function parseSignedSize(size: Size): number {
  let bytes: bigint;
  if (typeof size === "bigint") bytes = size;
  else if (typeof size === "number") {
    if (!Number.isSafeInteger(size)) {
      throw invalidSize(size, Number.isInteger(size) ? TOO_LARGE : "not a whole number of bytes");
    }
    return size;
  } else if (typeof size === "string") {
    const parsed = parseSizeText(size);
    if (!parsed.ok)
      throw invalidSize(size, parsed.problem === "fraction" ? "not a whole number of bytes" : "not a size");
    bytes = parsed.bytes;
  } else throw invalidSize(size, "expected a number, bigint or string");
  if (bytes > BigInt(MAX_EXACT_BYTES) || bytes < -BigInt(MAX_EXACT_BYTES)) {
    throw invalidSize(size, TOO_LARGE);
  }
  return Number(bytes);
}

export { formatSize };

/**
 * Largest virtual size qemukit creates in `format`: the format's limit in qemu-img, or
 * 2^53 - 1 bytes (8 PiB, qemukit's own limit) where the format allows more (raw, vmdk,
 * qcow2 and qed with clusters of 256 KiB and up).
 * qcow2's limit grows with the cluster size: the L1 table is at most 32 MiB, each entry
 * maps one L2 table of `cluster/8` entries of one cluster each.
 *
 * @example
 * ```ts
 * maxVirtualSize("qcow2");   // 2251799813685248 (2 PiB with 64 KiB clusters)
 * maxVirtualSize("raw");     // 9007199254740991 (qemukit's limit; raw allows 2^63 - 1)
 * ```
 */
export function maxVirtualSize(format: ImageFormat, clusterSize = 65536): number {
  const limit = formatLimit(format, BigInt(clusterSize));
  return limit < BigInt(MAX_EXACT_BYTES) ? Number(limit) : MAX_EXACT_BYTES;
}

function formatLimit(format: ImageFormat, cs: bigint): bigint {
  switch (format) {
    case "qcow2":
      return ((32n * 1024n * 1024n) / 8n) * (cs / 8n) * cs;
    case "qed":
      // default table size: 4 clusters of 8-byte entries, two levels
      return ((4n * cs) / 8n) ** 2n * cs;
    case "vdi":
      return 0x1fffff8000000n;
    case "vhdx":
      return 64n * 1024n ** 4n;
    case "vpc":
      return 2040n * 1024n ** 3n;
    case "raw":
    case "vmdk":
      return (1n << 63n) - 1n;
  }
}

/**
 * Checks a caller-given format name; throws `IMAGE_FORMAT` with the list of valid names.
 *
 * @example
 * ```ts
 * checkFormat("qcow2"); // "qcow2"
 * checkFormat("qcow3"); // throws ImageError IMAGE_FORMAT
 * ```
 */
export function checkFormat(name: unknown, what = "format"): ImageFormat {
  return checkFormatWith(
    name,
    (message, advice, details) => new ImageError("IMAGE_FORMAT", message, { advice, details }),
    { what },
  );
}
