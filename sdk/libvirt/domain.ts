/**
 * The libvirt compiler: a {@link VmSpec} becomes domain XML. Pure: start-time facts (socket
 * and disk paths on the host that runs the VM) come in through {@link DomainContext}.
 *
 * qemukit keeps its own QMP monitor and serial socket next to libvirt's (docs/libvirt.md
 * says why): the monitor is added with `<qemu:commandline>`, the console is a unix
 * `<serial>`. The domain's `<metadata>` records both so `attach()` finds them again.
 * @module
 */
import { posix } from "node:path";
import { SpecError } from "../errors/errors.ts";
import { formatFromExtension } from "../spec/format.ts";
import type { DiskSpec, ImageFormat, VmSpec } from "../spec/types.ts";
import { LEGACY_INDEX, validateSpec } from "../spec/validate.ts";
import { checkLibvirtSupport } from "./features.ts";
import { el, renderXml, type XmlNode } from "./xml.ts";

/** XML namespace of qemukit's `<metadata>` element in a domain. */
export const QEMUKIT_XMLNS = "https://qemukit.dev/xmlns/libvirt/1";
const QEMU_XMLNS = "http://libvirt.org/schemas/domain/qemu/1.0";

/** A disk as it exists on the host that runs the VM. */
export interface PlacedDisk {
  readonly path: string;
  readonly format: ImageFormat;
}

/** Start-time facts for {@link compileDomain}; every field has a default for dry runs. */
export interface DomainContext {
  /** Directory on the VM's host for qemukit's QMP and console sockets. @default /tmp/qemukit/NAME */
  readonly runDir?: string;
  /** Where each disk of `spec.disks` is on the VM's host (overlays made, volumes placed). */
  readonly disks?: readonly PlacedDisk[];
  /** Kernel and initrd paths on the VM's host. @default the spec's, resolved against cwd */
  readonly kernel?: { readonly kernel: string; readonly initrd?: string };
  /** The VM runs on another host (qemu+ssh://). @default false */
  readonly remote?: boolean;
  /** VNC password when the spec asks for one (libvirt needs a value; set yours later over QMP). */
  readonly vncPassword?: string;
  /** Libvirt storage volumes qemukit made for this VM (`pool/name`), removed with it. */
  readonly volumes?: readonly string[];
  /** qemukit's QMP socket path on the VM's host. @default RUNDIR/qmp.sock */
  readonly qmpSocket?: string;
  /** The serial console socket path on the VM's host. @default RUNDIR/console.sock */
  readonly consoleSocket?: string;
  /** Record that the domain ends with the connection that created it (for attach()). */
  readonly autodestroy?: boolean;
  /** Directory relative paths are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

/** Output of {@link compileDomain}. */
export interface CompiledDomain {
  /** The domain's name (the spec's, or "vm"). */
  readonly name: string;
  readonly xml: string;
  /** qemukit's QMP socket on the VM's host. */
  readonly qmpSocket: string;
  /** The serial console socket on the VM's host, when serial is "socket". */
  readonly consoleSocket?: string;
  /** Overlays (local runs) to create before the domain starts, as the direct compiler plans them. */
  readonly overlays: readonly { base: string; baseFormat: ImageFormat; path: string; temporary: boolean }[];
}

const TARGET_PREFIX = { virtio: "vd", scsi: "sd", ide: "hd" } as const;
const BOOT_DEV: Readonly<Record<string, string>> = { c: "hd", d: "cdrom", n: "network" };
const NIC_MODEL = { "virtio-net-pci": "virtio", e1000: "e1000" } as const;

function letters(n: number): string {
  return n < 26 ? String.fromCharCode(97 + n) : letters(Math.floor(n / 26) - 1) + letters(n % 26);
}

function resolveFile(path: string, cwd: string): string {
  return posix.resolve(cwd, path);
}

function diskFormat(d: DiskSpec, baseFormat?: ImageFormat): ImageFormat {
  if (d.source.kind === "file") return d.source.format;
  const f = d.source.baseFormat ?? baseFormat ?? formatFromExtension(d.source.base);
  if (!f) {
    throw new SpecError(`cannot tell the format of overlay base ${JSON.stringify(d.source.base)}`, {
      code: "SPEC_FORMAT",
      advice: `pass overlay(${JSON.stringify(d.source.base)}, { baseFormat: "qcow2" }) (or "raw"...)`,
    });
  }
  return f;
}

function diskNodes(
  spec: VmSpec,
  ctx: DomainContext,
  runDir: string,
  cwd: string,
  overlays: CompiledDomain["overlays"][number][],
): XmlNode[] {
  const used = { vd: 0, sd: 0, hd: new Set<number>() };
  for (const d of spec.disks) if (d.legacySlot) used.hd.add(LEGACY_INDEX[d.legacySlot]);
  let nextHd = 0;
  return spec.disks.map((d, i) => {
    let placed = ctx.disks?.[i];
    if (!placed) {
      if (d.source.kind === "overlay") {
        const path = d.source.path ?? posix.join(runDir, `disk${i}.qcow2`);
        overlays.push({
          base: resolveFile(d.source.base, cwd),
          baseFormat: diskFormat(d),
          path,
          temporary: d.source.path === undefined,
        });
        placed = { path, format: "qcow2" };
      } else {
        placed = { path: resolveFile(d.source.path, cwd), format: d.source.format };
      }
    }
    let dev: string;
    if (d.interface === "ide") {
      let index: number;
      if (d.legacySlot) index = LEGACY_INDEX[d.legacySlot];
      else {
        while (used.hd.has(nextHd)) nextHd++;
        index = nextHd++;
      }
      dev = `hd${letters(index)}`;
    } else {
      const prefix = TARGET_PREFIX[d.interface];
      dev = `${prefix}${letters(used[prefix]++)}`;
    }
    return el("disk", { type: "file", device: d.media }, [
      el("driver", { name: "qemu", type: placed.format, cache: d.cache, io: d.aio }),
      el("source", { file: placed.path }),
      el("target", { dev, bus: d.interface }),
      d.readOnly && el("readonly"),
      d.bootIndex !== undefined && el("boot", { order: d.bootIndex + 1 }),
    ]);
  });
}

function cpuNode(spec: VmSpec): XmlNode | undefined {
  const { cpus, sockets, cores, threads } = spec.smp;
  const topo =
    sockets !== undefined || cores !== undefined || threads !== undefined
      ? el("topology", {
          sockets: sockets ?? cpus / ((cores ?? 1) * (threads ?? 1)),
          dies: 1,
          cores: cores ?? 1,
          threads: threads ?? 1,
        })
      : undefined;
  if (!spec.cpu) return topo ? el("cpu", {}, [topo]) : undefined;
  const [model, ...flags] = spec.cpu.split(",");
  const features = flags.map((f) =>
    el("feature", { policy: f.startsWith("+") ? "require" : "disable", name: f.slice(1) }),
  );
  if (model === "host") return el("cpu", { mode: "host-passthrough" }, [topo, ...features]);
  if (model === "max") return el("cpu", { mode: "maximum" }, [topo, ...features]);
  return el("cpu", { mode: "custom", match: "exact" }, [
    el("model", { fallback: "forbid" }, model!),
    topo,
    ...features,
  ]);
}

function domainType(spec: VmSpec): "kvm" | "qemu" {
  const first = typeof spec.accel === "string" ? spec.accel : spec.accel[0];
  // "auto" is TCG: libvirt has no timed probe, and the hosts qemukit is tested on run KVM slower than TCG.
  return first === "kvm" ? "kvm" : "qemu";
}

/**
 * Compiles a spec to libvirt domain XML, after refusing what libvirt cannot run.
 *
 * @example
 * ```ts
 * const d = compileDomain(vm().name("web1").memory(512).spec, { runDir: "/tmp/qk/web1" });
 * d.xml;        // "<domain type=\"qemu\" ...>"
 * d.qmpSocket;  // "/tmp/qk/web1/qmp.sock"
 * ```
 * @throws {LibvirtError} `LIBVIRT_UNSUPPORTED`: "not supported on libvirt: X, because Y".
 * @throws {SpecError} when the spec itself is invalid.
 */
export function compileDomain(spec: VmSpec, ctx: DomainContext = {}): CompiledDomain {
  validateSpec(spec);
  checkLibvirtSupport(spec, { remote: ctx.remote ?? false });
  const name = spec.name ?? "vm";
  const cwd = ctx.cwd ?? process.cwd();
  const runDir = ctx.runDir ?? `/tmp/qemukit/${name}`;
  const qmpSocket = ctx.qmpSocket ?? posix.join(runDir, "qmp.sock");
  const consoleSocket =
    spec.serial.kind === "socket" ? (ctx.consoleSocket ?? posix.join(runDir, "console.sock")) : undefined;
  const overlays: CompiledDomain["overlays"][number][] = [];
  const disks = diskNodes(spec, ctx, runDir, cwd, overlays);

  const qemuArgs: string[] = [
    "-chardev",
    `socket,id=qkqmp,path=${qmpSocket.replaceAll(",", ",,")},server=on,wait=off`,
    "-mon",
    "chardev=qkqmp,mode=control",
  ];
  let nic: XmlNode | undefined;
  if (spec.network.kind === "user") {
    const net = spec.network;
    if (net.forwards.length === 0) {
      nic = el("interface", { type: "user" }, [el("model", { type: NIC_MODEL[net.model] })]);
    } else {
      // libvirt 9 forwards ports only through passt; QEMU's own user network does it here.
      const fwd = net.forwards.map(
        (f) => `,hostfwd=${f.protocol}:${f.hostAddress ?? ""}:${f.hostPort}-:${f.guestPort}`,
      );
      qemuArgs.push("-netdev", `user,id=qknet0${fwd.join("")}`, "-device", `${net.model},netdev=qknet0`);
    }
  }
  qemuArgs.push(...spec.extraArgs);

  const kernel = spec.kernel
    ? (ctx.kernel ?? {
        kernel: resolveFile(spec.kernel.kernel, cwd),
        ...(spec.kernel.initrd !== undefined ? { initrd: resolveFile(spec.kernel.initrd, cwd) } : {}),
      })
    : undefined;
  const os = el("os", {}, [
    el("type", { arch: "x86_64", machine: spec.machine }, "hvm"),
    kernel && el("kernel", {}, kernel.kernel),
    kernel?.initrd !== undefined && el("initrd", {}, kernel.initrd),
    spec.kernel?.append !== undefined && el("cmdline", {}, spec.kernel.append),
    ...[...(spec.bootOrder ?? "")].map((c) => el("boot", { dev: BOOT_DEV[c] })),
  ]);

  const vnc = spec.vnc;
  const graphics =
    vnc &&
    el("graphics", {
      type: "vnc",
      port: vnc.to !== undefined ? -1 : 5900 + vnc.display,
      autoport: vnc.to !== undefined ? "yes" : "no",
      websocket: vnc.websocket ? (vnc.to !== undefined ? -1 : 5700 + vnc.display) : undefined,
      listen: vnc.listen,
      passwd: vnc.password ? (ctx.vncPassword ?? "unset") : undefined,
    });

  const serial =
    spec.serial.kind === "socket"
      ? el("serial", { type: "unix" }, [el("source", { mode: "bind", path: consoleSocket }), el("target", { port: 0 })])
      : spec.serial.kind === "file"
        ? el("serial", { type: "file" }, [
            el("source", { path: resolveFile(spec.serial.path, cwd) }),
            el("target", { port: 0 }),
          ])
        : undefined;

  const meta = el("qemukit:vm", { "xmlns:qemukit": QEMUKIT_XMLNS }, [
    el("qemukit:qmp", {}, qmpSocket),
    consoleSocket !== undefined && el("qemukit:console", {}, consoleSocket),
    el("qemukit:rundir", {}, runDir),
    ctx.autodestroy && el("qemukit:autodestroy", {}, "yes"),
    ...(ctx.volumes ?? []).map((v) => el("qemukit:volume", {}, v)),
  ]);

  const domain = el("domain", { type: domainType(spec), "xmlns:qemu": QEMU_XMLNS }, [
    el("name", {}, name),
    el("metadata", {}, [meta]),
    el("memory", { unit: "MiB" }, String(spec.memoryMiB)),
    el("vcpu", {}, String(spec.smp.cpus)),
    os,
    el("features", {}, [el("acpi")]),
    cpuNode(spec),
    el("on_poweroff", {}, "destroy"),
    el("on_reboot", {}, "restart"),
    el("on_crash", {}, "destroy"),
    el("devices", {}, [
      // A direct start has no USB (-nodefaults); without this libvirt adds a UHCI controller.
      el("controller", { type: "usb", model: "none" }),
      ...disks,
      nic,
      serial,
      graphics,
      // QEMU's standard VGA, as the direct backend adds it: VNC and screenshots need a screen.
      el("video", {}, [el("model", { type: "vga" })]),
      el("memballoon", { model: "none" }),
    ]),
    el(
      "qemu:commandline",
      {},
      qemuArgs.map((a) => el("qemu:arg", { value: a })),
    ),
  ]);
  return Object.freeze({
    name,
    xml: renderXml(domain),
    qmpSocket,
    ...(consoleSocket !== undefined ? { consoleSocket } : {}),
    overlays: Object.freeze(overlays),
  });
}
