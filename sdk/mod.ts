/**
 * qemukit: script QEMU/KVM from TypeScript.
 *
 * ```ts
 * import { vm, overlay, guests } from "qemukit";
 *
 * const debian = await guests.debian();
 * await using m = await vm().memory(512).smp(2).disk(overlay(debian.image)).vnc(1).start();
 * console.log(m.vnc?.port);                        // 5901
 * console.log(await m.qmp.execute("query-status")); // { status: "running", ... }
 * ```
 *
 * Layers, each usable alone: spec (builder), compile (argv), qmp (client), img (qemu-img),
 * machine (running VMs), host (virtualization check), verify (checksums, signatures),
 * guests (built-in test guests).
 * @module
 */
export * from "./errors/mod.ts";
export * from "./spec/mod.ts";
export * from "./compile/mod.ts";
export * from "./qmp/mod.ts";
// The image layer's own `overlay`/`IMAGE_FORMATS` are reachable as `image.overlay` and
// through the spec layer; everything else of it is public as is.
export {
  image, ImageError, ImageLockedError, registerLockHolderLookup, isImageFormat, maxVirtualSize,
  detectFormat, createOverlay, ConvertTask, formatSize, parseImageSize,
} from "./img/mod.ts";
export type {
  ImageErrorCode, LockHolderLookup, OverlayResult, BackingPathMode, CreateOptions, CreateResult, FormatOptions,
  Preallocation, InfoOptions, FormatSpecific, ImageInfo, SnapshotInfo, ConvertOptions, ConvertProgress, ConvertResult,
  SnapshotOptions, ResizeOptions, CheckOptions, CheckResult, CommitOptions, RebaseOptions, MeasureOptions, MeasureResult,
  MapExtent, MapOptions, DuLayer, DuOptions, DuResult, CompareOptions, CompareResult, Size, ChainLayer,
} from "./img/mod.ts";
export * from "./machine/mod.ts";
export * from "./host/mod.ts";
export * from "./verify/mod.ts";
export * from "./guests/mod.ts";
export { VERSION } from "./version.ts";
