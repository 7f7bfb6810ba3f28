/**
 * The debian guest (slow: builds once into the shared cache, ~minutes): boots from
 * the disk alone (`-hda overlay.qcow2`, no -kernel) to a root shell, and with its own
 * kernel and initramfs given to QEMU (the PVH vmlinux); its base image's bytes are the same
 * after the runs.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { debian } from "../../sdk/guests/debian.ts";
import { hasPvhEntry } from "../../sdk/guests/pvh.ts";
import type { DebianGuest } from "../../sdk/guests/types.ts";
import { killAllSerialVms, startSerialVm } from "../helpers/guests-qemu.ts";

let guest: DebianGuest;
let work: string;

async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}

beforeAll(async () => {
  const t0 = Date.now();
  guest = await debian();
  console.log(`debian: guests.debian() took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  work = await mkdtemp(join(tmpdir(), "qk-debvm-"));
}, 1_800_000);
afterAll(async () => {
  await killAllSerialVms();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("debian guest", () => {
  it("is a read-only qcow2 base", async () => {
    expect(guest.format).toBe("qcow2");
    expect((await stat(guest.image)).mode & 0o777).toBe(0o444);
    const info = JSON.parse(execFileSync("qemu-img", ["info", "-U", "--output=json", guest.image]).toString());
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBeGreaterThanOrEqual(2 * 1024 ** 3);
  });

  it("boots from the disk alone to a root shell with the disk tools; the base is unchanged", async () => {
    const before = await sha256(guest.image);
    const ov = join(work, "overlay.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", guest.image, ov]);
    const t0 = Date.now();
    // The lab's command line, under TCG: no -kernel, GRUB in the MBR does the rest.
    const vm = startSerialVm(["-hda", ov, "-m", String(guest.memoryMiB), "-smp", "2"]);
    await vm.waitFor(guest.prompt, 240_000);
    const bootSeconds = (Date.now() - t0) / 1000;
    console.log(`debian: boot to root prompt ${bootSeconds.toFixed(1)} s`);
    const p = guest.prompt;
    expect(await vm.run("sfdisk --version", p)).toMatch(/sfdisk from util-linux/);
    expect(await vm.run("mkfs.ext4 -V 2>&1", p)).toMatch(/mke2fs 1\.47/);
    expect(await vm.run("ps -e -o comm | grep -c systemd", p)).toMatch(/^[1-9]\d*$/m);
    expect(await vm.run("findmnt -n -o SOURCE,FSTYPE /", p)).toMatch(/\/dev\/sda1\s+ext4/);
    expect(await vm.run("id -un; hostname", p)).toMatch(/^root\ndebian$/m);
    expect(await vm.run("systemctl is-system-running --wait 2>&1 | tail -1", p, 120_000)).toMatch(/running|degraded/);
    console.log("debian: " + (await vm.run("systemd-analyze 2>&1 | head -1", p)).trim());
    vm.send("poweroff");
    expect(await vm.exited).toBe(0);
    expect(await sha256(guest.image)).toBe(before);
  }, 600_000);

  it("boots with its own kernel given directly: a PVH vmlinux, the same command line, root on the disk", async () => {
    expect(hasPvhEntry(await readFile(guest.kernel))).toBe(true);
    expect(guest.append).toMatch(/^root=LABEL=\S+ rw console=tty0 console=ttyS0/);
    const before = await sha256(guest.image);
    const ov = join(work, "direct.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", guest.image, ov]);
    const t0 = Date.now();
    const vm = startSerialVm([
      ...["-drive", `file=${ov},if=virtio`, "-m", String(guest.memoryMiB), "-smp", "2"],
      ...["-kernel", guest.kernel, "-initrd", guest.initrd, "-append", guest.append],
    ]);
    await vm.waitFor(guest.prompt, 240_000);
    console.log(`debian: direct kernel boot to root prompt ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const p = guest.prompt;
    expect((await vm.run("cat /proc/cmdline", p)).trim()).toBe(guest.append);
    expect(await vm.run("uname -r", p)).toContain(guest.kernelRelease);
    expect(await vm.run("findmnt -n -o SOURCE,FSTYPE /", p)).toMatch(/\/dev\/vda1\s+ext4/);
    // No generator ran (each is masked), and the default target is multi-user.
    expect(await vm.run("ls /run/systemd/generator 2>/dev/null | wc -l; systemctl get-default", p)).toMatch(
      /^0\nmulti-user\.target$/m,
    );
    // udev's coldplug has run (the shell came before it): none of the blacklisted modules loaded.
    expect(
      await vm.run("udevadm settle; lsmod | grep -c -E '^(kvm|kvm_amd|floppy|pcspkr|psmouse) ' || true", p, 120_000),
    ).toMatch(/^0$/m);
    vm.send("poweroff");
    expect(await vm.exited).toBe(0);
    expect(await sha256(guest.image)).toBe(before);
  }, 600_000);
});
