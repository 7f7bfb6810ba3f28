/**
 * File-system guards shared by the image operations: existence, same-file detection
 * (device + inode, so symlinks and hard links count), and temp-then-rename writes.
 * @module
 */
import { randomBytes } from "node:crypto";
// Synchronous metadata calls on purpose: each is a single syscall of microseconds, while
// the async versions cost a thread-pool round trip and an event-loop wake-up apiece,
// which on a loaded host made a 1-call overlay measurably slower than a shell loop.
import { linkSync as link, renameSync as rename, statSync, unlinkSync as unlink, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ImageError } from "./errors.ts";

/**
 * Absolute form of a user path. qemu-img treats `proto:rest` (e.g. `nbd:x`, `json:{...}`)
 * as a protocol unless a `/` comes before the colon; an absolute path always does.
 */
export function absPath(p: string): string {
  return resolve(p);
}

/** stat() that turns ENOENT into IMAGE_NOT_FOUND. `what` names the role ("source", "base"...). */
export async function statImage(path: string, what = "image"): Promise<Stats> {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new ImageError("IMAGE_NOT_FOUND", `${what} ${path} does not exist`, {
        cause: e,
        advice: "check the path (relative paths are relative to the current directory: " + process.cwd() + ")",
        details: { path },
      });
    }
    if (code === "EACCES") {
      throw new ImageError("IMAGE_ACCESS", `cannot read ${what} ${path}: permission denied`, { cause: e, details: { path } });
    }
    throw e;
  }
}

/** stat() or undefined when the path does not exist. */
export async function statMaybe(path: string): Promise<Stats | undefined> {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** True when two stats describe the same file (same device and inode). */
export function sameInode(a: Stats | undefined, b: Stats | undefined): boolean {
  return !!a && !!b && a.dev === b.dev && a.ino === b.ino;
}

/** Throws IMAGE_EXISTS when `path` exists and overwriting was not asked for. Returns its stat. */
export async function checkDestination(path: string, overwrite: boolean | undefined): Promise<Stats | undefined> {
  const st = await statMaybe(path);
  if (st && !overwrite) {
    throw new ImageError("IMAGE_EXISTS", `${path} already exists`, {
      advice: "pass { overwrite: true } (CLI: --overwrite) to replace it, or choose another path",
      details: { path },
    });
  }
  if (st?.isDirectory()) {
    throw new ImageError("IMAGE_EXISTS", `${path} is a directory`, { advice: "give a file path", details: { path } });
  }
  const dirSt = await statMaybe(dirname(path));
  if (!dirSt) {
    throw new ImageError("IMAGE_NOT_FOUND", `the directory of ${path} does not exist`, {
      advice: `create it first: mkdir -p ${JSON.stringify(dirname(path))}`,
      details: { path },
    });
  }
  return st;
}

/** Throws IMAGE_SAME_FILE when `a` and `b` are one file. */
export function checkNotSame(a: Stats | undefined, b: Stats | undefined, aPath: string, bPath: string): void {
  if (sameInode(a, b)) {
    throw new ImageError("IMAGE_SAME_FILE", `${aPath} and ${bPath} are the same file`, {
      advice: "write to a different file (symlinks and hard links to the source count as the same file)",
      details: { source: aPath, destination: bPath },
    });
  }
}

/** A temp path beside `dst` (same directory, so the final rename is atomic and relative backing paths stay valid). */
export function tempSibling(dst: string): string {
  return join(dirname(dst), `.${basename(dst)}.qemukit-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Moves a finished temp file into place. Without `overwrite` this uses link()+unlink(),
 * which fails atomically with IMAGE_EXISTS if someone created `dst` meanwhile.
 */
export async function commitTemp(tmp: string, dst: string, overwrite: boolean | undefined): Promise<void> {
  if (overwrite) {
    rename(tmp, dst);
    return;
  }
  try {
    link(tmp, dst);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV") {
      // file systems without hard links: fall back to check-then-rename
      if (await statMaybe(dst)) {
        await removeQuietly(tmp);
        throw new ImageError("IMAGE_EXISTS", `${dst} appeared while it was being written`, {
          advice: "pass { overwrite: true } to replace it, or choose another path",
          details: { path: dst },
        });
      }
      rename(tmp, dst);
      return;
    }
    await removeQuietly(tmp);
    if (code === "EEXIST") {
      throw new ImageError("IMAGE_EXISTS", `${dst} appeared while it was being written`, {
        advice: "pass { overwrite: true } to replace it, or choose another path",
        cause: e,
        details: { path: dst },
      });
    }
    throw e;
  }
  unlink(tmp);
}

/** unlink() that ignores a missing file. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    unlink(path);
  } catch { /* already gone */ }
}
