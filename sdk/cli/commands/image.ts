/**
 * `qemukit image ...`: the common qemu-img workflows, typed and safe (explicit formats,
 * temp-then-rename outputs, typed errors). `--json` prints the SDK's result as it is: plain
 * JSON, sizes as exact numbers. Each subcommand is one entry of a table: its flags, its
 * arguments, the SDK call, and how the result reads as text.
 * @module
 */
import { type FlagSpec, parseFlags, type ParsedFlags } from "../args.ts";
import { type CliCommand, type CliIO, UsageError } from "../command.ts";
import { check } from "../../img/check.ts";
import { commit } from "../../img/commit.ts";
import { compare } from "../../img/compare.ts";
import { convert, type ConvertProgress } from "../../img/convert.ts";
import { create, type FormatOptions, type Preallocation } from "../../img/create.ts";
import { du } from "../../img/du.ts";
import { info } from "../../img/info.ts";
import type { ImageInfo } from "../../img/info-types.ts";
import { map } from "../../img/map.ts";
import { measure } from "../../img/measure.ts";
import { overlay } from "../../img/overlay.ts";
import { rebase } from "../../img/rebase.ts";
import { resize } from "../../img/resize.ts";
import { applySnapshot, createSnapshot, deleteSnapshot, listSnapshots } from "../../img/snapshot.ts";
import { formatSize, type ImageFormat } from "../../img/formats.ts";
import { checkFormat } from "../../img/formats.ts";

const fmt = (v: string | undefined, what = "format"): ImageFormat | undefined =>
  v === undefined ? undefined : checkFormat(v, what);

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

const JSON_FLAG = { json: { type: "boolean" } } as const;

/** What a subcommand's `run` gets: parsed flags, the arguments, and the streams. */
interface Invocation<O extends FlagSpec> {
  readonly values: ParsedFlags<O & typeof JSON_FLAG>;
  /** Arguments; the required ones are there (checked against `args`). */
  readonly positionals: readonly string[];
  readonly io: CliIO;
}

/** One `qemukit image` subcommand, declared. */
interface ImageCommand<O extends FlagSpec, R> {
  readonly name: string;
  readonly summary: string;
  /** Help text, one entry per line; the first is the usage line. */
  readonly help: readonly string[];
  readonly flags: O;
  /** Argument names: required first, then optional ones in brackets (`"[SIZE]"`). */
  readonly args: readonly string[];
  /** Accept `--json`, printing `toJson(result)` (the result itself by default) instead of `text`. */
  readonly json?: boolean;
  readonly run: (call: Invocation<O>) => Promise<R>;
  /** The result as text lines for a person. */
  readonly text: (result: R, call: Invocation<O>) => string | readonly string[];
  readonly toJson?: (result: R) => unknown;
  /** Exit status from the result. @default 0 */
  readonly exit?: (result: R) => number;
}

function imageCommand<O extends FlagSpec, R>(c: ImageCommand<O, R>): CliCommand {
  const required = c.args.filter((a) => !a.startsWith("["));
  return {
    name: c.name,
    summary: c.summary,
    help: c.help.join("\n"),
    async run(args, io) {
      const flags = (c.json ? { ...c.flags, ...JSON_FLAG } : c.flags) as O & typeof JSON_FLAG;
      const { values, positionals } = parseFlags(args, flags, c.args.length);
      if (positionals.length < required.length)
        throw new UsageError(`missing ${required.slice(positionals.length).join(" and ")}`);
      const call = { values, positionals, io };
      const result = await c.run(call);
      if (c.json && values.json)
        io.stdout.write(JSON.stringify(c.toJson ? c.toJson(result) : result, undefined, 2) + "\n");
      else {
        const text = c.text(result, call);
        for (const line of typeof text === "string" ? [text] : text) io.stdout.write(line + "\n");
      }
      return c.exit ? c.exit(result) : 0;
    },
  };
}

const FORMAT = { format: { type: "string", short: "f" } } as const;

/** ImageInfo without the text summary and raw JSON, recursively (the typed fields say it all). */
function infoForJson(i: ImageInfo): Record<string, unknown> {
  const { summary: _s, json: _j, backing, ...rest } = i;
  return backing ? { ...rest, backing: infoForJson(backing) } : rest;
}

/** A result without its raw `json` field (the typed fields say it all). */
const withoutRaw = <T extends { json: unknown }>({ json: _j, ...rest }: T) => rest;

const infoCmd = imageCommand({
  name: "info",
  summary: "describe an image (sizes, format, backing chain, snapshots)",
  help: [
    "usage: qemukit image info PATH [-f FORMAT] [--backing-chain] [--json] [--no-share-lock]",
    "",
    "Prints qemu-img's summary, or with --json the typed result (sizes in bytes, exact).",
    "Works on images a running VM holds (shared lock) unless --no-share-lock.",
    "Give -f for disks a guest has written to: without it the format is detected from the file.",
    "",
    "example: qemukit image info web1.qcow2 -f qcow2 --backing-chain",
  ],
  flags: { ...FORMAT, "backing-chain": { type: "boolean" }, "no-share-lock": { type: "boolean" } },
  args: ["PATH"],
  json: true,
  run: ({ values, positionals }) =>
    info(positionals[0]!, {
      format: fmt(values.format),
      backingChain: values["backing-chain"],
      shareLock: !values["no-share-lock"],
    }),
  text: (i) => i.summary,
  toJson: infoForJson,
});

const createCmd = imageCommand({
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
  ],
  flags: {
    ...FORMAT,
    backing: { type: "string", short: "b" },
    "backing-format": { type: "string", short: "F" },
    preallocation: { type: "string" },
    "cluster-size": { type: "string" },
    option: { type: "string", short: "o", multiple: true },
    overwrite: { type: "boolean" },
  },
  args: ["PATH", "[SIZE]"],
  json: true,
  run: ({ values, positionals: [path, size] }) => {
    if (size === undefined && values.backing === undefined) throw new UsageError("missing SIZE (or -b BACKING)");
    return create(path!, size, {
      format: fmt(values.format) ?? "qcow2",
      backing: values.backing,
      backingFormat: fmt(values["backing-format"], "backing format"),
      preallocation: values.preallocation as Preallocation | undefined,
      clusterSize: values["cluster-size"] === undefined ? undefined : Number(values["cluster-size"]),
      options: formatOptions(values.option),
      overwrite: values.overwrite,
    });
  },
  text: (r) =>
    `created ${r.path} (${r.format}${r.virtualSize !== undefined ? `, ${formatSize(r.virtualSize)}` : ""}${r.backingFile ? `, backed by ${r.backingFile}` : ""})`,
});

const overlayCmd = imageCommand({
  name: "overlay",
  summary: "create a qcow2 copy-on-write overlay over a base image (the base is never written)",
  help: [
    "usage: qemukit image overlay BASE PATH [-F BASE_FORMAT] [--backing-path auto|absolute|relative] [--overwrite] [--json]",
    "",
    "A relative BASE is stored relative to PATH's directory (how qcow2 resolves it), so the",
    "pair can be moved together; an absolute BASE is stored as is.",
    "",
    "example: qemukit image overlay debian-12.qcow2 sda-vm1.qcow2 -F qcow2",
  ],
  flags: {
    "base-format": { type: "string", short: "F" },
    "backing-path": { type: "string" },
    overwrite: { type: "boolean" },
  },
  args: ["BASE", "PATH"],
  json: true,
  run: ({ values, positionals: [base, path] }) => {
    const mode = values["backing-path"];
    if (mode !== undefined && !["auto", "absolute", "relative"].includes(mode))
      throw new UsageError("--backing-path wants auto, absolute or relative");
    return overlay(base!, path!, {
      baseFormat: fmt(values["base-format"], "base format"),
      backingPath: mode as "auto" | undefined,
      overwrite: values.overwrite,
    });
  },
  text: (r) => `created ${r.path} (qcow2 over ${r.backingFile}, ${r.baseFormat})`,
});

/** A one-line progress bar for a TTY; plain "NN%" lines (every 10%) otherwise. */
export function progressPrinter(
  out: CliIO["stderr"],
  label: string,
): { update(p: ConvertProgress): void; end(): void } {
  const tty = Boolean(out.isTTY);
  const width = 30;
  let lastStep = -1;
  return {
    update(p) {
      if (tty) {
        const filled = Math.round((p.percent / 100) * width);
        out.write(
          `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.percent.toFixed(2).padStart(6)}%`,
        );
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

const convertCmd = imageCommand({
  name: "convert",
  summary: "convert an image to another format (with progress; output appears only when complete)",
  help: [
    "usage: qemukit image convert SRC DST [-f SRC_FORMAT] [-O FORMAT] [-c] [-o KEY=VALUE]... [--overwrite] [--quiet] [--json]",
    "",
    "FORMAT defaults to qcow2. -c compresses. Progress goes to stderr: a bar on a terminal,",
    "one line per 10% otherwise. The output is written to a temp file and renamed on success.",
    "",
    "example: qemukit image convert disk.raw disk.qcow2 -f raw -c",
  ],
  flags: {
    "source-format": { type: "string", short: "f" },
    format: { type: "string", short: "O" },
    compress: { type: "boolean", short: "c" },
    option: { type: "string", short: "o", multiple: true },
    overwrite: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  },
  args: ["SRC", "DST"],
  json: true,
  run: async ({ values, positionals: [src, dst], io }) => {
    const bar = values.quiet ? undefined : progressPrinter(io.stderr, "convert");
    try {
      return await convert(src!, dst!, {
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
  },
  text: (r, { positionals: [src] }) => `converted ${src} (${r.sourceFormat}) -> ${r.path} (${r.format})`,
});

const snapshotHelp = (name: string, args: string) => [
  `usage: qemukit image snapshot ${name} ${args} [-f FORMAT]${name === "list" ? " [--json]" : ""}`,
  "",
  "Internal qcow2 snapshots of the disk (the image must not be in use, except for list).",
];

const snapshotCmd: CliCommand = {
  name: "snapshot",
  summary: "internal snapshots: list, create, apply, delete",
  help: "usage: qemukit image snapshot <list|create|apply|delete> PATH [NAME] [-f FORMAT]",
  subcommands: [
    imageCommand({
      name: "list",
      summary: "list internal snapshots",
      help: snapshotHelp("list", "PATH"),
      flags: FORMAT,
      args: ["PATH"],
      json: true,
      run: ({ values, positionals: [path] }) => listSnapshots(path!, { format: fmt(values.format) }),
      text: (list) =>
        list.length
          ? list.map((s) => `${s.id.padEnd(4)} ${s.name.padEnd(24)} ${s.date.toISOString()}`)
          : "no snapshots",
    }),
    imageCommand({
      name: "create",
      summary: "take an internal snapshot",
      help: snapshotHelp("create", "PATH NAME"),
      flags: FORMAT,
      args: ["PATH", "NAME"],
      run: ({ values, positionals: [path, snap] }) => createSnapshot(path!, snap!, { format: fmt(values.format) }),
      text: (s) => `created snapshot ${s.name} (id ${s.id})`,
    }),
    imageCommand({
      name: "apply",
      summary: "revert the disk to a snapshot",
      help: snapshotHelp("apply", "PATH NAME"),
      flags: FORMAT,
      args: ["PATH", "NAME"],
      run: ({ values, positionals: [path, snap] }) => applySnapshot(path!, snap!, { format: fmt(values.format) }),
      text: (_r, { positionals: [path, snap] }) => `reverted ${path} to ${snap}`,
    }),
    imageCommand({
      name: "delete",
      summary: "delete a snapshot",
      help: snapshotHelp("delete", "PATH NAME"),
      flags: FORMAT,
      args: ["PATH", "NAME"],
      run: ({ values, positionals: [path, snap] }) => deleteSnapshot(path!, snap!, { format: fmt(values.format) }),
      text: (_r, { positionals: [, snap] }) => `deleted snapshot ${snap}`,
    }),
  ],
};

const checkCmd = imageCommand({
  name: "check",
  summary: "check image metadata for leaks and corruptions (optionally repair)",
  help: [
    "usage: qemukit image check PATH [-f FORMAT] [-r leaks|all] [--json]",
    "",
    "exit status: 0 clean, 1 problems remain (the output says which repair fixes them).",
  ],
  flags: { ...FORMAT, repair: { type: "string", short: "r" } },
  args: ["PATH"],
  json: true,
  run: ({ values, positionals: [path] }) => {
    if (values.repair !== undefined && values.repair !== "leaks" && values.repair !== "all")
      throw new UsageError("-r wants leaks or all");
    return check(path!, { format: fmt(values.format), repair: values.repair as "leaks" | undefined });
  },
  text: (r, { positionals: [path] }) => {
    const fixedNote =
      r.leaksFixed || r.corruptionsFixed ? ` (fixed: ${r.leaksFixed} leaks, ${r.corruptionsFixed} corruptions)` : "";
    if (r.ok) return `${path}: no errors${fixedNote}`;
    return [
      `${path}: ${r.corruptions} corruptions, ${r.leaks} leaked clusters, ${r.checkErrors} check errors${fixedNote}`,
      ...(r.suggestedRepair
        ? [`  → repair with: qemukit image check ${JSON.stringify(path)} -r ${r.suggestedRepair}`]
        : []),
    ];
  },
  toJson: withoutRaw,
  exit: (r) => (r.ok ? 0 : 1),
});

const resizeCmd = imageCommand({
  name: "resize",
  summary: "change the virtual size (absolute, or +SIZE / -SIZE)",
  help: [
    "usage: qemukit image resize PATH SIZE [-f FORMAT] [--shrink]",
    "",
    "example: qemukit image resize vm.qcow2 +10G -f qcow2",
  ],
  flags: { ...FORMAT, shrink: { type: "boolean" } },
  args: ["PATH", "SIZE"],
  run: ({ values, positionals: [path, size] }) =>
    resize(path!, size!, { format: fmt(values.format), shrink: values.shrink }),
  text: (bytes, { positionals: [path] }) => `${path}: ${formatSize(bytes)} (${bytes} bytes)`,
});

const commitCmd = imageCommand({
  name: "commit",
  summary: "write an overlay's changes into its backing file",
  help: ["usage: qemukit image commit PATH [-f FORMAT] [--base LAYER] [--keep]"],
  flags: { ...FORMAT, base: { type: "string", short: "b" }, keep: { type: "boolean", short: "d" } },
  args: ["PATH"],
  run: ({ values, positionals: [path] }) =>
    commit(path!, { format: fmt(values.format), base: values.base, keep: values.keep }),
  text: (into, { positionals: [path] }) => `committed ${path} into ${into}`,
});

const rebaseCmd = imageCommand({
  name: "rebase",
  summary: "change an image's backing file (safe by default; -u only rewrites the name)",
  help: [
    "usage: qemukit image rebase PATH (NEW_BACKING | --none) [-f FORMAT] [-F BACKING_FORMAT] [-u] [--backing-path MODE]",
    "",
    "--none removes the backing file, copying its data in. -u (unsafe) is for a base that moved.",
  ],
  flags: {
    ...FORMAT,
    "backing-format": { type: "string", short: "F" },
    unsafe: { type: "boolean", short: "u" },
    none: { type: "boolean" },
    "backing-path": { type: "string" },
  },
  args: ["PATH", "[NEW_BACKING]"],
  run: ({ values, positionals: [path, nb] }) => {
    if ((nb === undefined) === !values.none) throw new UsageError("give NEW_BACKING or --none");
    return rebase(path!, values.none ? null : nb!, {
      format: fmt(values.format),
      backingFormat: fmt(values["backing-format"], "backing format"),
      unsafe: values.unsafe,
      backingPath: values["backing-path"] as "auto" | undefined,
    });
  },
  text: (r, { positionals: [path] }) =>
    r.backingFile ? `${path} is now backed by ${r.backingFile}` : `${path} has no backing file now`,
});

const compareCmd = imageCommand({
  name: "compare",
  summary: "compare guest-visible content of two images",
  help: [
    "usage: qemukit image compare A B [-f FORMAT_A] [-F FORMAT_B] [--strict] [--json]",
    "",
    "exit status: 0 identical, 1 different.",
  ],
  flags: {
    "format-a": { type: "string", short: "f" },
    "format-b": { type: "string", short: "F" },
    strict: { type: "boolean", short: "s" },
  },
  args: ["A", "B"],
  json: true,
  run: ({ values, positionals: [a, b] }) =>
    compare(a!, b!, { formatA: fmt(values["format-a"]), formatB: fmt(values["format-b"]), strict: values.strict }),
  text: (r) => r.message,
  exit: (r) => (r.identical ? 0 : 1),
});

const duCmd = imageCommand({
  name: "du",
  summary: "bytes an image takes on the host (like du), optionally over its backing chain",
  help: ["usage: qemukit image du PATH [-f FORMAT] [--backing-chain] [--json]"],
  flags: { ...FORMAT, "backing-chain": { type: "boolean" } },
  args: ["PATH"],
  json: true,
  run: ({ values, positionals: [path] }) =>
    du(path!, { format: fmt(values.format), backingChain: values["backing-chain"] }),
  text: (r) => [
    ...r.layers.map((l) => `${formatSize(l.bytes).padStart(10)}  ${l.path}`),
    ...(r.layers.length > 1 ? [`${formatSize(r.bytes).padStart(10)}  total`] : []),
  ],
});

const measureCmd = imageCommand({
  name: "measure",
  summary: "how much space a converted (or new) image needs",
  help: ["usage: qemukit image measure (PATH [-f SRC_FORMAT] | --size SIZE) [-O FORMAT] [--json]"],
  flags: {
    "source-format": { type: "string", short: "f" },
    format: { type: "string", short: "O" },
    size: { type: "string" },
  },
  args: ["[PATH]"],
  json: true,
  run: ({ values, positionals: [path] }) => {
    if ((path === undefined) === (values.size === undefined)) throw new UsageError("give PATH or --size SIZE");
    return measure(values.size !== undefined ? { size: values.size } : path!, {
      format: fmt(values.format) ?? "qcow2",
      sourceFormat: fmt(values["source-format"], "source format"),
    });
  },
  text: (r) => [
    `required: ${formatSize(r.required)} (${r.required} bytes)`,
    `fully allocated: ${formatSize(r.fullyAllocated)} (${r.fullyAllocated} bytes)`,
  ],
  toJson: withoutRaw,
});

const mapCmd = imageCommand({
  name: "map",
  summary: "list which ranges hold data, zeros, or come from the backing file",
  help: ["usage: qemukit image map PATH [-f FORMAT] [--json]"],
  flags: FORMAT,
  args: ["PATH"],
  json: true,
  run: ({ values, positionals: [path] }) => map(path!, { format: fmt(values.format) }),
  text: (ext) => [
    "start              length             depth  kind",
    ...ext.map((e) => {
      const kind = e.data ? "data" : e.zero ? "zero" : "unallocated";
      return `${`0x${e.start.toString(16)}`.padEnd(18)} ${`0x${e.length.toString(16)}`.padEnd(18)} ${String(e.depth).padEnd(6)} ${kind}`;
    }),
  ],
});

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
  subcommands: [
    infoCmd,
    createCmd,
    overlayCmd,
    convertCmd,
    snapshotCmd,
    checkCmd,
    resizeCmd,
    commitCmd,
    rebaseCmd,
    compareCmd,
    duCmd,
    measureCmd,
    mapCmd,
  ],
};
