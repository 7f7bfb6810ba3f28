import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { image, type ConvertProgress } from "../../sdk/img/mod.ts";
import { imgTempDir, makeQcow2, qemuImg, qemuIo, sha256 } from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

const leftovers = (d: string) => readdirSync(d).filter((f) => f.endsWith(".tmp"));

describe("image.convert", () => {
  it("round trip qcow2 -> vdi -> vmdk -> qcow2 keeps guest-visible bytes identical", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "64M", { byte: 0xab, length: "1M" });
    qemuIo(src, "qcow2", "write -P 0x5a 10M 512k", "write -z 20M 64k");
    const before = sha256(src);
    await image.convert(src, join(dir, "a.vdi"), { format: "vdi", sourceFormat: "qcow2" });
    await image.convert(join(dir, "a.vdi"), join(dir, "b.vmdk"), { format: "vmdk", sourceFormat: "vdi" });
    const r = await image.convert(join(dir, "b.vmdk"), join(dir, "c.qcow2"), { format: "qcow2", sourceFormat: "vmdk" });
    expect(r).toEqual({ path: join(dir, "c.qcow2"), format: "qcow2", sourceFormat: "vmdk" });
    const cmp = await image.compare(src, r.path, { formatA: "qcow2", formatB: "qcow2" });
    expect(cmp).toEqual({ identical: true, message: "Images are identical." });
    // qemu-img agrees, independently of the wrapper
    expect(qemuImg("compare", "-f", "qcow2", "-F", "qcow2", src, r.path)).toMatch(/identical/);
    expect(qemuIo(r.path, "qcow2", "read -P 0x5a 10M 512k")).toMatch(/read 524288/);
    expect(sha256(src)).toBe(before);
    expect(leftovers(dir)).toEqual([]);
  });

  it("reports progress to onProgress and to an async iterator, ending at 100", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "64M", { byte: 0x11, length: "32M" });
    const seen: number[] = [];
    const task = image.convert(src, join(dir, "out.raw"), {
      format: "raw",
      sourceFormat: "qcow2",
      onProgress: (p) => seen.push(p.percent),
    });
    const iterated: ConvertProgress[] = [];
    for await (const p of task) iterated.push(p);
    const r = await task;
    expect(r.format).toBe("raw");
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe(100);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(iterated.map((p) => p.percent)).toEqual(seen);
    expect(task.last?.percent).toBe(100);
  });

  it("compresses qcow2 output", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "16M", { byte: 0x33, length: "4M" });
    await image.convert(src, join(dir, "c.qcow2"), { sourceFormat: "qcow2", compress: true });
    const r = await image.check(join(dir, "c.qcow2"), { format: "qcow2" });
    expect(r.compressedClusters).toBeGreaterThan(0);
  });

  it("abort kills qemu-img, removes the temp file, leaves no destination", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "256M", { byte: 0x44, length: "128M" });
    const ac = new AbortController();
    const task = image.convert(src, join(dir, "out.qcow2"), {
      sourceFormat: "qcow2",
      compress: true,
      signal: ac.signal,
      onProgress: () => ac.abort(),
    });
    await expect(task).rejects.toMatchObject({ code: "IMAGE_ABORTED" });
    expect(existsSync(join(dir, "out.qcow2"))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // and an already-aborted signal never starts
    await expect(
      image.convert(src, join(dir, "o2.qcow2"), { sourceFormat: "qcow2", signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: "IMAGE_ABORTED" });
  });

  it("IMAGE_EXISTS, IMAGE_SAME_FILE (same path, symlink, hard link, a layer of the chain), IMAGE_NOT_FOUND", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "8M", { byte: 0x55, length: "64k" });
    const before = sha256(src);
    writeFileSync(join(dir, "exists.qcow2"), "x");
    await expect(image.convert(src, join(dir, "exists.qcow2"), { sourceFormat: "qcow2" })).rejects.toMatchObject({
      code: "IMAGE_EXISTS",
    });
    symlinkSync(src, join(dir, "sym.qcow2"));
    linkSync(src, join(dir, "hard.qcow2"));
    for (const dst of [src, join(dir, "sym.qcow2"), join(dir, "hard.qcow2")]) {
      await expect(image.convert(src, dst, { sourceFormat: "qcow2", overwrite: true })).rejects.toMatchObject({
        code: "IMAGE_SAME_FILE",
      });
    }
    await image.overlay(src, join(dir, "top.qcow2"), { baseFormat: "qcow2" });
    await expect(
      image.convert(join(dir, "top.qcow2"), src, { sourceFormat: "qcow2", overwrite: true }),
    ).rejects.toMatchObject({ code: "IMAGE_SAME_FILE" });
    await expect(image.convert(join(dir, "nope.qcow2"), join(dir, "o.qcow2"))).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
    });
    expect(sha256(src)).toBe(before);
  });

  it("flattens an overlay chain into one image; the base is only read", async () => {
    const base = makeQcow2(join(dir, "base.qcow2"), "8M", { byte: 0x66, length: "1M" });
    const before = sha256(base);
    await image.overlay(base, join(dir, "top.qcow2"), { baseFormat: "qcow2" });
    qemuIo(join(dir, "top.qcow2"), "qcow2", "write -P 0x77 0 64k");
    await image.convert(join(dir, "top.qcow2"), join(dir, "flat.qcow2"), { sourceFormat: "qcow2" });
    expect((await image.info(join(dir, "flat.qcow2"), { format: "qcow2" })).backingFilename).toBeUndefined();
    expect(
      (await image.compare(join(dir, "top.qcow2"), join(dir, "flat.qcow2"), { formatA: "qcow2", formatB: "qcow2" }))
        .identical,
    ).toBe(true);
    expect(sha256(base)).toBe(before);
  });

  it("a raw source whose content looks like qcow2 is copied byte for byte when sourceFormat is raw", async () => {
    const raw = join(dir, "guest.raw");
    qemuImg("create", "-q", "-f", "raw", raw, "2M");
    const q = makeQcow2(join(dir, "h.qcow2"), "1G");
    execFileSync("dd", [`if=${q}`, `of=${raw}`, "bs=64k", "count=1", "conv=notrunc"], { stdio: "ignore" });
    await image.convert(raw, join(dir, "copy.raw"), { format: "raw", sourceFormat: "raw" });
    expect(sha256(join(dir, "copy.raw"))).toBe(sha256(raw));
  });

  it("FILE_TOO_LARGE when RLIMIT_FSIZE is hit (prlimit --fsize); nothing left behind", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "16M", { byte: 0x12, length: "8M" });
    const wrapper = join(dir, "qemu-img-limited");
    writeFileSync(wrapper, '#!/bin/sh\nexec prlimit --fsize=2000000 qemu-img "$@"\n');
    chmodSync(wrapper, 0o755);
    const saved = process.env.QEMUKIT_QEMU_IMG;
    process.env.QEMUKIT_QEMU_IMG = wrapper;
    try {
      const err = await image.convert(src, join(dir, "out.raw"), { format: "raw", sourceFormat: "qcow2" }).then(
        () => undefined,
        (e: any) => e,
      );
      expect(err?.code).toBe("FILE_TOO_LARGE");
      expect(err.message).toMatch(/size limit/);
      expect(err.advice).toMatch(/ulimit -f|RLIMIT_FSIZE/);
    } finally {
      if (saved === undefined) delete process.env.QEMUKIT_QEMU_IMG;
      else process.env.QEMUKIT_QEMU_IMG = saved;
    }
    expect(existsSync(join(dir, "out.raw"))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  const canMount = process.getuid?.() === 0;
  it.skipIf(!canMount)("NO_SPACE when the file system fills up (a 4 MiB tmpfs); nothing left behind", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "16M", { byte: 0x21, length: "12M" });
    const small = join(dir, "small");
    mkdirSync(small);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", small]);
    try {
      const err = await image.convert(src, join(small, "out.raw"), { format: "raw", sourceFormat: "qcow2" }).then(
        () => undefined,
        (e: any) => e,
      );
      expect(err?.code).toBe("NO_SPACE");
      expect(err.advice).toMatch(/free space/);
      expect(readdirSync(small)).toEqual([]);
    } finally {
      execFileSync("umount", [small]);
    }
  });
});
