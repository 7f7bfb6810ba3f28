import { describe, expect, it } from "vitest";
import { loadOrder, moduleDepends, moduleName } from "../../sdk/guests/kmod.ts";

describe("kernel module ordering", () => {
  const deps: Record<string, string[]> = {
    sd_mod: ["scsi_mod", "scsi_common"],
    scsi_mod: ["scsi_common"],
    ata_piix: ["libata"],
    libata: ["scsi_mod"],
  };
  it("puts dependencies first, each once", () => {
    const order = loadOrder(["ata_piix", "sd_mod"], (m) => deps[m] ?? []);
    expect(order).toEqual(["scsi_common", "scsi_mod", "libata", "ata_piix", "sd_mod"]);
  });
  it("reports cycles", () => {
    expect(() => loadOrder(["a"], (m) => (m === "a" ? ["b"] : ["a"]))).toThrow(/a -> b -> a/);
  });
  it("normalises file names to module names", () => {
    expect(moduleName("virtio-blk.ko")).toBe("virtio_blk");
    expect(moduleName("crc32c_generic.ko.xz")).toBe("crc32c_generic");
  });
  it("reads depends= as module names: the field keeps file-name dashes (sd_mod needs t10-pi)", () => {
    expect(moduleDepends(elfWithModinfo("license=GPL\0depends=scsi_mod,t10-pi,crc64-rocksoft\0"))).toEqual([
      "scsi_mod",
      "t10_pi",
      "crc64_rocksoft",
    ]);
    expect(moduleDepends(elfWithModinfo("depends=\0"))).toEqual([]);
  });
});

/** A minimal little-endian ELF64 object with a .modinfo section, as the kernel's .ko files have. */
function elfWithModinfo(modinfo: string): Uint8Array {
  const enc = new TextEncoder();
  const info = enc.encode(modinfo);
  const names = enc.encode("\0.modinfo\0.shstrtab\0");
  const infoAt = 64;
  const namesAt = infoAt + info.length;
  const shoff = Math.ceil((namesAt + names.length) / 8) * 8;
  const buf = new Uint8Array(shoff + 3 * 64);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setBigUint64(0x28, BigInt(shoff), true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 3, true);
  v.setUint16(0x3e, 2, true);
  buf.set(info, infoAt);
  buf.set(names, namesAt);
  const section = (i: number, name: number, offset: number, size: number) => {
    v.setUint32(shoff + i * 64, name, true);
    v.setBigUint64(shoff + i * 64 + 0x18, BigInt(offset), true);
    v.setBigUint64(shoff + i * 64 + 0x20, BigInt(size), true);
  };
  section(1, 1, infoAt, info.length);
  section(2, 10, namesAt, names.length);
  return buf;
}
