/**
 * Image formats qemukit creates and opens, and their size limits (measured against
 * qemu-img 7.2, checked before qemu-img runs so the error can say what to do).
 * @module
 */
import { IMAGE_FORMATS, isImageFormat } from "../spec/format.ts";
import type { ImageFormat } from "../spec/types.ts";
import { ImageError } from "./errors.ts";

export type { ImageFormat };
// The list is the spec layer's (pure, so this layer may depend on it); only the error differs.
export { IMAGE_FORMATS, isImageFormat };

/** Formats whose images can have a backing file. */
export const BACKING_FORMATS: readonly ImageFormat[] = ["qcow2", "qed", "vmdk"];

const INT64_MAX = (1n << 63n) - 1n;

/**
 * Largest virtual size qemu-img accepts for a new image of `format`.
 * qcow2's limit grows with the cluster size: the L1 table is at most 32 MiB, each entry
 * maps one L2 table of `cluster/8` entries of one cluster each.
 */
export function maxVirtualSize(format: ImageFormat, clusterSize = 65536): bigint {
  const cs = BigInt(clusterSize);
  switch (format) {
    case "qcow2": {
      const max = (32n * 1024n * 1024n / 8n) * (cs / 8n) * cs;
      return max < INT64_MAX ? max : INT64_MAX;
    }
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
      return INT64_MAX;
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
  if (isImageFormat(name)) return name;
  throw new ImageError("IMAGE_FORMAT", `unknown image ${what} ${JSON.stringify(name)}`, {
    advice: `use one of: ${IMAGE_FORMATS.join(", ")}`,
    details: { format: name },
  });
}
