/**
 * Run directories: one private folder per VM under runRoot() holding its sockets,
 * pidfile, logs, temporary overlays and `vm.json`.
 *
 * The rules that keep a user's files safe (docs/data-safety.md):
 * - the run root must be a real directory owned by this user with mode 0700;
 * - a run directory is claimed with mkdir and, immediately after, an exclusive (O_EXCL)
 *   marker file `.qemukit-run`; an existing directory is never adopted;
 * - a directory is only ever removed when it carries that marker, is not a symlink, and
 *   both belong to this user; files named in `temporaryFiles` only inside it.
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
  writeSync,
  type Stats,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { checkName } from "../spec/validate.ts";
import { SpecError } from "../errors/errors.ts";
import { runRoot } from "../util/dirs.ts";
import { isAlive, isOurQemu } from "./proc.ts";
import type { VmMetadata } from "./types.ts";
import { VmError, VmStartError } from "./errors.ts";

/** Linux `sun_path` is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** The longest socket file name qemukit's compiler puts in a run directory, with margin. */
const SOCKET_NAME_RESERVE = "/console.sock".length + 4;

/** Name of the metadata file inside a run directory. */
export const METADATA_FILE = "vm.json";

/** Name of the marker that says "qemukit made this directory"; written first, exclusively. */
export const MARKER_FILE = ".qemukit-run";

/** What the marker file holds. */
export interface RunMarker {
  readonly qemukit: 1;
  readonly name: string;
  /** The process that claimed the directory (the one starting the VM). */
  readonly ownerPid: number;
  readonly created: string;
}

/** How long a claimer may take between its mkdir and its marker (two syscalls apart). */
const MARKER_GRACE_MS = 250;

/** A fresh VM name: `vm-` and 6 hex digits. */
export function generateName(): string {
  return `vm-${randomBytes(3).toString("hex")}`;
}

function euid(): number {
  return typeof process.geteuid === "function" ? process.geteuid() : 0;
}

function lstatMaybe(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Checks (and creates, mode 0700, when missing) the run root: a real directory, owned by
 * the effective user, with no group or other permissions. Anything else could be another
 * user's squat: their `vm.json` files would steer what qemukit deletes or connects to.
 * `create: false` returns undefined for a missing root instead of creating it.
 *
 * @example
 * ```ts
 * checkRunRoot("/tmp/qemukit-1000"); // "/tmp/qemukit-1000", or throws RUN_ROOT_UNSAFE
 * ```
 * @throws {VmError} RUN_ROOT_UNSAFE naming the path and the fix.
 */
export function checkRunRoot(root: string = runRoot(), options: { create?: boolean } = {}): string | undefined {
  const abs = resolve(root);
  let st = lstatMaybe(abs);
  if (!st) {
    if (options.create === false) return undefined;
    try {
      mkdirSync(abs, { recursive: true, mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    st = lstatMaybe(abs);
  }
  const unsafe = (why: string, fix: string) =>
    new VmError("RUN_ROOT_UNSAFE", `the run root ${abs} ${why}; qemukit will not use it`, {
      advice: `${fix}, or set QEMUKIT_RUN_DIR to a private directory of your own`,
      details: { runRoot: abs },
    });
  if (!st) throw unsafe("cannot be created", `create it: mkdir -m 700 ${JSON.stringify(abs)}`);
  if (st.isSymbolicLink())
    throw unsafe("is a symbolic link", `remove the link (it may be another user's): rm ${JSON.stringify(abs)}`);
  if (!st.isDirectory()) throw unsafe("is not a directory", `remove it: rm ${JSON.stringify(abs)}`);
  if (st.uid !== euid()) {
    throw unsafe(
      `belongs to uid ${st.uid}, not to you (uid ${euid()})`,
      `remove it (another user may have created it to steer your VMs): rm -r ${JSON.stringify(abs)}`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw unsafe(
      `has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}, open to other users`,
      `make it private: chmod 700 ${JSON.stringify(abs)}`,
    );
  }
  return abs;
}

/** Throws unless `name` is a VM name (so `join(root, name)` stays inside the root). */
export function checkVmName(name: string): string {
  try {
    return checkName(name);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    throw new VmError("VM_NAME", `${JSON.stringify(name)} is not a VM name`, {
      cause: e,
      advice:
        "VM names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; pass a path with a '/' for a run directory elsewhere",
      details: { name },
    });
  }
}

/** Reads the marker, or undefined when missing, unreadable, a symlink or not this user's. */
export function readMarker(dir: string): RunMarker | undefined {
  const path = join(dir, MARKER_FILE);
  const st = lstatMaybe(path);
  if (!st?.isFile() || st.uid !== euid()) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as RunMarker;
    return m && m.qemukit === 1 && typeof m.ownerPid === "number" ? m : undefined;
  } catch {
    return undefined;
  }
}

/** True when `dir` is a run directory qemukit may remove: a real directory of this user with a marker of this user. */
export function isOurRunDir(dir: string): boolean {
  const st = lstatMaybe(dir);
  return !!st && st.isDirectory() && !st.isSymbolicLink() && st.uid === euid() && readMarker(dir) !== undefined;
}

/** mkdir + exclusive marker; false when the directory exists already. */
function claim(dir: string, name: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  // Right after the mkdir and with O_EXCL: nobody else can have written a marker here.
  const fd = openSync(join(dir, MARKER_FILE), "wx", 0o600);
  try {
    const marker: RunMarker = { qemukit: 1, name, ownerPid: process.pid, created: new Date().toISOString() };
    writeSync(fd, JSON.stringify(marker) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

/** What an existing run directory holds. */
export type RunDirStatus =
  | { readonly kind: "foreign" }
  | { readonly kind: "running"; readonly meta: VmMetadata }
  | { readonly kind: "starting"; readonly marker: RunMarker }
  | { readonly kind: "stale"; readonly marker: RunMarker; readonly meta?: VmMetadata; readonly orphanPid?: number };

/**
 * Classifies an existing directory: not qemukit's (or not this user's), a VM that runs, a
 * start in progress (its owner lives), or left over from a dead process. A leftover whose
 * start was interrupted after a daemonized QEMU came up names that QEMU as `orphanPid`.
 */
export function runDirStatus(dir: string, meta: VmMetadata | undefined): RunDirStatus {
  const marker = isOurRunDir(dir) ? readMarker(dir) : undefined;
  if (!marker) return { kind: "foreign" };
  if (meta?.pid !== undefined && isOurQemu(meta.pid, dir)) return { kind: "running", meta };
  if (meta?.pid === undefined && isAlive(marker.ownerPid)) return { kind: "starting", marker };
  let orphanPid: number | undefined;
  if (meta?.pid === undefined) {
    // A daemonized QEMU whose start was cut short: its pidfile is the only trace of it.
    try {
      const pid = Number(readFileSync(join(dir, "qemu.pid"), "utf8").trim());
      if (pid > 0 && isOurQemu(pid, dir)) orphanPid = pid;
    } catch {
      /* no pidfile: QEMU never got that far */
    }
  }
  return { kind: "stale", marker, ...(meta ? { meta } : {}), ...(orphanPid ? { orphanPid } : {}) };
}

/**
 * Cleans up a leftover run directory: kills the paused QEMU of an interrupted start (it
 * was never handed to anyone), then removes the directory. Returns false when `dir` is
 * not a stale qemukit directory (then nothing was touched).
 */
export async function reapStale(dir: string, meta: VmMetadata | undefined): Promise<boolean> {
  const status = runDirStatus(dir, meta);
  if (status.kind !== "stale") return false;
  if (status.orphanPid !== undefined) await killAndWait(status.orphanPid);
  await removeRunDir(dir, meta?.temporaryFiles ?? []);
  return true;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone already */
  }
  for (let i = 0; i < 400 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 5));
}

/**
 * Creates the run directory (mode 0700) for a VM called `name`, under `root` unless `dir`
 * is given, and claims it with the marker before anything else happens. Fails at once when
 * the directory exists and is not a leftover of a dead qemukit process: RUN_DIR_EXISTS (not
 * qemukit's), VM_RUNNING, VM_STARTING. A leftover is removed and the claim retried.
 */
export async function createRunDir(name: string, options: { root?: string; dir?: string } = {}): Promise<string> {
  checkVmName(name);
  let dir: string;
  if (options.dir) {
    dir = resolve(options.dir);
  } else {
    // An unsafe root is a VmError (RUN_ROOT_UNSAFE), the same one list() and attach() raise.
    dir = join(checkRunRoot(options.root ?? runRoot())!, name);
  }
  const longest = Buffer.byteLength(dir) + SOCKET_NAME_RESERVE;
  if (longest > MAX_SOCKET_PATH) {
    throw new VmStartError(
      `run directory ${dir} is too long for unix sockets (${longest} > ${MAX_SOCKET_PATH} bytes)`,
      [],
      "",
      {
        advice: "set QEMUKIT_RUN_DIR to a short path such as /tmp/qk, or pass a shorter runDir / VM name",
        details: { runDir: dir },
      },
    );
  }
  for (let attempt = 0; ; attempt++) {
    if (claim(dir, name)) return dir;
    let status = runDirStatus(dir, await readMetadata(dir));
    // A claimer is between its mkdir and its marker: give it a moment.
    for (let waited = 0; status.kind === "foreign" && waited < MARKER_GRACE_MS && isFreshDir(dir); waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
      status = runDirStatus(dir, await readMetadata(dir));
    }
    if (status.kind === "foreign") {
      throw new VmStartError(`${dir} exists and is not a qemukit run directory of yours`, [], "", {
        code: "RUN_DIR_EXISTS",
        advice: options.dir
          ? "qemukit never adopts or removes a directory it did not create: pass a path that does not exist yet"
          : `pick another VM name, or move ${JSON.stringify(dir)} away if it is yours (a run directory left by a qemukit without run-directory markers is safe to remove by hand once its VM is gone)`,
        details: { runDir: dir },
      });
    }
    if (status.kind === "running") {
      throw new VmStartError(`a VM named "${name}" is already running (pid ${status.meta.pid}, ${dir})`, [], "", {
        code: "VM_RUNNING",
        advice: `pick another name, or stop it first: await (await attach("${name}")).shutdown()`,
        details: { runDir: dir, pid: status.meta.pid },
      });
    }
    if (status.kind === "starting") {
      throw new VmStartError(
        `a VM named "${name}" is already starting (process ${status.marker.ownerPid}, ${dir})`,
        [],
        "",
        {
          code: "VM_STARTING",
          advice: "pick another name, or wait for that start to finish and attach() to it",
          details: { runDir: dir, ownerPid: status.marker.ownerPid },
        },
      );
    }
    if (attempt >= 2) {
      throw new VmStartError(`could not claim ${dir}: it keeps reappearing`, [], "", {
        code: "VM_STARTING",
        advice: "another process is starting VMs with this name at the same time; pick another name",
        details: { runDir: dir },
      });
    }
    await removeStaleForReuse(dir, status);
  }
}

/** True for a directory created within the marker grace period (a claim may be in flight). */
function isFreshDir(dir: string): boolean {
  const st = lstatMaybe(dir);
  return !!st && st.isDirectory() && Date.now() - st.ctimeMs < MARKER_GRACE_MS * 4;
}

/**
 * Removes a stale directory before claiming its name again. Another claimer may have
 * removed it and claimed it afresh since we looked: the directory is first renamed aside,
 * and if the marker it carries is not the stale one we read, it is put back untouched.
 */
async function removeStaleForReuse(dir: string, status: RunDirStatus & { kind: "stale" }): Promise<void> {
  const stale = status.marker;
  // An orphaned QEMU names this path in its command line: end it before the path changes.
  if (status.orphanPid !== undefined) await killAndWait(status.orphanPid);
  const meta = await readMetadata(dir);
  const aside = join(dirname(dir), `.${randomBytes(6).toString("hex")}.reaping`);
  try {
    renameSync(dir, aside);
  } catch {
    return; // gone already (someone else reaped it); the next claim decides
  }
  const moved = readMarker(aside);
  if (!moved || moved.ownerPid !== stale.ownerPid || moved.created !== stale.created) {
    try {
      renameSync(aside, dir);
    } catch {
      /* the name was claimed meanwhile; leave ours aside for list() */
    }
    return;
  }
  await reapStale(aside, meta);
}

/** Reads `vm.json`, or undefined when missing, unreadable or not this user's. */
export async function readMetadata(dir: string): Promise<VmMetadata | undefined> {
  const path = join(dir, METADATA_FILE);
  const st = lstatMaybe(path);
  if (!st?.isFile() || st.uid !== euid()) return undefined;
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as VmMetadata;
    return parsed && parsed.qemukit === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `vm.json` atomically (write + rename), so readers never see half a file. */
export async function writeMetadata(dir: string, meta: VmMetadata): Promise<void> {
  const tmp = join(dir, `.${METADATA_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(meta, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, join(dir, METADATA_FILE));
}

/** True when `file` lies inside `dir` (after resolving `..`); symlinks are not followed. */
export function isInside(file: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(dir, file));
  return rel !== "" && !rel.startsWith(".." + sep) && rel !== ".." && !rel.startsWith("/");
}

/**
 * Removes a run directory and the temporary files listed for it, only when the directory
 * carries qemukit's marker and belongs to this user; listed files outside it are left
 * alone (a planted `vm.json` cannot name them). Never throws.
 */
export async function removeRunDir(dir: string, temporaryFiles: readonly string[] = []): Promise<void> {
  removeRunDirSync(dir, temporaryFiles);
}

/**
 * Synchronous variant, also for exit/signal handlers, where no promise will ever settle.
 * The marker goes last: a file that appears meanwhile (a log stream still opening) makes
 * the final rmdir fail, and the marker is put back so the next list() still knows the
 * directory is ours.
 */
export function removeRunDirSync(dir: string, temporaryFiles: readonly string[] = []): void {
  if (!isOurRunDir(dir)) return;
  const marker = readFileSync(join(dir, MARKER_FILE), "utf8");
  for (const f of temporaryFiles) {
    if (!isInside(f, dir)) continue;
    try {
      rmSync(resolve(dir, f), { force: true });
    } catch {
      /* best effort */
    }
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      for (const e of readdirSync(dir)) if (e !== MARKER_FILE) rmSync(join(dir, e), { recursive: true, force: true });
      rmSync(join(dir, MARKER_FILE), { force: true });
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOTEMPTY") return;
      try {
        writeFileSync(join(dir, MARKER_FILE), marker, { flag: "wx", mode: 0o600 });
      } catch {
        /* someone else's claim, or gone */ return;
      }
    }
  }
}

/** True when the VM described by `meta` is gone (kept for callers that only have metadata). */
export function isStale(meta: VmMetadata): boolean {
  if (meta.pid !== undefined) return !isAlive(meta.pid);
  return !isAlive(meta.ownerPid);
}
