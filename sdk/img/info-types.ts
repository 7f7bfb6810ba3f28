/**
 * Typed `qemu-img info --output=json`. Byte counts are plain numbers, exact up to 2^53 - 1
 * (8 PiB); `image.info` refuses a larger image with `SIZE_TOO_LARGE`. Every field
 * survives `JSON.stringify` (`date` becomes its ISO string).
 * @module
 */
import type { ImageJson } from "./json.ts";

/** One internal snapshot (qcow2). */
export interface SnapshotInfo {
  /** Numeric id as a string ("1"), assigned by qemu. */
  readonly id: string;
  /** The tag given at creation. */
  readonly name: string;
  /** Bytes of saved VM state (0 for disk-only snapshots made by qemu-img). */
  readonly vmStateSize: number;
  /** When it was taken. */
  readonly date: Date;
  /**
   * Guest clock at the snapshot, nanoseconds: exact for a guest clock under 104 days
   * (2^53 ns); beyond that, within a microsecond for centuries.
   */
  readonly vmClockNs: number;
  /** Instruction count, when record/replay was on. */
  readonly icount?: number;
}

/** Format-specific block (`format-specific`), keys as qemu-img prints them. */
export interface FormatSpecific {
  readonly type: string;
  readonly data: { readonly [key: string]: ImageJson };
}

/** What `image.info()` returns. */
export interface ImageInfo {
  /** File name as qemu-img reports it (absolute, since qemukit passes absolute paths). */
  readonly filename: string;
  /** Format name (qcow2, raw, ...). */
  readonly format: string;
  /** True when no format was given and qemu-img fell back to `raw` (no image header found). */
  readonly formatGuessed?: boolean;
  /** Size the guest sees, bytes. */
  readonly virtualSize: number;
  /** Bytes allocated on the host, when qemu-img could tell. */
  readonly actualSize: number | undefined;
  /** Cluster size in bytes (qcow2, qed, vmdk, vdi...). */
  readonly clusterSize: number | undefined;
  /** Encrypted image. */
  readonly encrypted: boolean;
  /** The dirty flag (set while an image with lazy refcounts is open, left set after a crash). */
  readonly dirty: boolean;
  /** qcow2 marked corrupt by QEMU: it opens read-only until repaired with `image.check(path, { repair: "all" })`. */
  readonly corrupt: boolean;
  /** Backing file name as stored in the image. */
  readonly backingFilename?: string;
  /** Backing file name resolved against the image's directory. */
  readonly fullBackingFilename?: string;
  /** Backing file format as stored in the image. */
  readonly backingFilenameFormat?: string;
  /** Internal snapshots. */
  readonly snapshots: readonly SnapshotInfo[];
  /** Format-specific data. */
  readonly formatSpecific?: FormatSpecific;
  /** The backing file's info, when `backingChain` was asked for. */
  readonly backing?: ImageInfo;
  /** Human-readable text, like `qemu-img info` without `--output=json` (whole chain when asked). */
  readonly summary: string;
  /** The parsed JSON object for this layer, unchanged. */
  readonly json: { readonly [key: string]: ImageJson };
}
