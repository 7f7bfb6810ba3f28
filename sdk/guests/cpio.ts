/**
 * A writer for the cpio `newc` format (the one the Linux kernel unpacks as an
 * initramfs). Pure: entries in, bytes out; no file system access.
 * @module
 */
import { gzipSync } from "node:zlib";

/** One archive member. Paths are relative (`bin/sh`, not `/bin/sh`). */
export type CpioEntry =
  | { readonly type: "file"; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly type: "dir"; readonly path: string; readonly mode?: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string }
  | {
      readonly type: "chardev" | "blockdev";
      readonly path: string;
      readonly major: number;
      readonly minor: number;
      readonly mode?: number;
    };

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  nameSize: number;
}): string {
  return (
    "070701" +
    hex8(fields.ino) +
    hex8(fields.mode) +
    hex8(0) /* uid */ +
    hex8(0) /* gid */ +
    hex8(fields.nlink) +
    hex8(0) /* mtime: fixed so archives are reproducible */ +
    hex8(fields.size) +
    hex8(0) +
    hex8(0) /* dev major/minor */ +
    hex8(fields.rdevMajor) +
    hex8(fields.rdevMinor) +
    hex8(fields.nameSize) +
    hex8(0) /* check */
  );
}

/**
 * Serialises entries as a `newc` cpio archive ending in `TRAILER!!!`. Parent
 * directories are not added implicitly: list them before their children, because
 * the kernel does not create missing parents while unpacking.
 *
 * @example
 * ```ts
 * const bytes = writeCpio([
 *   { type: "dir", path: "bin" },
 *   { type: "file", path: "bin/hello", data: new TextEncoder().encode("#!/bin/sh\necho hi\n"), mode: 0o755 },
 *   { type: "symlink", path: "init", target: "bin/hello" },
 * ]);
 * ```
 */
export function writeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const enc = new TextEncoder();
  let offset = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    offset += b.length;
  };
  const padTo4 = () => {
    const p = pad4(offset);
    if (p) push(new Uint8Array(p));
  };
  const emit = (name: string, mode: number, data: Uint8Array, ino: number, nlink: number, rdev: [number, number]) => {
    const nameBytes = enc.encode(name + "\0");
    push(
      enc.encode(
        header({
          ino,
          mode,
          nlink,
          size: data.length,
          rdevMajor: rdev[0],
          rdevMinor: rdev[1],
          nameSize: nameBytes.length,
        }),
      ),
    );
    push(nameBytes);
    padTo4();
    if (data.length) {
      push(data);
      padTo4();
    }
  };
  const seen = new Set<string>();
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, "").replace(/\/+$/, "");
    if (!path) throw new Error(`cpio entry with an empty path`);
    if (seen.has(path)) throw new Error(`duplicate cpio entry: ${path}`);
    seen.add(path);
    switch (e.type) {
      case "file":
        emit(path, S_IFREG | (e.mode ?? 0o644), e.data, ino++, 1, [0, 0]);
        break;
      case "dir":
        emit(path, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), ino++, 2, [0, 0]);
        break;
      case "symlink":
        emit(path, S_IFLNK | 0o777, enc.encode(e.target), ino++, 1, [0, 0]);
        break;
      case "chardev":
      case "blockdev":
        emit(path, (e.type === "chardev" ? S_IFCHR : S_IFBLK) | (e.mode ?? 0o600), new Uint8Array(0), ino++, 1, [
          e.major,
          e.minor,
        ]);
        break;
    }
  }
  emit("TRAILER!!!", 0, new Uint8Array(0), 0, 1, [0, 0]);
  const out = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * {@link writeCpio}, gzip-compressed: the form `-initrd` takes from Debian kernels.
 *
 * @example
 * ```ts
 * await writeFile("initrd.gz", writeCpioGz([{ type: "dir", path: "dev" }]));
 * ```
 */
export function writeCpioGz(entries: readonly CpioEntry[], level = 6): Uint8Array {
  return gzipSync(writeCpio(entries), { level });
}
