import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { SpecError } from "../../sdk/errors/errors.ts";
import { DEFAULT_SPEC, overlay, vm, VmBuilder } from "../../sdk/spec/mod.ts";

describe("vm(): an immutable builder over a frozen spec", () => {
  it("starts from the documented defaults", () => {
    expect(vm().spec).toEqual({
      memoryMiB: 512,
      smp: { cpus: 1 },
      accel: "auto",
      disks: [],
      display: { kind: "none" },
      serial: { kind: "socket" },
      qmp: true,
      network: { kind: "user", forwards: [], model: "e1000" },
      daemonize: false,
      keep: false,
      extraArgs: [],
    });
    expect(vm().spec).toBe(DEFAULT_SPEC);
  });

  it("every method returns a new builder and leaves the old one alone", () => {
    const a = vm();
    const b = a.memory(1024);
    const c = b.disk("x.qcow2");
    expect(b).not.toBe(a);
    expect(a.spec.memoryMiB).toBe(512);
    expect(b.spec.disks).toEqual([]);
    expect(c.spec.disks).toHaveLength(1);
    expect(c.spec.memoryMiB).toBe(1024);
  });

  it("specs are deeply frozen", () => {
    const s = vm().disk(overlay("b.qcow2")).forward(2222, 22).args("-x").spec;
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.disks)).toBe(true);
    expect(Object.isFrozen(s.disks[0].source)).toBe(true);
    expect(Object.isFrozen(s.network)).toBe(true);
    expect(() => (s.extraArgs as string[]).push("-y")).toThrow(TypeError);
  });

  it("a spec can be wrapped again", () => {
    const s = vm().name("a").smp(2).spec;
    expect(new VmBuilder(s).toArgv()).toEqual(vm().name("a").smp(2).toArgv());
  });
});

describe("builder methods", () => {
  it("name", () => {
    expect(vm().name("web_1.test").spec.name).toBe("web_1.test");
    for (const bad of ["", "a b", "../x", "-x", "x".repeat(65), "ü"])
      expect(() => vm().name(bad)).toThrow(expect.objectContaining({ code: "SPEC_NAME" }));
  });

  it("memory", () => {
    expect(vm().memory(256).spec.memoryMiB).toBe(256);
    expect(vm().memory("2G").spec.memoryMiB).toBe(2048);
    expect(() => vm().memory(0)).toThrow(expect.objectContaining({ code: "SPEC_MEMORY" }));
    expect(() => vm().memory(-1)).toThrow(expect.objectContaining({ code: "SPEC_MEMORY" }));
    expect(() => vm().memory("1E")).toThrow(expect.objectContaining({ code: "SPEC_MEMORY" }));
    expect(() => vm().memory("5 bananas")).toThrow(expect.objectContaining({ code: "SPEC_SIZE" }));
  });

  it("smp", () => {
    expect(vm().smp(2).spec.smp).toEqual({ cpus: 2 });
    expect(vm().smp({ sockets: 2, cores: 2 }).spec.smp).toEqual({ cpus: 4, sockets: 2, cores: 2 });
    expect(vm().smp({ cpus: 4, threads: 2, cores: 2 }).spec.smp).toEqual({ cpus: 4, cores: 2, threads: 2 });
    for (const bad of [0, -1, 1.5, 5000])
      expect(() => vm().smp(bad)).toThrow(expect.objectContaining({ code: "SPEC_SMP" }));
    expect(() => vm().smp({ cpus: 4, sockets: 1, cores: 2, threads: 1 })).toThrow(
      /does not multiply out: 1 sockets x 2 cores x 1 threads = 2, but cpus = 4/,
    );
    expect(() => vm().smp({ cores: 0 })).toThrow(expect.objectContaining({ code: "SPEC_SMP" }));
  });

  it("accel", () => {
    expect(vm().accel("tcg").spec.accel).toBe("tcg");
    expect(vm().accel(["kvm", "tcg"]).spec.accel).toEqual(["kvm", "tcg"]);
    expect(() => vm().accel("hvf" as "kvm")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
    expect(() => vm().accel([])).toThrow(SpecError);
    expect(() => vm().accel(["auto" as "kvm"])).toThrow(SpecError);
  });

  it("machine and cpu", () => {
    expect(vm().machine("pc-q35-7.2").spec.machine).toBe("pc-q35-7.2");
    expect(() => vm().machine("q35,accel=kvm")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
    expect(vm().cpu("host").spec.cpu).toBe("host");
    expect(() => vm().cpu("max -S")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("disk: path, source, options; format always explicit", () => {
    expect(vm().disk("d.qcow2").spec.disks[0]).toEqual({
      source: { kind: "file", path: "d.qcow2", format: "qcow2" },
      interface: "virtio",
      media: "disk",
      readOnly: false,
    });
    expect(
      vm().disk({
        path: "d.bin",
        format: "raw",
        interface: "scsi",
        readOnly: true,
        cache: "none",
        aio: "native",
        bootIndex: 2,
      }).spec.disks[0],
    ).toEqual({
      source: { kind: "file", path: "d.bin", format: "raw" },
      interface: "scsi",
      media: "disk",
      readOnly: true,
      cache: "none",
      aio: "native",
      bootIndex: 2,
    });
    expect(vm().disk({ kind: "file", path: "x", format: "vmdk" }).spec.disks[0].source).toEqual({
      kind: "file",
      path: "x",
      format: "vmdk",
    });
    expect(vm().disk({ source: overlay("b.img") }).spec.disks[0].source).toEqual({ kind: "overlay", base: "b.img" });
    expect(vm().disk({ path: "cd.iso", media: "cdrom" }).spec.disks[0]).toMatchObject({
      interface: "ide",
      readOnly: true,
    });
    expect(() => vm().disk("disk.bin")).toThrow(expect.objectContaining({ code: "SPEC_FORMAT" }));
    expect(() => vm().disk("disk.bin")).toThrow(/disk\({ path: "disk.bin", format: "raw" }\)/);
    expect(() => vm().disk({ path: "a.raw", format: "qcow3" as "raw" })).toThrow(
      expect.objectContaining({ code: "SPEC_FORMAT" }),
    );
    expect(() => vm().disk({ path: "a.raw", source: overlay("b.raw") })).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(() => vm().disk({})).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
    expect(() => vm().disk({ path: "a.raw", cache: "fast" as "none" })).toThrow(
      expect.objectContaining({ code: "SPEC_VALUE" }),
    );
    expect(() => vm().disk({ path: "a.raw", aio: "native" })).toThrow(/aio "native" needs O_DIRECT/);
    expect(() => vm().disk({ path: "a.iso", media: "cdrom", interface: "virtio" })).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(() => vm().disk({ path: "a.raw", interface: "ide", readOnly: true })).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(() => vm().disk({ path: "a.raw", bootIndex: -1 })).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("extensions map to formats", () => {
    const fmt = (p: string) => (vm().disk(p).spec.disks[0].source as { format: string }).format;
    expect(
      ["a.qcow2", "a.QCOW", "a.raw", "a.img", "a.iso", "a.vdi", "a.vmdk", "a.vhdx", "a.vhd", "a.qed"].map(fmt),
    ).toEqual(["qcow2", "qcow2", "raw", "raw", "raw", "vdi", "vmdk", "vhdx", "vpc", "qed"]);
    expect(() => fmt("dir.qcow2/disk")).toThrow(expect.objectContaining({ code: "SPEC_FORMAT" }));
    expect(() => fmt(".qcow2")).toThrow(expect.objectContaining({ code: "SPEC_FORMAT" }));
  });

  it("hda/hdb/hdc/hdd and cdrom take legacy slots once", () => {
    const s = vm().hda("a.qcow2").hdb({ path: "b", format: "raw" }).hdd(overlay("d.qcow2")).cdrom("i.iso").spec;
    expect(s.disks.map((d) => [d.legacySlot, d.interface, d.media, d.readOnly])).toEqual([
      ["hda", "ide", "disk", false],
      ["hdb", "ide", "disk", false],
      ["hdd", "ide", "disk", false],
      ["hdc", "ide", "cdrom", true],
    ]);
    expect(() => vm().hda("a.qcow2").hda("b.qcow2")).toThrow(expect.objectContaining({ code: "SPEC_DISK_SLOT" }));
    expect(() => vm().hdc("a.qcow2").cdrom("b.iso")).toThrow(/cdrom \(which uses the hdc slot, IDE index 2\)/);
    expect(() => vm().cdrom("b.iso").hdc("a.qcow2")).toThrow(expect.objectContaining({ code: "SPEC_DISK_SLOT" }));
    expect(() => vm().cdrom("a.iso").cdrom("b.iso")).toThrow(expect.objectContaining({ code: "SPEC_DISK_SLOT" }));
    expect(vm().cdrom("image", { format: "raw" }).spec.disks[0].source).toEqual({
      kind: "file",
      path: "image",
      format: "raw",
    });
  });

  it("overlay", () => {
    expect(overlay("b.qcow2")).toEqual({ kind: "overlay", base: "b.qcow2" });
    expect(overlay("b", { path: "o.qcow2", baseFormat: "raw" })).toEqual({
      kind: "overlay",
      base: "b",
      path: "o.qcow2",
      baseFormat: "raw",
    });
    expect(() => overlay("")).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
    expect(() => overlay("b", { path: "a\0" })).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
    expect(() =>
      vm()
        .cdrom("x.iso")
        .disk({ source: overlay("b.qcow2"), media: "cdrom" }),
    ).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
  });

  it("NUL bytes are rejected in every path", () => {
    const nul = "a\0b.qcow2";
    for (const f of [
      () => vm().disk(nul),
      () => vm().hda(nul),
      () => vm().cdrom("a\0.iso"),
      () => vm().disk(overlay(nul)),
      () => vm().kernel(nul),
      () => vm().kernel("k", { initrd: nul }),
      () => vm().serial({ file: nul }),
    ])
      expect(f).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
    expect(() => vm().args("a\0")).toThrow(SpecError);
    expect(() => vm().kernel("k", { append: "a\0" })).toThrow(SpecError);
  });

  it("boot", () => {
    expect(vm().boot("dc").spec.bootOrder).toBe("dc");
    expect(() => vm().boot("order=c")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("kernel", () => {
    expect(vm().kernel("k", { initrd: "i", append: "console=ttyS0" }).spec.kernel).toEqual({
      kernel: "k",
      initrd: "i",
      append: "console=ttyS0",
    });
    expect(vm().kernel({ kernel: "k", append: "x" }).spec.kernel).toEqual({ kernel: "k", append: "x" });
    expect(vm().kernel("k").spec.kernel).toEqual({ kernel: "k" });
  });

  it("display", () => {
    expect(vm().display("gtk").spec.display).toEqual({ kind: "gtk" });
    expect(vm().display("curses").spec.display).toEqual({ kind: "curses" });
    expect(() => vm().display("cocoa" as "gtk")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("vnc", () => {
    expect(vm().vnc(1).spec.vnc).toEqual({ display: 1, listen: "127.0.0.1", websocket: false, password: false });
    expect(vm().vnc(0, { listen: "0.0.0.0", websocket: true, password: true }).spec.vnc).toEqual({
      display: 0,
      listen: "0.0.0.0",
      websocket: true,
      password: true,
    });
    expect(vm().vnc(65535 - 5900).spec.vnc?.display).toBe(59635);
    for (const bad of [-1, 59636, 1.5])
      expect(() => vm().vnc(bad)).toThrow(expect.objectContaining({ code: "SPEC_VNC_DISPLAY" }));
    expect(() => vm().vnc(59635, { websocket: true })).not.toThrow();
    expect(() => vm().vnc(1, { listen: "a b" })).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("serial", () => {
    expect(vm().serial("stdio").spec.serial).toEqual({ kind: "stdio" });
    expect(vm().serial("none").spec.serial).toEqual({ kind: "none" });
    expect(vm().serial({ file: "c.log" }).spec.serial).toEqual({ kind: "file", path: "c.log" });
    expect(vm().serial("stdio").serial("socket").spec.serial).toEqual({ kind: "socket" });
    expect(() => vm().serial("tty" as "stdio")).toThrow(expect.objectContaining({ code: "SPEC_VALUE" }));
  });

  it("qmp", () => {
    expect(vm().qmp(false).spec.qmp).toBe(false);
    expect(vm().qmp(false).qmp().spec.qmp).toBe(true);
  });

  it("network and forward", () => {
    expect(vm().network("none").spec.network).toEqual({ kind: "none" });
    expect(vm().network({ user: { 2222: 22, 8080: 80 } }).spec.network).toEqual({
      kind: "user",
      model: "e1000",
      forwards: [
        { protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 2222, guestPort: 22 },
        { protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80 },
      ],
    });
    expect(vm().network("none").forward(53, 53, { protocol: "udp", hostAddress: "0.0.0.0" }).spec.network).toEqual({
      kind: "user",
      model: "e1000",
      forwards: [{ protocol: "udp", hostAddress: "0.0.0.0", hostPort: 53, guestPort: 53 }],
    });
    for (const bad of [0, 65536, 1.5])
      expect(() => vm().forward(bad, 22)).toThrow(expect.objectContaining({ code: "SPEC_PORT" }));
    expect(() => vm().forward(2222, 0)).toThrow(expect.objectContaining({ code: "SPEC_PORT" }));
    expect(() => vm().forward(2222, 22).forward(2222, 23)).toThrow(/forwarded twice/);
    expect(() => vm().forward(2222, 22, { hostAddress: "localhost" })).toThrow(
      expect.objectContaining({ code: "SPEC_VALUE" }),
    );
    expect(() => vm().network({ model: "rtl8139" as "e1000" })).toThrow(
      expect.objectContaining({ code: "SPEC_VALUE" }),
    );
  });

  it("daemonize, keep, args", () => {
    expect(vm().daemonize().spec.daemonize).toBe(true);
    expect(vm().daemonize().daemonize(false).spec.daemonize).toBe(false);
    expect(vm().keep().spec.keep).toBe(true);
    expect(vm().args("-a").args("b c", "-d").spec.extraArgs).toEqual(["-a", "b c", "-d"]);
  });
});

describe("combinations are checked when compiled", () => {
  it("two consoles on one socket or terminal", () => {
    expect(() => vm().serial("stdio").args("-monitor", "stdio").toArgv()).toThrow(/two consoles on one socket/);
    expect(() => vm().serial("stdio").args("-nographic").toArgv()).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(() => vm().display("curses").serial("stdio").toArgv()).toThrow(/two consoles on one terminal/);
    expect(() => vm().args("-chardev", "socket,id=qmp,path=/x").toArgv()).toThrow(/reuses the id "qmp"/);
    expect(() => vm().args("-chardev", "pty,id=console").toArgv()).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(vm().serial("none").args("-chardev", "pty,id=console").toArgv()).toContain("pty,id=console");
    expect(() => vm().serial({ file: "/tmp/qemukit/vm/qmp.sock" }).toArgv()).toThrow(
      /serial log file is the QMP socket/,
    );
  });

  it("daemonize needs no terminal", () => {
    expect(() => vm().daemonize().serial("stdio").toArgv()).toThrow(/daemonized QEMU has no stdio/);
    expect(() => vm().daemonize().display("gtk").toArgv()).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
    expect(() => vm().args("-daemonize").toArgv()).toThrow(/use daemonize\(\)/);
  });

  it("raw -append or -initrd without a kernel", () => {
    expect(() => vm().args("-append", "console=ttyS0").toArgv()).toThrow(/-append needs a kernel/);
    expect(() => vm().args("-initrd", "i.img").toArgv()).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
    expect(() => vm().kernel("k").args("-append", "x").toArgv()).not.toThrow();
  });

  it("legacy slot rules", () => {
    const base = vm().spec;
    const disk = {
      source: { kind: "file" as const, path: "a.qcow2", format: "qcow2" as const },
      interface: "ide" as const,
      media: "disk" as const,
      readOnly: false,
    };
    expect(() =>
      new VmBuilder({
        ...base,
        disks: [
          { ...disk, legacySlot: "hda" },
          { ...disk, legacySlot: "hda" },
        ],
      }).toArgv(),
    ).toThrow(expect.objectContaining({ code: "SPEC_DISK_SLOT" }));
    expect(() => new VmBuilder({ ...base, disks: [{ ...disk, legacySlot: "hda", bootIndex: 0 }] }).toArgv()).toThrow(
      /bootIndex cannot be set on the legacy hda slot/,
    );
    expect(() =>
      new VmBuilder({ ...base, disks: [{ ...disk, legacySlot: "hda", interface: "virtio" }] }).toArgv(),
    ).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
  });

  it("errors carry advice", () => {
    try {
      vm().vnc(70000);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SpecError);
      expect((e as SpecError).advice).toMatch(/5900\+N/);
    }
  });
});

describe("inspect", () => {
  it("shows the command line", () => {
    expect(inspect(vm().name("x").memory(256))).toBe(`VmBuilder { ${vm().name("x").memory(256).toCommandLine()} }`);
    expect(inspect(vm().disk(overlay("noext")))).toMatch(/^VmBuilder \{ \(does not compile: cannot tell the format/);
  });
});
