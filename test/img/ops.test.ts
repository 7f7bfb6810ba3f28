import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { linkSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { image } from "../../sdk/img/mod.ts";
import {
  imgTempDir,
  makeCorruptQcow2,
  makeLeakyQcow2,
  makeQcow2,
  qemuImg,
  qemuIo,
  sha256,
} from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

const vsize = (p: string, f = "qcow2") => JSON.parse(qemuImg("info", "--output=json", "-f", f, p))["virtual-size"];
const backing = (p: string) => JSON.parse(qemuImg("info", "--output=json", "-f", "qcow2", p))["backing-filename"];

describe("image.resize", () => {
  it("grows absolutely and relatively; refuses to shrink without shrink: true", async () => {
    const p = makeQcow2(join(dir, "d.qcow2"), "8M");
    expect(await image.resize(p, "16M", { format: "qcow2" })).toBe(16 * 1024 * 1024);
    expect(await image.resize(p, "+1M", { format: "qcow2" })).toBe(17 * 1024 * 1024);
    expect(vsize(p)).toBe(17 * 1024 * 1024);
    const err = await image.resize(p, "-1M", { format: "qcow2" }).catch((e) => e);
    expect(err.code).toBe("SIZE_INVALID");
    expect(err.advice).toMatch(/shrink: true/);
    qemuImg("create", "-q", "-f", "raw", join(dir, "r.img"), "4M");
    expect(await image.resize(join(dir, "r.img"), "2M", { format: "raw", shrink: true })).toBe(2 * 1024 * 1024);
    expect(statSync(join(dir, "r.img")).size).toBe(2 * 1024 * 1024);
    await expect(image.resize(p, "-17M", { format: "qcow2", shrink: true })).rejects.toMatchObject({
      code: "SIZE_INVALID",
    });
    await expect(image.resize(p, "3P", { format: "qcow2" })).rejects.toMatchObject({ code: "SIZE_INVALID" });
  });
});

describe("image.check", () => {
  it("reports a clean image as ok", async () => {
    const r = await image.check(makeQcow2(join(dir, "ok.qcow2"), "8M", { byte: 1, length: "64k" }), {
      format: "qcow2",
    });
    expect(r).toMatchObject({
      ok: true,
      leaks: 0,
      corruptions: 0,
      checkErrors: 0,
      fixable: false,
      suggestedRepair: undefined,
    });
    expect(r.allocatedClusters).toBe(1);
  });

  it("types leaks and repairs them", async () => {
    const p = makeLeakyQcow2(join(dir, "leaky.qcow2"));
    const r = await image.check(p, { format: "qcow2" });
    expect(r.ok).toBe(false);
    expect(r.leaks).toBeGreaterThan(0);
    expect(r.corruptions).toBe(0);
    expect(r).toMatchObject({ fixable: true, suggestedRepair: "leaks" });
    const fixed = await image.check(p, { format: "qcow2", repair: "leaks" });
    expect(fixed.leaksFixed).toBe(r.leaks);
    expect(fixed.ok).toBe(true);
    expect((await image.check(p, { format: "qcow2" })).ok).toBe(true);
  });

  it("types corruptions and suggests repair: all", async () => {
    const p = makeCorruptQcow2(join(dir, "bad.qcow2"));
    const r = await image.check(p, { format: "qcow2" });
    expect(r.corruptions).toBeGreaterThan(0);
    expect(r).toMatchObject({ ok: false, fixable: true, suggestedRepair: "all" });
    const fixed = await image.check(p, { format: "qcow2", repair: "all" });
    expect(fixed.corruptionsFixed).toBeGreaterThan(0);
    expect((await image.check(p, { format: "qcow2" })).ok).toBe(true);
  });

  it("raw has nothing to check: IMAGE_FORMAT; a hard-link loop fails fast with BACKING_LOOP instead of hanging qemu-img", async () => {
    qemuImg("create", "-q", "-f", "raw", join(dir, "r.img"), "1M");
    await expect(image.check(join(dir, "r.img"), { format: "raw" })).rejects.toMatchObject({ code: "IMAGE_FORMAT" });
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "b.qcow2", "-F", "qcow2", join(dir, "a.qcow2"), "8M");
    qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", "c.qcow2", "-F", "qcow2", join(dir, "b.qcow2"), "8M");
    linkSync(join(dir, "a.qcow2"), join(dir, "c.qcow2"));
    const t0 = Date.now();
    await expect(image.check(join(dir, "a.qcow2"), { format: "qcow2" })).rejects.toMatchObject({
      code: "BACKING_LOOP",
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe("image.commit", () => {
  it("writes the overlay's changes into its backing file (only that one)", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M", { byte: 0x10, length: "64k" });
    const mid = (await image.overlay(base, join(dir, "mid.qcow2"), { baseFormat: "qcow2" })).path;
    const top = (await image.overlay(mid, join(dir, "top.qcow2"), { baseFormat: "qcow2" })).path;
    qemuIo(top, "qcow2", "write -P 0x20 0 64k");
    const baseBefore = sha256(base);
    expect(await image.commit(top, { format: "qcow2" })).toBe(mid);
    expect(sha256(base)).toBe(baseBefore);
    expect(qemuIo(mid, "qcow2", "read -P 0x20 0 64k")).toMatch(/read 65536/);
    // commit down to a deeper layer with base; keep: the top keeps its data
    qemuIo(top, "qcow2", "write -P 0x30 64k 64k");
    expect(await image.commit(top, { format: "qcow2", base, keep: true })).toBe(base);
    expect(qemuIo(base, "qcow2", "read -P 0x30 64k 64k")).toMatch(/read 65536/);
    await expect(image.commit(base, { format: "qcow2" })).rejects.toMatchObject({ code: "IMAGE_FORMAT" });
    await expect(image.commit(top, { format: "qcow2", base: join(dir, "elsewhere.qcow2") })).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
    });
  });
});

describe("image.rebase", () => {
  it("safe rebase keeps guest-visible data; backing files are only read", async () => {
    const a = makeQcow2(join(dir, "a.qcow2"), "8M", { byte: 0x01, length: "128k" });
    const b = makeQcow2(join(dir, "b.qcow2"), "8M", { byte: 0x02, length: "64k" });
    const top = (await image.overlay(a, join(dir, "top.qcow2"), { baseFormat: "qcow2" })).path;
    const [ha, hb] = [sha256(a), sha256(b)];
    await image.rebase(top, b, { format: "qcow2", backingFormat: "qcow2" });
    expect(backing(top)).toBe(b);
    expect(qemuIo(top, "qcow2", "read -P 0x01 0 128k")).toMatch(/read 131072/);
    expect([sha256(a), sha256(b)]).toEqual([ha, hb]);
    // flatten
    await image.rebase(top, null, { format: "qcow2" });
    expect(backing(top)).toBeUndefined();
    expect(qemuIo(top, "qcow2", "read -P 0x01 0 128k")).toMatch(/read 131072/);
  });

  it("unsafe rebase repairs a moved base with a correct relative path", async () => {
    mkdirSync(join(dir, "old"));
    mkdirSync(join(dir, "new"));
    mkdirSync(join(dir, "vms"));
    const base = makeQcow2(join(dir, "old", "base.qcow2"), "8M", { byte: 0x09, length: "64k" });
    const top = (await image.overlay(base, join(dir, "vms", "top.qcow2"), { baseFormat: "qcow2" })).path;
    renameSync(base, join(dir, "new", "base.qcow2"));
    await expect(image.info(top, { format: "qcow2", backingChain: true })).rejects.toMatchObject({
      code: "BACKING_MISSING",
    });
    await expect(
      image.rebase(top, join(dir, "new", "base.qcow2"), { format: "qcow2", backingFormat: "qcow2" }),
    ).rejects.toMatchObject({ code: "BACKING_MISSING" });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await image.rebase("vms/top.qcow2", "new/base.qcow2", {
        format: "qcow2",
        backingFormat: "qcow2",
        unsafe: true,
      });
      expect(r.backingFile).toBe("../new/base.qcow2");
    } finally {
      process.chdir(cwd);
    }
    expect(qemuIo(top, "qcow2", "read -P 0x09 0 64k")).toMatch(/read 65536/);
  });

  it("refuses a new backing file whose chain contains the image (a loop)", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M");
    const top = (await image.overlay(base, join(dir, "top.qcow2"), { baseFormat: "qcow2" })).path;
    const top2 = (await image.overlay(top, join(dir, "top2.qcow2"), { baseFormat: "qcow2" })).path;
    const before = sha256(top);
    await expect(
      image.rebase(top, top2, { format: "qcow2", backingFormat: "qcow2", unsafe: true }),
    ).rejects.toMatchObject({ code: "IMAGE_SAME_FILE" });
    expect(sha256(top)).toBe(before);
  });
});

describe("image.measure, map, du, compare", () => {
  it("measure agrees with qemu-img for an image and for a fresh size", async () => {
    const p = makeQcow2(join(dir, "d.qcow2"), "64M", { byte: 3, length: "8M" });
    const m = await image.measure(p, { sourceFormat: "qcow2", format: "qcow2" });
    const j = JSON.parse(qemuImg("measure", "--output=json", "-f", "qcow2", "-O", "qcow2", p));
    expect(m.required).toBe(j.required);
    expect(m.fullyAllocated).toBe(j["fully-allocated"]);
    const n = await image.measure({ size: "1G" }, { format: "qcow2" });
    expect(n.fullyAllocated).toBeGreaterThan(1024 ** 3);
    expect(n.required).toBeLessThan(1024 * 1024);
  });

  it("map lists data, zero and backing extents", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M", { byte: 4, length: "1M" });
    const top = (await image.overlay(base, join(dir, "top.qcow2"), { baseFormat: "qcow2" })).path;
    qemuIo(top, "qcow2", "write -P 5 2M 64k");
    const ext = await image.map(top, { format: "qcow2" });
    expect(ext[0]).toMatchObject({ start: 0, length: 1048576, depth: 1, data: true, present: true });
    expect(ext.find((e) => e.start === 2 * 1024 * 1024)).toMatchObject({ length: 65536, depth: 0, data: true });
    expect(ext.reduce((n, e) => n + e.length, 0)).toBe(8 * 1024 * 1024);
  });

  it("du counts host-allocated bytes like du, optionally over the chain", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "64M", { byte: 6, length: "4M" });
    const top = (await image.overlay(base, join(dir, "top.qcow2"), { baseFormat: "qcow2" })).path;
    qemuIo(top, "qcow2", "write -P 7 0 1M");
    const one = await image.du(top);
    const st = statSync(top);
    expect(one.bytes).toBe(st.blocks * 512);
    expect(one.apparentBytes).toBe(st.size);
    const all = await image.du(top, { backingChain: true, format: "qcow2" });
    expect(all.layers.map((l) => l.path)).toEqual([top, base]);
    expect(all.bytes).toBe(one.bytes + statSync(base).blocks * 512);
    expect(all.bytes).toBeGreaterThan(5 * 1024 * 1024);
  });

  it("compare says identical or where the first difference is", async () => {
    const a = makeQcow2(join(dir, "a.qcow2"), "8M", { byte: 8, length: "64k" });
    qemuImg("convert", "-f", "qcow2", "-O", "raw", a, join(dir, "a.raw"));
    expect(await image.compare(a, join(dir, "a.raw"), { formatA: "qcow2", formatB: "raw" })).toEqual({
      identical: true,
      message: "Images are identical.",
    });
    qemuIo(join(dir, "a.raw"), "raw", "write -P 9 4096 512");
    const r = await image.compare(a, join(dir, "a.raw"), { formatA: "qcow2", formatB: "raw" });
    expect(r).toEqual({ identical: false, message: "Content mismatch at offset 4096!", mismatchOffset: 4096 });
    await expect(image.compare(a, join(dir, "nope.raw"))).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
  });
});
