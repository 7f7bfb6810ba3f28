/**
 * An independent reading of a qemu argv into the facts the spec models, used to define
 * "equivalent" for `fromCommandLine(x).toArgv()` vs `x`: two command lines are equivalent
 * when they give the same facts. Deliberately written apart from sdk/compile/parse.ts so the
 * parser is not checked against itself. Formats are not compared (the lab never gives one;
 * qemukit always adds it), nor are qemukit's own sockets, -nodefaults or VGA.
 */
import { splitOptionValue } from "./spec-qemu-schema.ts";

export interface DiskFact {
  file: string;
  interface: string;
  index?: number;
  media: string;
}

export interface Facts {
  accel: string[];
  memoryMiB: number;
  cpus: number;
  disks: DiskFact[];
  vnc?: { display: number; host: string };
  display: string;
  daemonize: boolean;
  name?: string;
  machine?: string;
  cpu?: string;
  boot?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  raw: string[];
}

const MIB: Record<string, number> = { "": 1, M: 1, G: 1024, T: 1024 * 1024 };

export function normalizeArgv(words: readonly string[]): Facts {
  const w = [...words];
  if (w[0] === "sudo") w.shift();
  const program = w[0] && !w[0].startsWith("-") ? w.shift()! : "qemu-system-x86_64";
  const f: Facts = { accel: [], memoryMiB: 128, cpus: 1, disks: [], display: "", daemonize: false, raw: [] };
  if (program.endsWith("kvm")) f.accel.push("kvm");
  const nodes = new Map<string, string>();
  const devices: [string, string][] = [];
  for (let i = 0; i < w.length; i++) {
    const opt = w[i].replace(/^--/, "-");
    const val = w[i + 1];
    const take = () => i++;
    switch (opt) {
      case "-enable-kvm":
        f.accel = ["kvm"];
        break;
      case "-accel":
        f.accel.push(val);
        take();
        break;
      case "-m": {
        const m = /^(\d+)([MGT]?)$/.exec(val)!;
        f.memoryMiB = Number(m[1]) * MIB[m[2]];
        take();
        break;
      }
      case "-smp":
        f.cpus = Number(val.split(",")[0]);
        take();
        break;
      case "-hda":
      case "-hdb":
      case "-hdc":
      case "-hdd":
        f.disks.push({ file: val, interface: "ide", index: "abcd".indexOf(opt[3]), media: "disk" });
        take();
        break;
      case "-cdrom":
        f.disks.push({ file: val, interface: "ide", index: 2, media: "cdrom" });
        take();
        break;
      case "-drive": {
        const o = Object.fromEntries(splitOptionValue(val).pairs);
        f.disks.push({
          file: o.file,
          interface: o.if ?? "ide",
          ...(o.index ? { index: Number(o.index) } : {}),
          media: o.media ?? "disk",
        });
        take();
        break;
      }
      case "-blockdev": {
        const o = Object.fromEntries(splitOptionValue(val).pairs);
        nodes.set(o["node-name"], o["file.filename"]);
        take();
        break;
      }
      case "-device": {
        const { head, pairs } = splitOptionValue(val);
        const drive = pairs.find(([k]) => k === "drive")?.[1];
        if (drive) devices.push([head!, drive]);
        else if (!/^(VGA|isa-serial|e1000|virtio-net-pci|virtio-scsi-pci)$/.test(head!)) f.raw.push(opt, val);
        take();
        break;
      }
      case "-vnc": {
        const m = /^(.*):(\d+)$/.exec(val)!;
        f.vnc = { display: Number(m[2]), host: m[1] };
        take();
        break;
      }
      case "-display":
        f.display = val;
        take();
        break;
      case "-nographic":
        f.display = "none";
        break;
      case "-daemonize":
        f.daemonize = true;
        break;
      case "-name":
        f.name = val;
        take();
        break;
      case "-machine":
        f.machine = val;
        take();
        break;
      case "-cpu":
        f.cpu = val;
        take();
        break;
      case "-boot":
        f.boot = val.replace(/^order=/, "");
        take();
        break;
      case "-kernel":
        f.kernel = val;
        take();
        break;
      case "-initrd":
        f.initrd = val;
        take();
        break;
      case "-append":
        f.append = val;
        take();
        break;
      // qemukit's own plumbing, not part of what the user described.
      case "-nodefaults":
      case "-S":
        break;
      case "-chardev":
      case "-mon":
      case "-netdev":
      case "-pidfile":
        take();
        break;
      default:
        f.raw.push(opt);
        if (val !== undefined && !val.startsWith("-")) f.raw.push(w[++i]);
    }
  }
  for (const [driver, node] of devices) {
    const iface = driver.startsWith("virtio") ? "virtio" : driver.startsWith("scsi") ? "scsi" : "ide";
    f.disks.push({ file: nodes.get(node)!, interface: iface, media: /-cd$/.test(driver) ? "cdrom" : "disk" });
  }
  if (f.accel.length === 0) f.accel = ["tcg"];
  if (f.display === "") f.display = f.vnc ? "none" : "gtk";
  f.disks.sort((a, b) => (a.index ?? 9) - (b.index ?? 9) || a.file.localeCompare(b.file));
  return f;
}
