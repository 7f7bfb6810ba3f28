/**
 * Copy-on-write overlays: a qcow2 whose backing file is a base image that is never written.
 * @module
 */
import { dirname, isAbsolute, relative } from "node:path";
import { walkChain } from "./chain.ts";
import { detectFormat } from "./detect.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, checkFormat, type ImageFormat } from "./formats.ts";
import { absPath, checkDestination, commitTemp, removeQuietly, statImage, tempSibling } from "./paths.ts";
import { runQemuImg } from "./run.ts";
import { parseImageSize, type Size } from "./size.ts";

/** How the overlay records where its base is. */
export type BackingPathMode = "auto" | "absolute" | "relative";

/** Options of {@link overlay}. */
export interface OverlayOptions {
  /** Format of the base. Give it when you know it: then creating the overlay is exactly one qemu-img call. Default: detected with {@link detectFormat}. */
  readonly baseFormat?: ImageFormat;
  /** Replace an existing file at the overlay path. @default false */
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
  const absBase = absPath(base);
  const absDst = absPath(path);
  const baseFormat = options.baseFormat !== undefined ? checkFormat(options.baseFormat, "base format") : undefined;
  const [baseSt, dstSt] = await Promise.all([statImage(absBase, "base image"), checkDestination(absDst, options.overwrite)]);
  const fmt = baseFormat ?? await detectFormat(absBase);
  // Chain check: qemu-img create opens the whole chain, and would recurse forever on a hard-link loop.
  const layers = BACKING_FORMATS.includes(fmt)
    ? await walkChain(absBase, fmt)
    : [{ path: absBase, dev: baseSt.dev, ino: baseSt.ino }];
  if (dstSt) {
    const hit = layers.find((l) => l.dev === dstSt.dev && l.ino === dstSt.ino);
    if (hit) {
      throw new ImageError("IMAGE_SAME_FILE", `${path} is ${hit.path === absBase ? "the base image itself" : `${hit.path}, a layer of the base's backing chain`}`, {
        advice: "choose another overlay path: overwriting it would destroy the base",
        details: { base, path, layer: hit.path },
      });
    }
  }
  const mode = options.backingPath ?? "auto";
  const backingFile = mode === "absolute" || (mode === "auto" && isAbsolute(base))
    ? absBase
    : relative(dirname(absDst), absBase);
  const tmp = tempSibling(absDst);
  // -b/-F take the name literally; no -o backing_file=..., which would need commas doubled.
  const args = ["create", "-q", "-f", "qcow2", "-b", backingFile, "-F", fmt];
  if (options.clusterSize !== undefined) args.push("-o", `cluster_size=${options.clusterSize}`);
  args.push(tmp);
  if (options.size !== undefined) args.push(parseImageSize(options.size).toString());
  try {
    await runQemuImg(args, { op: "create", path, format: "qcow2" });
    await commitTemp(tmp, absDst, options.overwrite);
  } catch (e) {
    await removeQuietly(tmp);
    throw e;
  }
  return { path: absDst, baseFormat: fmt, backingFile };
}

/**
 * The contract form used by the machine layer: `createOverlay(base, path, { baseFormat?, overwrite? })`.
 *
 * @example
 * ```ts
 * const { path, baseFormat } = await createOverlay("debian-12.qcow2", "/run/vm1/disk0.qcow2");
 * ```
 */
export async function createOverlay(
  base: string,
  path: string,
  options: { readonly baseFormat?: ImageFormat; readonly overwrite?: boolean } = {},
): Promise<{ path: string; baseFormat: ImageFormat }> {
  const r = await overlay(base, path, options);
  return { path: r.path, baseFormat: r.baseFormat };
}
