/**
 * The code of docs/cheatsheet.md, run for real: every lab command's qemukit counterpart
 * (tiny guest and scratch images, so it stays fast). docs.test.ts checks that the cheat
 * sheet shows exactly these regions and that every SDK expression in its table appears here.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromCommandLine, guests, host, image, verify, vm } from "../../sdk/mod.ts";
import { freeDisplay } from "../../recipes/lib/ports.ts";
import { listeningSockets } from "../../recipes/lib/procnet.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qemukit-cheatsheet-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cheat sheet", () => {
  it("host: grep vmx /proc/cpuinfo, lsmod | grep kvm, ls -l /dev/kvm", async () => {
    // #region host
    const report = await host.check();
    report.facts.cpu.virtFlag;    // grep vmx /proc/cpuinfo  -> "vmx" | "svm" | undefined
    report.facts.modules;         // lsmod | grep kvm        -> [{ name: "kvm" }, ...]
    report.facts.devKvm;          // ls -l /dev/kvm          -> { exists, mode, group, openable }
    report.verdict.use;           // which accelerator works -> "kvm" | "tcg"
    // #endregion
    expect(["kvm", "tcg"]).toContain(report.verdict.use);
  });

  it("images: qemu-img create, info, du, overlay, convert, snapshots", async () => {
    const base = join(dir, "debian-11.qcow2");
    await image.create(base, "64M", { format: "qcow2" });
    process.chdir(dir);
    // #region images
    await image.create("virtualdisk.qcow2", "2G", { format: "qcow2" });     // qemu-img create -f qcow2 virtualdisk.qcow2 2G
    const info = await image.info("virtualdisk.qcow2");                    // qemu-img info virtualdisk.qcow2
    const { bytes } = await image.du("virtualdisk.qcow2");                  // du -sh virtualdisk.qcow2
    await image.overlay("debian-11.qcow2", "sda-vm1.qcow2");                // qemu-img create -f qcow2 -b debian-11.qcow2 -F qcow2 sda-vm1.qcow2
    await image.snapshot.create("sda-vm1.qcow2", "new");                    // qemu-img snapshot -c new sda-vm1.qcow2
    const snapshots = await image.snapshot.list("sda-vm1.qcow2");           // qemu-img snapshot -l sda-vm1.qcow2
    await image.convert("sda-vm1.qcow2", "debian-11.vdi", { format: "vdi" }); // qemu-img convert -O vdi sda-vm1.qcow2 debian-11.vdi
    // #endregion
    expect(Number(info.virtualSize)).toBe(2 * 1024 ** 3);
    expect(Number(bytes)).toBeGreaterThan(0);
    expect(snapshots.map((s) => s.name)).toEqual(["new"]);
    expect((await image.info("debian-11.vdi")).format).toBe("vdi");
  });

  it("verify: sha512sum -c and gpg --verify", async () => {
    const inst = await guests.installer();
    const { iso, sha512sums, signature, publicKey } = inst;
    // #region verify
    const sums = await verify.checksums(sha512sums, { ignoreMissing: true });                 // sha512sum -c --ignore-missing SHA512SUMS
    const sig = await verify.signature({ file: sha512sums, signature, keyring: publicKey });  // gpg --verify SHA512SUMS.sign
    // #endregion
    expect(sums.ok).toBe(true);
    expect(sums.results.map((r) => r.path)).toContain(iso);
    expect(sig.ok).toBe(true);
    expect(sig.fingerprint).toBe(inst.fingerprint);
  });

  it("VMs: kvm -m 512 -smp 2 ..., ps -efL, -vnc :1 --daemonize, listening ports, stop", async () => {
    const t = await guests.tiny({ progress: false });
    const display = await freeDisplay(1);
    // #region vms
    const lab = fromCommandLine("kvm -m 512 -smp 2 -vnc :1 --daemonize");   // the lab's line, as a builder
    const builder = vm().memory(512).smp(2).vnc(display)                    // kvm -m 512 -smp 2 -vnc :1
      .kernel(t.kernel, { initrd: t.initrd, append: t.append });           //   (debian: .hda(overlay("debian-11.qcow2")))
    await using m = await builder.start();
    const threads = await m.threads();                                      // ps -efL | grep kvm
    const ports = (await listeningSockets()).filter((s) => s.pids.includes(m.pid)); // ss -ltnp | grep qemu
    m.vnc?.port;                                                            // 5901 for -vnc :1
    await m.console.waitFor(t.prompt);                                      // watch the guest's console
    const { output } = await m.console.run("cat /proc/partitions");         // a command in the guest
    await m.screenshot(join(dir, "screen.png"));                            // what a VNC viewer would show
    await m.shutdown();                                                     // Ctrl-C in the lab's terminal, but gently
    // #endregion
    expect(lab.builder.spec.memoryMiB).toBe(512);
    expect(lab.builder.spec.daemonize).toBe(true);
    expect(threads.filter((x) => x.kind === "vcpu")).toHaveLength(2);
    expect(ports.map((p) => p.port)).toContain(5900 + display);
    expect(output).toMatch(/major\s+minor/);
  });
});
