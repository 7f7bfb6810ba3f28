/**
 * Errors thrown by the image layer. Every one has a stable `code`; scripts switch on it.
 *
 * | code | when |
 * |---|---|
 * | `IMAGE_NOT_FOUND` | the image (or a parent directory) does not exist |
 * | `IMAGE_FORMAT` | unknown format name, or the file is not in the format the caller named |
 * | `SIZE_INVALID` | a size string that does not parse, size 0, above 8 PiB (2^53 - 1 bytes), or beyond the format's limit |
 * | `SIZE_TOO_LARGE` | qemu-img reported a size or offset above 8 PiB (2^53 - 1), more than a result's plain number holds exactly |
 * | `IMAGE_EXISTS` | the destination exists and `overwrite` was not set |
 * | `IMAGE_SAME_FILE` | source and destination are the same file (also via symlink or hard link) |
 * | `IMAGE_LOCKED` | another process (usually a running VM) holds the image's lock |
 * | `BACKING_MISSING` | a backing file in the chain does not exist |
 * | `BACKING_LOOP` | the backing chain refers back to one of its own layers |
 * | `NO_SPACE` | the file system filled up while writing |
 * | `FILE_TOO_LARGE` | a file size limit (RLIMIT_FSIZE, `ulimit -f`) or the file system's maximum file size was hit |
 * | `IMAGE_ACCESS` | permission denied |
 * | `IMAGE_ABORTED` | the caller aborted the operation (AbortSignal) |
 * | `IMAGE_INVALID_ARGUMENT` | an option qemu-img rejected (bad option name/value) |
 * | `SNAPSHOT_EXISTS` | an internal snapshot with that name exists already |
 * | `SNAPSHOT_NOT_FOUND` | no internal snapshot with that name or id |
 * | `IMAGE_FAILED` | any other qemu-img failure; `cause` holds the ProcessError |
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link ImageError}. */
export type ImageErrorCode =
  | "IMAGE_NOT_FOUND"
  | "IMAGE_FORMAT"
  | "SIZE_INVALID"
  | "SIZE_TOO_LARGE"
  | "IMAGE_EXISTS"
  | "IMAGE_SAME_FILE"
  | "IMAGE_LOCKED"
  | "BACKING_MISSING"
  | "BACKING_LOOP"
  | "NO_SPACE"
  | "FILE_TOO_LARGE"
  | "IMAGE_ACCESS"
  | "IMAGE_ABORTED"
  | "IMAGE_INVALID_ARGUMENT"
  | "SNAPSHOT_EXISTS"
  | "SNAPSHOT_NOT_FOUND"
  | "IMAGE_FAILED";

/**
 * A disk image operation failed. `code` tells which way (see the module table).
 *
 * @example
 * ```ts
 * try { await image.info("missing.qcow2"); }
 * catch (e) { if (e instanceof ImageError && e.code === "IMAGE_NOT_FOUND") console.log(e.advice); }
 * ```
 */
export class ImageError extends QemukitError {
  declare readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * The image is locked by another process: QEMU takes a write lock on every image a
 * running VM uses, and qemu-img refuses to touch it. `holder` names the VM when the
 * machine layer registered a lookup (`registerLockHolderLookup` in `qemukit/img`).
 *
 * @example
 * ```ts
 * try { await image.resize("vm.qcow2", "+1G"); }
 * catch (e) { if (e instanceof ImageLockedError) console.log(`stop ${e.holder ?? "the VM"} first`); }
 * ```
 */
export class ImageLockedError extends ImageError {
  /** The locked image as qemu-img named it. */
  readonly path: string;
  /** Who holds the lock (a VM name), when known. */
  readonly holder: string | undefined;
  constructor(path: string, holder: string | undefined, options: QemukitErrorOptions = {}) {
    super(
      "IMAGE_LOCKED",
      `${path} is locked by ${holder ? `the running VM "${holder}"` : "another process (probably a running VM)"}`,
      {
        advice: holder
          ? `shut down "${holder}" first, or work on an overlay of the image; read-only inspection (image.info) still works`
          : "stop the VM or process using the image (see: lsof " +
            JSON.stringify(path) +
            "), or work on an overlay; read-only inspection (image.info) still works",
        ...options,
        details: { path, holder, ...(options.details ?? {}) },
      },
    );
    this.path = path;
    this.holder = holder;
  }
}
