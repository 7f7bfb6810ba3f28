/**
 * `qemu-img map`: which guest ranges hold data, zeros, or come from the backing file.
 * @module
 */
import type { ImageFormat } from "./formats.ts";
import { intOf, parseImageJson, type ImageJsonObject } from "./json.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** One extent of the guest-visible disk. Offsets and lengths in bytes. */
export interface MapExtent {
  readonly start: number;
  readonly length: number;
  /** Layer the data comes from: 0 = this image, 1 = its backing file, ... */
  readonly depth: number;
  /** Allocated somewhere in the chain (false: reads as zeros, nothing stored). */
  readonly present: boolean;
  /** Reads as zeros. */
  readonly zero: boolean;
  /** Has data stored. */
  readonly data: boolean;
  /** Host file offset of the data, when it maps to one. */
  readonly offset?: number;
}

/** Options of {@link map}. */
export interface MapOptions {
  /** The image's format. Detected when omitted. */
  readonly format?: ImageFormat;
  /** Read with a shared lock (works while a VM runs). @default true */
  readonly shareLock?: boolean;
}

/**
 * Lists the image's extents.
 *
 * @example
 * ```ts
 * const ext = await image.map("vm.qcow2", { format: "qcow2" });
 * const written = ext.filter((e) => e.data && e.depth === 0).reduce((n, e) => n + e.length, 0);
 * ```
 */
export async function map(path: string, options: MapOptions = {}): Promise<MapExtent[]> {
  const abs = absPath(path);
  await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  const args = ["map", "--output=json", "-f", format];
  if (options.shareLock !== false) args.push("-U");
  args.push(abs);
  const { stdout } = await runQemuImg(args, { op: "map", path, format });
  const list = parseImageJson(stdout, { op: "map", path }) as ImageJsonObject[];
  return list.map((e) => {
    const offset = intOf(e["offset"]);
    return {
      start: intOf(e["start"]) ?? 0,
      length: intOf(e["length"]) ?? 0,
      depth: typeof e["depth"] === "number" ? e["depth"] : 0,
      present: e["present"] !== false,
      zero: e["zero"] === true,
      data: e["data"] === true,
      ...(offset !== undefined ? { offset } : {}),
    };
  });
}
