/**
 * The compiler: a {@link VmSpec} plus facts known at start time ({@link CompileContext})
 * become QEMU's argv. Pure: no files are read or written; paths are never split or
 * interpreted, only escaped.
 * @module
 */
import { posix } from "node:path";
import { SpecError } from "../errors/errors.ts";
import { formatFromExtension } from "../spec/format.ts";
import type { Accel, DiskSpec, ImageFormat, VmSpec } from "../spec/types.ts";
import { LEGACY_INDEX, validateSpec } from "../spec/validate.ts";
import { optList, plainFile } from "./escape.ts";
import type { CompileContext, CompiledVm, OverlayPlan } from "./types.ts";

/** Unix socket paths are limited to 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** File names qemukit uses inside a run directory. */
export const RUN_FILES = Object.freeze({ qmp: "qmp.sock", console: "console.sock", pidfile: "qemu.pid" });

function socketPath(runDir: string, file: string): string {
  const p = posix.join(runDir, file);
  const bytes = new TextEncoder().encode(p).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SpecError(
      `socket path ${JSON.stringify(p)} is ${bytes} bytes; unix sockets allow ${MAX_SOCKET_PATH_BYTES}`,
      {
        code: "SPEC_PATH",
        advice: "use a shorter run directory (set QEMUKIT_RUN_DIR, e.g. /tmp/qk) or a shorter VM name",
        details: { path: p, bytes },
      },
    );
  }
  return p;
}

function resolveBaseFormat(disk: DiskSpec & { source: { kind: "overlay" } }, ctx: CompileContext): ImageFormat {
  const f = disk.source.baseFormat ?? ctx.baseFormats?.[disk.source.base] ?? formatFromExtension(disk.source.base);
  if (f) return f;
  throw new SpecError(`cannot tell the format of overlay base ${JSON.stringify(disk.source.base)}`, {
    code: "SPEC_FORMAT",
    advice:
      `pass overlay(${JSON.stringify(disk.source.base)}, { baseFormat: "qcow2" }) (or "raw"...); ` +
      "start() detects it with qemu-img info, a preview cannot",
    details: { base: disk.source.base },
  });
}

function accelList(spec: VmSpec, ctx: CompileContext): readonly Accel[] {
  if (ctx.accel && ctx.accel.length > 0) return ctx.accel;
  if (spec.accel === "auto") return ["kvm", "tcg"];
  return typeof spec.accel === "string" ? [spec.accel] : spec.accel;
}

function vncArg(vnc: NonNullable<VmSpec["vnc"]>): string {
  const host = vnc.listen.includes(":") ? `[${vnc.listen}]` : vnc.listen;
  return optList(`${host}:${vnc.display}`, [
    ["to", vnc.to],
    ["websocket", vnc.websocket ? true : undefined],
    ["password", vnc.password ? true : undefined],
  ]);
}

/** `-blockdev` + `-device` (or the lab's `-drive ...,if=ide,index=N`) for each disk. */
function diskArgs(spec: VmSpec, ctx: CompileContext, overlays: OverlayPlan[]): string[] {
  const out: string[] = [];
  let scsi = false;
  spec.disks.forEach((d, i) => {
    const id = `disk${i}`;
    let file: string;
    let format: ImageFormat;
    if (d.source.kind === "overlay") {
      const temporary = d.source.path === undefined;
      file = d.source.path ?? posix.join(ctx.runDir, `${id}.qcow2`);
      overlays.push({
        base: posix.resolve(ctx.cwd ?? process.cwd(), d.source.base),
        baseFormat: resolveBaseFormat(d as DiskSpec & { source: { kind: "overlay" } }, ctx),
        path: file,
        temporary,
      });
      format = "qcow2";
    } else {
      file = d.source.path;
      format = d.source.format;
    }
    if (d.legacySlot) {
      out.push(
        "-drive",
        optList(undefined, [
          ["file", plainFile(file)],
          ["format", format],
          ["if", "ide"],
          ["index", LEGACY_INDEX[d.legacySlot]],
          ["media", d.media],
          ["readonly", d.readOnly && d.media !== "cdrom" ? true : undefined],
          ["cache", d.cache],
          ["aio", d.aio],
        ]),
      );
      return;
    }
    const direct = d.cache === "none" || d.cache === "directsync" ? true : undefined;
    out.push(
      "-blockdev",
      optList(undefined, [
        ["driver", format],
        ["node-name", id],
        ["read-only", d.readOnly ? true : undefined],
        ["cache.direct", direct],
        ["cache.no-flush", d.cache === "unsafe" ? true : undefined],
        ["file.driver", "file"],
        ["file.filename", file],
        ["file.aio", d.aio],
      ]),
    );
    let driver: string;
    let bus: string | undefined;
    if (d.interface === "virtio") driver = "virtio-blk-pci";
    else if (d.interface === "ide") driver = d.media === "cdrom" ? "ide-cd" : "ide-hd";
    else {
      if (!scsi) {
        out.push("-device", "virtio-scsi-pci,id=scsi0");
        scsi = true;
      }
      driver = d.media === "cdrom" ? "scsi-cd" : "scsi-hd";
      bus = "scsi0.0";
    }
    out.push(
      "-device",
      optList(driver, [
        ["bus", bus],
        ["drive", id],
        ["id", `${id}-dev`],
        ["bootindex", d.bootIndex],
        ["write-cache", d.cache === "writethrough" || d.cache === "directsync" ? false : undefined],
      ]),
    );
  });
  return out;
}

/**
 * Compile a spec into QEMU's argv plus what must exist first (overlays) and where the
 * sockets will be. Uses `-nodefaults` (so nothing appears that the spec does not say)
 * and then adds back the standard VGA card so VNC and `screendump` have a screen.
 *
 * @example
 * ```ts
 * const c = compile(vm().memory(512).spec, { runDir: "/tmp/qk/vm1", accel: ["tcg"] });
 * c.argv;        // ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", ...]
 * c.qmpSocket;   // "/tmp/qk/vm1/qmp.sock"
 * ```
 */
export function compile(spec: VmSpec, ctx: CompileContext): CompiledVm {
  validateSpec(spec);
  if (!ctx.runDir || ctx.runDir.includes("\0")) {
    throw new SpecError("the compile context needs a run directory", {
      code: "SPEC_PATH",
      advice: "pass { runDir } (start() makes one under runRoot())",
    });
  }
  const argv: string[] = [ctx.qemuBinary ?? "qemu-system-x86_64", ...machineArgs(spec, ctx)];
  const overlays: OverlayPlan[] = [];
  const qmpSocket = spec.qmp ? socketPath(ctx.runDir, RUN_FILES.qmp) : undefined;
  if (qmpSocket !== undefined) {
    argv.push(
      "-chardev",
      optList("socket", [
        ["id", "qmp"],
        ["path", qmpSocket],
        ["server", true],
        ["wait", false],
      ]),
    );
    argv.push("-mon", "chardev=qmp,mode=control");
  }
  const serial = serialArgs(spec, ctx, qmpSocket);
  argv.push(...serial.argv, ...diskArgs(spec, ctx, overlays), ...bootArgs(spec), ...networkArgs(spec));
  if (ctx.startPaused) argv.push("-S");
  let pidfile: string | undefined;
  if (spec.daemonize) {
    pidfile = posix.join(ctx.runDir, RUN_FILES.pidfile);
    argv.push("-daemonize", "-pidfile", pidfile);
  }
  argv.push(...spec.extraArgs);
  for (const a of argv) {
    if (a.includes("\0")) {
      throw new SpecError(`argument ${JSON.stringify(a)} contains a NUL byte`, {
        code: "SPEC_PATH",
        advice: "remove the NUL byte",
      });
    }
  }
  return Object.freeze({
    argv: Object.freeze(argv),
    overlays: Object.freeze(overlays),
    ...(qmpSocket !== undefined ? { qmpSocket } : {}),
    ...(serial.consoleSocket !== undefined ? { consoleSocket: serial.consoleSocket } : {}),
    ...(pidfile !== undefined ? { pidfile } : {}),
  });
}

/** The machine itself: name, type, accelerators, CPU, memory, SMP, display, VNC, VGA. */
function machineArgs(spec: VmSpec, ctx: CompileContext): string[] {
  const argv: string[] = [];
  // debug-threads names QEMU's threads ("CPU 0/TCG"), which is what a student sees in `ps -efL`.
  if (spec.name)
    argv.push(
      "-name",
      optList(undefined, [
        ["guest", spec.name],
        ["debug-threads", true],
      ]),
    );
  if (spec.machine) argv.push("-machine", spec.machine);
  for (const a of accelList(spec, ctx)) argv.push("-accel", a);
  if (spec.cpu) argv.push("-cpu", spec.cpu);
  argv.push("-m", String(spec.memoryMiB));
  if (ctx.memoryFile) {
    argv.push(
      "-object",
      optList("memory-backend-file", [
        ["id", "qk-ram"],
        ["size", `${spec.memoryMiB}M`],
        ["mem-path", ctx.memoryFile.path],
        ["share", ctx.memoryFile.share],
      ]),
      "-machine",
      "memory-backend=qk-ram",
    );
  }
  const { cpus, sockets, cores, threads } = spec.smp;
  argv.push(
    "-smp",
    optList(String(cpus), [
      ["sockets", sockets],
      ["cores", cores],
      ["threads", threads],
    ]),
  );
  argv.push("-nodefaults");
  argv.push("-display", spec.display.kind);
  if (spec.vnc) argv.push("-vnc", vncArg(spec.vnc));
  if (spec.machine !== "microvm") argv.push("-device", "VGA");
  return argv;
}

/** The serial console: a socket in the run directory, a log file, or stdio. */
function serialArgs(
  spec: VmSpec,
  ctx: CompileContext,
  qmpSocket: string | undefined,
): { argv: string[]; consoleSocket?: string } {
  if (spec.serial.kind === "none") return { argv: [] };
  const device = ["-device", "isa-serial,chardev=console"];
  if (spec.serial.kind === "socket") {
    const consoleSocket = socketPath(ctx.runDir, RUN_FILES.console);
    return {
      argv: [
        "-chardev",
        optList("socket", [
          ["id", "console"],
          ["path", consoleSocket],
          ["server", true],
          ["wait", false],
        ]),
        ...device,
      ],
      consoleSocket,
    };
  }
  if (spec.serial.kind === "file") {
    if (spec.serial.path === qmpSocket) {
      throw new SpecError("two consoles on one socket: the serial log file is the QMP socket", {
        code: "SPEC_CONFLICT",
        advice: "write the serial log somewhere else",
      });
    }
    return {
      argv: [
        "-chardev",
        optList("file", [
          ["id", "console"],
          ["path", spec.serial.path],
        ]),
        ...device,
      ],
    };
  }
  return { argv: ["-chardev", "stdio,id=console", ...device] };
}

/** Boot order and a directly booted kernel. */
function bootArgs(spec: VmSpec): string[] {
  const argv: string[] = [];
  if (spec.bootOrder) argv.push("-boot", `order=${spec.bootOrder}`);
  if (spec.kernel) {
    argv.push("-kernel", spec.kernel.kernel);
    if (spec.kernel.initrd !== undefined) argv.push("-initrd", spec.kernel.initrd);
    if (spec.kernel.append !== undefined) argv.push("-append", spec.kernel.append);
  }
  return argv;
}

/** User-mode networking with its port forwards, and the NIC. */
function networkArgs(spec: VmSpec): string[] {
  if (spec.network.kind !== "user") return [];
  return [
    "-netdev",
    optList("user", [
      ["id", "net0"],
      ...spec.network.forwards.map(
        (f) => ["hostfwd", `${f.protocol}:${f.hostAddress ?? ""}:${f.hostPort}-:${f.guestPort}`] as const,
      ),
    ]),
    "-device",
    `${spec.network.model},netdev=net0`,
  ];
}
