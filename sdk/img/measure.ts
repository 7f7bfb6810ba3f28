/**
 * `qemu-img measure`: how big a converted image would be.
 * @module
 */
import { type FormatOptions, optionString } from "./create.ts";
import { checkFormat, type ImageFormat } from "./formats.ts";
import { parseJsonLossless, toBigInt, type LosslessJson } from "./json.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";
import { parseImageSize, type Size } from "./size.ts";

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Output format to measure for. @default "qcow2" */
  readonly format?: ImageFormat;
  /** Format of the source image. Detected when omitted. */
  readonly sourceFormat?: ImageFormat;
  /** Output options (`-o`), e.g. `{ cluster_size: 2097152 }`. */
  readonly options?: FormatOptions;
}

/** Bytes a new image would need on the host. */
export interface MeasureResult {
  /** Needed for the data as it is now (or, for a fresh image of a size, its metadata). */
  readonly required: bigint;
  /** Needed if every cluster were written. */
  readonly fullyAllocated: bigint;
  /** Bytes of persistent dirty bitmaps, when reported. */
  readonly bitmaps?: bigint;
  readonly json: { readonly [key: string]: LosslessJson };
}

/**
 * Measures what converting `source` (a path, or `{ size }` for a new empty image) would take.
 *
 * @example
 * ```ts
 * const m = await image.measure("disk.raw", { sourceFormat: "raw", format: "qcow2" });
 * const n = await image.measure({ size: "20G" }, { format: "qcow2" });
 * ```
 */
export async function measure(source: string | { readonly size: Size }, options: MeasureOptions = {}): Promise<MeasureResult> {
  const format = checkFormat(options.format ?? "qcow2");
  const args = ["measure", "--output=json", "-O", format];
  if (options.options && Object.keys(options.options).length) args.push("-o", optionString(options.options));
  let shown: string;
  if (typeof source === "string") {
    const abs = absPath(source);
    await statImage(abs, "image");
    args.push("-U", "-f", await formatOf(abs, options.sourceFormat), abs);
    shown = source;
  } else {
    const bytes = parseImageSize(source.size);
    args.push("--size", bytes.toString());
    shown = `a new ${bytes}-byte image`;
  }
  const { stdout } = await runQemuImg(args, { op: "measure", path: shown, format: options.sourceFormat });
  const j = parseJsonLossless(stdout) as { [key: string]: LosslessJson };
  const bitmaps = toBigInt(j["bitmaps"]);
  return {
    required: toBigInt(j["required"]) ?? 0n,
    fullyAllocated: toBigInt(j["fully-allocated"]) ?? 0n,
    ...(bitmaps !== undefined ? { bitmaps } : {}),
    json: j,
  };
}
