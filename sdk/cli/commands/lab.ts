/**
 * `qemukit lab` (`npm run lab`): the whole KVM lab on the built-in Debian guest, with a
 * summary table and lab-report.md/.json. Recipes load by path at run time.
 * @module
 */
import { resolve } from "node:path";
import { parseFlags } from "../args.ts";
import { type CliCommand, UsageError } from "../command.ts";

const help = `usage: qemukit lab [--out DIR] [--jobs N] [--only ID,ID...] [--image PATH] [--json]

Runs every exercise of the KVM lab for real on the built-in Debian guest (built first if
needed): host check, start a VM and count threads, VNC, create a disk, install from a
verified ISO, add a disk, copy-on-write overlays, format conversion. Heavy recipes run
first and overlap with the light ones. Prints a summary table and writes lab-report.md,
lab-report.json and the screenshots to the output directory. Ctrl-C stops every VM and
removes temporary files. Exit code 1 when a recipe failed (the failure is in the report).

options:
  --out DIR       output directory (default ./lab-output)
  --jobs N        recipes at a time (default 2)
  --only IDS      comma-separated recipe ids (default: all; see qemukit recipe --list)
  --image PATH    boot your own base image (the lab's debian-11.qcow2) instead of the built-in guest
  --json          print lab-report.json on stdout instead of the table
`;

/** The `lab` command. */
export const command: CliCommand = {
  name: "lab",
  summary: "run every lab exercise on the built-in Debian guest and write a report",
  help,
  async run(args, io) {
    const { values } = parseFlags(
      args,
      {
        out: { type: "string" },
        jobs: { type: "string" },
        only: { type: "string" },
        image: { type: "string" },
        json: { type: "boolean" },
      },
      0,
    );
    const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16)
      throw new UsageError(`--jobs must be 1..16, not ${values.jobs}`);
    const { recipeIds } = await import("../../../recipes/index.ts");
    const only = values.only
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const id of only ?? []) {
      if (!(recipeIds as readonly string[]).includes(id))
        throw new UsageError(`unknown recipe '${id}' in --only (one of: ${recipeIds.join(", ")})`);
    }
    const { runLab, renderTable } = await import("../../../recipes/lib/lab-runner.ts");
    const report = await runLab({
      outDir: resolve(values.out ?? "lab-output"),
      jobs,
      ...(only ? { only: only as (typeof recipeIds)[number][] } : {}),
      ...(values.image ? { image: resolve(values.image) } : {}),
      progress: io.stderr,
    });
    if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else {
      io.stdout.write("\n" + renderTable(report, io.stdout.columns ?? 120));
      io.stdout.write(`report: ${report.outDir}/lab-report.md, ${report.outDir}/lab-report.json\n`);
    }
    return report.ok ? 0 : 1;
  },
};
