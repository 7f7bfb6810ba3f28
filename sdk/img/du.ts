/**
 * Host disk usage of images, like `du`: allocated blocks, not the apparent size.
 * @module
 */
import { stat } from "node:fs/promises";
import { MAX_EXACT_BYTES } from "../util/size.ts";
import { walkChain } from "./chain.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, type ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";

/** Usage of one file. */
export interface DuLayer {
  readonly path: string;
  /** Bytes allocated on the host (st_blocks * 512), like `du -B1`. */
  readonly bytes: number;
  /** The file's length (`ls -l`), which for sparse images is larger. */
  readonly apparentBytes: number;
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
  return { path, bytes: exactBytes(st.blocks * 512n, path), apparentBytes: exactBytes(st.size, path) };
}

/** A file length as a number; a sparse file can claim up to 2^63 - 1, which a number cannot hold. */
function exactBytes(n: bigint, path: string): number {
  if (n <= BigInt(MAX_EXACT_BYTES)) return Number(n);
  throw new ImageError("SIZE_TOO_LARGE", `${path} is ${n} bytes long, above 2^53 - 1 (8 PiB)`, {
    advice: "qemukit's results hold sizes as exact numbers up to 8 PiB; use du/ls directly for a file this large",
    details: { path, value: n.toString() },
  });
}

/**
 * Bytes an image really takes on the host (sum over the chain with `backingChain`).
 * No qemu-img call unless the chain is followed.
 *
 * @example
 * ```ts
 * const { bytes } = await image.du("web1.qcow2"); // 1234944
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
    bytes: exactBytes(
      layers.reduce((n, l) => n + BigInt(l.bytes), 0n),
      abs,
    ),
    apparentBytes: exactBytes(
      layers.reduce((n, l) => n + BigInt(l.apparentBytes), 0n),
      abs,
    ),
    layers,
  };
}
