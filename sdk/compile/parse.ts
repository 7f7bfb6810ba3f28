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
import { scanShellLine } from "./shell.ts";

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
  /** What the line does that is probably not meant (see {@link CommandLineWarning}); kept as written. */
  readonly warnings: readonly CommandLineWarning[];
}

/** QEMU options that take no value and are kept raw (handled flags are in FLAG_HANDLERS). */
const FLAGS = new Set([
  "-S",
  "-snapshot",
  "-no-reboot",
  "-no-shutdown",
  "-no-hpet",
  "-no-acpi",
  "-full-screen",
  "-no-user-config",
  "-usb",
  "-no-fd-bootchk",
  "-only-migratable",
  "-preconfig",
  "-version",
  "-help",
  "-h",
  "-win2k-hack",
  "-no-quit",
  "-alt-grab",
  "-ctrl-grab",
  "-no-frame",
  "-enable-fips",
  "-rtc-td-hack",
  "-old-param",
  "-semihosting",
  "-writeconfig-help",
  "-list-accel",
  "-enable-sync-profile",
  "-portrait",
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
  return {
    protocol: (m[1] ?? "tcp") as "tcp" | "udp",
    hostAddress: m[2],
    hostPort: Number(m[3]),
    guestPort: Number(m[4]),
  };
}

/** Everything the option handlers read and update while walking one command line. */
interface ParseState {
  b: VmBuilder;
  /** From the program name (`kvm`) or `-enable-kvm`. */
  implied: Accel[];
  /** From `-accel`/`-machine accel=`; wins over `implied`. */
  explicit?: Accel[];
  sawDisplay: boolean;
  sawNetwork: boolean;
  rawNetwork: boolean;
  rawSerial: boolean;
  nodefaults: boolean;
  kernel?: string;
  initrd?: string;
  append?: string;
  readonly raw: string[];
  readonly unmodelled: string[];
  readonly warnings: CommandLineWarning[];
}

/** One option value split by {@link splitOpts}, with the lookups every handler needs. */
interface OptionValue {
  readonly value: string;
  readonly head: string | undefined;
  readonly pairs: readonly [string, string][];
  /** The value of key `k`, if given. */
  get(k: string): string | undefined;
  /** True when every key is one of `allowed`. */
  only(...allowed: string[]): boolean;
}

function optionValue(value: string): OptionValue {
  const { head, pairs } = splitOpts(value);
  return {
    value,
    head,
    pairs,
    get: (k) => pairs.find(([key]) => key === k)?.[1],
    only: (...allowed) => pairs.every(([k]) => allowed.includes(k)),
  };
}

const keep = (s: ParseState, opt: string, value?: string) => {
  s.raw.push(opt, ...(value !== undefined ? [value] : []));
  s.unmodelled.push(value !== undefined ? `${opt} ${value}` : opt);
};
const patch = (s: ParseState, p: Partial<VmSpec>) => {
  s.b = new VmBuilder({ ...s.b.spec, ...p });
};
const nextFreeSlot = (b: VmBuilder): LegacySlot | undefined =>
  (["hda", "hdb", "hdc", "hdd"] as const).find((slot) => !b.spec.disks.some((d) => d.legacySlot === slot));

/** Options without a value; an option in neither table is assumed to take exactly one. */
const FLAG_HANDLERS: Readonly<Record<string, (s: ParseState, opt: string) => void>> = {
  "-enable-kvm": (s) => void (s.implied = ["kvm"]),
  "-daemonize": (s) => void (s.b = s.b.daemonize()),
  "-nographic": (s) => {
    s.sawDisplay = true;
    s.b = s.b.display("none").serial("stdio");
  },
  "-nodefaults": (s) => void (s.nodefaults = true),
  "-s": (s, opt) => {
    warnAllInterfaces(s, opt, "the gdb stub (TCP 1234; -s means -gdb tcp::1234)", "-gdb tcp:127.0.0.1:1234");
    keep(s, opt);
  },
};

/** Options with a value: each reads what the spec models and keeps the rest raw. */
const OPTION_HANDLERS: Readonly<Record<string, (s: ParseState, o: OptionValue, opt: string) => void>> = {
  "-m": (s, o, opt) => {
    const size = o.head ?? o.get("size");
    if (size !== undefined && o.only("size")) s.b = s.b.memory(/^\d+$/.test(size) ? Number(size) : size);
    else keep(s, opt, o.value);
  },
  "-smp": (s, o, opt) => {
    if (!o.only("cpus", "sockets", "cores", "threads")) return keep(s, opt, o.value);
    const num = (k: string) => {
      const v = o.get(k);
      return v === undefined ? undefined : Number(v);
    };
    s.b = s.b.smp({
      cpus: o.head !== undefined ? Number(o.head) : num("cpus"),
      sockets: num("sockets"),
      cores: num("cores"),
      threads: num("threads"),
    });
  },
  ...Object.fromEntries(
    (["hda", "hdb", "hdc", "hdd"] as const).map((slot) => [
      `-${slot}`,
      (s: ParseState, o: OptionValue) => void (s.b = s.b[slot](o.value)),
    ]),
  ),
  "-cdrom": (s, o) => void (s.b = s.b.cdrom(o.value)),
  "-drive": (s, o, opt) => {
    const r = parseDrive(s.b, o.value);
    if (r) s.b = r;
    else keep(s, opt, o.value);
  },
  "-vnc": parseVnc,
  "-display": (s, o, opt) => {
    s.sawDisplay = true;
    if (["none", "gtk", "sdl", "curses"].includes(o.value)) s.b = s.b.display(o.value as "none");
    else keep(s, opt, o.value);
  },
  "-serial": (s, o, opt) => {
    const v = o.value;
    if (v === "stdio" || v === "none") return void (s.b = s.b.serial(v));
    if (v.startsWith("file:")) return void (s.b = s.b.serial({ file: v.slice(5) }));
    warnListeningChardev(s, opt, v);
    s.rawSerial = true;
    keep(s, opt, v);
  },
  "-kernel": (s, o) => void (s.kernel = o.value),
  "-initrd": (s, o) => void (s.initrd = o.value),
  "-append": (s, o) => void (s.append = o.value),
  "-boot": (s, o, opt) => {
    const order = o.head ?? o.get("order");
    if (order !== undefined && o.only("order") && /^[a-p]+$/.test(order)) s.b = s.b.boot(order);
    else keep(s, opt, o.value);
  },
  "-name": (s, o, opt) => {
    const name = o.head ?? o.get("guest");
    if (name !== undefined && o.only("guest", "debug-threads")) s.b = s.b.name(name);
    else keep(s, opt, o.value);
  },
  "-machine": parseMachine,
  "-M": parseMachine,
  "-cpu": (s, o, opt) => {
    if (/^[A-Za-z0-9][A-Za-z0-9._,+=-]*$/.test(o.value)) s.b = s.b.cpu(o.value);
    else keep(s, opt, o.value);
  },
  "-accel": (s, o, opt) => {
    if ((o.head === "kvm" || o.head === "tcg") && o.pairs.length === 0) s.explicit = [...(s.explicit ?? []), o.head];
    else keep(s, opt, o.value);
  },
  "-nic": parseNic,
  "-net": parseNic,
  "-netdev": (s, o, opt) => {
    warnForwards(s, o);
    s.rawNetwork = true;
    keep(s, opt, o.value);
  },
  "-pidfile": (s, o, opt) => {
    // qemukit's own pidfile lives in the run directory and is re-added by daemonize().
    if (!/(^|\/)qemu\.pid$/.test(o.value)) keep(s, opt, o.value);
  },
  ...Object.fromEntries(
    ["-qmp", "-qmp-pretty", "-monitor", "-gdb", "-parallel"].map((opt) => [
      opt,
      (s: ParseState, o: OptionValue) => {
        warnListeningChardev(s, opt, o.value);
        keep(s, opt, o.value);
      },
    ]),
  ),
  "-chardev": (s, o, opt) => {
    if (o.head === "socket" && o.get("port") !== undefined && isServer(o) && isAllInterfaces(o.get("host") ?? "")) {
      warnAllInterfaces(
        s,
        `${opt} ${o.value}`,
        `the character device on TCP ${o.get("port")}`,
        `add host=127.0.0.1 (${opt} ${o.value},host=127.0.0.1)`,
      );
    }
    keep(s, opt, o.value);
  },
};

function parseVnc(s: ParseState, o: OptionValue, opt: string): void {
  if (o.value === "none") {
    s.sawDisplay = true;
    patch(s, { vnc: undefined });
    return;
  }
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(o.head ?? "");
  if (!m || !o.only("websocket", "password") || !o.pairs.every(([, v]) => onOff(v) !== undefined)) {
    keep(s, opt, o.value);
    return;
  }
  s.sawDisplay = true;
  const flag = (k: string) => o.pairs.some(([key, v]) => key === k && onOff(v));
  const listen = m[1] ?? m[2] ?? "";
  const display = Number(m[3]);
  s.b = s.b.vnc(display, { listen, websocket: flag("websocket"), password: flag("password") });
  if (isAllInterfaces(listen)) {
    const ports = `TCP ${5900 + display}${flag("websocket") ? ` and websocket ${5700 + display}` : ""}`;
    const loopback = `-vnc 127.0.0.1:${display}${o.pairs.length > 0 ? `,${o.pairs.map(([k, v]) => `${k}=${v}`).join(",")}` : ""}`;
    warnAllInterfaces(
      s,
      `${opt} ${o.value}`,
      `VNC display :${display} (${ports})`,
      `${loopback}, or vm().vnc(${display}) (loopback is the builder's default)`,
    );
  }
}

function parseMachine(s: ParseState, o: OptionValue): void {
  const type = o.head ?? o.get("type");
  const acc = o.get("accel");
  const rest = o.pairs.filter(([k]) => k !== "type" && k !== "accel");
  if (type !== undefined) s.b = s.b.machine(type);
  if (acc !== undefined) {
    const list = acc.split(":");
    if (list.every((a) => a === "kvm" || a === "tcg")) s.explicit = [...(s.explicit ?? []), ...(list as Accel[])];
    else rest.push(["accel", acc]);
  }
  if (rest.length > 0) keep(s, "-machine", rest.map(([k, v]) => `${k}=${v.replaceAll(",", ",,")}`).join(","));
}

function parseNic(s: ParseState, o: OptionValue, opt: string): void {
  s.sawNetwork = true;
  if (o.value === "none") {
    patch(s, { network: { kind: "none" } });
    return;
  }
  warnForwards(s, o);
  const forwards = o.pairs.filter(([k]) => k === "hostfwd").map(([, v]) => parseForward(v));
  const model = o.get("model") ?? "e1000";
  if (
    opt === "-nic" &&
    o.head === "user" &&
    o.only("hostfwd", "model") &&
    forwards.every((f) => f) &&
    (model === "e1000" || model === "virtio-net-pci")
  ) {
    s.b = s.b.network({ user: forwards as PortForward[], model });
  } else {
    s.rawNetwork = true;
    keep(s, opt, o.value);
  }
}

/** A warning from {@link fromCommandLine}: the line works, but probably not as meant. */
export interface CommandLineWarning {
  /** Stable code: `LISTENS_ON_ALL_INTERFACES` (a port reachable from the network). */
  readonly code: "LISTENS_ON_ALL_INTERFACES";
  /** The option as written (`"-vnc :1"`, `"hostfwd=tcp::2222-:22"`). */
  readonly option: string;
  /** What happens and how to keep it on this machine. */
  readonly message: string;
}

/** An empty host, `0.0.0.0` or `::` binds every interface (QEMU's reading of `tcp::4444`). */
const isAllInterfaces = (host: string) => ["", "0.0.0.0", "0", "::", "[::]"].includes(host);
const isServer = (o: OptionValue) => o.pairs.some(([k, v]) => k === "server" && onOff(v) !== false);

function warnAllInterfaces(s: ParseState, option: string, what: string, instead: string): void {
  s.warnings.push({
    code: "LISTENS_ON_ALL_INTERFACES",
    option,
    message: `${option} listens on all interfaces: ${what} is reachable from other machines; to keep it on this one write ${instead}`,
  });
}

function warnForwards(s: ParseState, o: OptionValue): void {
  for (const [k, v] of o.pairs) {
    const f = k === "hostfwd" ? parseForward(v) : undefined;
    if (f && isAllInterfaces(f.hostAddress ?? "")) {
      warnAllInterfaces(
        s,
        `hostfwd=${v}`,
        `host port ${f.hostPort} (${f.protocol}) forwarded to guest port ${f.guestPort}`,
        `hostfwd=${f.protocol}:127.0.0.1:${f.hostPort}-:${f.guestPort}, or .forward(${f.hostPort}, ${f.guestPort}) in the builder (loopback by default)`,
      );
    }
  }
}

/** `-qmp tcp::4444,server`, `-monitor telnet:0.0.0.0:4444,server,nowait`, `-gdb tcp::1234`... */
function warnListeningChardev(s: ParseState, opt: string, value: string): void {
  const o = optionValue(value);
  const m = /^(tcp|telnet|websocket):(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(o.head ?? "");
  // A tcp chardev without `server` connects out; -gdb always listens.
  if (!m || !isAllInterfaces(m[2] ?? m[3] ?? "") || (opt !== "-gdb" && !isServer(o))) return;
  const what =
    opt === "-gdb"
      ? `the gdb stub on TCP ${m[4]}`
      : opt.startsWith("-qmp") || opt === "-monitor"
        ? `the ${opt === "-monitor" ? "monitor" : "QMP socket"} on TCP ${m[4]} (full control of the VM, no password)`
        : `the ${opt.slice(1)} port on TCP ${m[4]}`;
  const fixed = `${opt} ${m[1]}:127.0.0.1:${m[4]}${value.slice((o.head ?? "").length)}`;
  const own = opt.startsWith("-qmp") ? " (qemukit's own QMP socket is a unix socket in the run directory)" : "";
  warnAllInterfaces(s, `${opt} ${value}`, what, fixed + own);
}

/**
 * Words before the program: `sudo` and its options (`-u root`, `--user=root`, `-E`, `--`),
 * so `sudo -u root kvm ...` reads as `kvm ...`.
 */
const SUDO_VALUE_OPTIONS = new Set("CDghprtTUu".split(""));
const SUDO_LONG_VALUE_OPTIONS = new Set([
  "--close-from",
  "--chdir",
  "--group",
  "--host",
  "--prompt",
  "--role",
  "--type",
  "--command-timeout",
  "--other-user",
  "--user",
  "--chroot",
]);

function skipSudo(words: readonly string[]): number {
  if (words[0] !== "sudo") return 0;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === "--") return i + 1;
    if (w.startsWith("--")) {
      if (SUDO_LONG_VALUE_OPTIONS.has(w)) i++;
      continue;
    }
    if (!w.startsWith("-") || w === "-") return i;
    // A cluster such as -Eu root or -uroot: the first value-taking letter takes the rest, or the next word.
    const letters = w.slice(1);
    const at = [...letters].findIndex((c) => SUDO_VALUE_OPTIONS.has(c));
    if (at >= 0 && at === letters.length - 1) i++;
  }
  return i;
}

/** The program (`kvm`, `qemu-system-x86_64`), if the line names one, and what it implies. */
function readProgram(words: readonly string[], i: number): { next: number; program?: string; implied: Accel[] } {
  const word = words[i];
  if (word === undefined || word.startsWith("-")) return { next: i, implied: [] };
  const base = word.slice(word.lastIndexOf("/") + 1);
  if (PROGRAMS_IMPLYING_KVM.has(base)) return { next: i + 1, program: word, implied: ["kvm"] };
  if (/^qemu-system-/.test(base)) return { next: i + 1, program: word, implied: [] };
  throw new SpecError(`${JSON.stringify(word)} is not a QEMU command`, {
    code: "SPEC_PARSE",
    advice: "pass a qemu-system-x86_64 or kvm command line (or only its options, starting with '-')",
    details: { program: word },
  });
}

/**
 * Parse a QEMU command line into a builder. Accepts a string (split like a POSIX shell
 * would) or an argv; a leading `sudo` (with its options, such as `-u root`), `kvm`,
 * `qemu-kvm` or `qemu-system-*` is recognised (`kvm` means `qemu-system-x86_64
 * -enable-kvm`, so the spec gets accel `kvm`; switch with `.accel("auto")`). Long
 * `--option` forms are accepted. A string with shell syntax (`;`, `&&`, `|`, `$(...)`,
 * redirections) is refused with `SPEC_SHELL_SYNTAX`: pass the QEMU command alone.
 *
 * The result is faithful to QEMU's defaults: no `-m` means 128 MiB, no accelerator means
 * TCG, no `-display`/`-vnc`/`-nographic` means a GTK window, `-vnc :1` listens on all
 * interfaces. What listens on all interfaces (`-vnc :1`, `hostfwd=tcp::2222-:22`, QMP,
 * monitor or gdb over TCP without a host) is kept as written and reported in `warnings`,
 * with the loopback spelling. qemukit still adds its own QMP and serial console sockets.
 * Options the spec does not model are kept as raw arguments and listed in `unmodelled`.
 *
 * @example
 * ```ts
 * const { builder, unmodelled, warnings } = fromCommandLine("sudo kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1 --daemonize");
 * builder.spec.vnc?.display;   // 1
 * unmodelled;                  // []
 * warnings[0].code;            // "LISTENS_ON_ALL_INTERFACES" (write -vnc 127.0.0.1:1 to keep it local)
 * ```
 */
export function fromCommandLine(cmd: string | readonly string[]): ParsedCommandLine {
  const words = typeof cmd === "string" ? splitCommandLine(cmd) : [...cmd];
  const { next, program, implied } = readProgram(words, skipSudo(words));
  const s: ParseState = {
    b: vm().memory(128).accel("tcg"),
    implied,
    sawDisplay: false,
    sawNetwork: false,
    rawNetwork: false,
    rawSerial: false,
    nodefaults: false,
    raw: [],
    unmodelled: [],
    warnings: [],
  };
  const own = recogniseOwnPlumbing(
    words.slice(next).map((w) => (w.startsWith("--") ? w.slice(1) : w)),
    next,
  );
  if (own.qmp) patch(s, { qmp: true });
  if (own.serial) patch(s, { serial: own.serial });

  for (let i = next; i < words.length; i++) {
    const word = words[i];
    // QEMU treats a bare word as -hda.
    if (!word.startsWith("-")) {
      s.b = s.b.hda(word);
      continue;
    }
    const opt = word.startsWith("--") ? word.slice(1) : word;
    const flag = FLAG_HANDLERS[opt];
    if (flag) flag(s, opt);
    else if (FLAGS.has(opt)) keep(s, opt);
    else i = readValueOption(s, own, words, i, opt);
  }
  return finish(s, program);
}

/** One option with its value at `words[i + 1]`; returns the index of the value. */
function readValueOption(s: ParseState, own: OwnPlumbing, words: readonly string[], i: number, opt: string): number {
  const value = words[++i];
  if (own.consumed.has(i)) {
    if (opt === "-netdev") warnForwards(s, optionValue(value));
    const disk = own.disks.get(i);
    if (disk) s.b = s.b.disk(disk);
    const net = own.networks.get(i);
    if (net) {
      s.sawNetwork = true;
      s.b = s.b.network(net);
    }
    return i;
  }
  if (value === undefined) {
    throw new SpecError(`option ${words[i - 1]} needs a value`, {
      code: "SPEC_PARSE",
      advice: `complete it, e.g. ${words[i - 1]} <value>`,
      details: { option: words[i - 1] },
    });
  }
  const handler = Object.hasOwn(OPTION_HANDLERS, opt) ? OPTION_HANDLERS[opt] : undefined;
  if (handler) handler(s, optionValue(value), opt);
  else keep(s, opt, value);
  return i;
}

function finish(s: ParseState, program: string | undefined): ParsedCommandLine {
  const { kernel, initrd, append } = s;
  if (kernel === undefined && (append !== undefined || initrd !== undefined)) {
    throw new SpecError(`${append !== undefined ? "-append" : "-initrd"} is given without -kernel`, {
      code: "SPEC_CONFLICT",
      advice: "add -kernel <vmlinuz> (QEMU only passes a command line or initrd to a kernel it boots directly)",
    });
  }
  if (kernel !== undefined)
    s.b = s.b.kernel(kernel, {
      ...(initrd !== undefined ? { initrd } : {}),
      ...(append !== undefined ? { append } : {}),
    });
  if (!s.sawDisplay) s.b = s.b.display("gtk");
  // Raw network or serial options replace the defaults qemukit would add, as they would replace QEMU's.
  if (s.rawNetwork || (s.nodefaults && !s.sawNetwork)) patch(s, { network: { kind: "none" } });
  if (s.rawSerial) patch(s, { serial: { kind: "none" } });
  s.b = s.b.accel(s.explicit ?? (s.implied.length > 0 ? s.implied : ["tcg"]));
  if (s.raw.length > 0) s.b = s.b.args(...s.raw);
  return {
    builder: s.b,
    unmodelled: s.unmodelled,
    warnings: s.warnings,
    ...(program !== undefined ? { program } : {}),
  };
}

/** Shell words of a pasted line, refusing what a shell would run as more than one plain command. */
function splitCommandLine(line: string): string[] {
  const { words, syntax } = scanShellLine(line);
  if (syntax !== undefined) {
    throw new SpecError(`the command line has shell syntax (${syntax}), not only a QEMU command`, {
      code: "SPEC_SHELL_SYNTAX",
      advice:
        "pass the qemu-system/kvm command alone: drop what the shell would run around it (pipes, ;, &&, ||, &, " +
        "redirections, $(...) and `...`), or pass an argv array",
      details: { line, syntax },
    });
  }
  return words;
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

/** Finds option values in qemukit's own argv; indexes are into the words given. */
interface PlumbingScan {
  readonly words: readonly string[];
  readonly r: OwnPlumbing;
  opts(j: number): { head?: string; pairs: [string, string][] };
  /** Index of the first value of `opt` that `pred` accepts, or -1. */
  find(opt: string, pred: (head: string | undefined, o: Record<string, string>, n: number) => boolean): number;
  /** Marks values as accounted for. */
  eat(...js: number[]): void;
  readonly offset: number;
}

/**
 * Recognise what qemukit's own compiler emits (QMP and console chardevs, -blockdev +
 * -device pairs, -netdev + NIC pairs, VGA), so its output (e.g. from `ps`) parses back
 * into the same spec instead of into raw arguments. `offset` maps indexes back to `words`.
 */
function recogniseOwnPlumbing(words: readonly string[], offset: number): OwnPlumbing {
  const r: OwnPlumbing = { consumed: new Set(), disks: new Map(), networks: new Map(), qmp: false };
  const opts = (j: number) => splitOpts(words[j] ?? "");
  const scan: PlumbingScan = {
    words,
    r,
    opts,
    offset,
    find: (opt, pred) => {
      for (let j = 0; j < words.length - 1; j++) {
        if (words[j] !== opt) continue;
        const { head, pairs } = opts(j + 1);
        if (pred(head, Object.fromEntries(pairs), pairs.length)) return j + 1;
      }
      return -1;
    },
    eat: (...js) => {
      for (const j of js) r.consumed.add(j + offset);
    },
  };
  recogniseSockets(scan);
  recogniseDisks(scan);
  recogniseNetworks(scan);
  return r;
}

/** The QMP monitor and serial console chardevs, and the VGA card. */
function recogniseSockets({ r, opts, find, eat }: PlumbingScan): void {
  const serverSocket = (o: Record<string, string>, id: string, n: number) =>
    o.id === id && o.path !== undefined && o.server === "on" && o.wait === "off" && n === 4;
  const qmpDev = find("-chardev", (h, o, n) => h === "socket" && serverSocket(o, "qmp", n));
  const mon = find("-mon", (h, o, n) => h === undefined && o.chardev === "qmp" && o.mode === "control" && n === 2);
  if (qmpDev >= 0 && mon >= 0) {
    r.qmp = true;
    eat(qmpDev, mon);
  }
  const serialDev = find("-device", (h, o, n) => h === "isa-serial" && o.chardev === "console" && n === 1);
  const con = find(
    "-chardev",
    (h, o, n) =>
      (h === "socket" && serverSocket(o, "console", n)) ||
      (h === "file" && o.id === "console" && o.path !== undefined && n === 2) ||
      (h === "stdio" && o.id === "console" && n === 1),
  );
  if (serialDev >= 0 && con >= 0) {
    const { head, pairs } = opts(con);
    const o = Object.fromEntries(pairs);
    r.serial =
      head === "socket" ? { kind: "socket" } : head === "file" ? { kind: "file", path: o.path } : { kind: "stdio" };
    eat(serialDev, con);
  }
  const vga = find("-device", (h, _o, n) => h === "VGA" && n === 0);
  if (vga >= 0) eat(vga);
}

/** `-blockdev` + `-device` pairs (and the SCSI controller they need). */
function recogniseDisks({ words, r, opts, find, eat, offset }: PlumbingScan): void {
  let scsi = false;
  for (let j = 0; j < words.length - 1; j++) {
    if (words[j] !== "-device") continue;
    const { head, pairs } = opts(j + 1);
    const dev = Object.fromEntries(pairs);
    const kind = head !== undefined ? DISK_DEVICES[head] : undefined;
    if (!kind || !dev.drive || !pairs.every(([k]) => ["drive", "id", "bootindex", "write-cache", "bus"].includes(k)))
      continue;
    const bd = find("-blockdev", (h, o) => h === undefined && o["node-name"] === dev.drive);
    if (bd < 0) continue;
    const o = Object.fromEntries(opts(bd).pairs);
    const known = [
      "driver",
      "node-name",
      "read-only",
      "cache.direct",
      "cache.no-flush",
      "file.driver",
      "file.filename",
      "file.aio",
    ];
    if (!Object.keys(o).every((k) => known.includes(k)) || o["file.driver"] !== "file" || !o["file.filename"]) continue;
    const direct = o["cache.direct"] === "on";
    const noWriteCache = dev["write-cache"] === "off";
    const cache =
      direct && noWriteCache
        ? "directsync"
        : direct
          ? "none"
          : o["cache.no-flush"] === "on"
            ? "unsafe"
            : noWriteCache
              ? "writethrough"
              : undefined;
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
}

/** `-netdev user` + NIC pairs. */
function recogniseNetworks({ words, r, opts, find, eat, offset }: PlumbingScan): void {
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
}

function parseDrive(b: VmBuilder, value: string): VmBuilder | undefined {
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
    } else slot = nextFreeSlot(b);
    if (!slot) return undefined;
    if (media === "cdrom") {
      if (slot !== "hdc" || Object.keys(extra).length > 0) return undefined;
      return b.cdrom(file, format !== undefined ? { format } : {});
    }
    return b[slot]({
      path: file,
      ...(format !== undefined ? { format } : {}),
      ...(readOnly !== undefined ? { readOnly } : {}),
      ...extra,
    });
  }
  if ((iface === "virtio" || iface === "scsi") && o.index === undefined) {
    return b.disk({
      path: file,
      interface: iface,
      media,
      ...(format !== undefined ? { format } : {}),
      ...(readOnly !== undefined ? { readOnly } : {}),
      ...extra,
    });
  }
  return undefined;
}
