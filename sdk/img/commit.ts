/**
 * `qemu-img commit`: write an overlay's changes down into its backing file.
 * @module
 */
import { walkChain } from "./chain.ts";
import { ImageError } from "./errors.ts";
import type { ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** Options of {@link commit}. */
export interface CommitOptions {
  /** The overlay's format. Detected when omitted. */
  readonly format?: ImageFormat;
  /** Commit into this deeper layer instead of the immediate backing file (everything in between is included). */
  readonly base?: string;
  /** Keep the overlay's data after committing (otherwise qemu-img empties it). @default false */
  readonly keep?: boolean;
}

/**
 * Writes the overlay's changes into its backing file: the one operation that
 * deliberately modifies a backing image. Every VM using that backing file (through other
 * overlays) will see different data afterwards, so do this only on a base you own.
 * Returns the path of the layer that was written.
 *
 * @example
 * ```ts
 * await image.commit("golden-update.qcow2", { format: "qcow2" }); // golden.qcow2 now has the changes
 * ```
 * @throws {ImageError} IMAGE_FORMAT (no backing file), IMAGE_LOCKED, BACKING_MISSING, BACKING_LOOP
 */
export async function commit(path: string, options: CommitOptions = {}): Promise<string> {
  const abs = absPath(path);
  await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  const layers = await walkChain(abs, format);
  if (layers.length < 2) {
    throw new ImageError("IMAGE_FORMAT", `${path} has no backing file to commit into`, { details: { path } });
  }
  let target = layers[1]!.path;
  const args = ["commit", "-q", "-f", format];
  if (options.base !== undefined) {
    const baseSt = await statImage(absPath(options.base), "commit base");
    const hit = layers.slice(1).find((l) => l.dev === baseSt.dev && l.ino === baseSt.ino);
    if (!hit) {
      throw new ImageError("IMAGE_INVALID_ARGUMENT", `${options.base} is not in the backing chain of ${path}`, {
        advice: `the chain is: ${layers.map((l) => l.path).join(" -> ")}`,
        details: { path, base: options.base },
      });
    }
    target = hit.path;
    args.push("-b", hit.path);
  }
  if (options.keep) args.push("-d");
  args.push(abs);
  await runQemuImg(args, { op: "commit", path, format });
  return target;
}
