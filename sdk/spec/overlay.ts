/**
 * Copy-on-write layers: the VM writes to a fresh qcow2 over an untouched base image.
 * @module
 */
import { checkFormat } from "./format.ts";
import { checkPath } from "./path.ts";
import type { DiskSource, ImageFormat } from "./types.ts";

/** Options of {@link overlay}. */
export interface OverlayOptions {
  /** Where to create the overlay; default: `<runDir>/<diskid>.qcow2`, deleted with the run directory. */
  readonly path?: string;
  /** Format of the base; default: detected at start (`qemu-img info`), or guessed from the extension for previews. */
  readonly baseFormat?: ImageFormat;
}

/**
 * A qcow2 overlay over `base`, created when the VM starts (`qemu-img create -f qcow2 -b
 * base -F fmt overlay`). The base is never written.
 *
 * @example
 * ```ts
 * vm().disk(overlay("debian-12.qcow2"));                               // in the run directory
 * vm().disk(overlay("debian-12.qcow2", { path: "sda-vm1.qcow2" }));    // the lab's sda-vm1.qcow2
 * ```
 */
export function overlay(base: string, options: OverlayOptions = {}): DiskSource {
  checkPath(base, "overlay base");
  if (options.path !== undefined) checkPath(options.path, "overlay");
  if (options.baseFormat !== undefined) checkFormat(options.baseFormat, base);
  return Object.freeze({
    kind: "overlay" as const,
    base,
    ...(options.baseFormat !== undefined ? { baseFormat: options.baseFormat } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
}
