/**
 * Run directories: one private folder per VM under runRoot() holding its sockets,
 * pidfile, logs, temporary overlays and `vm.json`.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { runRoot } from "../util/dirs.ts";
import { isAlive } from "./proc.ts";
import type { VmMetadata } from "./types.ts";
import { VmStartError } from "./errors.ts";

/** Linux `sun_path` is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** The longest socket file name qemukit's compiler puts in a run directory, with margin. */
const SOCKET_NAME_RESERVE = "/console.sock".length + 4;

/** Name of the metadata file inside a run directory. */
export const METADATA_FILE = "vm.json";

/** A fresh VM name: `vm-` and 6 hex digits. */
export function generateName(): string {
  return `vm-${randomBytes(3).toString("hex")}`;
}

/**
 * Creates the run directory (mode 0700) for a VM called `name`, under `root` unless `dir`
 * is given. Fails clearly when the path would make socket paths too long, or when a live
 * VM already uses the name; a stale directory of a dead VM is removed first.
 */
export async function createRunDir(name: string, options: { root?: string; dir?: string } = {}): Promise<string> {
  const root = options.root ?? runRoot();
  const dir = resolve(options.dir ?? join(root, name));
  const longest = Buffer.byteLength(dir) + SOCKET_NAME_RESERVE;
  if (longest > MAX_SOCKET_PATH) {
    throw new VmStartError(`run directory ${dir} is too long for unix sockets (${longest} > ${MAX_SOCKET_PATH} bytes)`, [], "", {
      advice: "set QEMUKIT_RUN_DIR to a short path such as /tmp/qk, or pass a shorter runDir / VM name",
      details: { runDir: dir },
    });
  }
  if (!options.dir) await mkdir(root, { recursive: true, mode: 0o700 });
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const meta = await readMetadata(dir);
    if (meta && !isStale(meta)) {
      throw new VmStartError(`a VM named "${name}" is already running (pid ${meta.pid ?? "starting"}, ${dir})`, [], "", {
        advice: `pick another name, or stop it first: await (await attach("${name}")).shutdown()`,
        details: { runDir: dir },
      });
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o700 });
  }
  return dir;
}

/**
 * True when the VM described by `meta` is gone: its QEMU died, or it never got a pid
 * and the process that was starting it died.
 */
export function isStale(meta: VmMetadata): boolean {
  if (meta.pid !== undefined) return !isAlive(meta.pid);
  return !isAlive(meta.ownerPid);
}

/** Reads `vm.json`, or undefined when missing or unreadable. */
export async function readMetadata(dir: string): Promise<VmMetadata | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, METADATA_FILE), "utf8")) as VmMetadata;
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

/** Removes a run directory and extra files; never throws. */
export async function removeRunDir(dir: string, extraFiles: readonly string[] = []): Promise<void> {
  for (const f of extraFiles) await rm(f, { force: true }).catch(() => {});
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/** Synchronous variant for exit/signal handlers, where no promise will ever settle. */
export function removeRunDirSync(dir: string, extraFiles: readonly string[] = []): void {
  for (const f of extraFiles) {
    try {
      rmSync(f, { force: true });
    } catch { /* best effort while the process dies */ }
  }
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch { /* best effort while the process dies */ }
}
