import { describe, expect, it } from "vitest";
import { loadOrder, moduleName } from "../../sdk/guests/kmod.ts";

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
});
