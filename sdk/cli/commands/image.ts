/**
 * `qemukit image ...`: the common qemu-img workflows, typed and safe (explicit formats,
 * temp-then-rename outputs, typed errors). `--json` prints the SDK's result as it is: plain
 * JSON, sizes as exact numbers.
 * @module
 */
import { parseFlags } from "../args.ts";
import { type CliCommand, type CliIO, UsageError } from "../command.ts";
import {
  check, commit, compare, convert, create, du, formatSize, info, map, measure, overlay, rebase, resize,
  applySnapshot, createSnapshot, deleteSnapshot, listSnapshots, type ConvertProgress,
  type FormatOptions, type ImageFormat, type ImageInfo, type Preallocation,
} from "../../img/mod.ts";
import { checkFormat } from "../../img/formats.ts";

const fmt = (v: string | undefined, what = "format"): ImageFormat | undefined =>
  v === undefined ? undefined : checkFormat(v, what);

function need(positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).join(" and ")}`);
  return positionals;
}

function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, undefined, 2) + "\n");
}

/** `-o key=value` (repeatable) into an options record. */
function formatOptions(list: string[] | undefined): FormatOptions | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`-o wants key=value, got ${JSON.stringify(item)}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** ImageInfo without the text summary and raw JSON, recursively (the typed fields say it all). */
function infoForJson(i: ImageInfo): Record<string, unknown> {
  const { summary: _s, json: _j, backing, ...rest } = i;
  return backing ? { ...rest, backing: infoForJson(backing) } : rest;
}

const infoCmd: CliCommand = {
  name: "info",
  summary: "describe an image (sizes, format, backing chain, snapshots)",
  help: [
    "usage: qemukit image info PATH [-f FORMAT] [--backing-chain] [--json] [--no-share-lock]",
    "",
    "Prints qemu-img's summary, or with --json the typed result (exact 64-bit integers).",
    "Works on images a running VM holds (shared lock) unless --no-share-lock.",
    "Give -f for disks a guest has written to: without it the format is detected from the file.",
    "",
    "example: qemukit image info web1.qcow2 -f qcow2 --backing-chain",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, "backing-chain": { type: "boolean" }, json: { type: "boolean" },
      "no-share-lock": { type: "boolean" },
    }, 1);
    const [path] = need(positionals, ["PATH"]);
    const i = await info(path!, { format: fmt(values.format), backingChain: values["backing-chain"], shareLock: !values["no-share-lock"] });
    if (values.json) printJson(io, infoForJson(i));
    else io.stdout.write(i.summary + "\n");
    return 0;
  },
};

const createCmd: CliCommand = {
  name: "create",
  summary: "create an image (qcow2, raw, vdi, vmdk, vhdx)",
  help: [
    "usage: qemukit image create PATH [SIZE] [-f FORMAT] [-b BACKING -F BACKING_FORMAT]",
    "                            [--preallocation MODE] [--cluster-size BYTES] [-o KEY=VALUE]... [--overwrite] [--json]",
    "",
    "SIZE is bytes or a binary unit: 512M, 2G, 1.5T. With -b it defaults to the backing file's size.",
    "FORMAT defaults to qcow2. Refuses to replace an existing file without --overwrite.",
    "",
    "example: qemukit image create data.qcow2 20G",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, backing: { type: "string", short: "b" },
      "backing-format": { type: "string", short: "F" }, preallocation: { type: "string" },
      "cluster-size": { type: "string" }, option: { type: "string", short: "o", multiple: true },
      overwrite: { type: "boolean" }, json: { type: "boolean" },
    }, 2);
    const [path, size] = need(positionals, ["PATH"]);
    if (size === undefined && values.backing === undefined) throw new UsageError("missing SIZE (or -b BACKING)");
    const r = await create(path!, size, {
      format: fmt(values.format) ?? "qcow2",
      backing: values.backing,
      backingFormat: fmt(values["backing-format"], "backing format"),
      preallocation: values.preallocation as Preallocation | undefined,
      clusterSize: values["cluster-size"] === undefined ? undefined : Number(values["cluster-size"]),
      options: formatOptions(values.option),
      overwrite: values.overwrite,
    });
    if (values.json) printJson(io, r);
    else io.stdout.write(`created ${r.path} (${r.format}${r.virtualSize !== undefined ? `, ${formatSize(r.virtualSize)}` : ""}${r.backingFile ? `, backed by ${r.backingFile}` : ""})\n`);
    return 0;
  },
};

const overlayCmd: CliCommand = {
  name: "overlay",
  summary: "create a qcow2 copy-on-write overlay over a base image (the base is never written)",
  help: [
    "usage: qemukit image overlay BASE PATH [-F BASE_FORMAT] [--backing-path auto|absolute|relative] [--overwrite] [--json]",
    "",
    "A relative BASE is stored relative to PATH's directory (how qcow2 resolves it), so the",
    "pair can be moved together; an absolute BASE is stored as is.",
    "",
    "example: qemukit image overlay debian-12.qcow2 sda-vm1.qcow2 -F qcow2",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      "base-format": { type: "string", short: "F" }, "backing-path": { type: "string" },
      overwrite: { type: "boolean" }, json: { type: "boolean" },
    }, 2);
    const [base, path] = need(positionals, ["BASE", "PATH"]);
    const mode = values["backing-path"];
    if (mode !== undefined && !["auto", "absolute", "relative"].includes(mode)) throw new UsageError("--backing-path wants auto, absolute or relative");
    const r = await overlay(base!, path!, {
      baseFormat: fmt(values["base-format"], "base format"),
      backingPath: mode as "auto" | undefined,
      overwrite: values.overwrite,
    });
    if (values.json) printJson(io, r);
    else io.stdout.write(`created ${r.path} (qcow2 over ${r.backingFile}, ${r.baseFormat})\n`);
    return 0;
  },
};

/** A one-line progress bar for a TTY; plain "NN%" lines (every 10%) otherwise. */
export function progressPrinter(out: CliIO["stderr"], label: string): { update(p: ConvertProgress): void; end(): void } {
  const tty = Boolean(out.isTTY);
  const width = 30;
  let lastStep = -1;
  return {
    update(p) {
      if (tty) {
        const filled = Math.round((p.percent / 100) * width);
        out.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.percent.toFixed(2).padStart(6)}%`);
        return;
      }
      const step = Math.floor(p.percent / 10);
      if (step > lastStep) {
        lastStep = step;
        out.write(`${label}: ${step * 10}%\n`);
      }
    },
    end() {
      if (tty) out.write("\n");
    },
  };
}

const convertCmd: CliCommand = {
  name: "convert",
  summary: "convert an image to another format (with progress; output appears only when complete)",
  help: [
    "usage: qemukit image convert SRC DST [-f SRC_FORMAT] [-O FORMAT] [-c] [-o KEY=VALUE]... [--overwrite] [--quiet] [--json]",
    "",
    "FORMAT defaults to qcow2. -c compresses. Progress goes to stderr: a bar on a terminal,",
    "one line per 10% otherwise. The output is written to a temp file and renamed on success.",
    "",
    "example: qemukit image convert disk.raw disk.qcow2 -f raw -c",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      "source-format": { type: "string", short: "f" }, format: { type: "string", short: "O" },
      compress: { type: "boolean", short: "c" }, option: { type: "string", short: "o", multiple: true },
      overwrite: { type: "boolean" }, quiet: { type: "boolean", short: "q" }, json: { type: "boolean" },
    }, 2);
    const [src, dst] = need(positionals, ["SRC", "DST"]);
    const bar = values.quiet ? undefined : progressPrinter(io.stderr, "convert");
    let r;
    try {
      r = await convert(src!, dst!, {
        sourceFormat: fmt(values["source-format"], "source format"),
        format: fmt(values.format) ?? "qcow2",
        compress: values.compress,
        options: formatOptions(values.option),
        overwrite: values.overwrite,
        onProgress: bar ? (p) => bar.update(p) : undefined,
      });
    } finally {
      bar?.end();
    }
    if (values.json) printJson(io, r);
    else io.stdout.write(`converted ${src} (${r.sourceFormat}) -> ${r.path} (${r.format})\n`);
    return 0;
  },
};

const snapshotSub = (name: "list" | "create" | "apply" | "delete", summary: string): CliCommand => ({
  name,
  summary,
  help: [
    `usage: qemukit image snapshot ${name} PATH${name === "list" ? "" : " NAME"} [-f FORMAT]${name === "list" ? " [--json]" : ""}`,
    "",
    "Internal qcow2 snapshots of the disk (the image must not be in use, except for list).",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { format: { type: "string", short: "f" }, json: { type: "boolean" } }, name === "list" ? 1 : 2);
    const [path, snap] = need(positionals, name === "list" ? ["PATH"] : ["PATH", "NAME"]);
    const o = { format: fmt(values.format) };
    if (name === "list") {
      const list = await listSnapshots(path!, o);
      if (values.json) printJson(io, list);
      else if (!list.length) io.stdout.write("no snapshots\n");
      else for (const s of list) io.stdout.write(`${s.id.padEnd(4)} ${s.name.padEnd(24)} ${s.date.toISOString()}\n`);
    } else if (name === "create") {
      const s = await createSnapshot(path!, snap!, o);
      io.stdout.write(`created snapshot ${s.name} (id ${s.id})\n`);
    } else if (name === "apply") {
      await applySnapshot(path!, snap!, o);
      io.stdout.write(`reverted ${path} to ${snap}\n`);
    } else {
      await deleteSnapshot(path!, snap!, o);
      io.stdout.write(`deleted snapshot ${snap}\n`);
    }
    return 0;
  },
});

const snapshotCmd: CliCommand = {
  name: "snapshot",
  summary: "internal snapshots: list, create, apply, delete",
  help: "usage: qemukit image snapshot <list|create|apply|delete> PATH [NAME] [-f FORMAT]",
  subcommands: [
    snapshotSub("list", "list internal snapshots"),
    snapshotSub("create", "take an internal snapshot"),
    snapshotSub("apply", "revert the disk to a snapshot"),
    snapshotSub("delete", "delete a snapshot"),
  ],
};

const checkCmd: CliCommand = {
  name: "check",
  summary: "check image metadata for leaks and corruptions (optionally repair)",
  help: [
    "usage: qemukit image check PATH [-f FORMAT] [-r leaks|all] [--json]",
    "",
    "exit status: 0 clean, 1 problems remain (the output says which repair fixes them).",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, repair: { type: "string", short: "r" }, json: { type: "boolean" },
    }, 1);
    const [path] = need(positionals, ["PATH"]);
    if (values.repair !== undefined && values.repair !== "leaks" && values.repair !== "all") throw new UsageError("-r wants leaks or all");
    const r = await check(path!, { format: fmt(values.format), repair: values.repair as "leaks" | undefined });
    if (values.json) {
      const { json: _j, ...rest } = r;
      printJson(io, rest);
    } else {
      const fixedNote = r.leaksFixed || r.corruptionsFixed ? ` (fixed: ${r.leaksFixed} leaks, ${r.corruptionsFixed} corruptions)` : "";
      io.stdout.write(r.ok
        ? `${path}: no errors${fixedNote}\n`
        : `${path}: ${r.corruptions} corruptions, ${r.leaks} leaked clusters, ${r.checkErrors} check errors${fixedNote}` +
          (r.suggestedRepair ? `\n  → repair with: qemukit image check ${JSON.stringify(path)} -r ${r.suggestedRepair}` : "") + "\n");
    }
    return r.ok ? 0 : 1;
  },
};

const resizeCmd: CliCommand = {
  name: "resize",
  summary: "change the virtual size (absolute, or +SIZE / -SIZE)",
  help: "usage: qemukit image resize PATH SIZE [-f FORMAT] [--shrink]\n\nexample: qemukit image resize vm.qcow2 +10G -f qcow2",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { format: { type: "string", short: "f" }, shrink: { type: "boolean" } }, 2);
    const [path, size] = need(positionals, ["PATH", "SIZE"]);
    const bytes = await resize(path!, size!, { format: fmt(values.format), shrink: values.shrink });
    io.stdout.write(`${path}: ${formatSize(bytes)} (${bytes} bytes)\n`);
    return 0;
  },
};

const commitCmd: CliCommand = {
  name: "commit",
  summary: "write an overlay's changes into its backing file",
  help: "usage: qemukit image commit PATH [-f FORMAT] [--base LAYER] [--keep]",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, base: { type: "string", short: "b" }, keep: { type: "boolean", short: "d" },
    }, 1);
    const [path] = need(positionals, ["PATH"]);
    const into = await commit(path!, { format: fmt(values.format), base: values.base, keep: values.keep });
    io.stdout.write(`committed ${path} into ${into}\n`);
    return 0;
  },
};

const rebaseCmd: CliCommand = {
  name: "rebase",
  summary: "change an image's backing file (safe by default; -u only rewrites the name)",
  help: [
    "usage: qemukit image rebase PATH (NEW_BACKING | --none) [-f FORMAT] [-F BACKING_FORMAT] [-u] [--backing-path MODE]",
    "",
    "--none removes the backing file, copying its data in. -u (unsafe) is for a base that moved.",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, "backing-format": { type: "string", short: "F" },
      unsafe: { type: "boolean", short: "u" }, none: { type: "boolean" }, "backing-path": { type: "string" },
    }, 2);
    const [path, nb] = need(positionals, ["PATH"]);
    if ((nb === undefined) === !values.none) throw new UsageError("give NEW_BACKING or --none");
    const r = await rebase(path!, values.none ? null : nb!, {
      format: fmt(values.format), backingFormat: fmt(values["backing-format"], "backing format"),
      unsafe: values.unsafe, backingPath: values["backing-path"] as "auto" | undefined,
    });
    io.stdout.write(r.backingFile ? `${path} is now backed by ${r.backingFile}\n` : `${path} has no backing file now\n`);
    return 0;
  },
};

const compareCmd: CliCommand = {
  name: "compare",
  summary: "compare guest-visible content of two images",
  help: "usage: qemukit image compare A B [-f FORMAT_A] [-F FORMAT_B] [--strict] [--json]\n\nexit status: 0 identical, 1 different.",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      "format-a": { type: "string", short: "f" }, "format-b": { type: "string", short: "F" },
      strict: { type: "boolean", short: "s" }, json: { type: "boolean" },
    }, 2);
    const [a, b] = need(positionals, ["A", "B"]);
    const r = await compare(a!, b!, { formatA: fmt(values["format-a"]), formatB: fmt(values["format-b"]), strict: values.strict });
    if (values.json) printJson(io, r);
    else io.stdout.write(r.message + "\n");
    return r.identical ? 0 : 1;
  },
};

const duCmd: CliCommand = {
  name: "du",
  summary: "bytes an image takes on the host (like du), optionally over its backing chain",
  help: "usage: qemukit image du PATH [-f FORMAT] [--backing-chain] [--json]",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      format: { type: "string", short: "f" }, "backing-chain": { type: "boolean" }, json: { type: "boolean" },
    }, 1);
    const [path] = need(positionals, ["PATH"]);
    const r = await du(path!, { format: fmt(values.format), backingChain: values["backing-chain"] });
    if (values.json) printJson(io, r);
    else {
      for (const l of r.layers) io.stdout.write(`${formatSize(l.bytes).padStart(10)}  ${l.path}\n`);
      if (r.layers.length > 1) io.stdout.write(`${formatSize(r.bytes).padStart(10)}  total\n`);
    }
    return 0;
  },
};

const measureCmd: CliCommand = {
  name: "measure",
  summary: "how much space a converted (or new) image needs",
  help: "usage: qemukit image measure (PATH [-f SRC_FORMAT] | --size SIZE) [-O FORMAT] [--json]",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      "source-format": { type: "string", short: "f" }, format: { type: "string", short: "O" },
      size: { type: "string" }, json: { type: "boolean" },
    }, 1);
    if ((positionals[0] === undefined) === (values.size === undefined)) throw new UsageError("give PATH or --size SIZE");
    const r = await measure(values.size !== undefined ? { size: values.size } : positionals[0]!, {
      format: fmt(values.format) ?? "qcow2", sourceFormat: fmt(values["source-format"], "source format"),
    });
    if (values.json) {
      const { json: _j, ...rest } = r;
      printJson(io, rest);
    } else io.stdout.write(`required: ${formatSize(r.required)} (${r.required} bytes)\nfully allocated: ${formatSize(r.fullyAllocated)} (${r.fullyAllocated} bytes)\n`);
    return 0;
  },
};

const mapCmd: CliCommand = {
  name: "map",
  summary: "list which ranges hold data, zeros, or come from the backing file",
  help: "usage: qemukit image map PATH [-f FORMAT] [--json]",
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { format: { type: "string", short: "f" }, json: { type: "boolean" } }, 1);
    const [path] = need(positionals, ["PATH"]);
    const ext = await map(path!, { format: fmt(values.format) });
    if (values.json) printJson(io, ext);
    else {
      io.stdout.write("start              length             depth  kind\n");
      for (const e of ext) {
        const kind = e.data ? "data" : e.zero ? "zero" : "unallocated";
        io.stdout.write(`${`0x${e.start.toString(16)}`.padEnd(18)} ${`0x${e.length.toString(16)}`.padEnd(18)} ${String(e.depth).padEnd(6)} ${kind}\n`);
      }
    }
    return 0;
  },
};

/** `qemukit image`: disk image workflows. */
export const command: CliCommand = {
  name: "image",
  summary: "qemu-img, typed: info, create, overlay, convert, snapshot ...",
  help: [
    "usage: qemukit image <subcommand> [options]",
    "",
    "Disk images through qemu-img, with explicit formats, outputs renamed into place only",
    "on success, and errors that say what to do. Run 'qemukit image <subcommand> --help'.",
  ].join("\n"),
  subcommands: [infoCmd, createCmd, overlayCmd, convertCmd, snapshotCmd, checkCmd, resizeCmd, commitCmd, rebaseCmd, compareCmd, duCmd, measureCmd, mapCmd],
};
