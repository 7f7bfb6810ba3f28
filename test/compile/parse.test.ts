import { describe, expect, it } from "vitest";
import { fromCommandLine, splitShellWords } from "../../sdk/compile/mod.ts";
import { normalizeArgv } from "../helpers/spec-normalize.ts";
import { valuesOf } from "../helpers/spec-argv.ts";
import { FIXTURES } from "../helpers/spec-fixtures.ts";

/** Every command line the lab shows or asks for. */
const LAB = [
  "sudo kvm -hda debian-11.qcow2 -m 512 -smp 2",
  "sudo kvm -m 512 -smp 2 -hda debian-11.qcow2",
  "qemu-system-x86_64 -enable-kvm -m 512 -smp 2 -hda debian-11.qcow2",
  "sudo kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1",
  "sudo kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1 --daemonize",
  "sudo kvm -hda virtualdisk.qcow -smp 2 -m 512 -cdrom debian-11.3.0-amd64-netinst.iso",
  "sudo kvm -hda debian-11.qcow2 -hdb image-name.qcow2 -m 512 -smp 2",
  "sudo kvm -hda sda-vm1.qcow2 -m 512 -smp 2 -vnc :1 --daemonize",
  "sudo kvm -hda sda-vm2.qcow2 -m 512 -smp 2 -vnc :2 --daemonize",
];

// A command line cannot say "no qemukit console/QMP socket": absence means "qemukit adds its own".
const roundTrippable = FIXTURES.filter((f) => f.name !== "no-network-no-qmp-no-serial");

describe("fromCommandLine: the lab's command lines", () => {
  it.each(LAB)("%s parses, and toArgv() is equivalent", (line) => {
    const { builder, unmodelled } = fromCommandLine(line);
    expect(unmodelled).toEqual([]);
    const ours = normalizeArgv(builder.toArgv());
    const theirs = normalizeArgv(splitShellWords(line));
    expect(ours).toEqual(theirs);
    expect(theirs.disks.length).toBeGreaterThan(0);
  });

  it("reads the lab's VM exactly", () => {
    const { builder, program } = fromCommandLine("sudo kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1 --daemonize");
    expect(program).toBe("kvm");
    const s = builder.spec;
    expect(s.memoryMiB).toBe(512);
    expect(s.smp).toEqual({ cpus: 2 });
    expect(s.accel).toEqual(["kvm"]);
    expect(s.daemonize).toBe(true);
    expect(s.vnc).toEqual({ display: 1, listen: "", websocket: false, password: false });
    expect(s.disks).toEqual([
      {
        source: { kind: "file", path: "debian-11.qcow2", format: "qcow2" },
        interface: "ide",
        media: "disk",
        readOnly: false,
        legacySlot: "hda",
      },
    ]);
    expect(s.display).toEqual({ kind: "none" });
    expect(valuesOf(builder.toArgv(), "-vnc")).toEqual([":1"]);
    expect(valuesOf(builder.toArgv(), "-drive")).toEqual([
      "file=debian-11.qcow2,format=qcow2,if=ide,index=0,media=disk",
    ]);
  });

  it("lab defaults are QEMU's: a GTK window, TCG without kvm, 128 MiB without -m", () => {
    expect(fromCommandLine("kvm -hda debian-11.qcow2").builder.spec.display).toEqual({ kind: "gtk" });
    const q = fromCommandLine("qemu-system-x86_64 -hda debian-11.qcow2").builder.spec;
    expect(q.accel).toEqual(["tcg"]);
    expect(q.memoryMiB).toBe(128);
    expect(fromCommandLine("kvm -hda d.qcow2").builder.accel("auto").spec.accel).toBe("auto");
  });

  it("the cdrom line fills slot 2 and keeps the installer ISO read-only", () => {
    const s = fromCommandLine("sudo kvm -hda virtualdisk.qcow -smp 2 -m 512 -cdrom debian-11.3.0-amd64-netinst.iso")
      .builder.spec;
    expect(
      s.disks.map((d) => [d.legacySlot, d.media, d.source.kind === "file" && d.source.format, d.readOnly]),
    ).toEqual([
      ["hda", "disk", "qcow2", false],
      ["hdc", "cdrom", "raw", true],
    ]);
  });
});

describe("fromCommandLine: other QEMU options", () => {
  it("accepts an argv array and options without a program", () => {
    expect(fromCommandLine(["-m", "1G", "-smp", "4,sockets=1,cores=4"]).builder.spec.smp).toEqual({
      cpus: 4,
      sockets: 1,
      cores: 4,
    });
    expect(fromCommandLine(["-m", "1G"]).builder.spec.memoryMiB).toBe(1024);
    expect(fromCommandLine("-m size=256M").builder.spec.memoryMiB).toBe(256);
  });

  it("shell quoting in the string form", () => {
    const { builder } = fromCommandLine(`kvm -hda 'my disk,1.qcow2' -name "vm-1" -cdrom x\\ y.iso`);
    expect(builder.spec.disks.map((d) => d.source.kind === "file" && d.source.path)).toEqual([
      "my disk,1.qcow2",
      "x y.iso",
    ]);
    expect(builder.spec.name).toBe("vm-1");
    expect(valuesOf(builder.toArgv(), "-drive")[0]).toBe(
      "file=my disk,,1.qcow2,format=qcow2,if=ide,index=0,media=disk",
    );
  });

  it("-drive in its common forms", () => {
    const { builder, unmodelled } = fromCommandLine([
      "qemu-system-x86_64",
      "-drive",
      "file=a,,b.qcow2,format=qcow2,if=virtio",
      "-drive",
      "file=c.img,if=ide,index=1,cache=none,aio=native",
      "-drive",
      "file=d.raw,format=raw",
      "-drive",
      "file=e.iso,media=cdrom,index=2",
      "-drive",
      "file=f.qcow2,if=scsi,readonly=on",
      "-drive",
      "file=g.qcow2,if=none,id=x",
    ]);
    expect(
      builder.spec.disks.map((d) => [
        d.source.kind === "file" && d.source.path,
        d.interface,
        d.legacySlot,
        d.media,
        d.cache,
        d.aio,
        d.readOnly,
      ]),
    ).toEqual([
      ["a,b.qcow2", "virtio", undefined, "disk", undefined, undefined, false],
      ["c.img", "ide", "hdb", "disk", "none", "native", false],
      ["d.raw", "ide", "hda", "disk", undefined, undefined, false],
      ["e.iso", "ide", "hdc", "cdrom", undefined, undefined, true],
      ["f.qcow2", "scsi", undefined, "disk", undefined, undefined, true],
    ]);
    expect(unmodelled).toEqual(["-drive file=g.qcow2,if=none,id=x"]);
  });

  it("machine, cpu, accel, boot, display, kernel, serial, nic", () => {
    const { builder, unmodelled } = fromCommandLine(
      "qemu-system-x86_64 -machine q35,accel=kvm:tcg,smm=off -cpu max -boot order=dc -display none " +
        "-kernel vmlinuz -initrd initrd.img -append 'console=ttyS0 quiet' -serial file:/tmp/c.log " +
        "-nic user,hostfwd=tcp::2222-:22,model=virtio-net-pci -vnc 0.0.0.0:3,websocket=on -name guest=web",
    );
    const s = builder.spec;
    expect([s.machine, s.cpu, s.bootOrder, s.display.kind, s.accel, s.name]).toEqual([
      "q35",
      "max",
      "dc",
      "none",
      ["kvm", "tcg"],
      "web",
    ]);
    expect(s.kernel).toEqual({ kernel: "vmlinuz", initrd: "initrd.img", append: "console=ttyS0 quiet" });
    expect(s.serial).toEqual({ kind: "file", path: "/tmp/c.log" });
    expect(s.network).toEqual({
      kind: "user",
      forwards: [{ protocol: "tcp", hostAddress: "", hostPort: 2222, guestPort: 22 }],
      model: "virtio-net-pci",
    });
    expect(s.vnc).toEqual({ display: 3, listen: "0.0.0.0", websocket: true, password: false });
    expect(unmodelled).toEqual(["-machine smm=off"]);
    expect(builder.toArgv()).toEqual(expect.arrayContaining(["-machine", "smm=off"]));
  });

  it("-accel lists, -nographic, -nic none, -net none", () => {
    expect(fromCommandLine("qemu-system-x86_64 -accel kvm -accel tcg").builder.spec.accel).toEqual(["kvm", "tcg"]);
    const s = fromCommandLine("qemu-system-x86_64 -nographic -nic none").builder.spec;
    expect([s.display, s.serial, s.network]).toEqual([{ kind: "none" }, { kind: "stdio" }, { kind: "none" }]);
    expect(fromCommandLine("qemu-system-x86_64 -net none").builder.spec.network).toEqual({ kind: "none" });
  });

  it("keeps unmodelled options as raw arguments, in order, with their values", () => {
    const { builder, unmodelled } = fromCommandLine(
      "kvm -hda d.qcow2 -snapshot -usb -device usb-tablet -rtc base=localtime --no-reboot -serial mon:stdio -netdev tap,id=n,ifname=tap0 -device e1000,netdev=n",
    );
    expect(unmodelled).toEqual([
      "-snapshot",
      "-usb",
      "-device usb-tablet",
      "-rtc base=localtime",
      "-no-reboot",
      "-serial mon:stdio",
      "-netdev tap,id=n,ifname=tap0",
      "-device e1000,netdev=n",
    ]);
    const argv = builder.toArgv();
    expect(argv.slice(-13)).toEqual([
      "-snapshot",
      "-usb",
      "-device",
      "usb-tablet",
      "-rtc",
      "base=localtime",
      "-no-reboot",
      "-serial",
      "mon:stdio",
      "-netdev",
      "tap,id=n,ifname=tap0",
      "-device",
      "e1000,netdev=n",
    ]);
    // Raw serial and network options replace qemukit's defaults instead of adding a second one.
    expect(builder.spec.serial).toEqual({ kind: "none" });
    expect(builder.spec.network).toEqual({ kind: "none" });
    expect(argv.filter((a) => a.startsWith("e1000"))).toEqual(["e1000,netdev=n"]);
  });

  it("errors: -append without -kernel, unknown program, missing value, unknown format, unterminated quote", () => {
    expect(() => fromCommandLine("kvm -append console=ttyS0")).toThrow(
      expect.objectContaining({ code: "SPEC_CONFLICT" }),
    );
    expect(() => fromCommandLine("kvm -initrd x.img")).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
    expect(() => fromCommandLine("ls -l")).toThrow(expect.objectContaining({ code: "SPEC_PARSE" }));
    expect(() => fromCommandLine("kvm -m")).toThrow(expect.objectContaining({ code: "SPEC_PARSE" }));
    expect(() => fromCommandLine("kvm -hda disk.bin")).toThrow(expect.objectContaining({ code: "SPEC_FORMAT" }));
    expect(() => fromCommandLine("kvm -hda 'x.qcow2")).toThrow(expect.objectContaining({ code: "SPEC_PARSE" }));
    expect(() => fromCommandLine("kvm -hdc a.qcow2 -cdrom b.iso")).toThrow(
      expect.objectContaining({ code: "SPEC_DISK_SLOT" }),
    );
    expect(() => fromCommandLine("kvm -m 0")).toThrow(expect.objectContaining({ code: "SPEC_MEMORY" }));
    expect(() => fromCommandLine("kvm -vnc :70000")).toThrow(expect.objectContaining({ code: "SPEC_VNC_DISPLAY" }));
  });

  it("a round trip through toArgv() is stable", () => {
    for (const line of LAB) {
      const once = fromCommandLine(line).builder.toArgv();
      const twice = fromCommandLine(once).builder.toArgv();
      expect(normalizeArgv(twice)).toEqual(normalizeArgv(once));
    }
  });

  // A command line cannot say "no qemukit console/QMP socket": absence means "qemukit adds its own".
  it.each(roundTrippable)("qemukit's own argv parses back to the same argv: $name", (f) => {
    const argv = f.build("/srv/img").toArgv();
    const parsed = fromCommandLine(argv);
    expect(parsed.unmodelled).toEqual(f.name === "raw-args" ? ["-device virtio-rng-pci", "-no-reboot"] : []);
    expect(parsed.builder.toArgv()).toEqual(argv);
  });
});

describe("fromCommandLine: common mistakes", () => {
  it.each([
    ["sudo -u root kvm -m 512", "kvm"],
    ["sudo -E -H -n kvm -m 512", "kvm"],
    ["sudo -g kvm -u root kvm -m 512", "kvm"],
    ["sudo -Eu root kvm -m 512", "kvm"],
    ["sudo -uroot kvm -m 512", "kvm"],
    ["sudo --user=root --preserve-env kvm -m 512", "kvm"],
    ["sudo --user root -- qemu-system-x86_64 -m 512", "qemu-system-x86_64"],
    ["sudo -C 5 -D /tmp -T 60 -p pw: kvm -m 512", "kvm"],
  ])("sudo options with values are skipped: %s", (line, program) => {
    const { builder, program: p, unmodelled } = fromCommandLine(line);
    expect(p).toBe(program);
    expect(builder.spec.memoryMiB).toBe(512);
    expect(unmodelled).toEqual([]);
  });

  it.each([
    ["kvm -m 512 -hda d.qcow2 && echo done", "&&"],
    ["kvm -m 512 -hda d.qcow2 || echo failed", "||"],
    ["kvm -m 512; echo done", ";"],
    ["kvm -m 512 | tee log", "|"],
    ["kvm -m 512 > log 2>&1", ">"],
    ["kvm -m 512 < /dev/null", "<"],
    ["kvm -m 512 &", "&"],
    ["kvm -hda $(ls *.qcow2)", "$(...)"],
    ["kvm -hda `ls *.qcow2`", "`...`"],
    [`kvm -append "root=$(findfs LABEL=x)"`, "$(...)"],
  ])("shell syntax is refused with SPEC_SHELL_SYNTAX: %s", (line, syntax) => {
    let err: unknown;
    try {
      fromCommandLine(line);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "SPEC_SHELL_SYNTAX", details: { syntax } });
    expect((err as Error).message.split("\n")[0]).toBe(
      `the command line has shell syntax (${syntax}), not only a QEMU command`,
    );
    expect((err as Error).message).not.toMatch(/image format/);
  });

  it("quoted operators are plain text, and an argv array is never read as shell", () => {
    expect(
      fromCommandLine(`kvm -kernel vmlinuz -append 'a;b && c | d > e' -name "x"`).builder.spec.kernel?.append,
    ).toBe("a;b && c | d > e");
    expect(fromCommandLine(["kvm", "-kernel", "vmlinuz", "-append", "$(x) && y"]).builder.spec.kernel?.append).toBe(
      "$(x) && y",
    );
  });

  const warned = (line: string) => fromCommandLine(line).warnings;

  it("-vnc on all interfaces is kept as written, with a warning that gives the loopback spelling", () => {
    const { builder, warnings } = fromCommandLine("kvm -hda d.qcow2 -vnc :1");
    expect(builder.spec.vnc?.listen).toBe("");
    expect(valuesOf(builder.toArgv(), "-vnc")).toEqual([":1"]);
    expect(warnings).toEqual([
      {
        code: "LISTENS_ON_ALL_INTERFACES",
        option: "-vnc :1",
        message:
          "-vnc :1 listens on all interfaces: VNC display :1 (TCP 5901) is reachable from other machines; " +
          "to keep it on this one write -vnc 127.0.0.1:1, or vm().vnc(1) (loopback is the builder's default)",
      },
    ]);
    expect(warned("kvm -vnc 0.0.0.0:2,websocket=on")[0]?.message).toContain("TCP 5902 and websocket 5702");
    expect(warned("kvm -vnc 0.0.0.0:2,websocket=on")[0]?.message).toContain("-vnc 127.0.0.1:2,websocket=on");
    expect(warned("kvm -vnc 127.0.0.1:1")).toEqual([]);
    expect(warned("kvm -vnc localhost:1")).toEqual([]);
    expect(warned("kvm -vnc none")).toEqual([]);
  });

  it("hostfwd on all interfaces warns, in -nic, -net and -netdev", () => {
    const { builder, warnings } = fromCommandLine("kvm -nic user,hostfwd=tcp::2222-:22");
    expect(builder.spec.network).toMatchObject({ forwards: [{ hostAddress: "", hostPort: 2222, guestPort: 22 }] });
    expect(warnings).toEqual([
      {
        code: "LISTENS_ON_ALL_INTERFACES",
        option: "hostfwd=tcp::2222-:22",
        message:
          "hostfwd=tcp::2222-:22 listens on all interfaces: host port 2222 (tcp) forwarded to guest port 22 is reachable " +
          "from other machines; to keep it on this one write hostfwd=tcp:127.0.0.1:2222-:22, or .forward(2222, 22) in the builder (loopback by default)",
      },
    ]);
    expect(
      warned("kvm -netdev user,id=n,hostfwd=udp:0.0.0.0:5353-:53 -device e1000,netdev=n").map((w) => w.option),
    ).toEqual(["hostfwd=udp:0.0.0.0:5353-:53"]);
    expect(warned("kvm -net user,hostfwd=tcp::80-:80 -net nic").map((w) => w.option)).toEqual(["hostfwd=tcp::80-:80"]);
    expect(warned("kvm -nic user,hostfwd=tcp:127.0.0.1:2222-:22")).toEqual([]);
  });

  it("QMP, monitor, gdb and serial servers on TCP without a host warn", () => {
    const qmp = warned("kvm -qmp tcp::4444,server,nowait");
    expect(qmp).toEqual([
      {
        code: "LISTENS_ON_ALL_INTERFACES",
        option: "-qmp tcp::4444,server,nowait",
        message:
          "-qmp tcp::4444,server,nowait listens on all interfaces: the QMP socket on TCP 4444 (full control of the VM, no password) " +
          "is reachable from other machines; to keep it on this one write -qmp tcp:127.0.0.1:4444,server,nowait " +
          "(qemukit's own QMP socket is a unix socket in the run directory)",
      },
    ]);
    expect(warned("kvm -monitor telnet:0.0.0.0:4445,server=on,wait=off")[0]?.message).toContain(
      "the monitor on TCP 4445 (full control of the VM, no password) is reachable from other machines; to keep it on this one write -monitor telnet:127.0.0.1:4445,server=on,wait=off",
    );
    expect(warned("kvm -s")[0]?.message).toContain("-gdb tcp:127.0.0.1:1234");
    expect(warned("kvm -gdb tcp::1234")[0]?.option).toBe("-gdb tcp::1234");
    expect(warned("kvm -serial tcp::4555,server,nowait")[0]?.message).toContain(
      "-serial tcp:127.0.0.1:4555,server,nowait",
    );
    expect(warned("kvm -chardev socket,id=c,port=4556,server=on")[0]?.message).toContain("add host=127.0.0.1");
    // Clients connect out; loopback and unix sockets are private.
    expect(warned("kvm -qmp tcp:127.0.0.1:4444,server,nowait")).toEqual([]);
    expect(warned("kvm -qmp unix:/tmp/q.sock,server,nowait")).toEqual([]);
    expect(warned("kvm -serial tcp:10.0.0.1:4555")).toEqual([]);
    expect(warned("kvm -chardev socket,id=c,host=127.0.0.1,port=4556,server=on")).toEqual([]);
  });

  it("qemukit's own argv warns only for what it opens to the network; a lab line without a listener does not", () => {
    expect(warned("sudo kvm -m 512 -smp 2 -hda debian-11.qcow2")).toEqual([]);
    // Only what a fixture really opens to the network warns (one fixture forwards on 0.0.0.0 on purpose).
    const open = (argv: readonly string[]) =>
      argv.flatMap((a, i) => [
        ...a.split(",").filter((p) => /^hostfwd=\w+:(0\.0\.0\.0)?:/.test(p)),
        ...(argv[i - 1] === "-vnc" && /^(0\.0\.0\.0)?:\d/.test(a) ? [`-vnc ${a}`] : []),
      ]);
    for (const f of roundTrippable) {
      const argv = f.build("/srv/img").toArgv();
      expect(fromCommandLine(argv).warnings.map((w) => w.option)).toEqual(open(argv));
    }
    expect(roundTrippable.some((f) => open(f.build("/srv/img").toArgv()).length > 0)).toBe(true);
  });
});
