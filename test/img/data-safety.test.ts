// Attacks on the image layer (docs/data-safety.md): overwriting an image a VM holds, a
// qemu-img outliving its script, temp files left by a killed script, protocol-like backing
// names, and the mode of new images. Real qemu-img and QEMU throughout.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { image } from "../../sdk/img/mod.ts";
import { sweepStaleTemps } from "../../sdk/img/paths.ts";
import { isAlive } from "../../sdk/util/proc.ts";
import { holdImageLock } from "../helpers/img-lock.ts";

const dir = mkdtempSync("/tmp/qki-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const repo = new URL("../../", import.meta.url).pathname;

const sha = (p: string) => execFileSync("sha256sum", [p], { encoding: "utf8" }).split(" ")[0];

/** Live qemu-img processes whose command line mentions `text`. */
function qemuImgsWith(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8");
      if (cmd.includes("qemu-img") && cmd.includes(text) && isAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A separate Node process converting `src` to `dest` through qemukit, its qemu-img being `qemuImg`. */
function convertInChild(src: string, dest: string, qemuImg: string) {
  const script = `import("./sdk/img/mod.ts").then(({ image }) => image.convert(${JSON.stringify(src)}, ${JSON.stringify(dest)}, { sourceFormat: "qcow2" }).done)`;
  return spawn(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: repo,
    env: { ...process.env, QEMUKIT_QEMU_IMG: qemuImg },
    stdio: "ignore",
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe("overwrite never replaces an image a VM holds", () => {
  // data-safety: overwrite-locked
  it("create, convert and overlay with overwrite: true fail with IMAGE_LOCKED; the image is untouched", async () => {
    const disk = join(dir, "in-use.qcow2");
    const src = join(dir, "src.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "32M"]);
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", src, "32M"]);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x11 0 1M", disk], { stdio: "ignore" });
    const before = { sum: sha(disk), ino: statSync(disk).ino };
    const holder = await holdImageLock(disk);
    try {
      for (const op of [
        () => image.create(disk, "16M", { overwrite: true }),
        () => image.convert(src, disk, { sourceFormat: "qcow2", overwrite: true }).done,
        () => image.overlay(src, disk, { baseFormat: "qcow2", overwrite: true }),
      ]) {
        await expect(op()).rejects.toMatchObject({ code: "IMAGE_LOCKED", path: disk });
      }
      await expect(image.create(disk, "16M", { overwrite: true })).rejects.toThrow(/replacing it would lose/);
    } finally {
      await holder.release();
    }
    expect({ sum: sha(disk), ino: statSync(disk).ino }).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.includes(".qemukit-"))).toEqual([]);
    // Once the VM is gone, overwrite works as before.
    await image.create(disk, "16M", { overwrite: true });
    expect(statSync(disk).ino).not.toBe(before.ino);
  }, 60_000);
});

describe("no qemu-img outlives its script; no temp file is lost", () => {
  // data-safety: qemu-img-pdeathsig
  it("SIGKILL of the script kills its qemu-img (parent-death signal); the next write sweeps the temp file", async () => {
    const src = join(dir, "big.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", src, "64M"]);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x22 0 48M", src], { stdio: "ignore" });
    const out = join(dir, "sub");
    execFileSync("mkdir", [out]);
    // A rate-limited qemu-img (the same program, -r 4M) so the kill lands mid-conversion.
    const slow = join(dir, "slow-qemu-img");
    writeFileSync(
      slow,
      '#!/bin/sh\nif [ "$1" = convert ]; then shift; exec qemu-img convert -r 4M "$@"; fi\nexec qemu-img "$@"\n',
      { mode: 0o755 },
    );
    const child = convertInChild(src, join(out, "copy.qcow2"), slow);
    const exited = new Promise((r) => child.once("exit", r));
    expect(
      await until(() => qemuImgsWith(out).length > 0 && readdirSync(out).some((f) => f.includes(".qemukit-")), 30_000),
    ).toBe(true);
    const [pid] = qemuImgsWith(out);
    child.kill("SIGKILL");
    await exited;
    expect(await until(() => !isAlive(pid!), 5000)).toBe(true);
    const temps = readdirSync(out).filter((f) => f.includes(".qemukit-"));
    expect(temps).toHaveLength(1);
    expect(temps[0]).toMatch(new RegExp(`^\\.copy\\.qcow2\\.qemukit-${child.pid}-[0-9a-f]{14}\\.tmp$`));
    // The next write into that directory (this process's first) sweeps it by name.
    await image.create(join(out, "next.qcow2"), "1M");
    expect(readdirSync(out).sort()).toEqual(["next.qcow2"]);
  }, 60_000);

  // data-safety: temp-sigterm
  it("SIGTERM mid-convert: the temp file is removed at once, and the script still dies of SIGTERM", async () => {
    const src = join(dir, "big.qcow2");
    const out = join(dir, "term");
    execFileSync("mkdir", [out]);
    const slow = join(dir, "slow-qemu-img");
    const child = convertInChild(src, join(out, "copy.qcow2"), slow);
    const exited = new Promise<string | null>((r) => child.once("exit", (_c, s) => r(s)));
    expect(await until(() => readdirSync(out).some((f) => f.includes(".qemukit-")), 30_000)).toBe(true);
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
    expect(await until(() => qemuImgsWith(out).length === 0, 5000)).toBe(true);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it("the sweep leaves live processes' temp files, other hosts' and non-matching names alone", async () => {
    const d = join(dir, "sweep");
    execFileSync("mkdir", [d]);
    // Live pid (this process), dead pid with another host tag, and a user's file with a similar name.
    const live = `.a.qcow2.qemukit-${process.pid}-abcdef01234567.tmp`;
    const foreign = `.b.qcow2.qemukit-${2 ** 22 + 3}-00000001234567.tmp`;
    const user = "notes.qemukit-123-x.txt";
    for (const f of [live, foreign, user]) writeFileSync(join(d, f), "x");
    expect(sweepStaleTemps(d, { force: true })).toEqual([]);
    expect(readdirSync(d).sort()).toEqual([live, foreign, user].sort());
  });
});

describe("backing names and modes", () => {
  // data-safety: protocol-like-backing
  it("a relative backing file named like a protocol (nbd:host:1.qcow2) is stored as ./nbd:... and opened as a file", async () => {
    const d = join(dir, "proto");
    execFileSync("mkdir", [d]);
    const base = join(d, "nbd:host:1.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "8M"]);
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x33 0 64k", base], { stdio: "ignore" });
    const r = await image.overlay(base, join(d, "top.qcow2"), { baseFormat: "qcow2", backingPath: "relative" });
    expect(r.backingFile).toBe("./nbd:host:1.qcow2");
    const chain = JSON.parse(
      execFileSync("qemu-img", ["info", "--backing-chain", "--output=json", join(d, "top.qcow2")], {
        encoding: "utf8",
      }),
    );
    expect(chain[1].filename).toBe(`${d}/./nbd:host:1.qcow2`); // a file beside the overlay, not an NBD server
    // The data of the base is what the overlay shows.
    execFileSync("qemu-io", ["-f", "qcow2", "-c", "read -P 0x33 0 64k", join(d, "top.qcow2")], { stdio: "ignore" });
    const plain = await image.overlay(base, join(d, "plain.qcow2"), {
      baseFormat: "qcow2",
      backingPath: "relative",
      size: "8M",
    });
    expect(plain.backingFile).toBe("./nbd:host:1.qcow2");
    const normal = await image.overlay(join(d, "top.qcow2"), join(d, "top2.qcow2"), {
      baseFormat: "qcow2",
      backingPath: "relative",
    });
    expect(normal.backingFile).toBe("top.qcow2");
  });

  // data-safety: new-image-mode
  it("new images are created 0600, whatever the umask (create, convert, overlay)", async () => {
    const d = join(dir, "modes");
    execFileSync("mkdir", [d]);
    const old = process.umask(0o022);
    try {
      await image.create(join(d, "a.qcow2"), "4M");
      await image.convert(join(d, "a.qcow2"), join(d, "b.raw"), { format: "raw", sourceFormat: "qcow2" });
      await image.overlay(join(d, "a.qcow2"), join(d, "c.qcow2"), { baseFormat: "qcow2" });
      writeFileSync(join(d, "d.qcow2"), "old", { mode: 0o644 });
      await image.create(join(d, "d.qcow2"), "4M", { overwrite: true });
    } finally {
      process.umask(old);
    }
    for (const f of ["a.qcow2", "b.raw", "c.qcow2", "d.qcow2"])
      expect((statSync(join(d, f)).mode & 0o777).toString(8), f).toBe("600");
    expect(existsSync(join(d, "d.qcow2"))).toBe(true);
  });
});
