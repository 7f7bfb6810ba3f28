/**
 * The lab's report: a table for the terminal, Markdown for lab-report.md.
 * @module
 */
import { relative } from "node:path";
import type { LabReport } from "./lab-runner.ts";
import { formatMs } from "./reporter.ts";

const MARK = { passed: "✓", failed: "✗", interrupted: "!", "not run": "-" } as const;

/** The summary table printed at the end of `qemukit lab`. */
export function renderTable(report: LabReport, width = 120): string {
  const idW = Math.max(...report.recipes.map((r) => r.id.length), 6);
  const lines = [
    `${"recipe".padEnd(idW)}  st  ${"time".padStart(7)}  observed`,
    `${"-".repeat(idW)}  --  ${"-".repeat(7)}  ${"-".repeat(Math.max(8, width - idW - 15))}`,
  ];
  for (const r of report.recipes) {
    const what = r.summary ?? r.error?.message.split("\n")[0] ?? r.status;
    const room = Math.max(20, width - idW - 15);
    lines.push(
      `${r.id.padEnd(idW)}  ${MARK[r.status]}   ${formatMs(r.ms).padStart(7)}  ${what.length > room ? `${what.slice(0, room - 1)}…` : what}`,
    );
  }
  const failed = report.recipes.filter((r) => r.status !== "passed").length;
  lines.push(
    "",
    `${report.recipes.length - failed}/${report.recipes.length} recipes passed in ${formatMs(report.wallMs)} wall time ` +
      `(QEMU ${report.qemuVersion}, accel ${report.accel.chosen}, ${report.jobs} at a time)${report.interrupted ? " — INTERRUPTED" : ""}`,
  );
  return lines.join("\n") + "\n";
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** lab-report.md: summary, then one section per recipe with the lab's commands, steps and observations. */
export function renderMarkdown(report: LabReport): string {
  const out: string[] = [];
  out.push("# KVM lab report", "");
  out.push(`- Started: ${report.startedAt}`);
  out.push(
    `- Wall time: **${formatMs(report.wallMs)}** (${report.jobs} recipes at a time, ${report.host.cpus} CPUs, ${report.host.runtime} ${report.host.node})`,
  );
  out.push(`- QEMU: ${report.qemuVersion}; accelerator: **${report.accel.chosen}** (${report.accel.reason})`);
  out.push(`- Guest: ${report.guest}; qemukit ${report.qemukit}`);
  out.push(
    `- Result: ${report.ok ? "all recipes passed" : report.interrupted ? "**interrupted**" : "**some recipes failed**"}`,
    "",
  );
  out.push("| recipe | exercise | status | time | observed |", "|---|---|---|---|---|");
  for (const r of report.recipes) {
    out.push(
      `| [${r.id}](#${r.id}) | ${cell(r.exercise)} | ${MARK[r.status]} ${r.status} | ${formatMs(r.ms)} | ${cell(r.summary ?? r.error?.message.split("\n")[0] ?? "")} |`,
    );
  }
  if (report.preparation.length) {
    out.push("", "## Preparation", "");
    for (const s of report.preparation)
      out.push(
        `- ${s.ok ? "✓" : "✗"} ${s.title} (${formatMs(s.ms)})${s.detail ? `: ${s.detail}` : ""}${s.error ? `: ${s.error}` : ""}`,
      );
  }
  for (const r of report.recipes) {
    out.push(
      "",
      `## ${r.id}`,
      "",
      `**${r.title}** — lab section “${r.exercise}”. Status: ${MARK[r.status]} ${r.status}, ${formatMs(r.ms)} (started at +${formatMs(r.startedAtMs)}).`,
      "",
    );
    out.push("The lab's commands:", "", "```", ...r.labCommands.map((c) => `$ ${c}`), "```", "");
    if (r.error)
      out.push("**Failure:**", "", "```", r.error.message + (r.error.code ? `\n[${r.error.code}]` : ""), "```", "");
    if (r.steps.length) {
      out.push("Steps:", "");
      for (const s of r.steps)
        out.push(
          `1. ${s.ok ? "✓" : "✗"} ${cell(s.title)} (${formatMs(s.ms)})${s.detail ? `: ${cell(s.detail)}` : ""}${s.error ? `: ${cell(s.error.split("\n")[0]!)}` : ""}`,
        );
      out.push("");
    }
    if (r.observations) {
      out.push(
        "Observations:",
        "",
        "```json",
        JSON.stringify(
          r.observations,
          (_k, v) => (typeof v === "string" && v.startsWith(report.outDir + "/") ? relative(report.outDir, v) : v),
          2,
        ),
        "```",
      );
    }
  }
  return out.join("\n") + "\n";
}
