/**
 * `qemu-img info`, typed.
 * @module
 */
import { walkChain } from "./chain.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, checkFormat, isImageFormat, type ImageFormat } from "./formats.ts";
import { infoFromJson } from "./info-parse.ts";
import type { ImageInfo } from "./info-types.ts";
import { parseImageJson, type ImageJsonObject as Obj } from "./json.ts";
import { absPath, statImage } from "./paths.ts";
import { runQemuImg } from "./run.ts";

/** Options of {@link info}. */
export interface InfoOptions {
  /**
   * The image's format. Give it for any image a guest has written to: it is passed as
   * `-f`, so a raw disk whose content looks like a qcow2 header is still read as raw.
   * Without it, qemu-img detects the format (like `image.detectFormat`).
   */
  readonly format?: ImageFormat;
  /** Also describe every backing file (`backing` is then set, layer by layer). @default false */
  readonly backingChain?: boolean;
  /**
   * Open with a shared lock (`-U`), so info works on an image a running VM holds.
   * The data may then be slightly stale while the VM writes. @default true
   */
  readonly shareLock?: boolean;
}

/**
 * Describes an image: sizes, format, backing file, snapshots, format-specific data, and a
 * `summary` like qemu-img's text output. One qemu-img call (the chain is walked first
 * with `backingChain`, to catch loops and missing files).
 *
 * @example
 * ```ts
 * const i = await image.info("web1.qcow2", { format: "qcow2", backingChain: true });
 * i.virtualSize;          // 21474836480 (bytes)
 * i.backing?.filename;    // "/images/debian-12.qcow2"
 * console.log(i.summary);
 * ```
 * @throws {ImageError} IMAGE_NOT_FOUND, IMAGE_FORMAT, BACKING_MISSING, BACKING_LOOP, IMAGE_LOCKED (only with shareLock: false),
 *   SIZE_TOO_LARGE (an image above 8 PiB)
 */
export async function info(path: string, options: InfoOptions = {}): Promise<ImageInfo> {
  const abs = absPath(path);
  const format = options.format !== undefined ? checkFormat(options.format) : undefined;
  const st = await statImage(abs, "image");
  if (st.isDirectory())
    throw new ImageError("IMAGE_FORMAT", `${path} is a directory, not an image`, { details: { path } });
  const args = ["info", "--output=json"];
  if (options.shareLock !== false) args.push("-U");
  if (options.backingChain) {
    // qemu-img resolves the chain itself; walk it first so a loop (even through a hard link) fails cleanly.
    let top = format;
    if (top === undefined) {
      const probe = await info(abs, { shareLock: options.shareLock });
      top = isImageFormat(probe.format) ? probe.format : undefined;
    }
    if (top !== undefined && BACKING_FORMATS.includes(top)) await walkChain(abs, top);
    args.push("--backing-chain");
    if (top !== undefined) args.push("-f", top);
  } else if (format !== undefined) {
    args.push("-f", format);
  }
  args.push(abs);
  const { stdout } = await runQemuImg(args, { op: "info", path, format });
  const parsed = parseImageJson(stdout, { op: "info", path });
  let result: ImageInfo;
  if (Array.isArray(parsed)) {
    let acc: ImageInfo | undefined;
    for (const layer of [...(parsed as Obj[])].reverse()) acc = infoFromJson(layer, acc);
    result = acc!;
  } else result = infoFromJson(parsed as Obj);
  // "raw" is qemu-img's answer for any file without an image header (a text file, an ISO,
  // a typo'd path to the wrong file): say that it is a guess.
  if (format === undefined && result.format === "raw") {
    const note = `format: raw was guessed (${path} has no disk image header); pass { format: "raw" } if that is right, else check the path`;
    result = { ...result, formatGuessed: true, summary: `${result.summary}\n${note}` };
  }
  return result;
}
