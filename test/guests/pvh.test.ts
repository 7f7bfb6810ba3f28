// The PVH kernel check on hand-made ELF files: a wrong answer either boots a bzImage the slow
// way for nothing, or hands QEMU an ELF it cannot start.
import { describe, expect, it } from "vitest";
import { hasPvhEntry, xzPayloadOffset } from "../../sdk/guests/pvh.ts";

interface Note {
  readonly name: string;
  readonly type: number;
  readonly desc: number;
}

/** A minimal ELF64 LE file with one PT_NOTE segment holding `notes`. */
function elf(notes: readonly Note[], options: { klass?: number; phType?: number } = {}): Buffer {
  const pad4 = (n: number) => (n + 3) & ~3;
  const body = Buffer.concat(
    notes.map((n) => {
      const name = Buffer.from(`${n.name}\0`, "latin1");
      const b = Buffer.alloc(12 + pad4(name.length) + pad4(n.desc));
      b.writeUInt32LE(name.length, 0);
      b.writeUInt32LE(n.desc, 4);
      b.writeUInt32LE(n.type, 8);
      name.copy(b, 12);
      return b;
    }),
  );
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = options.klass ?? 2;
  header[5] = 1;
  header.writeBigUInt64LE(64n, 32); // e_phoff
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(1, 56); // e_phnum
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(options.phType ?? 4, 0);
  ph.writeBigUInt64LE(120n, 8); // p_offset
  ph.writeBigUInt64LE(BigInt(body.length), 32); // p_filesz
  return Buffer.concat([header, ph, body]);
}

describe("hasPvhEntry", () => {
  it("finds Xen's PHYS32_ENTRY note among others", () => {
    const notes = [
      { name: "Xen", type: 6, desc: 6 },
      { name: "GNU", type: 3, desc: 20 },
      { name: "Xen", type: 18, desc: 4 },
    ];
    expect(hasPvhEntry(elf(notes))).toBe(true);
  });

  it("says no without that note, or for something that is not a 64-bit ELF", () => {
    expect(hasPvhEntry(elf([{ name: "Xen", type: 6, desc: 6 }]))).toBe(false);
    expect(hasPvhEntry(elf([{ name: "GNU", type: 18, desc: 4 }]))).toBe(false);
    expect(hasPvhEntry(elf([{ name: "Xen", type: 18, desc: 4 }], { phType: 1 }))).toBe(false);
    expect(hasPvhEntry(elf([{ name: "Xen", type: 18, desc: 4 }], { klass: 1 }))).toBe(false);
    expect(hasPvhEntry(Buffer.from("MZ not an ELF at all, but long enough to have a header..........."))).toBe(false);
    expect(hasPvhEntry(new Uint8Array(10))).toBe(false);
  });

  it("stops at the file's end when a note claims more than there is", () => {
    const b = elf([{ name: "Xen", type: 18, desc: 4 }]);
    b.writeUInt32LE(1 << 30, 120 + 4); // descsz far past the end, and the note is still read
    expect(hasPvhEntry(b)).toBe(true);
    b.writeUInt32LE(1 << 30, 120); // namesz past the end: the name cannot be "Xen"
    expect(hasPvhEntry(b)).toBe(false);
  });
});

describe("xzPayloadOffset", () => {
  it("finds the xz stream's magic inside a bzImage, or says -1", () => {
    const image = Buffer.concat([Buffer.alloc(1000, 0x90), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])]);
    expect(xzPayloadOffset(image)).toBe(1000);
    expect(xzPayloadOffset(new Uint8Array(image.subarray(10)))).toBe(990);
    expect(xzPayloadOffset(Buffer.alloc(1000))).toBe(-1);
  });
});
