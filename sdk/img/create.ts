/**
 * `qemu-img create`, with sizes, limits and destinations checked first.
 * @module
 */
import { dirname } from "node:path";
import { prepareBacking, type BackingPathMode } from "./backing.ts";
import { ImageError } from "./errors.ts";
import {
  BACKING_FORMATS,
  checkFormat,
  formatSize,
  maxVirtualSize,
  parseImageSize,
  type ImageFormat,
  type Size,
} from "./formats.ts";
import {
  absPath,
  checkDestination,
  commitTemp,
  guardTemp,
  makePrivate,
  removeQuietly,
  sweepStaleTemps,
  tempSibling,
} from "./paths.ts";
import { runQemuImg } from "./run.ts";

/** Preallocation modes (which ones a format accepts differs; qemu-img says so). */
export type Preallocation = "off" | "metadata" | "falloc" | "full";

/** Extra `-o` options, e.g. `{ lazy_refcounts: true, compat: "1.1" }`. */
export type FormatOptions = Readonly<Record<string, string | number | boolean>>;

/** Options of {@link create}. */
export interface CreateOptions {
  /** Image format. @default "qcow2" */
  readonly format?: ImageFormat;
  /** Backing file (qcow2, qed, vmdk only). Then `size` may be omitted: it defaults to the backing file's size. */
  readonly backing?: string;
  /** Format of the backing file; detected from the file when omitted (do that only for files you trust). */
  readonly backingFormat?: ImageFormat;
  /** How the backing file's path is stored (see {@link BackingPathMode}). @default "auto" */
  readonly backingPath?: BackingPathMode;
  /** Preallocation mode. @default "off" */
  readonly preallocation?: Preallocation;
  /** Cluster size in bytes (qcow2, qed). @default 65536 */
  readonly clusterSize?: number;
  /** Replace an existing file. @default false */
  readonly overwrite?: boolean;
  /** More format options passed with `-o` (values with commas are escaped). */
  readonly options?: FormatOptions;
}

/** What {@link create} made. */
export interface CreateResult {
  /** Absolute path of the image. */
  readonly path: string;
  readonly format: ImageFormat;
  /** Virtual size in bytes, or undefined when it was taken from the backing file. */
  readonly virtualSize: number | undefined;
  /** Backing file name stored in the image, if any. */
  readonly backingFile?: string;
  /** Its format. */
  readonly backingFormat?: ImageFormat;
}

/** `key=value` for `-o`: QEMU's option parser reads `,,` as a literal comma. */
export function optionString(options: FormatOptions): string {
  return Object.entries(options)
    .map(([k, v]) => {
      if (!/^[a-z0-9_.-]+$/i.test(k)) {
        throw new ImageError("IMAGE_INVALID_ARGUMENT", `invalid format option name ${JSON.stringify(k)}`, {
          advice: "option names are like cluster_size, lazy_refcounts, subformat",
        });
      }
      const s = typeof v === "boolean" ? (v ? "on" : "off") : String(v);
      return `${k}=${s.replaceAll(",", ",,")}`;
    })
    .join(",");
}

/** VMDK subformats that write extra files named after the image: these cannot be renamed into place. */
export function writesSideFiles(format: ImageFormat, options: FormatOptions | undefined): boolean {
  const sub = options?.subformat;
  return format === "vmdk" && typeof sub === "string" && sub !== "monolithicSparse" && sub !== "streamOptimized";
}

/** Checks a cluster size: a power of two from 512 bytes to 2 MiB (qcow2, qed). */
export function checkClusterSize(clusterSize: number | undefined): void {
  if (clusterSize === undefined) return;
  if (
    !Number.isInteger(clusterSize) ||
    clusterSize < 512 ||
    clusterSize > 2 * 1024 * 1024 ||
    (clusterSize & (clusterSize - 1)) !== 0
  ) {
    throw new ImageError("IMAGE_INVALID_ARGUMENT", `invalid cluster size ${clusterSize}`, {
      advice: "use a power of two from 512 to 2097152 bytes (65536 is the default)",
      details: { clusterSize },
    });
  }
}

/** Checks a size against the format's limit; returns exact bytes. */
export function checkSize(size: Size, format: ImageFormat, clusterSize?: number): number {
  checkClusterSize(clusterSize);
  const bytes = parseImageSize(size);
  const max = maxVirtualSize(format, clusterSize);
  if (bytes > max) {
    throw new ImageError(
      "SIZE_INVALID",
      `${formatSize(bytes)} (${bytes} bytes) is beyond the ${format} limit of ${formatSize(max)}`,
      {
        advice:
          format === "qcow2"
            ? "pick a smaller size or a larger clusterSize (qcow2's limit grows with the square of the cluster size)"
            : `pick a size up to ${formatSize(max)}, or use qcow2 or raw`,
        details: { size: bytes, max, format },
      },
    );
  }
  return bytes;
}

/**
 * Creates a disk image. Sizes are bytes or strings with binary units ("2G", "512M", "1.5T").
 * Written to a temp file beside `path` and moved into place only when qemu-img succeeded.
 *
 * @example
 * ```ts
 * await image.create("data.qcow2", "20G");
 * await image.create("disk.raw", "512M", { format: "raw", preallocation: "falloc" });
 * await image.create("child.qcow2", undefined, { backing: "base.qcow2", backingFormat: "qcow2" });
 * ```
 * @throws {ImageError} SIZE_INVALID, IMAGE_FORMAT, IMAGE_EXISTS, IMAGE_NOT_FOUND (directory or backing), BACKING_MISSING, BACKING_LOOP
 */
export async function create(path: string, size: Size | undefined, options: CreateOptions = {}): Promise<CreateResult> {
  const format = checkFormat(options.format ?? "qcow2");
  const abs = absPath(path);
  if (size === undefined && options.backing === undefined) {
    throw new ImageError("SIZE_INVALID", `no size given for ${path}`, {
      advice: 'give a size ("10G") or a backing file to take the size from',
    });
  }
  const bytes = size === undefined ? undefined : checkSize(size, format, options.clusterSize);
  if (options.backing !== undefined && !BACKING_FORMATS.includes(format)) {
    throw new ImageError("IMAGE_FORMAT", `${format} images cannot have a backing file`, {
      advice: `use one of: ${BACKING_FORMATS.join(", ")} (qcow2 is the usual choice)`,
    });
  }
  const dstSt = await checkDestination(abs, options.overwrite);
  const backing =
    options.backing === undefined
      ? undefined
      : await prepareBacking(options.backing, abs, dstSt, { format: options.backingFormat, mode: options.backingPath });

  const direct = writesSideFiles(format, options.options);
  sweepStaleTemps(dirname(abs));
  const target = direct ? abs : tempSibling(abs);
  const args = ["create", "-q", "-f", format];
  // -b/-F take file names literally; -o backing_file=... would need commas doubled.
  if (backing) args.push("-b", backing.name, "-F", backing.format);
  const o: Record<string, string | number | boolean> = { ...(options.options ?? {}) };
  if (options.clusterSize !== undefined) o.cluster_size = options.clusterSize;
  if (options.preallocation !== undefined) o.preallocation = options.preallocation;
  if (Object.keys(o).length) args.push("-o", optionString(o));
  args.push(target);
  if (bytes !== undefined) args.push(bytes.toString());
  const unguard = direct ? undefined : guardTemp(target);
  try {
    await runQemuImg(args, { op: "create", path, format });
    makePrivate(target);
    if (!direct) await commitTemp(target, abs, options.overwrite);
  } catch (e) {
    if (!direct) await removeQuietly(target);
    throw e;
  } finally {
    unguard?.();
  }
  return {
    path: abs,
    format,
    virtualSize: bytes,
    ...(backing ? { backingFile: backing.name, backingFormat: backing.format } : {}),
  };
}
