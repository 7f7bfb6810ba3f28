/**
 * `qemu-img rebase`: change an image's backing file.
 * @module
 */
import { prepareBacking, type BackingPathMode } from "./backing.ts";
import { walkChain } from "./chain.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, type ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** Options of {@link rebase}. */
export interface RebaseOptions {
  /** The image's format. Detected when omitted. */
  readonly format?: ImageFormat;
  /** Format of the new backing file. Detected when omitted. */
  readonly backingFormat?: ImageFormat;
  /**
   * Only rewrite the backing file name (`-u`), without comparing data. Use it when the
   * backing file moved or was renamed and its content is the same; it is wrong otherwise.
   * @default false
   */
  readonly unsafe?: boolean;
  /** How the new backing file's path is stored. @default "auto" */
  readonly backingPath?: BackingPathMode;
}

/**
 * Points `path` at a new backing file. Safe mode (the default) first copies into the
 * image every cluster where the old and new backing files differ, so what the guest sees
 * does not change. `newBacking: null` removes the backing file, copying its data in
 * (flattening). Backing files are only read.
 *
 * @example
 * ```ts
 * await image.rebase("web1.qcow2", "debian-12.1.qcow2", { format: "qcow2", backingFormat: "qcow2" });
 * await image.rebase("web1.qcow2", "/new/place/base.qcow2", { format: "qcow2", unsafe: true }); // base moved
 * await image.rebase("web1.qcow2", null, { format: "qcow2" });                                   // flatten
 * ```
 * @throws {ImageError} IMAGE_NOT_FOUND, IMAGE_SAME_FILE (the new chain contains the image), BACKING_MISSING, BACKING_LOOP, IMAGE_LOCKED
 */
export async function rebase(
  path: string,
  newBacking: string | null,
  options: RebaseOptions = {},
): Promise<{ backingFile: string | undefined }> {
  const abs = absPath(path);
  const st = await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  if (!BACKING_FORMATS.includes(format)) {
    throw new ImageError("IMAGE_FORMAT", `${format} images cannot have a backing file`, { details: { path, format } });
  }
  // Safe mode reads the old chain; in unsafe mode the old chain may be broken (that is what -u repairs).
  if (!options.unsafe) await walkChain(abs, format);
  const args = ["rebase", "-q", "-f", format];
  if (options.unsafe) args.push("-u");
  let backingFile: string | undefined;
  if (newBacking === null) {
    args.push("-b", "");
  } else {
    const b = await prepareBacking(newBacking, abs, st, { format: options.backingFormat, mode: options.backingPath });
    backingFile = b.name;
    args.push("-b", b.name, "-F", b.format);
  }
  args.push(abs);
  await runQemuImg(args, { op: "rebase", path, format });
  return { backingFile };
}
