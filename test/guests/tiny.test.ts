/**
 * The tiny guest from an empty cache: an interrupted build, a full build, a cached
 * second call, then a boot to the shell with the disk tools at work.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { guestsRoot } from "../../sdk/guests/cache.ts";
import { tiny } from "../../sdk/guests/tiny.ts";
import type { BuildProgress, TinyGuest } from "../../sdk/guests/types.ts";
import { killAllSerialVms, qmpOnce, startSerialVm } from "../helpers/guests-qemu.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
let cache: string;
let guest: TinyGuest;

const sha256 = async (p: string) =>
  createHash("sha256")
    .update(await readFile(p))
    .digest("hex");

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), "qk-tiny-"));
});
afterEach(killAllSerialVms);
afterAll(async () => {
  await killAllSerialVms();
  await rm(cache, { recursive: true, force: true });
});

describe("tiny guest", () => {
  it("a build killed with SIGKILL leaves no build that looks done", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repo, "test/helpers/guests-child.ts"), "tiny"], {
      cwd: repo,
      env: { ...process.env, QEMUKIT_CACHE: cache },
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Kill it once it is past the download, in the middle of writing files.
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes('"step":2')) resolve();
      });
      child.on("exit", () => reject(new Error(`child exited before step 2: ${out}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const names = await readdir(guestsRoot(cache));
    expect(names.some((n) => /^tiny-[0-9a-f]{16}$/.test(n))).toBe(false);
    expect(names.some((n) => n.includes(".tmp-"))).toBe(true);
  }, 300_000);

  it("builds from the (inconsistent) cache, cleaning up after the killed build", async () => {
    const seen: BuildProgress[] = [];
    const t0 = Date.now();
    guest = await tiny({ cacheDir: cache, progress: (p) => seen.push(p) });
    const seconds = (Date.now() - t0) / 1000;
    console.log(`tiny: built in ${seconds.toFixed(1)} s`);
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 4]);
    expect(seen.at(-1)!.percent).toBe(100);
    expect(guest.append).toContain("console=ttyS0");
    // Only the finished build is left (plus apt's cached answers): the killed build's temp dir and lock are gone.
    const names = (await readdir(guestsRoot(cache))).filter((n) => n !== "apt-candidates.json");
    expect(names).toEqual([guest.dir.split("/").at(-1)]);
    for (const f of [guest.kernel, guest.initrd]) expect((await stat(f)).mode & 0o777).toBe(0o444);
  }, 300_000);

  it("a second call is answered from the cache", async () => {
    const t0 = Date.now();
    let progressed = false;
    const again = await tiny({ cacheDir: cache, progress: () => (progressed = true) });
    const ms = Date.now() - t0;
    console.log(`tiny: cached call took ${ms} ms`);
    expect(again).toEqual(guest);
    expect(progressed).toBe(false);
    expect(ms).toBeLessThan(5_000);
  });

  it("boots to its prompt; partitions, formats and mounts a disk; powers off on ACPI powerdown", async () => {
    const before = [await sha256(guest.kernel), await sha256(guest.initrd)];
    const work = await mkdtemp(join(tmpdir(), "qk-tinyvm-"));
    try {
      const disk = join(work, "disk.raw");
      const { execFileSync } = await import("node:child_process");
      execFileSync("truncate", ["-s", "64M", disk]);
      const qmp = join(work, "qmp.sock");
      const t0 = Date.now();
      const vm = startSerialVm([
        "-m",
        String(guest.memoryMiB),
        "-kernel",
        guest.kernel,
        "-initrd",
        guest.initrd,
        "-append",
        guest.append,
        "-drive",
        `file=${disk},format=raw,if=ide`,
        "-qmp",
        `unix:${qmp},server=on,wait=off`,
      ]);
      await vm.waitFor(guest.prompt, 60_000);
      console.log(`tiny: boot to prompt ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(vm.output()).toContain("qemukit tiny guest");
      const p = guest.prompt;
      expect(await vm.run("uname -r", p)).toContain(guest.kernelRelease);
      expect(
        await vm.run("echo 'start=2048, type=83' | sfdisk -q /dev/sda && cat /sys/block/sda/sda1/start", p),
      ).toMatch(/^2048$/m);
      expect(await vm.run("mkfs.ext4 -q -L qk /dev/sda1 && blkid -s TYPE -o value /dev/sda1", p)).toMatch(/^ext4$/m);
      expect(await vm.run("mount /dev/sda1 /mnt && echo hi > /mnt/f && cat /mnt/f && umount /mnt", p)).toMatch(/^hi$/m);
      expect(await vm.run("fdisk -l /dev/sda | grep -c sda1", p)).toMatch(/^1$/m);
      await qmpOnce(qmp, "system_powerdown");
      expect(await vm.exited).toBe(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    expect([await sha256(guest.kernel), await sha256(guest.initrd)]).toEqual(before);
  }, 180_000);

  it("poweroff -f from the console ends QEMU", async () => {
    const vm = startSerialVm(["-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", guest.append]);
    await vm.waitFor(guest.prompt, 60_000);
    vm.send("poweroff -f");
    expect(await vm.exited).toBe(0);
  }, 120_000);
});
