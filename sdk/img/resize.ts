/**
 * `qemu-img resize`.
 * @module
 */
import { checkSize } from "./create.ts";
import { ImageError } from "./errors.ts";
import { formatSize, parseSignedSize, type ImageFormat, type Size } from "./formats.ts";
import { info } from "./info.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";
import type { Preallocation } from "./create.ts";

/** Options of {@link resize}. */
export interface ResizeOptions {
  /** The image's format. Detected when omitted. */
  readonly format?: ImageFormat;
  /** Allow making the disk smaller (data past the new end is lost; shrink the guest file system first). @default false */
  readonly shrink?: boolean;
  /** How to allocate the added space. */
  readonly preallocation?: Preallocation;
}

/**
 * Sets the virtual size: an absolute size ("20G") or a change ("+5G", "-1G").
 * Returns the new size in bytes.
 *
 * @example
 * ```ts
 * await image.resize("vm.qcow2", "+10G", { format: "qcow2" });
 * ```
 * @throws {ImageError} SIZE_INVALID (zero, beyond the format limit, or smaller without `shrink`), IMAGE_LOCKED
 */
export async function resize(path: string, size: Size, options: ResizeOptions = {}): Promise<number> {
  const abs = absPath(path);
  await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  const current = await info(abs, { format });
  const delta = typeof size === "string" && /^\s*[+-]/.test(size);
  const target = delta ? current.virtualSize + parseSignedSize(size) : parseSignedSize(size);
  checkSize(target, format, current.clusterSize);
  if (target < current.virtualSize && !options.shrink) {
    throw new ImageError(
      "SIZE_INVALID",
      `${path} would shrink from ${formatSize(current.virtualSize)} to ${formatSize(target)}`,
      {
        advice:
          "shrinking loses the data past the new end: shrink the guest's partitions first, then pass { shrink: true }",
        details: { path, from: current.virtualSize, to: target },
      },
    );
  }
  const args = ["resize", "-q", "-f", format];
  if (options.shrink) args.push("--shrink");
  if (options.preallocation) args.push(`--preallocation=${options.preallocation}`);
  // absolute bytes: no unit or sign interpretation left to qemu-img
  args.push(abs, target.toString());
  await runQemuImg(args, { op: "resize", path, format });
  return target;
}
