/**
 * What a template's saved state depends on (pure: no QEMU): the machine shape leaves out
 * per-instance fields, differences are named by path, and relative paths become absolute.
 */
import { describe, expect, it } from "vitest";
import { vm } from "../../sdk/spec/builder.ts";
import { overlay } from "../../sdk/spec/overlay.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { absoluteSpec, machineDiff, machineOf } from "../../sdk/template/key.ts";
import { template, TemplateError } from "../../sdk/template/mod.ts";

const base = vm().accel("tcg").memory(256).disk(overlay("/img/base.qcow2")).network("user");

describe("template() refuses before booting", () => {
  it("a console clock fix without qemukit's console", async () => {
    const err = await template(base.serial("none"), { ready: Wait.forEvent("RESUME") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe("TEMPLATE_CLOCK");
  });

  it("a writable disk used as is", async () => {
    const err = await template(vm().disk("/img/data.raw"), { ready: Wait.forEvent("RESUME"), clock: "none" }).catch(
      (e: unknown) => e,
    );
    expect((err as TemplateError).code).toBe("TEMPLATE_DISK");
    expect((err as TemplateError).advice).toMatch(/overlay\("\/img\/data.raw"\)/);
  });
});

describe("machineOf / machineDiff", () => {
  it("ignores the name, VNC, forwarded host ports, keep and daemonize", () => {
    const other = base.name("c1").vnc("auto").forward(2222, 22).keep().daemonize();
    const plain = base.forward("auto", 22);
    expect(machineDiff(machineOf(plain.spec), machineOf(other.spec))).toEqual([]);
    expect(machineOf(other.spec)).not.toHaveProperty("name");
  });

  it("names each difference that matters by its path, with both values", () => {
    const other = vm()
      .accel("tcg")
      .memory(512)
      .disk({ source: overlay("/img/base.qcow2"), interface: "ide" })
      .network({ model: "virtio-net-pci" });
    expect(machineDiff(machineOf(base.spec), machineOf(other.spec))).toEqual([
      { field: "memoryMiB", template: 256, clone: 512 },
      { field: "disks[0].interface", template: "virtio", clone: "ide" },
      { field: "network.model", template: "e1000", clone: "virtio-net-pci" },
    ]);
  });

  it("reports a different number of disks, another base, and raw arguments", () => {
    const two = base.disk(overlay("/img/data.qcow2"));
    expect(machineDiff(machineOf(base.spec), machineOf(two.spec))).toEqual([
      { field: "disks.length", template: 1, clone: 2 },
    ]);
    const rebased = vm().accel("tcg").memory(256).disk(overlay("/img/other.qcow2")).network("user");
    expect(machineDiff(machineOf(base.spec), machineOf(rebased.spec))[0]?.field).toBe("disks[0].source.base");
    expect(machineDiff(machineOf(base.spec), machineOf(base.args("-device", "vmgenid").spec))[0]?.field).toBe(
      "extraArgs.length",
    );
  });

  it("makes every path the guest reads absolute, keeping explicit overlay paths", () => {
    const s = absoluteSpec(
      vm()
        .kernel("vmlinuz", { initrd: "initrd.gz" })
        .disk(overlay("base.qcow2", { path: "mine.qcow2" }))
        .disk("data.raw").spec,
      "/work",
    );
    expect(s.kernel).toMatchObject({ kernel: "/work/vmlinuz", initrd: "/work/initrd.gz" });
    expect(s.disks.map((d) => d.source)).toEqual([
      { kind: "overlay", base: "/work/base.qcow2", path: "mine.qcow2" },
      { kind: "file", path: "/work/data.raw", format: "raw" },
    ]);
  });
});
