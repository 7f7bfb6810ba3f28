/**
 * Format detection for images the user hands in. This is the only place qemukit lets
 * qemu-img read a format from file contents; everything else passes `-f` explicitly,
 * because probing lets a guest that wrote a qcow2 header into a raw disk make the host
 * open it as qcow2 (and follow a backing file of the guest's choosing).
 * @module
 */
import { ImageError } from "./errors.ts";
import { isImageFormat, type ImageFormat } from "./formats.ts";
import { parseJsonLossless } from "../util/json.ts";
import { absPath, statImage } from "./paths.ts";
import { runQemuImg } from "./run.ts";

/**
 * Detects the format of an image you trust (a base image you downloaded or built) with
 * `qemu-img info -U`. Do not use it on disks a guest has written to: a raw disk whose
 * first bytes look like a qcow2 header is reported as qcow2. Pass formats explicitly there.
 *
 * @example
 * ```ts
 * const fmt = await detectFormat("debian-12.qcow2"); // "qcow2"
 * ```
 * @throws {ImageError} IMAGE_NOT_FOUND, IMAGE_FORMAT (a format qemukit does not handle)
 */
export async function detectFormat(path: string): Promise<ImageFormat> {
  const abs = absPath(path);
  const st = await statImage(abs, "image");
  if (st.isDirectory()) {
    throw new ImageError("IMAGE_FORMAT", `${path} is a directory, not an image`, { details: { path } });
  }
  // -U: detection must work on an image a running VM holds.
  const { stdout } = await runQemuImg(["info", "-U", "--output=json", abs], { op: "info", path });
  const parsed = parseJsonLossless(stdout) as { format?: unknown };
  if (!isImageFormat(parsed.format)) {
    throw new ImageError("IMAGE_FORMAT", `${path} is a ${String(parsed.format)} image, which qemukit does not handle`, {
      advice: "convert it first: qemu-img convert -O qcow2 " + JSON.stringify(path) + " out.qcow2",
      details: { path, format: parsed.format },
    });
  }
  return parsed.format;
}
