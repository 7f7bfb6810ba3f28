/**
 * Checks of a whole {@link VmSpec}. The builder checks each value as it is given; this
 * module also checks how values combine, and is run again by the compiler so a spec
 * written by hand (or parsed from a command line) gets the same errors.
 * @module
 */
import { SpecError } from "../errors/errors.ts";
import { checkFormat } from "./format.ts";
import { checkPath } from "./path.ts";
import { MAX_MEMORY_MIB } from "./size.ts";
import type { DiskSpec, LegacySlot, VmSpec } from "./types.ts";

/** Highest VNC display number: display N listens on TCP 5900+N. */
export const MAX_VNC_DISPLAY = 65535 - 5900;
/** Highest display that can also serve a websocket (TCP 5700+N). */
export const MAX_VNC_WEBSOCKET_DISPLAY = 65535 - 5700;
/** More vCPUs than any QEMU x86 machine type accepts. */
export const MAX_CPUS = 4096;

/** IDE index of each legacy slot (`-hda` = 0 ... `-hdd` = 3; `-cdrom` takes 2). */
export const LEGACY_INDEX: Readonly<Record<LegacySlot, number>> = { hda: 0, hdb: 1, hdc: 2, hdd: 3 };

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Throws `SPEC_NAME` unless `name` can name a run directory and a QEMU `-name`.
 *
 * @example
 * ```ts
 * checkName("web-1");   // "web-1"
 * checkName("a b");     // throws SpecError SPEC_NAME
 * ```
 */
export function checkName(name: string): string {
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new SpecError(`invalid VM name ${JSON.stringify(name)}`, {
      code: "SPEC_NAME",
      advice: "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the run directory)",
      details: { name },
    });
  }
  return name;
}

/**
 * Throws `SPEC_MEMORY` unless `mib` is a sane whole number of MiB.
 *
 * @example
 * ```ts
 * checkMemoryMiB(512);   // 512
 * checkMemoryMiB(0);     // throws SpecError SPEC_MEMORY
 * ```
 */
export function checkMemoryMiB(mib: number): number {
  if (!Number.isInteger(mib) || mib <= 0 || mib > MAX_MEMORY_MIB) {
    throw new SpecError(`guest memory ${mib} MiB is not valid`, {
      code: "SPEC_MEMORY",
      advice: `give a whole number of MiB between 1 and ${MAX_MEMORY_MIB}, e.g. memory(512)`,
      details: { memoryMiB: mib },
    });
  }
  return mib;
}

/**
 * Throws `SPEC_SMP` unless the CPU count and topology are consistent.
 *
 * @example
 * ```ts
 * checkSmp({ cpus: 4, sockets: 2, cores: 2 });   // ok
 * checkSmp({ cpus: 4, cores: 3 });               // throws SpecError SPEC_SMP
 * ```
 */
export function checkSmp(smp: VmSpec["smp"]): VmSpec["smp"] {
  const bad = (message: string, advice: string) =>
    new SpecError(message, { code: "SPEC_SMP", advice, details: { smp } });
  for (const key of ["cpus", "sockets", "cores", "threads"] as const) {
    const v = smp[key];
    if (v === undefined && key !== "cpus") continue;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_CPUS) {
      throw bad(`smp ${key} must be a whole number from 1 to ${MAX_CPUS}, got ${v}`, "the lab uses smp(2)");
    }
  }
  const { sockets, cores, threads } = smp;
  if (sockets !== undefined || cores !== undefined || threads !== undefined) {
    const product = (sockets ?? 1) * (cores ?? 1) * (threads ?? 1);
    if (product !== smp.cpus) {
      throw bad(
        `smp topology does not multiply out: ${sockets ?? 1} sockets x ${cores ?? 1} cores x ${threads ?? 1} threads = ${product}, but cpus = ${smp.cpus}`,
        "make sockets x cores x threads equal cpus, or give only cpus",
      );
    }
  }
  return smp;
}

/**
 * Throws `SPEC_VNC_DISPLAY` unless the VNC display (and its websocket port) fit in TCP's port range.
 *
 * @example
 * ```ts
 * checkVncDisplay(1);       // 1 (TCP 5901)
 * checkVncDisplay(60000);   // throws SpecError SPEC_VNC_DISPLAY
 * ```
 */
export function checkVncDisplay(display: number, websocket = false): number {
  if (!Number.isInteger(display) || display < 0 || display > MAX_VNC_DISPLAY) {
    throw new SpecError(`VNC display ${display} is out of range`, {
      code: "SPEC_VNC_DISPLAY",
      advice: `use a display from 0 to ${MAX_VNC_DISPLAY}: display N listens on TCP port 5900+N (the lab uses vnc(1) -> 5901)`,
      details: { display },
    });
  }
  if (websocket && display > MAX_VNC_WEBSOCKET_DISPLAY) {
    throw new SpecError(`VNC display ${display} has no valid websocket port (5700+${display})`, {
      code: "SPEC_VNC_DISPLAY",
      advice: `use a display up to ${MAX_VNC_WEBSOCKET_DISPLAY} with websocket`,
      details: { display },
    });
  }
  return display;
}

/**
 * Throws `SPEC_PORT` unless `port` is a usable TCP/UDP port (1..65535).
 *
 * @example
 * ```ts
 * checkPort(2222, "host port");   // 2222
 * checkPort(0, "host port");      // throws SpecError SPEC_PORT
 * ```
 */
export function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SpecError(`${what} ${port} is not a valid port`, {
      code: "SPEC_PORT",
      advice: "ports are whole numbers from 1 to 65535 (QEMU needs a concrete host port, not 0)",
      details: { port },
    });
  }
  return port;
}

/**
 * Throws `SPEC_VALUE` unless `value` can be passed where QEMU expects a bare identifier (machine, boot letters).
 *
 * @example
 * ```ts
 * checkWord("q35", "machine type");          // "q35"
 * checkWord("q35,smm=off", "machine type");  // throws SpecError SPEC_VALUE
 * ```
 */
export function checkWord(value: string, what: string, re = /^[A-Za-z0-9][A-Za-z0-9._-]*$/): string {
  if (typeof value !== "string" || !re.test(value)) {
    throw new SpecError(`invalid ${what} ${JSON.stringify(value)}`, {
      code: "SPEC_VALUE",
      advice: `a ${what} is a single word such as ${what === "boot order" ? '"cd"' : '"q35"'}; pass extra options with args(...)`,
      details: { [what]: value },
    });
  }
  return value;
}

function slotError(disk: DiskSpec, other: DiskSpec): SpecError {
  const label = (d: DiskSpec) =>
    d.media === "cdrom" && d.legacySlot === "hdc" ? "cdrom (which uses the hdc slot, IDE index 2)" : d.legacySlot!;
  return new SpecError(`two disks use the same legacy IDE slot: ${label(other)} and ${label(disk)}`, {
    code: "SPEC_DISK_SLOT",
    advice:
      "give each of hda/hdb/hdc/hdd/cdrom its own slot (cdrom shares index 2 with hdc: move that disk to hdb or hdd), or use disk() which needs no slot",
    details: { slot: disk.legacySlot },
  });
}

/**
 * Throws `SPEC_DISK_SLOT` when `disk` would reuse a legacy slot already taken in `disks`.
 *
 * @example
 * ```ts
 * checkSlotFree(vm().hdc("a.qcow2").spec.disks, vm().cdrom("b.iso").spec.disks[0]);   // throws SPEC_DISK_SLOT
 * ```
 */
export function checkSlotFree(disks: readonly DiskSpec[], disk: DiskSpec): void {
  if (!disk.legacySlot) return;
  const other = disks.find((d) => d.legacySlot === disk.legacySlot);
  if (other) throw slotError(disk, other);
}

function checkDisk(d: DiskSpec): void {
  if (d.source.kind === "file") {
    checkPath(d.source.path, d.media === "cdrom" ? "cdrom" : "disk");
    checkFormat(d.source.format, d.source.path);
  } else {
    checkPath(d.source.base, "overlay base");
    if (d.source.path !== undefined) checkPath(d.source.path, "overlay");
    if (d.source.baseFormat !== undefined) checkFormat(d.source.baseFormat, d.source.base);
  }
  const conflict = (message: string, advice: string) =>
    new SpecError(message, { code: "SPEC_CONFLICT", advice, details: { disk: d } });
  if (d.media === "cdrom" && d.interface === "virtio") {
    throw conflict("a CD-ROM cannot use the virtio interface", 'use interface "ide" (default) or "scsi" for CD-ROMs');
  }
  if (d.media === "cdrom" && d.source.kind === "overlay") {
    throw conflict(
      "a CD-ROM cannot be an overlay",
      "CD-ROMs are read-only; pass the ISO path directly with cdrom(iso)",
    );
  }
  if (d.aio === "native" && d.cache !== "none" && d.cache !== "directsync") {
    throw conflict(
      `aio "native" needs O_DIRECT, but cache is ${JSON.stringify(d.cache ?? "writeback")}`,
      'add cache: "none" (or "directsync"), or use aio "threads"/"io_uring"',
    );
  }
  if (d.readOnly && d.media === "disk" && d.interface === "ide") {
    throw conflict(
      "IDE hard disks cannot be read-only in QEMU",
      'use interface "virtio" or "scsi" for a read-only disk, or an overlay to protect the image',
    );
  }
  if (d.legacySlot && d.interface !== "ide") {
    throw conflict(
      `legacy slot ${d.legacySlot} is an IDE slot but the disk says interface ${d.interface}`,
      "use disk() for virtio/scsi disks",
    );
  }
  if (d.legacySlot && d.bootIndex !== undefined) {
    throw conflict(
      `bootIndex cannot be set on the legacy ${d.legacySlot} slot`,
      'use boot("c"/"d") with legacy slots, or disk({ ..., bootIndex }) instead',
    );
  }
  if (d.bootIndex !== undefined && (!Number.isInteger(d.bootIndex) || d.bootIndex < 0 || d.bootIndex > 1000)) {
    throw new SpecError(`bootIndex ${d.bootIndex} is not valid`, {
      code: "SPEC_VALUE",
      advice: "use a small whole number, 0 boots first",
    });
  }
}

const MANAGED_IDS = ["qmp", "console", "qga"];

/**
 * Check a whole spec, including how values combine. Returns the spec unchanged; throws
 * {@link SpecError} with a stable code otherwise.
 *
 * @example
 * ```ts
 * validateSpec(vm().memory(512).spec);   // ok
 * ```
 */
export function validateSpec(spec: VmSpec): VmSpec {
  if (spec.name !== undefined) checkName(spec.name);
  checkMemoryMiB(spec.memoryMiB);
  checkSmp(spec.smp);
  if (spec.machine !== undefined) checkWord(spec.machine, "machine type");
  if (spec.bootOrder !== undefined) checkWord(spec.bootOrder, "boot order", /^[a-p]+$/);
  const slots = new Map<LegacySlot, DiskSpec>();
  for (const d of spec.disks) {
    checkDisk(d);
    if (d.legacySlot) {
      const other = slots.get(d.legacySlot);
      if (other) throw slotError(d, other);
      slots.set(d.legacySlot, d);
    }
  }
  if (spec.kernel) {
    checkPath(spec.kernel.kernel, "kernel");
    if (spec.kernel.initrd !== undefined) checkPath(spec.kernel.initrd, "initrd");
    if (spec.kernel.append?.includes("\0")) {
      throw new SpecError("kernel command line contains a NUL byte", {
        code: "SPEC_VALUE",
        advice: "remove the NUL byte",
      });
    }
  }
  if (spec.vnc) {
    checkVncDisplay(spec.vnc.display, spec.vnc.websocket);
    if (spec.vnc.to !== undefined && checkVncDisplay(spec.vnc.to, spec.vnc.websocket) < spec.vnc.display) {
      throw new SpecError(`VNC display range ${spec.vnc.display}..${spec.vnc.to} is empty`, {
        code: "SPEC_VNC_DISPLAY",
        advice: 'give `to` at or above `display`, or use vnc("auto")',
        details: { vnc: spec.vnc },
      });
    }
  }
  if (spec.network.kind === "user") {
    for (const f of spec.network.forwards) {
      if (f.hostPort !== 0) checkPort(f.hostPort, "host port"); // 0: the host picks (forward("auto", ...))
      checkPort(f.guestPort, "guest port");
    }
    const seen = new Set<string>();
    for (const f of spec.network.forwards) {
      if (f.hostPort === 0) continue; // each "auto" forward gets its own free port
      const key = `${f.protocol}:${f.hostAddress ?? ""}:${f.hostPort}`;
      if (seen.has(key)) {
        throw new SpecError(`host ${f.protocol} port ${f.hostPort} is forwarded twice`, {
          code: "SPEC_CONFLICT",
          advice: "forward each host port once",
          details: { forward: f },
        });
      }
      seen.add(key);
    }
  }
  if (spec.serial.kind === "file") checkPath(spec.serial.path, "serial log");
  const conflict = (message: string, advice: string) => new SpecError(message, { code: "SPEC_CONFLICT", advice });
  if (spec.daemonize && spec.serial.kind === "stdio") {
    throw conflict(
      "a daemonized QEMU has no stdio for the serial console",
      'use serial("socket") (the default) or serial({ file }) with daemonize()',
    );
  }
  if (
    spec.daemonize &&
    (spec.display.kind === "gtk" || spec.display.kind === "sdl" || spec.display.kind === "curses")
  ) {
    throw conflict(
      `a daemonized QEMU cannot open a ${spec.display.kind} display`,
      'use vnc(n) or display("none") with daemonize()',
    );
  }
  if (spec.display.kind === "curses" && spec.serial.kind === "stdio") {
    throw conflict(
      "two consoles on one terminal: the curses display and the serial console both use stdio",
      'use serial("socket") with display("curses")',
    );
  }
  // The escape hatch must not quietly take over the sockets qemukit manages.
  const raw = spec.extraArgs.map((a) => a.replace(/^--/, "-"));
  for (let i = 0; i < raw.length; i++) {
    const opt = raw[i];
    const val = raw[i + 1] ?? "";
    if (opt === "-chardev" || opt === "-mon") {
      const id = /(?:^|,)(?:id|chardev)=([^,]*)/.exec(val)?.[1];
      const managed = id === "qmp" ? spec.qmp : id === "qga" ? spec.agent === true : spec.serial.kind !== "none";
      if (id && MANAGED_IDS.includes(id) && managed) {
        const what = id === "qmp" ? "QMP monitor" : id === "qga" ? "guest agent channel" : "serial console";
        const off = id === "qmp" ? "qmp(false)" : id === "qga" ? "agent(false)" : 'serial("none")';
        throw conflict(
          `raw argument ${opt} ${val} reuses the id "${id}" that qemukit gives its ${what}`,
          `choose another id, or turn qemukit's off (${off})`,
        );
      }
    }
    if (
      (opt === "-serial" || opt === "-monitor" || opt === "-qmp") &&
      /^(mon:)?stdio$/.test(val) &&
      spec.serial.kind === "stdio"
    ) {
      throw conflict(
        `two consoles on one socket: the serial console and raw ${opt} ${val} both use stdio`,
        `drop the raw ${opt}, or move the serial console with serial("socket")`,
      );
    }
    if (opt === "-nographic" && spec.serial.kind === "stdio") {
      throw conflict(
        'two consoles on one terminal: raw -nographic and serial("stdio") both use stdio',
        'drop -nographic from args(): serial("stdio") with display("none") is the same',
      );
    }
    if (opt === "-daemonize" && !spec.daemonize) {
      throw conflict("raw -daemonize bypasses qemukit's pidfile", 'use daemonize() instead of args("-daemonize")');
    }
  }
  if (spec.kernel === undefined) {
    for (const o of ["-append", "-initrd"]) {
      if (raw.includes(o)) {
        throw conflict(
          `${o} needs a kernel, but none is given`,
          `use kernel(path, { ${o.slice(1)} }) instead of a raw ${o}`,
        );
      }
    }
  }
  return spec;
}
