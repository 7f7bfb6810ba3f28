/**
 * The fluent, immutable VM builder: `vm().memory(512).smp(2).disk(overlay(base)).vnc(1)`.
 * Every method returns a new builder over a new frozen {@link VmSpec}; the old one is
 * untouched, so partial builders can be shared and extended.
 * @module
 */
import { SpecError } from "../errors/errors.ts";
import { compile } from "../compile/compile.ts";
import { shellQuote } from "../compile/shell.ts";
import type { CompileContext, CompiledVm } from "../compile/types.ts";
import type { StartOptions } from "../machine/start.ts";
import type { RunningVm } from "../machine/running-vm.ts";
import { compileDomain, type DomainContext } from "../libvirt/domain.ts";
import type { LibvirtVm } from "../libvirt/libvirt-vm.ts";
import type { LibvirtStartOptions } from "../libvirt/start.ts";
import type { Template, TemplateOptions } from "../template/template.ts";
import { DEFAULT_SPEC, deepFreeze } from "./defaults.ts";
import { checkFormat, inferFormat } from "./format.ts";
import { checkPath } from "./path.ts";
import { parseMemoryMiB } from "./size.ts";
import type {
  AccelChoice,
  DiskSource,
  DiskSpec,
  ImageFormat,
  KernelSpec,
  LegacySlot,
  PortForward,
  VmSpec,
} from "./types.ts";
import { checkName, checkPort, checkSlotFree, checkSmp, checkVncDisplay, checkWord, validateSpec } from "./validate.ts";

/** Cache modes, as QEMU's `-drive cache=` names them. */
export type CacheMode = NonNullable<DiskSpec["cache"]>;
/** Asynchronous I/O engines. */
export type AioMode = NonNullable<DiskSpec["aio"]>;

/** Everything {@link VmBuilder.disk} accepts besides a bare path or source. */
export interface DiskOptions {
  /** Image file; give either `path` or `source`. */
  readonly path?: string;
  /** An {@link overlay} (or a `{ kind: "file" }` source). */
  readonly source?: DiskSource;
  /** Image format; default: from the extension, else an error asking for it. */
  readonly format?: ImageFormat;
  /** @default "virtio" */
  readonly interface?: DiskSpec["interface"];
  /** @default "disk" */
  readonly media?: DiskSpec["media"];
  /** @default false (true for CD-ROMs) */
  readonly readOnly?: boolean;
  readonly cache?: CacheMode;
  readonly aio?: AioMode;
  /** Boot priority (0 first). */
  readonly bootIndex?: number;
}

/** Options of the legacy slots {@link VmBuilder.hda}..{@link VmBuilder.hdd}. */
export type LegacyDiskOptions = Pick<DiskOptions, "path" | "source" | "format" | "readOnly" | "cache" | "aio">;

/** The displays `vnc("auto")` tries, first and last (TCP 5900-5999). */
export const AUTO_VNC_DISPLAYS = [0, 99] as const;

/** Options of {@link VmBuilder.vnc}. */
export interface VncOptions {
  /** Address to listen on. @default "127.0.0.1" (loopback; say "0.0.0.0" to expose it) */
  readonly listen?: string;
  /** Also serve a websocket on 5700+N for noVNC. @default false */
  readonly websocket?: boolean;
  /** Require a password (set it over QMP `change-vnc-password`). @default false */
  readonly password?: boolean;
}

/** Options of {@link VmBuilder.forward}. */
export interface ForwardOptions {
  /** @default "tcp" */
  readonly protocol?: "tcp" | "udp";
  /** Host address to bind. @default "127.0.0.1" */
  readonly hostAddress?: string;
}

/** Argument of {@link VmBuilder.network}. */
export type NetworkChoice =
  | "none"
  | "user"
  | {
      /** Host ports forwarded into the guest: `{ 2222: 22 }` or a list of forwards. */
      readonly user?: Readonly<Record<number, number>> | readonly PortForward[];
      /** @default "e1000" (QEMU's default NIC, understood by every guest) */
      readonly model?: "virtio-net-pci" | "e1000";
    };

/** Argument of {@link VmBuilder.serial}. */
export type SerialChoice = "socket" | "stdio" | "none" | { readonly file: string };

/** Argument of {@link VmBuilder.smp}. */
export type SmpChoice =
  | number
  | { readonly cpus?: number; readonly sockets?: number; readonly cores?: number; readonly threads?: number };

const CACHE_MODES: readonly CacheMode[] = ["none", "writeback", "writethrough", "directsync", "unsafe"];
const AIO_MODES: readonly AioMode[] = ["threads", "native", "io_uring"];

function valueError(what: string, value: unknown, allowed: readonly string[]): SpecError {
  return new SpecError(`invalid ${what} ${JSON.stringify(value)}`, {
    code: "SPEC_VALUE",
    advice: `use one of: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
    details: { [what]: value },
  });
}

function oneOf<T extends string>(what: string, value: T | undefined, allowed: readonly T[]): T | undefined {
  if (value !== undefined && !allowed.includes(value)) throw valueError(what, value, allowed);
  return value;
}

function toSource(src: string | DiskSource | DiskOptions, format?: ImageFormat): DiskSource {
  if (typeof src === "string") {
    checkPath(src, "disk");
    return { kind: "file", path: src, format: format !== undefined ? checkFormat(format, src) : inferFormat(src) };
  }
  if ("kind" in src) {
    if (src.kind === "file") {
      checkPath(src.path, "disk");
      return { kind: "file", path: src.path, format: checkFormat(src.format, src.path) };
    }
    if (src.kind === "overlay") return src;
  }
  const o = src as DiskOptions;
  if (o.source !== undefined && o.path !== undefined) {
    throw new SpecError("a disk has both path and source", {
      code: "SPEC_CONFLICT",
      advice: "give either { path } (an image used as is) or { source: overlay(base) }",
    });
  }
  if (o.source !== undefined) return toSource(o.source);
  if (o.path === undefined) {
    throw new SpecError("a disk needs a path or a source", {
      code: "SPEC_PATH",
      advice: 'e.g. disk("debian-12.qcow2") or disk(overlay("debian-12.qcow2"))',
    });
  }
  return toSource(o.path, o.format ?? format);
}

/**
 * An immutable description of a VM under construction. Get one from {@link vm} or
 * `fromCommandLine`; read the plain data from {@link VmBuilder.spec}.
 */
export class VmBuilder {
  /** The frozen description this builder holds. */
  readonly spec: VmSpec;

  /** Wrap an existing spec (frozen now, validated when compiled). Prefer {@link vm} or `fromCommandLine`. */
  constructor(spec: VmSpec = DEFAULT_SPEC) {
    this.spec = deepFreeze(spec);
  }

  private with(patch: Partial<VmSpec>): VmBuilder {
    return new VmBuilder({ ...this.spec, ...patch });
  }

  /**
   * Name the VM: shown by QEMU (`-name`) and used for its run directory.
   * @example
   * ```ts
   * vm().name("web1").toArgv();   // [..., "-name", "web1", ...]
   * ```
   */
  name(name: string): VmBuilder {
    return this.with({ name: checkName(name) });
  }

  /**
   * Guest RAM: a number of MiB, or a size with a unit.
   * @example
   * ```ts
   * vm().memory(512);     // -m 512
   * vm().memory("2G");    // -m 2048
   * ```
   */
  memory(size: number | string): VmBuilder {
    return this.with({ memoryMiB: parseMemoryMiB(size) });
  }

  /**
   * Virtual CPUs: a count, or a topology whose product is the count.
   * @example
   * ```ts
   * vm().smp(2);                                          // -smp 2
   * vm().smp({ sockets: 1, cores: 2, threads: 2 });       // -smp 4,sockets=1,cores=2,threads=2
   * ```
   */
  smp(cpus: SmpChoice): VmBuilder {
    if (typeof cpus === "number") return this.with({ smp: checkSmp({ cpus }) });
    const { sockets, cores, threads } = cpus;
    const count = cpus.cpus ?? (sockets ?? 1) * (cores ?? 1) * (threads ?? 1);
    const smp = {
      cpus: count,
      ...(sockets !== undefined ? { sockets } : {}),
      ...(cores !== undefined ? { cores } : {}),
      ...(threads !== undefined ? { threads } : {}),
    };
    return this.with({ smp: checkSmp(smp) });
  }

  /**
   * Accelerator: `"auto"` (the host check picks one that can really run guests),
   * `"kvm"`, `"tcg"`, or an ordered fallback list.
   * @example
   * ```ts
   * vm().accel("tcg");             // -accel tcg
   * vm().accel(["kvm", "tcg"]);    // -accel kvm -accel tcg (QEMU falls back in order)
   * ```
   */
  accel(choice: AccelChoice): VmBuilder {
    const list = typeof choice === "string" ? [choice] : [...choice];
    if (list.length === 0) throw valueError("accelerator", choice, ["auto", "kvm", "tcg"]);
    for (const a of list) oneOf("accelerator", a, typeof choice === "string" ? ["auto", "kvm", "tcg"] : ["kvm", "tcg"]);
    return this.with({ accel: typeof choice === "string" ? choice : Object.freeze(list as ("kvm" | "tcg")[]) });
  }

  /**
   * Machine type (`pc`, `q35`, `microvm`, ...). Default: QEMU's default (`pc`).
   * @example
   * ```ts
   * vm().machine("q35");   // -machine q35
   * ```
   */
  machine(type: string): VmBuilder {
    return this.with({ machine: checkWord(type, "machine type") });
  }

  /**
   * CPU model, with optional feature flags as QEMU writes them.
   * @example
   * ```ts
   * vm().cpu("max");            // -cpu max
   * vm().cpu("qemu64,+ssse3");  // -cpu qemu64,+ssse3
   * ```
   */
  cpu(model: string): VmBuilder {
    if (typeof model !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._,+=-]*$/.test(model)) {
      throw new SpecError(`invalid CPU model ${JSON.stringify(model)}`, {
        code: "SPEC_VALUE",
        advice: 'e.g. "host", "max" or "qemu64,+ssse3" (see qemu-system-x86_64 -cpu help)',
      });
    }
    return this.with({ cpu: model });
  }

  /**
   * Add a disk (virtio unless told otherwise), compiled with `-blockdev` + `-device`. The
   * format is always explicit: given, or inferred from the extension now.
   * @example
   * ```ts
   * vm().disk("debian-12.qcow2");                                  // qcow2, virtio
   * vm().disk({ path: "data.bin", format: "raw", interface: "scsi", cache: "none", aio: "native" });
   * vm().disk(overlay("debian-12.qcow2"));                         // copy-on-write layer made at start
   * ```
   */
  disk(source: string | DiskSource | DiskOptions): VmBuilder {
    const o: DiskOptions = typeof source === "string" || "kind" in source ? {} : source;
    const media = oneOf("media", o.media, ["disk", "cdrom"]) ?? "disk";
    const disk: DiskSpec = {
      source: toSource(source),
      interface:
        oneOf("disk interface", o.interface, ["virtio", "ide", "scsi"]) ?? (media === "cdrom" ? "ide" : "virtio"),
      media,
      readOnly: o.readOnly ?? media === "cdrom",
      ...(o.cache !== undefined ? { cache: oneOf("cache mode", o.cache, CACHE_MODES) } : {}),
      ...(o.aio !== undefined ? { aio: oneOf("aio mode", o.aio, AIO_MODES) } : {}),
      ...(o.bootIndex !== undefined ? { bootIndex: o.bootIndex } : {}),
    };
    return this.addDisk(disk);
  }

  private addDisk(disk: DiskSpec): VmBuilder {
    checkSlotFree(this.spec.disks, disk);
    const next = this.with({ disks: [...this.spec.disks, disk] });
    // Per-disk combinations (aio vs cache, cdrom vs virtio...) are checked right away.
    validateSpec({ ...DEFAULT_SPEC, disks: [disk] });
    return next;
  }

  private legacy(slot: LegacySlot, source: string | DiskSource | LegacyDiskOptions): VmBuilder {
    const o: LegacyDiskOptions = typeof source === "string" || "kind" in source ? {} : source;
    return this.addDisk({
      source: toSource(source),
      interface: "ide",
      media: "disk",
      readOnly: o.readOnly ?? false,
      legacySlot: slot,
      ...(o.cache !== undefined ? { cache: oneOf("cache mode", o.cache, CACHE_MODES) } : {}),
      ...(o.aio !== undefined ? { aio: oneOf("aio mode", o.aio, AIO_MODES) } : {}),
    });
  }

  /**
   * The lab's `-hda`: first IDE disk (index 0), compiled as
   * `-drive file=...,format=...,if=ide,index=0,media=disk`.
   * @example
   * ```ts
   * vm().hda("debian-11.qcow2");                    // -drive file=debian-11.qcow2,format=qcow2,if=ide,index=0,media=disk
   * vm().hda(overlay("debian-11.qcow2"));           // the same over a fresh overlay
   * ```
   */
  hda(source: string | DiskSource | LegacyDiskOptions): VmBuilder {
    return this.legacy("hda", source);
  }

  /**
   * The lab's `-hdb`: IDE index 1.
   * @example
   * ```ts
   * vm().hda("debian-11.qcow2").hdb({ path: "scratch.img", format: "raw" });
   * ```
   */
  hdb(source: string | DiskSource | LegacyDiskOptions): VmBuilder {
    return this.legacy("hdb", source);
  }

  /**
   * The lab's `-hdc`: IDE index 2 (the slot `cdrom()` uses too).
   * @example
   * ```ts
   * vm().hdc("third.qcow2");
   * ```
   */
  hdc(source: string | DiskSource | LegacyDiskOptions): VmBuilder {
    return this.legacy("hdc", source);
  }

  /**
   * The lab's `-hdd`: IDE index 3.
   * @example
   * ```ts
   * vm().hdd("fourth.qcow2");
   * ```
   */
  hdd(source: string | DiskSource | LegacyDiskOptions): VmBuilder {
    return this.legacy("hdd", source);
  }

  /**
   * The lab's `-cdrom`: a read-only CD-ROM in IDE slot 2 (so it cannot be combined with `hdc`).
   * @example
   * ```ts
   * vm().hda("virtualdisk.qcow").cdrom("debian-11.3.0-amd64-netinst.iso").boot("dc");
   * ```
   */
  cdrom(iso: string, options: { readonly format?: ImageFormat } = {}): VmBuilder {
    checkPath(iso, "cdrom");
    return this.addDisk({
      source: {
        kind: "file",
        path: iso,
        format: options.format !== undefined ? checkFormat(options.format, iso) : inferFormat(iso),
      },
      interface: "ide",
      media: "cdrom",
      readOnly: true,
      legacySlot: "hdc",
    });
  }

  /**
   * Boot order letters: `c` first disk, `d` CD-ROM, `n` network.
   * @example
   * ```ts
   * vm().boot("dc");   // -boot order=dc: the installer CD first, then the disk
   * ```
   */
  boot(order: string): VmBuilder {
    return this.with({ bootOrder: checkWord(order, "boot order", /^[a-p]+$/) });
  }

  /**
   * Direct kernel boot (no bootloader): kernel, optional initrd and kernel command line.
   * @example
   * ```ts
   * vm().kernel("vmlinuz", { initrd: "initrd.img", append: "console=ttyS0" });
   * vm().kernel({ kernel: "vmlinuz", append: "console=ttyS0 quiet" });
   * ```
   */
  kernel(kernel: string | KernelSpec, options: { readonly initrd?: string; readonly append?: string } = {}): VmBuilder {
    const k: KernelSpec = typeof kernel === "string" ? { kernel, ...options } : kernel;
    checkPath(k.kernel, "kernel");
    if (k.initrd !== undefined) checkPath(k.initrd, "initrd");
    const spec: KernelSpec = {
      kernel: k.kernel,
      ...(k.initrd !== undefined ? { initrd: k.initrd } : {}),
      ...(k.append !== undefined ? { append: k.append } : {}),
    };
    validateSpec({ ...DEFAULT_SPEC, kernel: spec });
    return this.with({ kernel: spec });
  }

  /**
   * Local display: `"none"` (the default), or a window (`"gtk"`, `"sdl"`, e.g. over X11
   * forwarding as in the lab), or `"curses"` in the terminal.
   * @example
   * ```ts
   * vm().display("gtk");   // -display gtk
   * ```
   */
  display(kind: "none" | "gtk" | "sdl" | "curses"): VmBuilder {
    oneOf("display", kind, ["none", "gtk", "sdl", "curses"]);
    return this.with({ display: { kind } });
  }

  /**
   * A VNC server on display N (TCP 5900+N), on loopback unless `listen` says otherwise;
   * `"auto"` takes the first free display from 0 to 99 (QEMU tries them in turn), and the
   * started VM says which (`m.vnc.port`): no fixed port to collide with another VM.
   * @example
   * ```ts
   * vm().vnc(1);                                         // -vnc 127.0.0.1:1 -> port 5901
   * vm().vnc(1, { listen: "0.0.0.0", websocket: true }); // also ws://host:5701 for noVNC
   * vm().vnc("auto");                                    // -vnc 127.0.0.1:0,to=99
   * ```
   */
  vnc(display: number | "auto", options: VncOptions = {}): VmBuilder {
    const websocket = options.websocket ?? false;
    const auto = display === "auto";
    if (auto) display = AUTO_VNC_DISPLAYS[0];
    checkVncDisplay(display as number, websocket);
    const listen = options.listen ?? "127.0.0.1";
    if (typeof listen !== "string" || !/^[A-Za-z0-9.:_-]*$/.test(listen)) {
      throw new SpecError(`invalid VNC listen address ${JSON.stringify(listen)}`, {
        code: "SPEC_VALUE",
        advice: 'give an IP address or host name, e.g. "127.0.0.1", "0.0.0.0" or "::1"',
      });
    }
    const password = options.password ?? false;
    return this.with({
      vnc: { display: display as number, ...(auto ? { to: AUTO_VNC_DISPLAYS[1] } : {}), listen, websocket, password },
    });
  }

  /**
   * Where the first serial port goes: a unix socket qemukit connects to (`"socket"`, the
   * default), a log file, the terminal (`"stdio"`), or nowhere.
   * @example
   * ```ts
   * vm().serial({ file: "console.log" });
   * vm().serial("stdio");
   * ```
   */
  serial(choice: SerialChoice): VmBuilder {
    if (typeof choice === "object" && choice !== null) {
      return this.with({ serial: { kind: "file", path: checkPath(choice.file, "serial log") } });
    }
    oneOf("serial", choice, ["socket", "stdio", "none"]);
    return this.with({ serial: { kind: choice } as VmSpec["serial"] });
  }

  /**
   * Keep (the default) or drop qemukit's QMP monitor socket. Without it a started VM
   * cannot be controlled, only killed.
   * @example
   * ```ts
   * vm().qmp(false).toCommandLine();   // no -chardev/-mon for QMP
   * ```
   */
  qmp(enabled = true): VmBuilder {
    return this.with({ qmp: enabled });
  }

  /**
   * Add a QEMU guest agent channel (on by `agent()`, off by `agent(false)`; off by default):
   * a virtio-serial port named `org.qemu.guest_agent.0` (the name `qemu-ga` looks for) whose
   * host end is `qga.sock` in the run directory. With it, `m.$` and file copies go through the
   * agent; without it, through the serial console. The built-in Debian guest runs `qemu-ga`.
   * @example
   * ```ts
   * vm().disk(overlay(debian.image)).agent().toArgv();
   * // [..., "-chardev", "socket,id=qga,path=/tmp/qemukit/vm/qga.sock,server=on,wait=off",
   * //  "-device", "virtio-serial-pci,id=qga0", "-device", "virtserialport,bus=qga0.0,chardev=qga,name=org.qemu.guest_agent.0"]
   * ```
   */
  agent(enabled = true): VmBuilder {
    return this.with({ agent: enabled });
  }

  /**
   * Guest network: `"none"`, or user-mode networking (`"user"`, the default) with optional
   * host port forwards and NIC model.
   * @example
   * ```ts
   * vm().network("none");
   * vm().network({ user: { 2222: 22 }, model: "virtio-net-pci" });
   * ```
   */
  network(choice: NetworkChoice): VmBuilder {
    if (choice === "none") return this.with({ network: { kind: "none" } });
    if (choice === "user") return this.with({ network: { kind: "user", forwards: [], model: "e1000" } });
    if (typeof choice !== "object" || choice === null) throw valueError("network", choice, ["none", "user"]);
    const model = oneOf("NIC model", choice.model, ["virtio-net-pci", "e1000"]) ?? "e1000";
    let b = this.with({ network: { kind: "user", forwards: [], model } });
    const user = choice.user ?? {};
    const forwards: PortForward[] = Array.isArray(user)
      ? user
      : Object.entries(user).map(([h, g]) => ({
          protocol: "tcp",
          hostAddress: "127.0.0.1",
          hostPort: Number(h),
          guestPort: g as number,
        }));
    for (const f of forwards)
      b = b.forward(f.hostPort, f.guestPort, { protocol: f.protocol, hostAddress: f.hostAddress });
    return b;
  }

  /**
   * Forward a host port (on loopback by default) to a guest port; turns on user-mode
   * networking if it was off. `"auto"` lets the host pick a free port (hostfwd port 0);
   * the started VM reports it (`await m.hostPort(22)`).
   * @example
   * ```ts
   * vm().forward(2222, 22);   // ssh -p 2222 localhost reaches the guest's sshd
   * vm().forward("auto", 22); // a free host port; await m.hostPort(22) says which
   * ```
   */
  forward(hostPort: number | "auto", guestPort: number, options: ForwardOptions = {}): VmBuilder {
    if (hostPort === "auto") hostPort = 0;
    else checkPort(hostPort, "host port");
    checkPort(guestPort, "guest port");
    const protocol = oneOf("protocol", options.protocol, ["tcp", "udp"]) ?? "tcp";
    const hostAddress = options.hostAddress ?? "127.0.0.1";
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(hostAddress) && hostAddress !== "") {
      throw new SpecError(`invalid host address ${JSON.stringify(hostAddress)}`, {
        code: "SPEC_VALUE",
        advice: 'give an IPv4 address such as "127.0.0.1" or "0.0.0.0" ("" = all interfaces)',
      });
    }
    const net =
      this.spec.network.kind === "user"
        ? this.spec.network
        : { kind: "user" as const, forwards: [], model: "e1000" as const };
    const forward: PortForward = { protocol, hostAddress, hostPort, guestPort };
    const next = this.with({ network: { ...net, forwards: [...net.forwards, forward] } });
    validateSpec({ ...DEFAULT_SPEC, network: next.spec.network });
    return next;
  }

  /**
   * Let QEMU outlive the script (`-daemonize`, with a pidfile in the run directory).
   * @example
   * ```ts
   * vm().hda("debian-11.qcow2").vnc(1).daemonize();   // the lab's `--daemonize`
   * ```
   */
  daemonize(enabled = true): VmBuilder {
    return this.with({ daemonize: enabled });
  }

  /**
   * Keep the run directory (and temporary overlays) after the VM stops.
   * @example
   * ```ts
   * vm().disk(overlay("base.qcow2")).keep();   // inspect the overlay afterwards
   * ```
   */
  keep(enabled = true): VmBuilder {
    return this.with({ keep: enabled });
  }

  /**
   * The escape hatch: raw QEMU arguments appended as given (never split or quoted).
   * @example
   * ```ts
   * vm().args("-device", "virtio-rng-pci", "-no-reboot");
   * ```
   */
  args(...raw: string[]): VmBuilder {
    for (const a of raw) {
      if (typeof a !== "string" || a.includes("\0")) {
        throw new SpecError(`invalid raw argument ${JSON.stringify(a)}`, {
          code: "SPEC_VALUE",
          advice: "raw arguments are strings without NUL bytes",
        });
      }
    }
    return this.with({ extraArgs: [...this.spec.extraArgs, ...raw] });
  }

  /**
   * Compile to a full plan (argv, overlays to create, socket paths). `runDir` defaults to
   * `/tmp/qemukit/<name or "vm">` so previews are deterministic.
   * @example
   * ```ts
   * vm().disk(overlay("base.qcow2")).compile().overlays[0].path;   // "/tmp/qemukit/vm/disk0.qcow2"
   * ```
   */
  compile(ctx: Partial<CompileContext> = {}): CompiledVm {
    return compile(this.spec, { runDir: `/tmp/qemukit/${this.spec.name ?? "vm"}`, ...ctx });
  }

  /**
   * The qemu argv, program first.
   * @example
   * ```ts
   * vm().memory(512).smp(2).toArgv();   // ["qemu-system-x86_64", ..., "-m", "512", "-smp", "2", ...]
   * ```
   */
  toArgv(ctx: Partial<CompileContext> = {}): string[] {
    return [...this.compile(ctx).argv];
  }

  /**
   * A POSIX shell command line that runs as is: `mkdir -p` of the run directory and
   * `qemu-img create` of each overlay first, then QEMU, every word quoted as needed.
   * @example
   * ```ts
   * console.log(vm().memory(512).smp(2).disk(overlay("a,b.qcow2")).vnc(1).toCommandLine());
   * ```
   */
  toCommandLine(ctx: Partial<CompileContext> = {}): string {
    return commandLineOf(this.compile(ctx), ctx.runDir ?? `/tmp/qemukit/${this.spec.name ?? "vm"}`);
  }

  /**
   * Libvirt domain XML for this VM, without starting anything (a dry run, like
   * {@link VmBuilder.toCommandLine}). Features libvirt cannot run are refused here with
   * "not supported on libvirt: X, because Y".
   * @example
   * ```ts
   * console.log(vm().name("web1").memory(512).vnc(1).toDomainXml());   // <domain type="qemu" ...>
   * ```
   */
  toDomainXml(ctx: DomainContext = {}): string {
    return compileDomain(this.spec, ctx).xml;
  }

  /**
   * Start the VM (creates the run directory and overlays, spawns QEMU, connects QMP and
   * the console). The machine layer is loaded only now, so describing VMs stays I/O-free.
   * With `{ on: libvirt(uri) }` the VM runs as a libvirt domain instead, with the same
   * handle contract (`VmHandle`).
   * @example
   * ```ts
   * await using m = await vm().accel("tcg").disk(overlay("debian-12.qcow2")).start();
   * await m.console.waitFor(/login:/);
   * await using d = await vm().kernel(k).start({ on: libvirt("qemu:///system") });
   * ```
   */
  start(options?: StartOptions): Promise<RunningVm>;
  start(options: LibvirtStartOptions): Promise<LibvirtVm>;
  async start(options?: StartOptions | LibvirtStartOptions): Promise<RunningVm | LibvirtVm> {
    if (options && "on" in options && options.on) {
      const { startOnLibvirt } = await import("../libvirt/start.ts");
      return startOnLibvirt(this.spec, options.on, options);
    }
    const { startVm } = await import("../machine/start.ts");
    return startVm(this.spec, options);
  }

  /**
   * Make (or find in the cache) a template of this VM: boot once, wait for `ready`, save
   * the machine state, freeze the disk layers. `t.start()` then starts clones in well
   * under a second. See docs/templates.md.
   * @example
   * ```ts
   * const t = await vm().accel("tcg").memory(512).disk(overlay(g.image)).template({ ready: Wait.forConsole(g.prompt) });
   * await using m = await t.start();
   * ```
   */
  async template(options: TemplateOptions): Promise<Template> {
    const { template } = await import("../template/template.ts");
    return template(this.spec, options);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    let line: string;
    try {
      line = this.toCommandLine();
    } catch (e) {
      line = `(does not compile: ${(e as Error).message.split("\n")[0]})`;
    }
    return `VmBuilder { ${line} }`;
  }
}

/**
 * Join a compiled VM into one runnable shell line (see {@link VmBuilder.toCommandLine}).
 *
 * @example
 * ```ts
 * commandLineOf(vm().compile({ runDir: "/tmp/qk/a" }), "/tmp/qk/a");   // "mkdir -p -- /tmp/qk/a && qemu-system-x86_64 ..."
 * ```
 */
export function commandLineOf(compiled: CompiledVm, runDir: string): string {
  const steps: string[][] = [];
  if (compiled.qmpSocket || compiled.consoleSocket || compiled.pidfile || compiled.overlays.some((o) => o.temporary)) {
    steps.push(["mkdir", "-p", "--", runDir]);
  }
  for (const o of compiled.overlays) {
    steps.push(["qemu-img", "create", "-q", "-f", "qcow2", "-b", o.base, "-F", o.baseFormat, o.path]);
  }
  steps.push([...compiled.argv]);
  return steps.map((s) => s.map(shellQuote).join(" ")).join(" && ");
}

/**
 * Start describing a VM. Every method returns a new builder; nothing runs until `start()`.
 *
 * @example
 * ```ts
 * const b = vm().memory(512).smp(2).disk(overlay("debian-12.qcow2")).vnc(1);
 * console.log(b.toCommandLine());
 * ```
 */
export function vm(): VmBuilder {
  return new VmBuilder(DEFAULT_SPEC);
}
