/**
 * Host disk usage of images, like `du`: allocated blocks, not the apparent size.
 * @module
 */
import { stat } from "node:fs/promises";
import { walkChain } from "./chain.ts";
import { BACKING_FORMATS, type ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";

/** Usage of one file. */
export interface DuLayer {
  readonly path: string;
  /** Bytes allocated on the host (st_blocks * 512), like `du -B1`. */
  readonly bytes: bigint;
  /** The file's length (`ls -l`), which for sparse images is larger. */
  readonly apparentBytes: bigint;
}

/** What {@link du} measured. */
export interface DuResult extends DuLayer {
  /** Every layer measured, top first (just the image unless `backingChain`). */
  readonly layers: readonly DuLayer[];
}

/** Options of {@link du}. */
export interface DuOptions {
  /** Add up the whole backing chain. @default false */
  readonly backingChain?: boolean;
  /** The image's format (needed to follow the chain). Detected when omitted. */
  readonly format?: ImageFormat;
}

async function one(path: string): Promise<DuLayer> {
  const st = await stat(path, { bigint: true });
  return { path, bytes: st.blocks * 512n, apparentBytes: st.size };
}

/**
 * Bytes an image really takes on the host (sum over the chain with `backingChain`).
 * No qemu-img call unless the chain is followed.
 *
 * @example
 * ```ts
 * const { bytes } = await image.du("web1.qcow2"); // 1234944n
 * ```
 */
export async function du(path: string, options: DuOptions = {}): Promise<DuResult> {
  const abs = absPath(path);
  await statImage(abs, "image");
  let paths = [abs];
  if (options.backingChain) {
    const format = await formatOf(abs, options.format);
    if (BACKING_FORMATS.includes(format)) paths = (await walkChain(abs, format)).map((l) => l.path);
  }
  const layers = await Promise.all(paths.map(one));
  return {
    path: abs,
    bytes: layers.reduce((n, l) => n + l.bytes, 0n),
    apparentBytes: layers.reduce((n, l) => n + l.apparentBytes, 0n),
    layers,
  };
}
