// A host file system that fills up under a running VM (docs/data-safety.md): QEMU stops the
// VM on ENOSPC; the handle says "io-error" and a waiting console.run fails at once with
// VM_IO_ERROR instead of running into its timeout. The overlay lives on a 24 MiB tmpfs.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startVm, VmError, Wait } from "../../sdk/machine/mod.ts";
import { tinySpec } from "../helpers/machine-fixtures.ts";

const work = mkdtempSync("/tmp/qkio-");
const mnt = join(work, "mnt");
mkdirSync(mnt);
execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m,mode=0700", "qkio", mnt]);
const savedRoot = process.env.QEMUKIT_RUN_DIR;
process.env.QEMUKIT_RUN_DIR = join(mnt, "run");
afterAll(() => {
  if (savedRoot === undefined) delete process.env.QEMUKIT_RUN_DIR;
  else process.env.QEMUKIT_RUN_DIR = savedRoot;
  try {
    execFileSync("umount", ["-l", mnt]);
  } catch {
    /* not mounted */
  }
  rmSync(work, { recursive: true, force: true });
});

describe("host I/O errors", () => {
  // data-safety: io-error
  it("a disk filling the host file system: state io-error, console.run fails promptly with VM_IO_ERROR", async () => {
    const base = join(work, "base.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "96M"]);
    const { spec, prompt } = await tinySpec({
      disks: [
        { source: { kind: "overlay", base, baseFormat: "qcow2" }, interface: "virtio", media: "disk", readOnly: false },
      ],
    });
    const vm = await startVm(spec, { waitFor: Wait.forConsole(prompt), timeout: 120_000 });
    try {
      const t0 = Date.now();
      // 64 MiB of writes into an overlay on a 24 MiB file system; a second call queued behind it.
      const dd = vm.console.run("dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct", { timeout: 120_000 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      const queued = vm.console.run("echo after", { timeout: 120_000 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      const e = await dd;
      const took = Date.now() - t0;
      expect(e).toBeInstanceOf(VmError);
      expect((e as VmError).code).toBe("VM_IO_ERROR");
      expect((e as VmError).message).toMatch(/No space left on device/);
      expect((e as VmError).advice).toMatch(/free space/);
      expect(took).toBeLessThan(60_000);
      // The call queued behind it fails with the same error, not after its own timeout.
      expect(await queued).toBe(e);
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(vm.state).toBe("io-error");
      expect(vm.ioError?.code).toBe("VM_IO_ERROR");
      expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ status: "io-error" });
      // New waits fail at once, without typing anything into the stopped guest.
      const t1 = Date.now();
      await expect(vm.console.waitFor(/never/, { timeout: 30_000 })).rejects.toMatchObject({ code: "VM_IO_ERROR" });
      expect(Date.now() - t1).toBeLessThan(1000);
    } finally {
      await vm.kill();
    }
  }, 240_000);
});
