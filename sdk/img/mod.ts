/**
 * `qemukit/img`: disk images, a typed, safe wrapper around qemu-img. Every operation is a
 * member of {@link image} (`image.create`, `image.info`, `image.snapshot.list`, ...); this
 * module adds the helpers and types around it. Formats are always explicit (`-f`/`-F`)
 * except where the caller asks for detection; outputs are written to temp files and moved
 * into place on success; backing files are only ever read (except by `commit`, whose job is
 * to write them); byte counts are plain numbers, exact up to 8 PiB (2^53 - 1), so every
 * result survives `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { image, formatSize } from "qemukit/img";
 * const i = await image.info("disk.qcow2");
 * console.log(formatSize(i.virtualSize));
 * ```
 * @module
 */
export { image } from "./image.ts";
export { ImageError, ImageLockedError, type ImageErrorCode } from "./errors.ts";
export { registerLockHolderLookup, type LockHolderLookup } from "./lock-holders.ts";
export {
  IMAGE_FORMATS,
  isImageFormat,
  maxVirtualSize,
  formatSize,
  parseImageSize,
  type ImageFormat,
  type Size,
} from "./formats.ts";
export type { OverlayOptions, OverlayResult } from "./overlay.ts";
export type { BackingPathMode } from "./backing.ts";
export type { CreateOptions, CreateResult, FormatOptions, Preallocation } from "./create.ts";
export type { InfoOptions } from "./info.ts";
export type { FormatSpecific, ImageInfo, SnapshotInfo } from "./info-types.ts";
export { ConvertTask, type ConvertOptions, type ConvertProgress, type ConvertResult } from "./convert.ts";
export type { SnapshotOptions } from "./snapshot.ts";
export type { ResizeOptions } from "./resize.ts";
export type { CheckOptions, CheckResult } from "./check.ts";
export type { CommitOptions } from "./commit.ts";
export type { RebaseOptions } from "./rebase.ts";
export type { MeasureOptions, MeasureResult } from "./measure.ts";
export type { MapExtent, MapOptions } from "./map.ts";
export type { DuLayer, DuOptions, DuResult } from "./du.ts";
export type { CompareOptions, CompareResult } from "./compare.ts";
export type { ChainLayer } from "./chain.ts";
