/**
 * Compiled-VM fixtures shared by the golden, schema and launch tests of sdk/spec and
 * sdk/compile. Each fixture builds a VM whose files live in `dir`; `files` says which
 * files the launch test must create first (qcow2 via qemu-img, raw/iso as empty files).
 */
import { join } from "node:path";
import { overlay, vm, type VmBuilder } from "../../sdk/spec/mod.ts";

export interface SpecFixture {
  readonly name: string;
  /** Files to create in `dir` before launching: name -> kind. */
  readonly files: Readonly<Record<string, "qcow2" | "raw" | "iso" | "kernel">>;
  /** Needs an X display (gtk/sdl): compiled and schema-checked, not launched here. */
  readonly needsWindow?: boolean;
  build(dir: string, ports?: FixturePorts): VmBuilder;
}

/**
 * The host ports fixtures listen on. The golden, schema and round-trip tests compile with
 * fixed numbers (nothing binds them); the launch test passes "auto" everywhere, so QEMU
 * takes free ports and no fixed port can collide with another VM on the host.
 */
export interface FixturePorts {
  readonly vnc: number | "auto";
  readonly daemonVnc: number | "auto";
  readonly ssh: number | "auto";
  readonly tcp: number | "auto";
  readonly udp: number | "auto";
}

/** Fixed numbers for compile-only tests. */
export const GOLDEN_PORTS: FixturePorts = { vnc: 5123, daemonVnc: 5124, ssh: 22222, tcp: 22223, udp: 22224 };

/** Every port chosen by QEMU at start: for tests that launch the fixtures. */
export const AUTO_PORTS: FixturePorts = { vnc: "auto", daemonVnc: "auto", ssh: "auto", tcp: "auto", udp: "auto" };

/** Awkward but legal file names: commas, spaces, quotes, non-ASCII. */
export const NASTY = "a,b c'q\"ü—日本.qcow2";

export const FIXTURES: readonly SpecFixture[] = [
  { name: "minimal", files: {}, build: () => vm().name("minimal") },
  {
    name: "lab-hda",
    files: { "debian-11.qcow2": "qcow2" },
    build: (d) => vm().accel("tcg").hda(join(d, "debian-11.qcow2")).memory(512).smp(2),
  },
  {
    name: "lab-hda-hdb-cdrom",
    files: { "virtualdisk.qcow": "qcow2", "second.img": "raw", "netinst.iso": "iso" },
    build: (d) =>
      vm().hda(join(d, "virtualdisk.qcow")).hdb(join(d, "second.img")).cdrom(join(d, "netinst.iso")).boot("dc"),
  },
  {
    name: "hdd-readonly-cache",
    files: { "four.qcow2": "qcow2" },
    build: (d) => vm().hdd({ path: join(d, "four.qcow2"), cache: "writethrough", aio: "threads" }),
  },
  {
    name: "nasty-paths",
    files: { [NASTY]: "qcow2", "x,y.raw": "raw", "c d.iso": "iso" },
    build: (d) =>
      vm()
        .name("nasty")
        .disk(join(d, NASTY))
        .hda(join(d, "x,y.raw"))
        .cdrom(join(d, "c d.iso"))
        .serial({ file: join(d, "log, ü.txt") }),
  },
  {
    name: "virtio-scsi-ide",
    files: { "v.qcow2": "qcow2", "s.raw": "raw", "i.qcow2": "qcow2", "cd.iso": "iso" },
    build: (d) =>
      vm()
        .machine("q35")
        .cpu("max")
        .smp({ sockets: 1, cores: 2, threads: 1 })
        .memory("256M")
        .disk({ path: join(d, "v.qcow2"), bootIndex: 0, cache: "unsafe" })
        .disk({ path: join(d, "s.raw"), interface: "scsi", cache: "none", aio: "native", readOnly: true })
        .disk({ path: join(d, "i.qcow2"), interface: "ide", cache: "directsync" })
        .disk({ path: join(d, "cd.iso"), interface: "scsi", media: "cdrom", bootIndex: 1 }),
  },
  {
    name: "overlays",
    files: { "base,1.qcow2": "qcow2", "base2.img": "raw" },
    build: (d) =>
      vm()
        .disk(overlay(join(d, "base,1.qcow2")))
        .hda(overlay(join(d, "base2.img"), { path: join(d, "sda-vm1.qcow2") })),
  },
  {
    name: "kernel-boot",
    files: { vmlinuz: "kernel", "initrd.img": "raw" },
    build: (d) =>
      vm()
        .kernel(join(d, "vmlinuz"), { initrd: join(d, "initrd.img"), append: "console=ttyS0 root=/dev/vda a,b" })
        .serial("stdio"),
  },
  {
    name: "vnc-websocket-password",
    files: {},
    build: (_d, p = GOLDEN_PORTS) =>
      vm().vnc(p.vnc, { websocket: true, password: true }).network({ model: "virtio-net-pci" }).forward(p.ssh, 22),
  },
  {
    name: "network-forwards",
    files: {},
    build: (_d, p = GOLDEN_PORTS) =>
      vm().forward(p.tcp, 22).forward(p.udp, 53, { protocol: "udp", hostAddress: "0.0.0.0" }).qmp(true),
  },
  {
    name: "no-network-no-qmp-no-serial",
    files: {},
    build: () => vm().network("none").serial("none").qmp(false).display("none"),
  },
  {
    name: "daemonized",
    files: { "d.qcow2": "qcow2" },
    build: (d, p = GOLDEN_PORTS) => vm().hda(join(d, "d.qcow2")).vnc(p.daemonVnc).daemonize().keep(),
  },
  { name: "raw-args", files: {}, build: () => vm().args("-device", "virtio-rng-pci", "-no-reboot") },
  { name: "window-gtk", files: {}, needsWindow: true, build: () => vm().display("gtk") },
  { name: "window-sdl", files: {}, needsWindow: true, build: () => vm().display("sdl") },
];
