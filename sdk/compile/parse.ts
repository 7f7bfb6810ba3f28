/**
 * `fromCommandLine`: a qemu-system / kvm command line (such as the lab's
 * `kvm -hda debian-11.qcow2 -m 512 -smp 2 -vnc :1 --daemonize`) back into a builder.
 * @module
 */
import { SpecError } from "../errors/errors.ts";
import { VmBuilder, vm, type DiskOptions, type NetworkChoice } from "../spec/builder.ts";
import { checkFormat } from "../spec/format.ts";
import type { Accel, DiskSpec, ImageFormat, LegacySlot, PortForward, VmSpec } from "../spec/types.ts";
import { LEGACY_INDEX } from "../spec/validate.ts";
import { splitShellWords } from "./shell.ts";

/** Result of {@link fromCommandLine}. */
export interface ParsedCommandLine {
  /** A builder describing everything the spec models. */
  readonly builder: VmBuilder;
  /**
   * Options the spec does not model, each as written (`"-snapshot"`, `"-usb"`,
   * `"-device virtio-rng-pci"`). They are kept, in order, as raw `args()` of the builder.
   */
  readonly unmodelled: string[];
  /** The program named on the line (`kvm`, `qemu-system-x86_64`), if any. */
  readonly program?: string;
}

/** QEMU options that take no value (anything else is assumed to take exactly one). */
const FLAGS = new Set([
  "-S", "-s", "-snapshot", "-no-reboot", "-no-shutdown", "-no-hpet", "-no-acpi",
  "-enable-kvm", "-daemonize", "-nographic", "-full-screen", "-no-user-config", "-usb", "-no-fd-bootchk",
  "-only-migratable", "-preconfig", "-version", "-help", "-h", "-win2k-hack", "-no-quit", "-alt-grab",
  "-ctrl-grab", "-no-frame", "-enable-fips", "-rtc-td-hack", "-old-param", "-semihosting",
  "-writeconfig-help", "-list-accel", "-enable-sync-profile", "-portrait",
]);

const PROGRAMS_IMPLYING_KVM = new Set(["kvm", "qemu-kvm"]);

/**
 * Split a QEMU `a,b=c,d=e,,f` option value into its implied head and key/value pairs
 * (`,,` is a literal comma; a bare key means `key=on`).
 *
 * @example
 * ```ts
 * splitOpts("file=a,,b.qcow2,readonly");  // { head: undefined, pairs: [["file", "a,b.qcow2"], ["readonly", "on"]] }
 * ```
 */
export function splitOpts(value: string): { head?: string; pairs: [string, string][] } {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    if (value[i] === ",") {
      if (value[i + 1] === ",") {
        cur += ",";
        i++;
        continue;
      }
      parts.push(cur);
      cur = "";
    } else cur += value[i];
  }
  parts.push(cur);
  const pairs: [string, string][] = [];
  let head: string | undefined;
  parts.forEach((p, i) => {
    const eq = p.indexOf("=");
    if (eq < 0 && i === 0) head = p;
    else if (eq < 0) pairs.push([p, "on"]);
    else pairs.push([p.slice(0, eq), p.slice(eq + 1)]);
  });
  return { head, pairs };
}

function onOff(v: string): boolean | undefined {
  if (["on", "yes", "true"].includes(v)) return true;
  if (["off", "no", "false"].includes(v)) return false;
  return undefined;
}

function parseForward(rule: string): PortForward | undefined {
  const m = /^(tcp|udp)?:([0-9.]*):(\d+)-:(\d+)$/.exec(rule);
  if (!m) return undefined;
  return { protocol: (m[1] ?? "tcp") as "tcp" | "udp", hostAddress: m[2], hostPort: Number(m[3]), guestPort: Number(m[4]) };
}

/**
 * Parse a QEMU command line into a builder. Accepts a string (split like a POSIX shell
 * would) or an argv; a leading `sudo`, `kvm`, `qemu-kvm` or `qemu-system-*` is
 * recognised (`kvm` means `qemu-system-x86_64 -enable-kvm`, so the spec gets accel
 * `kvm`; switch with `.accel("auto")`). Long `--option` forms are accepted.
 *
 * The result is faithful to QEMU's defaults: no `-m` means 128 MiB, no accelerator means
 * TCG, no `-display`/`-vnc`/`-nographic` means a GTK window, `-vnc :1` listens on all
 * interfaces. qemukit still adds its own QMP and serial console sockets. Options the
 * spec does not model are kept as raw arguments and listed in `unmodelled`.
 *
 * @example
 * ```ts
 * const { builder, unmodelled } = fromCommandLine("sudo kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1 --daemonize");
 * builder.spec.vnc?.display;   // 1
 * unmodelled;                  // []
 * ```
 */
export function fromCommandLine(cmd: string | readonly string[]): ParsedCommandLine {
  const words = typeof cmd === "string" ? splitShellWords(cmd) : [...cmd];
  let i = 0;
  if (words[0] === "sudo") {
    i++;
    while (words[i]?.startsWith("-")) i++;
  }
  let program: string | undefined;
  let accel: Accel[] = [];
  if (words[i] !== undefined && !words[i].startsWith("-")) {
    program = words[i++];
    const base = program.slice(program.lastIndexOf("/") + 1);
    if (PROGRAMS_IMPLYING_KVM.has(base)) accel = ["kvm"];
    else if (!/^qemu-system-/.test(base)) {
      throw new SpecError(`${JSON.stringify(program)} is not a QEMU command`, {
        code: "SPEC_PARSE",
        advice: "pass a qemu-system-x86_64 or kvm command line (or only its options, starting with '-')",
        details: { program },
      });
    }
  }

  let b = vm().memory(128).accel("tcg");
  const raw: string[] = [];
  const unmodelled: string[] = [];
  let explicitAccel: Accel[] | undefined;
  let sawDisplay = false;
  let rawNetwork = false;
  let rawSerial = false;
  let kernel: string | undefined;
  let initrd: string | undefined;
  let append: string | undefined;

  const keep = (opt: string, value?: string) => {
    raw.push(opt, ...(value !== undefined ? [value] : []));
    unmodelled.push(value !== undefined ? `${opt} ${value}` : opt);
  };
  const patch = (p: Partial<VmSpec>) => {
    b = new VmBuilder({ ...b.spec, ...p });
  };
  const nextFreeSlot = (): LegacySlot | undefined =>
    (["hda", "hdb", "hdc", "hdd"] as const).find((s) => !b.spec.disks.some((d) => d.legacySlot === s));

  const own = recogniseOwnPlumbing(words.slice(i).map((w) => (w.startsWith("--") ? w.slice(1) : w)), i);
  if (own.qmp) patch({ qmp: true });
  if (own.serial) patch({ serial: own.serial });
  let nodefaults = false;
  let sawNetwork = false;

  for (; i < words.length; i++) {
    const word = words[i];
    if (!word.startsWith("-")) {
      // QEMU treats a bare word as -hda.
      b = b.hda(word);
      continue;
    }
    const opt = word.startsWith("--") ? word.slice(1) : word;
    if (FLAGS.has(opt)) {
      if (opt === "-enable-kvm") accel = ["kvm"];
      else if (opt === "-daemonize") b = b.daemonize();
      else if (opt === "-nographic") {
        sawDisplay = true;
        b = b.display("none").serial("stdio");
      } else keep(opt);
      continue;
    }
    if (opt === "-nodefaults") {
      nodefaults = true;
      continue;
    }
    const value = words[++i];
    if (own.consumed.has(i)) {
      const disk = own.disks.get(i);
      if (disk) b = b.disk(disk);
      const net = own.networks.get(i);
      if (net) {
        sawNetwork = true;
        b = b.network(net);
      }
      continue;
    }
    if (value === undefined) {
      throw new SpecError(`option ${word} needs a value`, {
        code: "SPEC_PARSE", advice: `complete it, e.g. ${word} <value>`, details: { option: word },
      });
    }
    const { head, pairs } = splitOpts(value);
    const keys = pairs.map(([k]) => k);
    const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k));
    switch (opt) {
      case "-m": {
        const size = head ?? pairs.find(([k]) => k === "size")?.[1];
        if (size !== undefined && only("size")) b = b.memory(/^\d+$/.test(size) ? Number(size) : size);
        else keep(opt, value);
        break;
      }
      case "-smp": {
        if (!only("cpus", "sockets", "cores", "threads")) {
          keep(opt, value);
          break;
        }
        const get = (k: string) => {
          const v = pairs.find(([key]) => key === k)?.[1];
          return v === undefined ? undefined : Number(v);
        };
        b = b.smp({ cpus: head !== undefined ? Number(head) : get("cpus"), sockets: get("sockets"), cores: get("cores"), threads: get("threads") });
        break;
      }
      case "-hda": case "-hdb": case "-hdc": case "-hdd":
        b = b[opt.slice(1) as LegacySlot](value);
        break;
      case "-cdrom":
        b = b.cdrom(value);
        break;
      case "-drive": {
        const r = parseDrive(b, value, nextFreeSlot);
        if (r) b = r;
        else keep(opt, value);
        break;
      }
      case "-vnc": {
        if (value === "none") {
          sawDisplay = true;
          patch({ vnc: undefined });
          break;
        }
        const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(head ?? "");
        if (m && only("websocket", "password") && pairs.every(([, v]) => onOff(v) !== undefined)) {
          sawDisplay = true;
          const flag = (k: string) => pairs.some(([key, v]) => key === k && onOff(v));
          b = b.vnc(Number(m[3]), { listen: m[1] ?? m[2], websocket: flag("websocket"), password: flag("password") });
        } else keep(opt, value);
        break;
      }
      case "-display":
        if (["none", "gtk", "sdl", "curses"].includes(value)) {
          sawDisplay = true;
          b = b.display(value as "none");
        } else {
          sawDisplay = true;
          keep(opt, value);
        }
        break;
      case "-serial":
        if (value === "stdio" || value === "none") b = b.serial(value);
        else if (value.startsWith("file:")) b = b.serial({ file: value.slice(5) });
        else {
          rawSerial = true;
          keep(opt, value);
        }
        break;
      case "-kernel": kernel = value; break;
      case "-initrd": initrd = value; break;
      case "-append": append = value; break;
      case "-boot": {
        const order = head ?? pairs.find(([k]) => k === "order")?.[1];
        if (order !== undefined && only("order") && /^[a-p]+$/.test(order)) b = b.boot(order);
        else keep(opt, value);
        break;
      }
      case "-name": {
        const name = head ?? pairs.find(([k]) => k === "guest")?.[1];
        if (name !== undefined && only("guest", "debug-threads")) b = b.name(name);
        else keep(opt, value);
        break;
      }
      case "-M": case "-machine": {
        const type = head ?? pairs.find(([k]) => k === "type")?.[1];
        const acc = pairs.find(([k]) => k === "accel")?.[1];
        const rest = pairs.filter(([k]) => k !== "type" && k !== "accel");
        if (type !== undefined) b = b.machine(type);
        if (acc !== undefined) {
          const list = acc.split(":");
          if (list.every((a) => a === "kvm" || a === "tcg")) explicitAccel = [...(explicitAccel ?? []), ...(list as Accel[])];
          else rest.push(["accel", acc]);
        }
        if (rest.length > 0) keep("-machine", rest.map(([k, v]) => `${k}=${v.replaceAll(",", ",,")}`).join(","));
        break;
      }
      case "-cpu":
        if (/^[A-Za-z0-9][A-Za-z0-9._,+=-]*$/.test(value)) b = b.cpu(value);
        else keep(opt, value);
        break;
      case "-accel":
        if ((head === "kvm" || head === "tcg") && pairs.length === 0) explicitAccel = [...(explicitAccel ?? []), head];
        else keep(opt, value);
        break;
      case "-nic": case "-net": {
        sawNetwork = true;
        if (value === "none") {
          patch({ network: { kind: "none" } });
          break;
        }
        const forwards = pairs.filter(([k]) => k === "hostfwd").map(([, v]) => parseForward(v));
        const model = pairs.find(([k]) => k === "model")?.[1] ?? "e1000";
        if (opt === "-nic" && head === "user" && only("hostfwd", "model") && forwards.every((f) => f) &&
          (model === "e1000" || model === "virtio-net-pci")) {
          b = b.network({ user: forwards as PortForward[], model });
        } else {
          rawNetwork = true;
          keep(opt, value);
        }
        break;
      }
      case "-pidfile":
        // qemukit's own pidfile lives in the run directory and is re-added by daemonize().
        if (!/(^|\/)qemu\.pid$/.test(value)) keep(opt, value);
        break;
      case "-netdev":
        rawNetwork = true;
        keep(opt, value);
        break;
      default:
        keep(opt, value);
    }
  }

  if (kernel === undefined && (append !== undefined || initrd !== undefined)) {
    throw new SpecError(`${append !== undefined ? "-append" : "-initrd"} is given without -kernel`, {
      code: "SPEC_CONFLICT",
      advice: "add -kernel <vmlinuz> (QEMU only passes a command line or initrd to a kernel it boots directly)",
    });
  }
  if (kernel !== undefined) b = b.kernel(kernel, { ...(initrd !== undefined ? { initrd } : {}), ...(append !== undefined ? { append } : {}) });
  if (!sawDisplay) b = b.display("gtk");
  // Raw network or serial options replace the defaults qemukit would add, as they would replace QEMU's.
  if (rawNetwork || (nodefaults && !sawNetwork)) patch({ network: { kind: "none" } });
  if (rawSerial) patch({ serial: { kind: "none" } });
  b = b.accel(explicitAccel ?? (accel.length > 0 ? accel : ["tcg"]));
  if (raw.length > 0) b = b.args(...raw);
  return { builder: b, unmodelled, ...(program !== undefined ? { program } : {}) };
}

interface OwnPlumbing {
  /** Indexes (into the full word list) of option values already accounted for. */
  readonly consumed: Set<number>;
  readonly disks: Map<number, DiskOptions>;
  readonly networks: Map<number, NetworkChoice>;
  qmp: boolean;
  serial?: VmSpec["serial"];
}

const DISK_DEVICES: Readonly<Record<string, { interface: DiskSpec["interface"]; media: DiskSpec["media"] }>> = {
  "virtio-blk-pci": { interface: "virtio", media: "disk" },
  "ide-hd": { interface: "ide", media: "disk" },
  "ide-cd": { interface: "ide", media: "cdrom" },
  "scsi-hd": { interface: "scsi", media: "disk" },
  "scsi-cd": { interface: "scsi", media: "cdrom" },
};

/**
 * Recognise what qemukit's own compiler emits (QMP and console chardevs, -blockdev +
 * -device pairs, -netdev + NIC pairs, VGA), so its output (e.g. from `ps`) parses back
 * into the same spec instead of into raw arguments. `offset` maps indexes back to `words`.
 */
function recogniseOwnPlumbing(words: readonly string[], offset: number): OwnPlumbing {
  const r: OwnPlumbing = { consumed: new Set(), disks: new Map(), networks: new Map(), qmp: false };
  const opts = (j: number) => splitOpts(words[j] ?? "");
  const find = (opt: string, pred: (head: string | undefined, o: Record<string, string>, n: number) => boolean) => {
    for (let j = 0; j < words.length - 1; j++) {
      if (words[j] !== opt) continue;
      const { head, pairs } = opts(j + 1);
      if (pred(head, Object.fromEntries(pairs), pairs.length)) return j + 1;
    }
    return -1;
  };
  const eat = (...js: number[]) => js.forEach((j) => r.consumed.add(j + offset));
  const serverSocket = (o: Record<string, string>, id: string, n: number) =>
    o.id === id && o.path !== undefined && o.server === "on" && o.wait === "off" && n === 4;

  const qmpDev = find("-chardev", (h, o, n) => h === "socket" && serverSocket(o, "qmp", n));
  const mon = find("-mon", (h, o, n) => h === undefined && o.chardev === "qmp" && o.mode === "control" && n === 2);
  if (qmpDev >= 0 && mon >= 0) {
    r.qmp = true;
    eat(qmpDev, mon);
  }
  const serialDev = find("-device", (h, o, n) => h === "isa-serial" && o.chardev === "console" && n === 1);
  const con = find("-chardev", (h, o, n) =>
    (h === "socket" && serverSocket(o, "console", n)) || (h === "file" && o.id === "console" && o.path !== undefined && n === 2) ||
    (h === "stdio" && o.id === "console" && n === 1));
  if (serialDev >= 0 && con >= 0) {
    const { head, pairs } = opts(con);
    const o = Object.fromEntries(pairs);
    r.serial = head === "socket" ? { kind: "socket" } : head === "file" ? { kind: "file", path: o.path } : { kind: "stdio" };
    eat(serialDev, con);
  }
  const vga = find("-device", (h, _o, n) => h === "VGA" && n === 0);
  if (vga >= 0) eat(vga);

  let scsi = false;
  for (let j = 0; j < words.length - 1; j++) {
    if (words[j] !== "-device") continue;
    const { head, pairs } = opts(j + 1);
    const dev = Object.fromEntries(pairs);
    const kind = head !== undefined ? DISK_DEVICES[head] : undefined;
    if (!kind || !dev.drive || !pairs.every(([k]) => ["drive", "id", "bootindex", "write-cache", "bus"].includes(k))) continue;
    const bd = find("-blockdev", (h, o) => h === undefined && o["node-name"] === dev.drive);
    if (bd < 0) continue;
    const o = Object.fromEntries(opts(bd).pairs);
    const known = ["driver", "node-name", "read-only", "cache.direct", "cache.no-flush", "file.driver", "file.filename", "file.aio"];
    if (!Object.keys(o).every((k) => known.includes(k)) || o["file.driver"] !== "file" || !o["file.filename"]) continue;
    const direct = o["cache.direct"] === "on";
    const noWriteCache = dev["write-cache"] === "off";
    const cache = direct && noWriteCache ? "directsync" : direct ? "none" : o["cache.no-flush"] === "on" ? "unsafe" : noWriteCache ? "writethrough" : undefined;
    r.disks.set(j + 1 + offset, {
      path: o["file.filename"],
      format: o.driver as ImageFormat,
      interface: kind.interface,
      media: kind.media,
      readOnly: o["read-only"] === "on",
      ...(cache !== undefined ? { cache } : {}),
      ...(o["file.aio"] !== undefined ? { aio: o["file.aio"] as DiskSpec["aio"] } : {}),
      ...(dev.bootindex !== undefined ? { bootIndex: Number(dev.bootindex) } : {}),
    });
    if (kind.interface === "scsi") scsi = true;
    eat(j + 1, bd);
  }
  if (scsi) {
    const ctl = find("-device", (h, o, n) => h === "virtio-scsi-pci" && o.id === "scsi0" && n === 1);
    if (ctl >= 0) eat(ctl);
  }
  for (let j = 0; j < words.length - 1; j++) {
    if (words[j] !== "-device") continue;
    const { head, pairs } = opts(j + 1);
    const o = Object.fromEntries(pairs);
    if ((head !== "e1000" && head !== "virtio-net-pci") || !o.netdev || pairs.length !== 1) continue;
    const nd = find("-netdev", (h, n) => h === "user" && n.id === o.netdev);
    if (nd < 0) continue;
    const np = opts(nd).pairs;
    const forwards = np.filter(([k]) => k === "hostfwd").map(([, v]) => parseForward(v));
    if (!np.every(([k]) => k === "id" || k === "hostfwd") || !forwards.every((f) => f)) continue;
    r.networks.set(j + 1 + offset, { user: forwards as PortForward[], model: head });
    eat(j + 1, nd);
  }
  return r;
}

function parseDrive(b: VmBuilder, value: string, nextFreeSlot: () => LegacySlot | undefined): VmBuilder | undefined {
  const { head, pairs } = splitOpts(value);
  if (head !== undefined) return undefined;
  const o = Object.fromEntries(pairs);
  if (pairs.length !== Object.keys(o).length) return undefined;
  const known = ["file", "format", "if", "index", "media", "readonly", "cache", "aio"];
  if (!Object.keys(o).every((k) => known.includes(k)) || o.file === undefined) return undefined;
  const format: ImageFormat | undefined = o.format !== undefined ? checkFormat(o.format, o.file) : undefined;
  const iface = o.if ?? "ide";
  const media = (o.media ?? "disk") as DiskSpec["media"];
  if (media !== "disk" && media !== "cdrom") return undefined;
  const readOnly = o.readonly !== undefined ? onOff(o.readonly) : undefined;
  if (o.readonly !== undefined && readOnly === undefined) return undefined;
  const extra = {
    ...(o.cache !== undefined ? { cache: o.cache as DiskSpec["cache"] } : {}),
    ...(o.aio !== undefined ? { aio: o.aio as DiskSpec["aio"] } : {}),
  };
  const file = o.file.startsWith("./") && o.file.includes(":") ? o.file.slice(2) : o.file;
  if (iface === "ide") {
    let slot: LegacySlot | undefined;
    if (o.index !== undefined) {
      slot = (Object.keys(LEGACY_INDEX) as LegacySlot[]).find((s) => String(LEGACY_INDEX[s]) === o.index);
    } else slot = nextFreeSlot();
    if (!slot) return undefined;
    if (media === "cdrom") {
      if (slot !== "hdc" || Object.keys(extra).length > 0) return undefined;
      return b.cdrom(file, format !== undefined ? { format } : {});
    }
    return b[slot]({ path: file, ...(format !== undefined ? { format } : {}), ...(readOnly !== undefined ? { readOnly } : {}), ...extra });
  }
  if ((iface === "virtio" || iface === "scsi") && o.index === undefined) {
    return b.disk({ path: file, interface: iface, media, ...(format !== undefined ? { format } : {}), ...(readOnly !== undefined ? { readOnly } : {}), ...extra });
  }
  return undefined;
}
