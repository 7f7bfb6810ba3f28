/**
 * Disk images: a typed, safe wrapper around qemu-img. Formats are always explicit
 * (`-f`/`-F`) except where the caller asks for detection; outputs are written to temp
 * files and moved into place on success; backing files are only ever read (except by
 * `commit`, whose job is to write them); byte counts are plain numbers, exact up to 8 PiB
 * (2^53 - 1), so every result survives `JSON.stringify`.
 * @module
 */
export { image } from "./image.ts";
export { ImageError, ImageLockedError, type ImageErrorCode } from "./errors.ts";
export { registerLockHolderLookup, type LockHolderLookup } from "./lock-holders.ts";
export { IMAGE_FORMATS, isImageFormat, maxVirtualSize, formatSize, parseImageSize, type ImageFormat, type Size } from "./formats.ts";
export { detectFormat } from "./detect.ts";
export { createOverlay, overlay, type OverlayOptions, type OverlayResult } from "./overlay.ts";
export type { BackingPathMode } from "./backing.ts";
export { create, type CreateOptions, type CreateResult, type FormatOptions, type Preallocation } from "./create.ts";
export { info, type InfoOptions } from "./info.ts";
export type { FormatSpecific, ImageInfo, SnapshotInfo } from "./info-types.ts";
export { convert, ConvertTask, type ConvertOptions, type ConvertProgress, type ConvertResult } from "./convert.ts";
export { applySnapshot, createSnapshot, deleteSnapshot, listSnapshots, type SnapshotOptions } from "./snapshot.ts";
export { resize, type ResizeOptions } from "./resize.ts";
export { check, type CheckOptions, type CheckResult } from "./check.ts";
export { commit, type CommitOptions } from "./commit.ts";
export { rebase, type RebaseOptions } from "./rebase.ts";
export { measure, type MeasureOptions, type MeasureResult } from "./measure.ts";
export { map, type MapExtent, type MapOptions } from "./map.ts";
export { du, type DuLayer, type DuOptions, type DuResult } from "./du.ts";
export { compare, type CompareOptions, type CompareResult } from "./compare.ts";
export type { ImageJson, ImageJsonObject } from "./json.ts";
export { walkChain, type ChainLayer } from "./chain.ts";
