/**
 * What a template's saved state depends on, and how two specs differ in it.
 *
 * A saved machine state only loads into a QEMU with the same devices, and only makes sense
 * over the same disk contents. So a template is keyed by the spec without its per-instance
 * parts (name, VNC server, forwarded host ports, keep/daemonize: none of them is a guest
 * device) plus the identity of every file the guest reads: each layer of each disk's
 * backing chain, the kernel, the initrd, and the QEMU binary.
 *
 * Identity is path + size + mtime + inode, not a content hash: hashing the 300+ MB Debian
 * base would cost about a second in every process that looks a template up, and every
 * write through QEMU or qemu-img moves the mtime (a rebuilt built-in guest also gets a new
 * directory). A byte-for-byte rewrite that keeps size and mtime is the one change this misses.
 * @module
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { walkChain } from "../img/chain.ts";
import { detectFormat } from "../img/detect.ts";
import type { DiskSpec, ImageFormat, VmSpec } from "../spec/types.ts";
import { which } from "../util/exec.ts";
import { TemplateError } from "./errors.ts";

/** Bumped when what a template directory holds, or how it is made, changes. */
export const TEMPLATE_FORMAT_VERSION = 2;

/** One file's identity. */
export interface FileIdentity {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** A disk as the saved state sees it: the device, and where its bytes come from (not the per-VM overlay file). */
function machineDisk(d: DiskSpec, cwd: string): unknown {
  const source =
    d.source.kind === "overlay"
      ? { kind: "overlay", base: resolve(cwd, d.source.base), baseFormat: d.source.baseFormat ?? null }
      : { kind: "file", path: resolve(cwd, d.source.path), format: d.source.format };
  return {
    source,
    interface: d.interface,
    media: d.media,
    readOnly: d.readOnly,
    cache: d.cache ?? null,
    aio: d.aio ?? null,
    legacySlot: d.legacySlot ?? null,
    bootIndex: d.bootIndex ?? null,
  };
}

/**
 * The part of a spec the saved state depends on. Per-instance fields are left out: `name`,
 * `vnc` (a host-side server, not a device), the host side of port forwards, `keep`,
 * `daemonize`; the serial port counts only as present or absent (its host side is per VM).
 *
 * @example
 * ```ts
 * machineOf(vm().name("a").memory(256).spec); // { memoryMiB: 256, ... } without the name
 * ```
 */
export function machineOf(spec: VmSpec, cwd: string = process.cwd()): Record<string, unknown> {
  return {
    memoryMiB: spec.memoryMiB,
    smp: spec.smp,
    accel: spec.accel,
    machine: spec.machine ?? null,
    cpu: spec.cpu ?? null,
    disks: spec.disks.map((d) => machineDisk(d, cwd)),
    bootOrder: spec.bootOrder ?? null,
    kernel: spec.kernel
      ? {
          kernel: resolve(cwd, spec.kernel.kernel),
          initrd: spec.kernel.initrd ? resolve(cwd, spec.kernel.initrd) : null,
          append: spec.kernel.append ?? null,
        }
      : null,
    display: spec.display.kind,
    serial: spec.serial.kind === "none" ? "none" : "present",
    qmp: spec.qmp,
    network: spec.network.kind === "user" ? { kind: "user", model: spec.network.model } : { kind: "none" },
    extraArgs: spec.extraArgs,
  };
}

/**
 * The spec with every path it reads made absolute, so clones started from another
 * directory find the same files. Explicit overlay paths (per VM) are left as given.
 *
 * @example
 * ```ts
 * absoluteSpec(vm().kernel("vmlinuz").spec).kernel?.kernel; // "/home/me/vmlinuz"
 * ```
 */
export function absoluteSpec(spec: VmSpec, cwd: string = process.cwd()): VmSpec {
  return {
    ...spec,
    disks: spec.disks.map((d) => ({
      ...d,
      source:
        d.source.kind === "overlay"
          ? { ...d.source, base: resolve(cwd, d.source.base) }
          : { ...d.source, path: resolve(cwd, d.source.path) },
    })),
    ...(spec.kernel
      ? {
          kernel: {
            ...spec.kernel,
            kernel: resolve(cwd, spec.kernel.kernel),
            ...(spec.kernel.initrd ? { initrd: resolve(cwd, spec.kernel.initrd) } : {}),
          },
        }
      : {}),
  };
}

/** One difference between two machines: a dotted path and both values. */
export interface MachineDifference {
  readonly field: string;
  readonly template: unknown;
  readonly clone: unknown;
}

/**
 * The differences between two machine shapes (from {@link machineOf}), in field order.
 *
 * @example
 * ```ts
 * machineDiff({ memoryMiB: 256 }, { memoryMiB: 512 }); // [{ field: "memoryMiB", template: 256, clone: 512 }]
 * ```
 */
export function machineDiff(template: unknown, clone: unknown, path: string = ""): MachineDifference[] {
  if (Object.is(template, clone)) return [];
  const isObj = (v: unknown) => v !== null && typeof v === "object";
  if (isObj(template) && isObj(clone) && Array.isArray(template) === Array.isArray(clone)) {
    if (Array.isArray(template) && Array.isArray(clone) && template.length !== clone.length) {
      return [{ field: `${path || "(root)"}.length`, template: template.length, clone: clone.length }];
    }
    const a = template as Record<string, unknown>;
    const b = clone as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    const at = (k: string) => (Array.isArray(template) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
    return keys.flatMap((k) => machineDiff(a[k], b[k], at(k)));
  }
  return [{ field: path || "(root)", template, clone }];
}

async function identity(path: string): Promise<FileIdentity> {
  const st = await stat(path);
  return { path, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/**
 * Identities of every file the guest reads, in a stable order: each disk's backing chain
 * (top to bottom), the kernel and initrd, and the QEMU binary.
 */
export async function inputIdentities(
  spec: VmSpec,
  options: { qemuBinary?: string; cwd?: string } = {},
): Promise<{ files: FileIdentity[]; baseFormats: Record<string, ImageFormat> }> {
  const cwd = options.cwd ?? process.cwd();
  const files: FileIdentity[] = [];
  const baseFormats: Record<string, ImageFormat> = {};
  for (const d of spec.disks) {
    if (d.source.kind === "file") {
      if (!d.readOnly && d.media !== "cdrom") {
        throw new TemplateError(
          "TEMPLATE_DISK",
          `the disk ${d.source.path} is used as is and writable: a template cannot freeze it`,
          {
            advice: `give the template a copy-on-write layer instead: .disk(overlay(${JSON.stringify(d.source.path)})), or mark the disk read-only`,
            details: { disk: d.source.path },
          },
        );
      }
      const path = resolve(cwd, d.source.path);
      for (const l of await walkChain(path, d.source.format)) files.push(await identity(l.path));
    } else {
      const base = resolve(cwd, d.source.base);
      const format = d.source.baseFormat ?? (await detectFormat(base));
      baseFormats[d.source.base] = format;
      for (const l of await walkChain(base, format)) files.push(await identity(l.path));
    }
  }
  if (spec.kernel) {
    files.push(await identity(resolve(cwd, spec.kernel.kernel)));
    if (spec.kernel.initrd) files.push(await identity(resolve(cwd, spec.kernel.initrd)));
  }
  const qemu = options.qemuBinary ?? "qemu-system-x86_64";
  const qemuPath = qemu.includes("/") ? resolve(cwd, qemu) : await which(qemu);
  if (qemuPath) files.push(await identity(qemuPath));
  return { files, baseFormats };
}
