/**
 * The VM description: the immutable builder (`vm()`), overlays, sizes, formats and
 * validation. Pure: nothing here does I/O.
 * @module
 */
export { vm, VmBuilder, commandLineOf } from "./builder.ts";
export type {
  AioMode, CacheMode, DiskOptions, ForwardOptions, LegacyDiskOptions, NetworkChoice, SerialChoice, SmpChoice, VncOptions,
} from "./builder.ts";
export { overlay } from "./overlay.ts";
export type { OverlayOptions } from "./overlay.ts";
export { parseSize, parseMemoryMiB, MAX_MEMORY_MIB } from "./size.ts";
export { inferFormat, formatFromExtension, checkFormat, IMAGE_FORMATS } from "./format.ts";
export { checkPath } from "./path.ts";
export { validateSpec, LEGACY_INDEX, MAX_VNC_DISPLAY, MAX_VNC_WEBSOCKET_DISPLAY, MAX_CPUS } from "./validate.ts";
export { DEFAULT_SPEC } from "./defaults.ts";
export type * from "./types.ts";
