/**
 * Fixtures for image tests: temp directories, real images made with qemu-img/qemu-io,
 * and content hashes to prove base images were not modified.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
