/**
 * Fixtures for image tests: temp directories, real images made with qemu-img/qemu-io,
 * and content hashes to prove base images were not modified.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temp directory removed by the returned cleanup function. */
export function imgTempDir(prefix = "qk-img-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs qemu-img directly (fixture setup, independent of the code under test). */
export function qemuImg(...args: string[]): string {
  return execFileSync("qemu-img", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs qemu-io commands on an image, e.g. `write -P 0xab 0 1M`. */
export function qemuIo(path: string, format: string, ...commands: string[]): string {
  const args = ["-f", format];
  for (const c of commands) args.push("-c", c);
  args.push(path);
  return execFileSync("qemu-io", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** sha256 of a file's bytes. */
export function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** A qcow2 of `size` with a recognizable pattern written at offset 0. */
export function makeQcow2(path: string, size = "64M", pattern?: { byte: number; length: string }): string {
  qemuImg("create", "-q", "-f", "qcow2", path, size);
  if (pattern) qemuIo(path, "qcow2", `write -P ${pattern.byte} 0 ${pattern.length}`);
  return path;
}

/**
 * Makes a qcow2 with leaked clusters: take an internal snapshot, then drop it from the
 * header (nb_snapshots = 0) without releasing its clusters' references.
 */
export function makeLeakyQcow2(path: string): string {
  makeQcow2(path, "8M", { byte: 1, length: "256k" });
  qemuImg("snapshot", "-c", "s", path);
  const fd = openSync(path, "r+");
  const b = Buffer.alloc(12);
  writeSync(fd, b, 0, 12, 60); // nb_snapshots (u32 @60) and snapshots_offset (u64 @64)
  closeSync(fd);
  return path;
}

/** Makes a qcow2 with a corruption: the refcount of a cluster in use is set to 0. */
export function makeCorruptQcow2(path: string): string {
  makeQcow2(path, "8M", { byte: 2, length: "256k" });
  const fd = openSync(path, "r+");
  const b = Buffer.alloc(8);
  readSync(fd, b, 0, 8, 48); // refcount_table_offset
  readSync(fd, b, 0, 8, Number(b.readBigUInt64BE(0))); // first refcount block
  const block = Number(b.readBigUInt64BE(0));
  writeSync(fd, Buffer.alloc(2), 0, 2, block + 2 * 4); // 16-bit refcount of cluster 4 (an L2 table) -> 0
  closeSync(fd);
  return path;
}
