/**
 * Disk images: a typed, safe wrapper around qemu-img.
 * @module
 */
export { ImageError, ImageLockedError, type ImageErrorCode } from "./errors.ts";
export { registerLockHolderLookup, type LockHolderLookup } from "./lock-holders.ts";
export { IMAGE_FORMATS, isImageFormat, maxVirtualSize, type ImageFormat } from "./formats.ts";
export { detectFormat } from "./detect.ts";
export { createOverlay, overlay, type BackingPathMode, type OverlayOptions, type OverlayResult } from "./overlay.ts";
export { formatSize, parseImageSize, type Size } from "./size.ts";
export { parseJsonLossless, stringifyLossless, type LosslessJson } from "./json.ts";
export { walkChain, type ChainLayer } from "./chain.ts";
