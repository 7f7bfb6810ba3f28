/**
 * The uncompressed kernel a built-in guest boots with `-kernel` when it can: QEMU starts an
 * ELF `vmlinux` that carries a PVH entry note straight at that entry, with no real-mode setup
 * and no self-decompression. Under TCG that skips 5-6 s of the Debian guest's boot (the
 * generic kernel unpacks 66 MB from xz), on top of the 7 s SeaBIOS + GRUB spend reading a
 * kernel through BIOS calls when it boots from the disk. Debian's amd64 kernels are xz-compressed
 * bzImages built with `CONFIG_PVH=y`; anything else keeps its bzImage, which boots too.
 * @module
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { exec } from "../util/exec.ts";

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** `XEN_ELFNOTE_PHYS32_ENTRY`: the 32-bit entry point QEMU's PVH loader jumps to. */
const PVH_ENTRY_NOTE = 18;
const PT_NOTE = 4;

/**
 * Where the xz stream of a bzImage starts, or -1. The setup header's `payload_offset` would
 * say so too, but only the magic also proves the compression.
 *
 * @example
 * ```ts
 * xzPayloadOffset(await readFile("/boot/vmlinuz-6.1.0-57-amd64")); // 21196
 * ```
 */
export function xzPayloadOffset(bzImage: Uint8Array): number {
  return Buffer.from(bzImage.buffer, bzImage.byteOffset, bzImage.byteLength).indexOf(XZ_MAGIC);
}

/**
 * Whether `elf` is a 64-bit little-endian ELF with a `Xen` note of type PHYS32_ENTRY, the
 * one QEMU needs to boot it as a PVH kernel.
 *
 * @example
 * ```ts
 * hasPvhEntry(await readFile("vmlinux")); // true for Debian's amd64 kernels
 * ```
 */
export function hasPvhEntry(elf: Uint8Array): boolean {
  const b = Buffer.from(elf.buffer, elf.byteOffset, elf.byteLength);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false;
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > b.length || b.readUInt32LE(ph) !== PT_NOTE) continue;
    const start = Number(b.readBigUInt64LE(ph + 8));
    const end = Math.min(b.length, start + Number(b.readBigUInt64LE(ph + 32)));
    for (let n = start; n + 12 <= end; ) {
      const nameSize = b.readUInt32LE(n);
      const descSize = b.readUInt32LE(n + 4);
      const type = b.readUInt32LE(n + 8);
      const name = b.subarray(n + 12, n + 12 + nameSize).toString("latin1");
      if (type === PVH_ENTRY_NOTE && name === "Xen\0") return true;
      n += 12 + align4(nameSize) + align4(descSize);
    }
  }
  return false;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Writes the kernel a guest should boot with `-kernel` to `out`: the unpacked PVH `vmlinux`
 * when `vmlinuz` is an xz bzImage whose kernel has a PVH entry, else a copy of `vmlinuz`.
 * Returns which it wrote.
 *
 * @example
 * ```ts
 * await writeBootKernel("/tmp/root/boot/vmlinuz-6.1.0-57-amd64", "/tmp/build/vmlinux"); // "pvh"
 * ```
 */
export async function writeBootKernel(vmlinuz: string, out: string): Promise<"pvh" | "bzImage"> {
  const image = await readFile(vmlinuz);
  const at = xzPayloadOffset(image);
  if (at >= 0) {
    const packed = `${out}.xz`;
    await writeFile(packed, image.subarray(at));
    // --single-stream: what follows the xz stream in a bzImage is not more xz data.
    const unpacked = await exec(["xz", "--decompress", "--single-stream", "--force", packed], { reject: false });
    await rm(packed, { force: true });
    if (unpacked.exitCode === 0 && hasPvhEntry(await readFile(out))) return "pvh";
    await rm(out, { force: true });
  }
  await writeFile(`${out}.part`, image);
  await rename(`${out}.part`, out);
  return "bzImage";
}
