/**
 * Copy-on-write overlays: a qcow2 whose backing file is a base image that is never written.
 * @module
 */
import type { BackingPathMode } from "./backing.ts";
import { create } from "./create.ts";
import type { ImageFormat } from "./formats.ts";
import type { Size } from "./formats.ts";

/** Options of {@link overlay}. */
export interface OverlayOptions {
  /** Format of the base. Give it when you know it: then creating the overlay is exactly one qemu-img call. Default: detected with `image.detectFormat`. */
  readonly baseFormat?: ImageFormat;
  /** Replace an existing file at the overlay path (never the base or a layer of its chain). @default false */
  readonly overwrite?: boolean;
  /**
   * How the base's path is stored in the overlay. qcow2 resolves a relative backing path
   * against the overlay's own directory (not the current directory), so qemukit rewrites it:
   * - `"auto"`: absolute if you passed an absolute base, else relative to the overlay's directory
   *   (the pair can then be moved together);
   * - `"absolute"` / `"relative"`: always that.
   * @default "auto"
   */
  readonly backingPath?: BackingPathMode;
  /** Virtual size of the overlay, if larger than the base. @default the base's size */
  readonly size?: Size;
  /** qcow2 cluster size in bytes. @default 65536 */
  readonly clusterSize?: number;
}

/** What {@link overlay} made. */
export interface OverlayResult {
  /** Absolute path of the new overlay. */
  readonly path: string;
  /** Format of the base (as given, or detected). */
  readonly baseFormat: ImageFormat;
  /** The backing file name written into the overlay. */
  readonly backingFile: string;
}

/**
 * Creates a qcow2 overlay at `path` backed by `base`, always with an explicit backing
 * format (`-F`), written to a temp file and moved into place only on success. The base
 * is opened read-only; its chain is checked for missing files and loops first.
 *
 * @example
 * ```ts
 * await image.overlay("images/debian-12.qcow2", "vms/web1.qcow2", { baseFormat: "qcow2" });
 * // vms/web1.qcow2 -> backing "../images/debian-12.qcow2" (relative to vms/)
 * ```
 * @throws {ImageError} IMAGE_NOT_FOUND, IMAGE_EXISTS, IMAGE_SAME_FILE, IMAGE_FORMAT, BACKING_MISSING, BACKING_LOOP
 */
export async function overlay(base: string, path: string, options: OverlayOptions = {}): Promise<OverlayResult> {
  const r = await create(path, options.size, {
    format: "qcow2",
    backing: base,
    backingFormat: options.baseFormat,
    backingPath: options.backingPath,
    overwrite: options.overwrite,
    clusterSize: options.clusterSize,
  });
  return { path: r.path, baseFormat: r.backingFormat!, backingFile: r.backingFile! };
}
