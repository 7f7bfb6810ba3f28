/**
 * `qemu-img measure`: how big a converted image would be.
 * @module
 */
import { type FormatOptions, optionString } from "./create.ts";
import { checkFormat, parseImageSize, type ImageFormat, type Size } from "./formats.ts";
import { intOf, parseImageJson, type ImageJsonObject } from "./json.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

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
  readonly required: number;
  /** Needed if every cluster were written. */
  readonly fullyAllocated: number;
  /** Bytes of persistent dirty bitmaps, when reported. */
  readonly bitmaps?: number;
  readonly json: ImageJsonObject;
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
export async function measure(
  source: string | { readonly size: Size },
  options: MeasureOptions = {},
): Promise<MeasureResult> {
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
  const j = parseImageJson(stdout, { op: "measure", path: shown }) as ImageJsonObject;
  const bitmaps = intOf(j["bitmaps"]);
  return {
    required: intOf(j["required"]) ?? 0,
    fullyAllocated: intOf(j["fully-allocated"]) ?? 0,
    ...(bitmaps !== undefined ? { bitmaps } : {}),
    json: j,
  };
}
