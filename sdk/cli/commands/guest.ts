/**
 * `qemukit guest build <tiny|debian|installer|all> [--force]` and `qemukit guest list [--json]`.
 * @module
 */
import { parseFlags } from "../args.ts";
import { type CliCommand, UsageError } from "../command.ts";
import type { GuestName } from "../../guests/types.ts";
import { GUEST_NAMES } from "../../guests/types.ts";

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "" : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

const build: CliCommand = {
  name: "build",
  summary: "build a built-in guest (or all) into the cache",
  help: `usage: qemukit guest build <tiny|debian|installer|all> [--force]

Builds the guest from Debian packages into the cache ($QEMUKIT_CACHE, else
~/.cache/qemukit) unless a build of the same recipe is there already.

options:
  --force   rebuild even when cached

examples:
  qemukit guest build tiny
  qemukit guest build all`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { force: { type: "boolean" } }, 1);
    const which = positionals[0];
    if (!which) throw new UsageError("which guest? (tiny, debian, installer or all)");
    if (which !== "all" && !GUEST_NAMES.includes(which as GuestName)) {
      throw new UsageError(`unknown guest '${which}' (expected tiny, debian, installer or all)`);
    }
    const { buildGuest } = await import("../../guests/guests.ts");
    const { progressPrinter } = await import("../../guests/progress.ts");
    const names = which === "all" ? GUEST_NAMES : [which as GuestName];
    for (const name of names) {
      const started = Date.now();
      const g = await buildGuest(name, { force: values.force, progress: progressPrinter(io.stderr) });
      const main = g.name === "tiny" ? g.initrd : g.name === "debian" ? g.image : g.iso;
      io.stdout.write(`${name}: ${main} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    }
    return 0;
  },
};

const list: CliCommand = {
  name: "list",
  summary: "show the built-in guests and what the cache holds",
  help: `usage: qemukit guest list [--json]

options:
  --json   machine-readable output`,
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: "boolean" } }, 0);
    const { list: listGuests } = await import("../../guests/guests.ts");
    const rows = await listGuests();
    if (values.json) {
      io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      return 0;
    }
    for (const r of rows) {
      const state = r.built ? `built  ${mib(r.bytes).padStart(8)}  ${r.buildSeconds} s build` : "not built";
      io.stdout.write(
        `${r.name.padEnd(10)} ${state.padEnd(32)} ${r.built ? r.dir : `(qemukit guest build ${r.name})`}\n`,
      );
      for (const s of r.stale) io.stdout.write(`${"".padEnd(10)} stale build (guest prune removes it): ${s}\n`);
      for (const o of r.others) io.stdout.write(`${"".padEnd(10)} other build (kept: newer or another copy's): ${o}\n`);
    }
    return 0;
  },
};

const prune: CliCommand = {
  name: "prune",
  summary: "remove cached builds of older recipes",
  help: `usage: qemukit guest prune

Removes what 'qemukit guest list' shows as older builds. Overlays backed by them stop working.`,
  async run(args, io) {
    parseFlags(args, {}, 0);
    const { prune: pruneGuests } = await import("../../guests/guests.ts");
    for (const dir of await pruneGuests()) io.stdout.write(`removed ${dir}\n`);
    return 0;
  },
};

/** The `guest` command group. */
export const command: CliCommand = {
  name: "guest",
  summary: "build and list the built-in guests (tiny, debian, installer)",
  help: `usage: qemukit guest <build|list|prune> ...

The built-in guests are made offline from Debian packages and cached:
  tiny       Debian's cloud kernel + an initramfs qemukit writes (busybox, e2fsprogs, fdisk)
  debian     a BIOS-bootable Debian 12 qcow2 (GRUB, root shell on ttyS0, qemu-ga)
  installer  a Debian installer ISO with SHA512SUMS, a detached signature and its key`,
  subcommands: [build, list, prune],
};
