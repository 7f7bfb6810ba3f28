/**
 * Runs qemu-img and turns its failures into typed {@link ImageError}s. Every image
 * operation goes through here, so the error mapping lives in one place.
 * @module
 */
import { ProcessError } from "../errors/errors.ts";
import { exec, type ExecResult } from "../util/exec.ts";
import { ImageError, ImageLockedError } from "./errors.ts";
import { lookupLockHolder } from "./lock-holders.ts";
import { resolve } from "node:path";

/** What a qemu-img call was about, so an error can name the right file. */
export interface RunContext {
  /** Operation for messages, e.g. "create", "info". */
  readonly op: string;
  /** The image the caller named (as the caller wrote it). */
  readonly path: string;
  /** Format the caller named, if any (a wrong-format error then says so). */
  readonly format?: string;
  /** Streams stderr (progress parsing). */
  readonly onStderr?: (chunk: string) => void;
  /** Streams stdout (progress parsing: qemu-img -p writes there). */
  readonly onStdout?: (chunk: string) => void;
  /** Kills qemu-img on abort; the call rejects with IMAGE_ABORTED. */
  readonly signal?: AbortSignal;
  /** Exit codes that are answers, not failures (check: 2, 3; compare: 1). */
  readonly okExitCodes?: readonly number[];
  /** Extra environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The qemu-img program; `QEMUKIT_QEMU_IMG` overrides it (tests, custom builds). */
export function qemuImgProgram(): string {
  return process.env.QEMUKIT_QEMU_IMG || "qemu-img";
}

/**
 * Runs `qemu-img ...args`. Resolves with stdout/stderr; rejects with an ImageError.
 *
 * @example
 * ```ts
 * const { stdout } = await runQemuImg(["info", "--output=json", "-U", "-f", "qcow2", abs], { op: "info", path });
 * ```
 */
export async function runQemuImg(args: readonly string[], ctx: RunContext): Promise<ExecResult> {
  const argv = [qemuImgProgram(), ...args];
  try {
    // Under the parent-death signal, like QEMU: a qemu-img writing a temp file must not
    // outlive a script that was SIGKILLed.
    const r = await exec(argv, {
      debianPackage: "qemu-utils",
      signal: ctx.signal,
      env: ctx.env,
      reject: ctx.okExitCodes === undefined,
      onStderr: ctx.onStderr,
      onStdout: ctx.onStdout,
      dieWithParent: true,
    });
    if (r.exitCode === 0 || (r.exitCode !== null && ctx.okExitCodes?.includes(r.exitCode))) return r;
    throw new ProcessError(argv, r.exitCode, r.stderr, { signal: r.signal });
  } catch (e) {
    throw mapQemuImgError(e, ctx);
  }
}

/** Turns a failed qemu-img run into the most specific ImageError (or passes other errors through). */
export function mapQemuImgError(e: unknown, ctx: RunContext): unknown {
  if (ctx.signal?.aborted || (e as Error | undefined)?.name === "AbortError") {
    return new ImageError("IMAGE_ABORTED", `qemu-img ${ctx.op} of ${ctx.path} was aborted`, {
      cause: e,
      details: { path: ctx.path },
    });
  }
  if (!(e instanceof ProcessError)) return e;
  const stderr = e.stderr;
  const msg = stderr
    .trim()
    .split("\n")
    .map((l) => l.replace(/^qemu-img: /, ""))
    .join("\n");
  const opts = { cause: e, details: { path: ctx.path, argv: e.argv, stderr } };
  const killedByXfsz = e.exitCode === null && /SIGXFSZ/.test(e.message);

  if (/Failed to get (shared )?"[a-z ]+" lock/.test(stderr)) {
    const m = /Is another process using the image \[(.*)\]\?/.exec(stderr);
    const locked = m?.[1] ?? ctx.path;
    return new ImageLockedError(locked, lookupLockHolder(resolve(locked)), opts);
  }
  if (/creates an infinite loop/.test(stderr)) {
    return new ImageError("BACKING_LOOP", `the backing chain of ${ctx.path} loops: ${msg}`, {
      ...opts,
      advice: "repair it with image.rebase(path, newBase, { unsafe: true }) so no layer points back at itself",
    });
  }
  if (/Could not open backing (file|image)/.test(stderr)) {
    return new ImageError("BACKING_MISSING", `a backing file of ${ctx.path} cannot be opened: ${msg}`, {
      ...opts,
      advice:
        "restore the backing file at the path shown, or point the image at its new location with " +
        "image.rebase(path, newBase, { unsafe: true, backingFormat })",
    });
  }
  if (/Unknown (driver|file format|protocol) '/.test(stderr)) {
    return new ImageError("IMAGE_FORMAT", `qemu-img does not know that format: ${msg}`, {
      ...opts,
      advice: "use one of: qcow2, raw, vdi, vmdk, vhdx, qed, vpc",
    });
  }
  if (
    /not in \S+ format|Image not in|invalid VMDK|bad signature|Invalid magic|not a (valid )?\S+ (image|file)/i.test(
      stderr,
    ) ||
    (ctx.format && /Could not open '[^']*': (Could not open '[^']*': )?Invalid argument/.test(stderr))
  ) {
    return new ImageError("IMAGE_FORMAT", `${ctx.path} is not a ${ctx.format ?? "valid"} image: ${msg}`, {
      ...opts,
      advice: "name the format the file really has (image.detectFormat(path) tells you, for files you trust)",
    });
  }
  if (/No space left on device/.test(stderr)) {
    return new ImageError("NO_SPACE", `the file system filled up during ${ctx.op} of ${ctx.path}`, {
      ...opts,
      advice: "free space on the destination file system (df -h), or write somewhere else",
    });
  }
  if (killedByXfsz || /File too large/.test(stderr)) {
    return new ImageError("FILE_TOO_LARGE", `a file size limit was hit during ${ctx.op} of ${ctx.path}`, {
      ...opts,
      advice: "raise the file size limit (ulimit -f / RLIMIT_FSIZE) or write to a file system that allows larger files",
    });
  }
  if (/image size is too large|Image size too large|image size \(size is|Invalid image size/i.test(stderr)) {
    return new ImageError("SIZE_INVALID", `size rejected by qemu-img: ${msg}`, {
      ...opts,
      advice: "pick a smaller size (or, for qcow2, a larger clusterSize)",
    });
  }
  if (/Permission denied|Read-only file system/.test(stderr)) {
    return new ImageError("IMAGE_ACCESS", `permission denied during ${ctx.op} of ${ctx.path}: ${msg}`, {
      ...opts,
      advice: "check the file's owner and mode, and the directory's",
    });
  }
  if (/No such file or directory/.test(stderr)) {
    return new ImageError("IMAGE_NOT_FOUND", `${ctx.path} does not exist: ${msg}`, {
      ...opts,
      advice: "check the path (relative paths are relative to the current directory)",
    });
  }
  if (
    /Invalid parameter|does not accept value|must be|Invalid option|not supported|Unsupported|Invalid/i.test(stderr)
  ) {
    return new ImageError("IMAGE_INVALID_ARGUMENT", `qemu-img ${ctx.op} rejected an option: ${msg}`, {
      ...opts,
      advice: "see `qemu-img create -f FORMAT -o help` for the options a format takes",
    });
  }
  return new ImageError("IMAGE_FAILED", `qemu-img ${ctx.op} of ${ctx.path} failed: ${msg || e.message}`, opts);
}
