import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { image, type ImageFormat } from "../../sdk/img/mod.ts";
import { imgTempDir, makeQcow2, qemuImg } from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

const infoJson = (p: string, f: string) => JSON.parse(qemuImg("info", "--output=json", "-f", f, p));

describe("image.create", () => {
  it.each<ImageFormat>(["qcow2", "raw", "vdi", "vmdk", "vhdx"])("creates %s with the asked size", async (format) => {
    const p = join(dir, `disk.${format}`);
    const r = await image.create(p, "1.5G", { format });
    expect(r).toMatchObject({ path: p, format, virtualSize: 1610612736 });
    const j = infoJson(p, format);
    expect(j.format).toBe(format);
    expect(j["virtual-size"]).toBe(1610612736);
  });

  it("passes cluster size, preallocation and extra options", async () => {
    const p = join(dir, "c.qcow2");
    await image.create(p, "16M", {
      clusterSize: 2 * 1024 * 1024,
      preallocation: "metadata",
      options: { lazy_refcounts: true },
    });
    const j = infoJson(p, "qcow2");
    expect(j["cluster-size"]).toBe(2097152);
    expect(j["format-specific"].data["lazy-refcounts"]).toBe(true);
  });

  it("creates with a backing file and takes its size", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "32M");
    const r = await image.create(join(dir, "child.qcow2"), undefined, { backing: base, backingFormat: "qcow2" });
    expect(r.backingFile).toBe(base);
    expect(infoJson(r.path, "qcow2")["virtual-size"]).toBe(32 * 1024 * 1024);
  });

  it("works with commas and spaces in the path", async () => {
    const p = join(dir, "a,b c,,d.qcow2");
    await image.create(p, "1M");
    expect(infoJson(p, "qcow2")["virtual-size"]).toBe(1048576);
  });

  it("SIZE_INVALID: bad string, zero, beyond the format limit (checked before qemu-img)", async () => {
    for (const [size, format] of [
      ["12 bananas", "qcow2"],
      [0, "qcow2"],
      ["0G", "raw"],
      ["3P", "qcow2"],
      ["65T", "vhdx"],
      ["2041G", "vpc"],
      ["600T", "vdi"],
    ] as const) {
      const err = await image.create(join(dir, "x.img"), size, { format }).catch((e) => e);
      expect(err.code, `${size} ${format}`).toBe("SIZE_INVALID");
      expect(err.advice).toBeTruthy();
    }
    // a larger cluster size lifts qcow2's limit
    await image.create(join(dir, "big.qcow2"), "3P", { clusterSize: 2 * 1024 * 1024 });
    expect(readdirSync(dir)).toEqual(["big.qcow2"]);
  });

  it("SIZE_INVALID from qemu-img is mapped too (size past the file system's limit)", async () => {
    const err = await image.create(join(dir, "r.img"), "8E", { format: "raw" }).catch((e) => e);
    expect(err.code).toBe("SIZE_INVALID");
  });

  it("IMAGE_FORMAT: unknown format name, or a backing file on a format without one", async () => {
    await expect(image.create(join(dir, "x.img"), "1M", { format: "qcow3" as never })).rejects.toMatchObject({
      code: "IMAGE_FORMAT",
    });
    const base = makeQcow2(join(dir, "base.qcow2"), "1M");
    await expect(image.create(join(dir, "x.img"), "1M", { format: "raw", backing: base })).rejects.toMatchObject({
      code: "IMAGE_FORMAT",
    });
  });

  it("IMAGE_EXISTS unless overwrite; overwrite replaces atomically", async () => {
    const p = join(dir, "d.qcow2");
    writeFileSync(p, "keep me");
    const err = await image.create(p, "1M").catch((e) => e);
    expect(err.code).toBe("IMAGE_EXISTS");
    expect(err.advice).toMatch(/overwrite/);
    await image.create(p, "2M", { overwrite: true });
    expect(infoJson(p, "qcow2")["virtual-size"]).toBe(2097152);
  });

  it("IMAGE_NOT_FOUND for a missing directory; IMAGE_INVALID_ARGUMENT for a bad option; no partial files", async () => {
    await expect(image.create(join(dir, "no", "such", "d.qcow2"), "1M")).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
    });
    await expect(image.create(join(dir, "o.qcow2"), "1M", { options: { no_such_option: 1 } })).rejects.toMatchObject({
      code: "IMAGE_INVALID_ARGUMENT",
    });
    await expect(image.create(join(dir, "o.qcow2"), "1M", { clusterSize: 3 })).rejects.toMatchObject({
      code: "IMAGE_INVALID_ARGUMENT",
    });
    await expect(
      image.create(join(dir, "o.qcow2"), "1M", { backing: join(dir, "gone.qcow2"), backingFormat: "qcow2" }),
    ).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
    expect(existsSync(join(dir, "o.qcow2"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("vmdk subformats with extent files are created in place", async () => {
    mkdirSync(join(dir, "v"));
    const p = join(dir, "v", "split.vmdk");
    await image.create(p, "10M", { format: "vmdk", options: { subformat: "twoGbMaxExtentSparse" } });
    expect(readdirSync(join(dir, "v")).sort()).toEqual(["split-s001.vmdk", "split.vmdk"]);
    expect(infoJson(p, "vmdk")["virtual-size"]).toBe(10485760);
  });
});
