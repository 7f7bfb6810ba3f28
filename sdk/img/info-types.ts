/**
 * Typed `qemu-img info --output=json`. Byte counts and offsets are `bigint`: they are
 * unsigned 64-bit values and raw/vmdk images may exceed 2^53 bytes, where `number` rounds.
 * Convert with `Number(x)` when you know the value is small.
 * @module
 */
import type { LosslessJson } from "./json.ts";

/** One internal snapshot (qcow2). */
export interface SnapshotInfo {
  /** Numeric id as a string ("1"), assigned by qemu. */
  readonly id: string;
  /** The tag given at creation. */
  readonly name: string;
  /** Bytes of saved VM state (0 for disk-only snapshots made by qemu-img). */
  readonly vmStateSize: bigint;
  /** When it was taken. */
  readonly date: Date;
  /** Guest clock at the snapshot, nanoseconds. */
  readonly vmClockNs: bigint;
  /** Instruction count, when record/replay was on. */
  readonly icount?: bigint;
}

/** Format-specific block (`format-specific`), keys as qemu-img prints them. */
export interface FormatSpecific {
  readonly type: string;
  readonly data: { readonly [key: string]: LosslessJson };
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
  readonly virtualSize: bigint;
  /** Bytes allocated on the host, when qemu-img could tell. */
  readonly actualSize: bigint | undefined;
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
  readonly json: { readonly [key: string]: LosslessJson };
}
