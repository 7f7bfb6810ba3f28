import { describe, expect, it } from "vitest";
import { compile } from "../../sdk/compile/mod.ts";
import { SpecError } from "../../sdk/errors/errors.ts";
import { overlay, vm } from "../../sdk/spec/mod.ts";
import { hasSequence, valuesOf } from "../helpers/spec-argv.ts";

const ctx = { runDir: "/run/qk/vm1", accel: ["tcg"] as const, cwd: "/home/student/work" };

describe("compile: golden argv", () => {
  it("the design example, exactly", () => {
    const c = vm().memory(512).smp(2).disk(overlay("debian-12.qcow2")).vnc(1).compile(ctx);
    expect(c.argv).toEqual([
      "qemu-system-x86_64",
      "-accel",
      "tcg",
      "-m",
      "512",
      "-smp",
      "2",
      "-nodefaults",
      "-display",
      "none",
      "-vnc",
      "127.0.0.1:1",
      "-device",
      "VGA",
      "-chardev",
      "socket,id=qmp,path=/run/qk/vm1/qmp.sock,server=on,wait=off",
      "-mon",
      "chardev=qmp,mode=control",
      "-chardev",
      "socket,id=console,path=/run/qk/vm1/console.sock,server=on,wait=off",
      "-device",
      "isa-serial,chardev=console",
      "-blockdev",
      "driver=qcow2,node-name=disk0,file.driver=file,file.filename=/run/qk/vm1/disk0.qcow2",
      "-device",
      "virtio-blk-pci,drive=disk0,id=disk0-dev",
      "-netdev",
      "user,id=net0",
      "-device",
      "e1000,netdev=net0",
    ]);
    expect(c.overlays).toEqual([
      {
        base: "/home/student/work/debian-12.qcow2",
        baseFormat: "qcow2",
        path: "/run/qk/vm1/disk0.qcow2",
        temporary: true,
      },
    ]);
    expect(c.qmpSocket).toBe("/run/qk/vm1/qmp.sock");
    expect(c.consoleSocket).toBe("/run/qk/vm1/console.sock");
    expect(c.pidfile).toBeUndefined();
    expect(Object.isFrozen(c.argv)).toBe(true);
  });

  it("name, machine, cpu, smp topology, memory units", () => {
    const a = vm()
      .name("web-1")
      .machine("q35")
      .cpu("qemu64,+ssse3")
      .memory("2G")
      .smp({ sockets: 2, cores: 2, threads: 1 })
      .toArgv(ctx);
    expect(a.slice(0, 13)).toEqual([
      "qemu-system-x86_64",
      "-name",
      "guest=web-1,debug-threads=on",
      "-machine",
      "q35",
      "-accel",
      "tcg",
      "-cpu",
      "qemu64,+ssse3",
      "-m",
      "2048",
      "-smp",
      "4,sockets=2,cores=2,threads=1",
    ]);
  });

  it("accel: auto without context falls back kvm then tcg; the context wins; lists keep order", () => {
    expect(valuesOf(vm().toArgv({ runDir: "/r" }), "-accel")).toEqual(["kvm", "tcg"]);
    expect(valuesOf(vm().toArgv({ runDir: "/r", accel: ["tcg"] }), "-accel")).toEqual(["tcg"]);
    expect(valuesOf(vm().accel("kvm").toArgv({ runDir: "/r" }), "-accel")).toEqual(["kvm"]);
    expect(valuesOf(vm().accel(["tcg", "kvm"]).toArgv({ runDir: "/r" }), "-accel")).toEqual(["tcg", "kvm"]);
  });

  it("legacy slots compile to -drive with an explicit format and IDE index", () => {
    const a = vm()
      .hda("debian-11.qcow2")
      .hdb("b.img")
      .hdd({ path: "d.bin", format: "raw", cache: "none", aio: "native" })
      .cdrom("debian-11.3.0-amd64-netinst.iso")
      .toArgv(ctx);
    expect(valuesOf(a, "-drive")).toEqual([
      "file=debian-11.qcow2,format=qcow2,if=ide,index=0,media=disk",
      "file=b.img,format=raw,if=ide,index=1,media=disk",
      "file=d.bin,format=raw,if=ide,index=3,media=disk,cache=none,aio=native",
      "file=debian-11.3.0-amd64-netinst.iso,format=raw,if=ide,index=2,media=cdrom",
    ]);
    expect(valuesOf(vm().hdc("c.vdi").toArgv(ctx), "-drive")).toEqual([
      "file=c.vdi,format=vdi,if=ide,index=2,media=disk",
    ]);
  });

  it("escapes commas in every key=value option and never touches other characters", () => {
    const a = vm().disk("/i/a,b c'ü.qcow2").hda("x,,y.raw").serial({ file: "/l/c,d.log" }).toArgv({ runDir: "/r,un" });
    expect(valuesOf(a, "-blockdev")[0]).toBe(
      "driver=qcow2,node-name=disk0,file.driver=file,file.filename=/i/a,,b c'ü.qcow2",
    );
    expect(valuesOf(a, "-drive")[0]).toBe("file=x,,,,y.raw,format=raw,if=ide,index=0,media=disk");
    expect(valuesOf(a, "-chardev")).toEqual([
      "socket,id=qmp,path=/r,,un/qmp.sock,server=on,wait=off",
      "file,id=console,path=/l/c,,d.log",
    ]);
  });

  it("protects relative names with a colon from protocol parsing", () => {
    expect(valuesOf(vm().hda("nbd:x.qcow2").toArgv(ctx), "-drive")[0]).toMatch(/^file=\.\/nbd:x\.qcow2,/);
    expect(valuesOf(vm().hda("/abs/nbd:x.qcow2").toArgv(ctx), "-drive")[0]).toMatch(/^file=\/abs\/nbd:x\.qcow2,/);
  });

  it("disk interfaces, cache modes, aio, read-only and boot index", () => {
    const a = vm()
      .disk({ path: "v.qcow2", bootIndex: 0, cache: "writethrough" })
      .disk({ path: "s.raw", interface: "scsi", readOnly: true, cache: "none", aio: "native" })
      .disk({ path: "i.qcow2", interface: "ide", cache: "unsafe", aio: "io_uring" })
      .disk({ path: "cd.iso", interface: "scsi", media: "cdrom" })
      .disk({ path: "cd2.iso", media: "cdrom", cache: "directsync" })
      .toArgv(ctx);
    expect(valuesOf(a, "-blockdev")).toEqual([
      "driver=qcow2,node-name=disk0,file.driver=file,file.filename=v.qcow2",
      "driver=raw,node-name=disk1,read-only=on,cache.direct=on,file.driver=file,file.filename=s.raw,file.aio=native",
      "driver=qcow2,node-name=disk2,cache.no-flush=on,file.driver=file,file.filename=i.qcow2,file.aio=io_uring",
      "driver=raw,node-name=disk3,read-only=on,file.driver=file,file.filename=cd.iso",
      "driver=raw,node-name=disk4,read-only=on,cache.direct=on,file.driver=file,file.filename=cd2.iso",
    ]);
    expect(valuesOf(a, "-device").filter((d) => /blk|scsi|ide/.test(d))).toEqual([
      "virtio-blk-pci,drive=disk0,id=disk0-dev,bootindex=0,write-cache=off",
      "virtio-scsi-pci,id=scsi0",
      "scsi-hd,bus=scsi0.0,drive=disk1,id=disk1-dev",
      "ide-hd,drive=disk2,id=disk2-dev",
      "scsi-cd,bus=scsi0.0,drive=disk3,id=disk3-dev",
      "ide-cd,drive=disk4,id=disk4-dev,write-cache=off",
    ]);
  });

  it("overlays: run-directory default, given path, base format from option, context or extension", () => {
    const c = vm()
      .disk(overlay("base.qcow2"))
      .hda(overlay("/abs/b.img", { path: "sda-vm1.qcow2" }))
      .disk(overlay("noext", { baseFormat: "raw" }))
      .disk(overlay("detected"))
      .compile({ ...ctx, baseFormats: { detected: "vmdk", "base.qcow2": "raw" } });
    expect(c.overlays).toEqual([
      { base: "/home/student/work/base.qcow2", baseFormat: "raw", path: "/run/qk/vm1/disk0.qcow2", temporary: true },
      { base: "/abs/b.img", baseFormat: "raw", path: "sda-vm1.qcow2", temporary: false },
      { base: "/home/student/work/noext", baseFormat: "raw", path: "/run/qk/vm1/disk2.qcow2", temporary: true },
      { base: "/home/student/work/detected", baseFormat: "vmdk", path: "/run/qk/vm1/disk3.qcow2", temporary: true },
    ]);
    expect(valuesOf(c.argv, "-drive")).toEqual(["file=sda-vm1.qcow2,format=qcow2,if=ide,index=0,media=disk"]);
    expect(() => vm().disk(overlay("noext")).compile(ctx)).toThrow(expect.objectContaining({ code: "SPEC_FORMAT" }));
  });

  it("boot order and direct kernel boot (kernel command line passed verbatim)", () => {
    const a = vm()
      .boot("dc")
      .kernel("/k/vmlinuz", { initrd: "/k/initrd.img", append: "console=ttyS0 a,b 'q'" })
      .toArgv(ctx);
    expect(hasSequence(a, ["-boot", "order=dc"])).toBe(true);
    expect(
      hasSequence(a, ["-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.img", "-append", "console=ttyS0 a,b 'q'"]),
    ).toBe(true);
    expect(hasSequence(vm().kernel({ kernel: "k" }).toArgv(ctx), ["-kernel", "k", "-netdev"])).toBe(true);
  });

  it("displays and VNC", () => {
    expect(valuesOf(vm().toArgv(ctx), "-display")).toEqual(["none"]);
    expect(valuesOf(vm().display("gtk").toArgv(ctx), "-display")).toEqual(["gtk"]);
    expect(valuesOf(vm().display("sdl").toArgv(ctx), "-display")).toEqual(["sdl"]);
    expect(valuesOf(vm().vnc(0).toArgv(ctx), "-vnc")).toEqual(["127.0.0.1:0"]);
    expect(valuesOf(vm().vnc(7, { listen: "0.0.0.0", websocket: true, password: true }).toArgv(ctx), "-vnc")).toEqual([
      "0.0.0.0:7,websocket=on,password=on",
    ]);
    expect(valuesOf(vm().vnc(2, { listen: "::1" }).toArgv(ctx), "-vnc")).toEqual(["[::1]:2"]);
    expect(valuesOf(vm().machine("microvm").toArgv(ctx), "-device")).not.toContain("VGA");
  });

  it("serial: socket, file, stdio, none", () => {
    expect(valuesOf(vm().serial("stdio").toArgv(ctx), "-chardev")).toContain("stdio,id=console");
    const none = vm().serial("none").compile(ctx);
    expect(none.consoleSocket).toBeUndefined();
    expect(valuesOf(none.argv, "-device")).not.toContain("isa-serial,chardev=console");
  });

  it("qmp(false) drops the monitor", () => {
    const c = vm().qmp(false).compile(ctx);
    expect(c.qmpSocket).toBeUndefined();
    expect(c.argv).not.toContain("-mon");
  });

  it("network: user with forwards and model, none, forward()", () => {
    const a = vm()
      .network({ user: { 2222: 22 }, model: "virtio-net-pci" })
      .forward(8080, 80, { hostAddress: "0.0.0.0" })
      .forward(5353, 53, { protocol: "udp" })
      .toArgv(ctx);
    expect(valuesOf(a, "-netdev")).toEqual([
      "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:0.0.0.0:8080-:80,hostfwd=udp:127.0.0.1:5353-:53",
    ]);
    expect(valuesOf(a, "-device")).toContain("virtio-net-pci,netdev=net0");
    const none = vm().network("none").toArgv(ctx);
    expect(none).not.toContain("-netdev");
    expect(valuesOf(vm().network("none").forward(2222, 22).toArgv(ctx), "-netdev")).toEqual([
      "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22",
    ]);
    expect(valuesOf(vm().network("user").toArgv(ctx), "-device")).toContain("e1000,netdev=net0");
  });

  it("daemonize adds -daemonize and a pidfile; -S with startPaused; raw args go last", () => {
    const c = vm()
      .daemonize()
      .args("-no-reboot", "-device", "virtio-rng-pci")
      .compile({ ...ctx, startPaused: true });
    expect(c.argv.slice(-7)).toEqual([
      "-S",
      "-daemonize",
      "-pidfile",
      "/run/qk/vm1/qemu.pid",
      "-no-reboot",
      "-device",
      "virtio-rng-pci",
    ]);
    expect(c.pidfile).toBe("/run/qk/vm1/qemu.pid");
    expect(vm().keep().toArgv(ctx)).toEqual(vm().toArgv(ctx));
    expect(vm().toArgv({ ...ctx, qemuBinary: "/opt/qemu/bin/qemu-system-x86_64" })[0]).toBe(
      "/opt/qemu/bin/qemu-system-x86_64",
    );
  });

  it("toArgv() without a context uses a deterministic preview run directory", () => {
    expect(vm().toArgv()).toContain("socket,id=qmp,path=/tmp/qemukit/vm/qmp.sock,server=on,wait=off");
    expect(vm().name("db").toArgv()).toContain("socket,id=qmp,path=/tmp/qemukit/db/qmp.sock,server=on,wait=off");
  });

  it("rejects socket paths over 107 bytes and a missing run directory", () => {
    const long = "/tmp/" + "x".repeat(100);
    expect(() => vm().toArgv({ runDir: long })).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
    expect(() => compile(vm().spec, { runDir: "" })).toThrow(SpecError);
  });

  it("validates hand-written specs too", () => {
    expect(() => compile({ ...vm().spec, memoryMiB: 0 }, ctx)).toThrow(
      expect.objectContaining({ code: "SPEC_MEMORY" }),
    );
    expect(() => compile({ ...vm().spec, kernel: { kernel: "a\0b" } }, ctx)).toThrow(
      expect.objectContaining({ code: "SPEC_PATH" }),
    );
  });
});
