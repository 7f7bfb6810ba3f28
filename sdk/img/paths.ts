/**
 * File-system guards shared by the image operations: existence, same-file detection
 * (device + inode, so symlinks and hard links count), and temp-then-rename writes.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
// Synchronous metadata calls on purpose: each is a single syscall of microseconds, while
// the async versions cost a thread-pool round trip and an event-loop wake-up apiece,
// which on a loaded host made a 1-call overlay measurably slower than a shell loop.
import {
  chmodSync,
  linkSync as link,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync as rename,
  rmSync,
  statSync,
  unlinkSync as unlink,
  type Stats,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { onFatalExit } from "../util/exit-guard.ts";
import { isAlive } from "../util/proc.ts";
import { ImageError, ImageLockedError } from "./errors.ts";
import { isLockedByQemu, lookupLockHolder } from "./lock-holders.ts";

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
      throw new ImageError("IMAGE_ACCESS", `cannot read ${what} ${path}: permission denied`, {
        cause: e,
        details: { path },
      });
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

/**
 * Throws IMAGE_EXISTS when `path` exists and overwriting was not asked for, and
 * IMAGE_LOCKED when it exists and a QEMU (a running VM, a qemu-img) holds it open: the
 * new file would replace the name while the VM kept writing to the old one. Returns its stat.
 */
export async function checkDestination(path: string, overwrite: boolean | undefined): Promise<Stats | undefined> {
  const st = await statMaybe(path);
  if (st && overwrite && st.isFile()) refuseIfLocked(path, st);
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

/** Throws IMAGE_LOCKED when QEMU's image locks are held on the file `st` describes. */
function refuseIfLocked(path: string, st: Stats): void {
  if (!isLockedByQemu(st)) return;
  throw new ImageLockedError(path, lookupLockHolder(resolve(path)), {
    advice:
      "a running VM (or qemu-img) has this image open: replacing it would lose everything it writes from now on; " +
      "shut the VM down first, or write somewhere else",
  });
}

/**
 * Six hex digits naming this boot of this host: a temp file's pid only says "dead" on the
 * host (and boot) that wrote it, so the sweep leaves other hosts' files on a shared disk alone.
 */
const HOST_TAG = (() => {
  let boot = "";
  try {
    boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    /* no /proc: the host name alone */
  }
  return createHash("sha256").update(`${hostname()}\n${boot}`).digest("hex").slice(0, 6);
})();

/** `.<name>.qemukit-<pid>-<host tag><random>.tmp` */
const TEMP_RE = /^\..+\.qemukit-(\d+)-([0-9a-f]{6})[0-9a-f]{8}\.tmp$/;

/**
 * A temp path beside `dst` (same directory, so the final rename is atomic and relative
 * backing paths stay valid), named `.<name>.qemukit-<pid>-<tag><random>.tmp` so that a later
 * run can tell it belonged to a process that died ({@link sweepStaleTemps}).
 */
export function tempSibling(dst: string): string {
  return join(
    dirname(dst),
    `.${basename(dst)}.qemukit-${process.pid}-${HOST_TAG}${randomBytes(4).toString("hex")}.tmp`,
  );
}

/**
 * Removes `tmp` if the script dies (signal, uncaught exception, exit) while it is being
 * written; returns the function that stops guarding it. SIGKILL is left to the sweep.
 */
export function guardTemp(tmp: string): () => void {
  return onFatalExit(() => rmSync(tmp, { force: true }));
}

const swept = new Set<string>();

/**
 * Removes the temp files of dead qemukit processes from `dir`: names written by
 * {@link tempSibling} on this host and boot, whose pid no longer runs, owned by this user.
 * Runs once per directory per process before qemukit writes there (`force` runs it again).
 * Returns the paths removed.
 *
 * @example
 * ```ts
 * sweepStaleTemps("/var/lib/images", { force: true }); // [".../.disk.qcow2.qemukit-4242-...tmp"]
 * ```
 */
export function sweepStaleTemps(dir: string, options: { force?: boolean } = {}): string[] {
  const abs = resolve(dir);
  if (swept.has(abs) && !options.force) return [];
  swept.add(abs);
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  const uid = typeof process.geteuid === "function" ? process.geteuid() : 0;
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || m[2] !== HOST_TAG) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const path = join(abs, name);
    try {
      const st = lstatSync(path);
      if (!st.isFile() || st.uid !== uid) continue;
      unlink(path);
      removed.push(path);
    } catch {
      /* raced with another sweeper */
    }
  }
  return removed;
}

/** Makes a new image private to its owner (qemu-img creates 0644 minus the umask). */
export function makePrivate(path: string): void {
  chmodSync(path, 0o600);
}

/**
 * Moves a finished temp file into place. Without `overwrite` this uses link()+unlink(),
 * which fails atomically with IMAGE_EXISTS if someone created `dst` meanwhile.
 */
export async function commitTemp(tmp: string, dst: string, overwrite: boolean | undefined): Promise<void> {
  if (overwrite) {
    // A VM may have opened the old file while the new one was written: look again.
    const st = await statMaybe(dst);
    if (st?.isFile()) refuseIfLocked(dst, st);
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
  } catch {
    /* already gone */
  }
}
