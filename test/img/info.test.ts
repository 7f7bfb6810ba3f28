import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSync, writeSync, closeSync, readFileSync, linkSync } from "node:fs";
import { join } from "node:path";
import { image, ImageLockedError, registerLockHolderLookup } from "../../sdk/img/mod.ts";
import { imgTempDir, makeQcow2, qemuImg, sha256 } from "../helpers/img-fixtures.ts";
import { holdImageLock } from "../helpers/img-lock.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

describe("image.info", () => {
  it("returns typed fields and a summary matching qemu-img's text", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "64M", { byte: 0xab, length: "1M" });
    qemuImg("snapshot", "-c", "s1", base);
    const i = await image.info(base, { format: "qcow2" });
    expect(i).toMatchObject({
      filename: base,
      format: "qcow2",
      virtualSize: 67108864,
      clusterSize: 65536,
      dirty: false,
      corrupt: false,
      encrypted: false,
    });
    expect(typeof i.actualSize).toBe("number");
    expect(i.snapshots).toHaveLength(1);
    expect(i.snapshots[0]).toMatchObject({ id: "1", name: "s1", vmStateSize: 0 });
    expect(i.formatSpecific?.type).toBe("qcow2");
    expect(i.formatSpecific?.data["compat"]).toBe("1.1");
    // The summary has the same lines as qemu-img's human output.
    const text = qemuImg("info", "-f", "qcow2", base).trim();
    expect(i.summary).toBe(text);
  });

  it("backingChain describes every layer (relative backing resolved against the overlay's directory)", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M");
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await image.overlay("base.qcow2", "mid.qcow2", { baseFormat: "qcow2" });
      await image.overlay("mid.qcow2", "top.qcow2", { baseFormat: "qcow2" });
    } finally {
      process.chdir(cwd);
    }
    const i = await image.info(join(dir, "top.qcow2"), { format: "qcow2", backingChain: true });
    expect(i.backingFilename).toBe("mid.qcow2");
    expect(i.backingFilenameFormat).toBe("qcow2");
    expect(i.fullBackingFilename).toBe(join(dir, "mid.qcow2"));
    expect(i.backing?.filename).toBe(join(dir, "mid.qcow2"));
    expect(i.backing?.backing?.filename).toBe(base);
    expect(i.backing?.backing?.backing).toBeUndefined();
    expect(i.summary.split("\n\n")).toHaveLength(3);
  });

  it("sizes are exact numbers; an image above 8 PiB is refused with SIZE_TOO_LARGE, not rounded", async () => {
    // 2^62 + 512 is not representable as a double: a number would round it.
    const huge = join(dir, "huge.vmdk");
    qemuImg("create", "-q", "-f", "vmdk", huge, String(2n ** 62n + 512n));
    await expect(image.info(huge, { format: "vmdk" })).rejects.toMatchObject({
      code: "SIZE_TOO_LARGE",
      message: expect.stringContaining(
        `qemu-img info reported virtual-size = ${2n ** 62n + 512n} for ${huge}, above 2^53 - 1 (8 PiB)`,
      ),
      details: { field: "virtual-size", value: String(2n ** 62n + 512n) },
    });
    // and qemukit does not make one
    await expect(image.create(join(dir, "huge2.vmdk"), 2n ** 62n, { format: "vmdk" })).rejects.toMatchObject({
      code: "SIZE_INVALID",
    });
    // the largest qemukit handles (qcow2 with 2 MiB clusters reaches 2^61)
    const largest = join(dir, "largest.qcow2");
    await image.create(largest, Number.MAX_SAFE_INTEGER - 511, { format: "qcow2", clusterSize: 2 * 1024 * 1024 });
    expect((await image.info(largest, { format: "qcow2" })).virtualSize).toBe(Number.MAX_SAFE_INTEGER - 511);
  });

  it("opens a raw file whose content looks like qcow2 as raw when told so (no probing)", async () => {
    // a raw 4 MiB disk whose first sector is a valid qcow2 header pointing at a host file
    const raw = join(dir, "guest.raw");
    qemuImg("create", "-q", "-f", "raw", raw, "4M");
    const evil = join(dir, "evil.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "/etc/passwd", "-F", "raw", evil, "1G");
    const header = readFileSync(evil).subarray(0, 65536);
    const fd = openSync(raw, "r+");
    writeSync(fd, header, 0, header.length, 0);
    closeSync(fd);
    const asRaw = await image.info(raw, { format: "raw" });
    expect(asRaw.format).toBe("raw");
    expect(asRaw.virtualSize).toBe(4 * 1024 * 1024);
    expect(asRaw.backingFilename).toBeUndefined();
    const asRawChain = await image.info(raw, { format: "raw", backingChain: true });
    expect(asRawChain.backing).toBeUndefined();
    // detection is exactly what would be fooled: that is why formats are explicit
    expect(await image.detectFormat(raw)).toBe("qcow2");
  });

  it("IMAGE_FORMAT when the file is not in the named format", async () => {
    qemuImg("create", "-q", "-f", "raw", join(dir, "r.img"), "1M");
    for (const format of ["qcow2", "vdi", "vmdk", "vhdx"] as const) {
      const err = await image.info(join(dir, "r.img"), { format }).catch((e) => e);
      expect(err.code, format).toBe("IMAGE_FORMAT");
    }
  });

  it("IMAGE_NOT_FOUND, BACKING_MISSING and BACKING_LOOP", async () => {
    await expect(image.info(join(dir, "nope.qcow2"))).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "gone.qcow2", "-F", "qcow2", join(dir, "orphan.qcow2"), "8M");
    // without the chain, an orphan is still readable
    expect((await image.info(join(dir, "orphan.qcow2"), { format: "qcow2" })).backingFilename).toBe("gone.qcow2");
    await expect(image.info(join(dir, "orphan.qcow2"), { format: "qcow2", backingChain: true })).rejects.toMatchObject({
      code: "BACKING_MISSING",
    });
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "b.qcow2", "-F", "qcow2", join(dir, "a.qcow2"), "8M");
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "c.qcow2", "-F", "qcow2", join(dir, "b.qcow2"), "8M");
    linkSync(join(dir, "a.qcow2"), join(dir, "c.qcow2"));
    const err = await image.info(join(dir, "a.qcow2"), { backingChain: true }).catch((e) => e);
    expect(err.code).toBe("BACKING_LOOP");
    expect(err.message).toMatch(/c\.qcow2/);
  });

  it("works on an image a running QEMU holds (shared lock); strict mode raises ImageLockedError naming the holder", async () => {
    const p = makeQcow2(join(dir, "in use.qcow2"), "8M");
    const before = sha256(p);
    const holder = await holdImageLock(p);
    const off = registerLockHolderLookup((path) => (path === p ? "web1" : undefined));
    try {
      expect((await image.info(p, { format: "qcow2" })).virtualSize).toBe(8 * 1024 * 1024);
      const err = await image.info(p, { format: "qcow2", shareLock: false }).catch((e) => e);
      expect(err).toBeInstanceOf(ImageLockedError);
      expect(err.code).toBe("IMAGE_LOCKED");
      expect(err.holder).toBe("web1");
      expect(err.message).toMatch(/web1/);
      const err2 = await image.resize(p, "+1M", { format: "qcow2" }).catch((e) => e);
      expect(err2.code).toBe("IMAGE_LOCKED");
      off();
      const err3 = await image.snapshot.create(p, "s", { format: "qcow2" }).catch((e) => e);
      expect(err3.code).toBe("IMAGE_LOCKED");
      expect(err3.holder).toBeUndefined();
      expect(err3.advice).toMatch(/stop the VM/);
    } finally {
      off();
      await holder.release();
    }
    expect(sha256(p)).toBe(before);
  });
});
