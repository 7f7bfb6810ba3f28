/**
 * `qemukit template list [--json]` and `qemukit template prune [--all]`.
 * @module
 */
import { parseFlags } from "../args.ts";
import type { CliCommand } from "../command.ts";

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

const list: CliCommand = {
  name: "list",
  summary: "show the templates in the cache",
  help: `usage: qemukit template list [--json]

Lists the saved VM templates in the cache ($QEMUKIT_CACHE, else ~/.cache/qemukit):
size, memory, what they boot, running clones, and "stale" when a file they were made
from changed (the next template() call makes a new one; prune removes the old).

options:
  --json   machine-readable output`,
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: "boolean" } }, 0);
    const { listTemplates } = await import("../../template/store.ts");
    const rows = await listTemplates();
    if (values.json) {
      io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      return 0;
    }
    if (rows.length === 0) io.stdout.write("no templates (vm()...template({ ready }) makes one)\n");
    for (const r of rows) {
      const state = r.stale ? `stale: ${r.stale}` : "current";
      const clones = r.clones.length ? `, ${r.clones.length} running clone(s)` : "";
      io.stdout.write(`${r.dir}\n  ${mib(r.bytes)}, ${r.memoryMiB} MiB RAM, boots ${r.boots}, ${state}${clones}\n`);
    }
    return 0;
  },
};

const prune: CliCommand = {
  name: "prune",
  summary: "remove stale templates (or all with --all)",
  help: `usage: qemukit template prune [--all]

Removes templates whose base images, kernel or QEMU changed since they were made, and
leftovers of interrupted builds. Templates with running clones are kept. Only
directories qemukit made are removed.

options:
  --all   remove every template without running clones`,
  async run(args, io) {
    const { values } = parseFlags(args, { all: { type: "boolean" } }, 0);
    const { pruneTemplates } = await import("../../template/store.ts");
    for (const dir of await pruneTemplates({ all: values.all === true })) io.stdout.write(`removed ${dir}\n`);
    return 0;
  },
};

/** The `template` command group. */
export const command: CliCommand = {
  name: "template",
  summary: "list and prune saved VM templates",
  help: `usage: qemukit template <list|prune> ...

A template is a VM booted once and saved (machine state + frozen disk layers); clones
start from it in well under a second. Scripts make them with vm()...template({ ready }).`,
  subcommands: [list, prune],
};
