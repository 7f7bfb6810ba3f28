/**
 * Which spec features the libvirt backend refuses, and why: one table, checked before
 * anything starts. Everything the table does not refuse is mapped by `domain.ts`. Pure.
 * @module
 */
import type { VmSpec } from "../spec/types.ts";
import { LibvirtError } from "./errors.ts";

/** One refused feature: when a spec uses it, and why libvirt cannot run it. */
export interface LibvirtRefusal {
  /** The builder call that asks for it, as a user wrote it. */
  readonly feature: string;
  /** True when the spec uses the feature. */
  readonly applies: (spec: VmSpec, where: LibvirtTarget) => boolean;
  /** Why not, in one clause. */
  readonly because: string;
  /** What to do instead. */
  readonly instead: string;
}

/** Where the domain will run: facts the refusals depend on. */
export interface LibvirtTarget {
  /** The VM runs on another host (qemu+ssh://): local paths are not there. */
  readonly remote: boolean;
}

const CPU_FLAG = /^[+-][A-Za-z0-9_.-]+$/;

/**
 * Every feature the libvirt backend refuses.
 *
 * @example
 * ```ts
 * LIBVIRT_REFUSALS.map((r) => r.feature); // ['display("gtk" | "sdl" | "curses")', ...]
 * ```
 */
export const LIBVIRT_REFUSALS: readonly LibvirtRefusal[] = [
  {
    feature: 'display("gtk" | "sdl" | "curses")',
    applies: (s) => s.display.kind !== "none",
    because: "libvirt runs QEMU as a daemon, outside your terminal and desktop session",
    instead: 'use vnc() (or vnc("auto")) and a VNC client, or m.screenshot()',
  },
  {
    feature: 'serial("stdio")',
    applies: (s) => s.serial.kind === "stdio",
    because: "QEMU under libvirt has no terminal to read or write",
    instead: 'keep serial("socket") (the default) and use m.console',
  },
  {
    feature: "qmp(false)",
    applies: (s) => !s.qmp,
    because: "qemukit drives a libvirt VM through its own QMP monitor",
    instead: "leave qmp enabled (the default), or write domain XML yourself",
  },
  {
    feature: 'accel(["kvm", "tcg"]) (a fallback list)',
    applies: (s) => typeof s.accel !== "string" && s.accel.length > 1,
    because: "a libvirt domain has exactly one type (kvm or qemu) and no fallback",
    instead: 'name one accelerator: accel("tcg") or accel("kvm")',
  },
  {
    feature: "agent()",
    applies: (s) => s.agent === true,
    because: "the libvirt backend does not connect to a guest agent channel yet",
    instead: "leave agent() out: m.$ runs guest commands over the serial console there",
  },
  {
    feature: "boot() with letters other than c, d, n",
    applies: (s) => s.bootOrder !== undefined && /[^cdn]/.test(s.bootOrder),
    because: "libvirt's <boot dev> knows the first disk (c), CD-ROM (d) and network (n) only",
    instead: "use c, d and n, or a disk's bootIndex",
  },
  {
    feature: "boot() together with a disk's bootIndex",
    applies: (s) => s.bootOrder !== undefined && s.disks.some((d) => d.bootIndex !== undefined),
    because: "libvirt refuses per-device boot order next to <os><boot>",
    instead: "use either boot() or bootIndex",
  },
  {
    feature: "cpu() with QEMU-only options (key=value)",
    applies: (s) =>
      (s.cpu ?? "")
        .split(",")
        .slice(1)
        .some((f) => !CPU_FLAG.test(f)),
    because: "libvirt's <cpu> has a model and +/- feature flags, not QEMU's -cpu properties",
    instead: 'write the model with flags only, e.g. cpu("qemu64,+ssse3"), or pass raw args()',
  },
  {
    feature: 'disk({ interface: "ide" }) on machine("q35")',
    applies: (s) => s.machine !== undefined && /q35/.test(s.machine) && s.disks.some((d) => d.interface === "ide"),
    because: "libvirt has no IDE controller on q35 (it has SATA)",
    instead: 'use interface "virtio" or "scsi", or machine("pc")',
  },
  {
    feature: 'machine("microvm")',
    applies: (s) => s.machine === "microvm",
    because: "libvirt 9 cannot define microvm domains",
    instead: 'use machine("pc") or machine("q35")',
  },
  {
    feature: "overlay(base, { path }) on a remote host",
    applies: (s, t) => t.remote && s.disks.some((d) => d.source.kind === "overlay" && d.source.path !== undefined),
    because: "a remote VM's overlays are libvirt volumes in the host's storage pool, not paths you choose",
    instead: "use overlay(base) without a path; qemukit names the volume and removes it with the VM",
  },
  {
    feature: "a writable disk(path) on a remote host",
    applies: (s, t) => t.remote && s.disks.some((d) => d.source.kind === "file" && !d.readOnly),
    because: "the remote host would write to its own copy of the image, and your file would not change",
    instead: "use overlay(base) (the base is uploaded once, writes go to a per-VM volume), or readOnly: true",
  },
  {
    feature: "serial({ file }) on a remote host",
    applies: (s, t) => t.remote && s.serial.kind === "file",
    because: "the log file would be written on the remote host, where this script cannot read it",
    instead: 'keep serial("socket") and read m.console.transcript',
  },
];

/**
 * Throws `LIBVIRT_UNSUPPORTED` for the first refused feature the spec uses.
 *
 * @example
 * ```ts
 * checkLibvirtSupport(vm().display("gtk").spec); // throws: not supported on libvirt: display(...)
 * ```
 */
export function checkLibvirtSupport(spec: VmSpec, where: LibvirtTarget = { remote: false }): void {
  for (const r of LIBVIRT_REFUSALS) {
    if (r.applies(spec, where)) {
      throw new LibvirtError("LIBVIRT_UNSUPPORTED", `not supported on libvirt: ${r.feature}, because ${r.because}`, {
        advice: r.instead,
        details: { feature: r.feature, because: r.because },
      });
    }
  }
}
