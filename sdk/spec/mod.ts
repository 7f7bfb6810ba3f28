/**
 * `qemukit/spec`: the VM description. The immutable builder (`vm()`), overlays, sizes and
 * validation, plus the spec's types and limits. Pure: nothing here does I/O.
 *
 * @example
 * ```ts
 * import { validateSpec, vm } from "qemukit/spec";
 * validateSpec(vm().memory(512).smp(2).spec);
 * ```
 * @module
 */
export { vm, VmBuilder } from "./builder.ts";
export type {
  AioMode,
  CacheMode,
  DiskOptions,
  ForwardOptions,
  LegacyDiskOptions,
  NetworkChoice,
  SerialChoice,
  SmpChoice,
  VncOptions,
} from "./builder.ts";
export { overlay } from "./overlay.ts";
export type { OverlayOptions } from "./overlay.ts";
export { parseSize, parseMemoryMiB, MAX_MEMORY_MIB } from "./size.ts";
export { validateSpec, MAX_VNC_DISPLAY, MAX_VNC_WEBSOCKET_DISPLAY, MAX_CPUS } from "./validate.ts";
export { DEFAULT_SPEC } from "./defaults.ts";
export type * from "./types.ts";
