import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { detectFormat } from "../../sdk/img/detect.ts";
import { ImageError } from "../../sdk/img/errors.ts";
import { overlay } from "../../sdk/img/overlay.ts";
import { imgTempDir, makeQcow2, qemuImg, qemuIo, sha256 } from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

function backingOf(path: string): { name: string; format: string } {
  const j = JSON.parse(qemuImg("info", "--output=json", "-f", "qcow2", path));
  return { name: j["backing-filename"], format: j["backing-filename-format"] };
}

describe("detectFormat", () => {
  it("reports qcow2 and raw", async () => {
    makeQcow2(join(dir, "a.qcow2"), "1M");
    qemuImg("create", "-q", "-f", "raw", join(dir, "b.img"), "1M");
    expect(await detectFormat(join(dir, "a.qcow2"))).toBe("qcow2");
    expect(await detectFormat(join(dir, "b.img"))).toBe("raw");
  });
  it("throws IMAGE_NOT_FOUND for a missing file", async () => {
    await expect(detectFormat(join(dir, "nope.qcow2"))).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
  });
});

describe("overlay", () => {
  it("creates a qcow2 backed by the base with an explicit backing format; base bytes unchanged", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "64M", { byte: 0xab, length: "1M" });
    const before = sha256(base);
    const r = await overlay(base, join(dir, "ov.qcow2"));
    expect(r).toEqual({ path: join(dir, "ov.qcow2"), baseFormat: "qcow2", backingFile: base });
    expect(backingOf(r.path)).toEqual({ name: base, format: "qcow2" });
    // guest-visible data comes through the overlay
    expect(qemuIo(r.path, "qcow2", "read -P 0xab 0 1M")).toMatch(/read 1048576\/1048576/);
    qemuIo(r.path, "qcow2", "write -P 0xcd 0 64k");
    expect(sha256(base)).toBe(before);
  });

  it("stores a relative base relative to the overlay's directory, so qemu finds it", async () => {
    mkdirSync(join(dir, "images"));
    mkdirSync(join(dir, "vms"));
    makeQcow2(join(dir, "images", "base.qcow2"), "8M", { byte: 0x11, length: "64k" });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await overlay("images/base.qcow2", "vms/web1.qcow2", { baseFormat: "qcow2" });
      expect(r.backingFile).toBe("../images/base.qcow2");
    } finally {
      process.chdir(cwd);
    }
    expect(backingOf(join(dir, "vms", "web1.qcow2")).name).toBe("../images/base.qcow2");
    // opened from yet another directory, the chain still resolves
    expect(qemuIo(join(dir, "vms", "web1.qcow2"), "qcow2", "read -P 0x11 0 64k")).toMatch(/read 65536/);
  });

  it("honours backingPath: relative for an absolute base, absolute for a relative one", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M");
    mkdirSync(join(dir, "sub"));
    const r1 = await overlay(base, join(dir, "sub", "a.qcow2"), { baseFormat: "qcow2", backingPath: "relative" });
    expect(r1.backingFile).toBe(relative(join(dir, "sub"), base));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r2 = await overlay("base.qcow2", "sub/b.qcow2", { baseFormat: "qcow2", backingPath: "absolute" });
      expect(r2.backingFile).toBe(base);
    } finally {
      process.chdir(cwd);
    }
  });

  it("works with commas and spaces in both paths", async () => {
    const base = makeQcow2(join(dir, "my base,v1.qcow2"), "8M", { byte: 0x22, length: "64k" });
    const r = await overlay(base, join(dir, "vm 1,disk.qcow2"), { baseFormat: "qcow2" });
    expect(backingOf(r.path).name).toBe(base);
    expect(qemuIo(r.path, "qcow2", "read -P 0x22 0 64k")).toMatch(/read 65536/);
  });

  it("refuses an existing destination unless overwrite, and never overwrites the base", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M");
    const dst = join(dir, "ov.qcow2");
    writeFileSync(dst, "precious");
    await expect(overlay(base, dst)).rejects.toMatchObject({ code: "IMAGE_EXISTS" });
    expect(readFileSync(dst, "utf8")).toBe("precious");
    await overlay(base, dst, { overwrite: true });
    expect(backingOf(dst).name).toBe(base);
    const before = sha256(base);
    linkSync(base, join(dir, "hardlink.qcow2"));
    symlinkSync(base, join(dir, "symlink.qcow2"));
    for (const p of [base, join(dir, "hardlink.qcow2"), join(dir, "symlink.qcow2")]) {
      await expect(overlay(base, p, { overwrite: true })).rejects.toMatchObject({ code: "IMAGE_SAME_FILE" });
    }
    // a deeper layer of the chain is protected too
    const mid = join(dir, "mid.qcow2");
    await overlay(base, mid, { baseFormat: "qcow2" });
    await expect(overlay(mid, base, { overwrite: true })).rejects.toMatchObject({ code: "IMAGE_SAME_FILE" });
    expect(sha256(base)).toBe(before);
  });

  it("reports a missing base, a missing backing file and a backing loop (also through a hard link)", async () => {
    await expect(overlay(join(dir, "nope.qcow2"), join(dir, "o.qcow2"))).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
    });
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "gone.qcow2", "-F", "qcow2", join(dir, "orphan.qcow2"), "8M");
    await expect(
      overlay(join(dir, "orphan.qcow2"), join(dir, "o.qcow2"), { baseFormat: "qcow2" }),
    ).rejects.toMatchObject({ code: "BACKING_MISSING" });
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "b.qcow2", "-F", "qcow2", join(dir, "a.qcow2"), "8M");
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "c.qcow2", "-F", "qcow2", join(dir, "b.qcow2"), "8M");
    linkSync(join(dir, "a.qcow2"), join(dir, "c.qcow2"));
    const err = await overlay(join(dir, "a.qcow2"), join(dir, "o.qcow2"), { baseFormat: "qcow2" }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err.code).toBe("BACKING_LOOP");
    expect(existsSync(join(dir, "o.qcow2"))).toBe(false);
    // no temp files left behind by any failure
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("rejects an unknown base format name", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M");
    await expect(overlay(base, join(dir, "o.qcow2"), { baseFormat: "qcow3" as never })).rejects.toMatchObject({
      code: "IMAGE_FORMAT",
    });
  });
});
