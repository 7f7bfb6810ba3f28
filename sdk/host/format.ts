/**
 * Rendering a host report as a table for people (pure).
 * @module
 */
import type { HostCheckStatus, HostReport } from "./types.ts";

const MARK: Record<HostCheckStatus, string> = { pass: "PASS", warn: "WARN", fail: "FAIL", info: "INFO" };
const COLOR: Record<HostCheckStatus, string> = {
  pass: "\x1b[32m",
  warn: "\x1b[33m",
  fail: "\x1b[31m",
  info: "\x1b[36m",
};

/** Soft-wraps `text` to `width` columns. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/**
 * Formats a report as aligned rows (status, check, summary) with detail and fix lines under each.
 *
 * @example
 * ```ts
 * process.stdout.write(formatHostReport(await host.check(), { color: process.stdout.isTTY }));
 * ```
 */
export function formatHostReport(report: HostReport, options: { color?: boolean; columns?: number } = {}): string {
  const width = Math.max(60, options.columns ?? 100);
  const idWidth = Math.max(...report.items.map((i) => i.id.length));
  const indent = 6 + idWidth + 2;
  const textWidth = width - indent;
  const lines: string[] = [];
  for (const item of report.items) {
    const mark = options.color ? `${COLOR[item.status]}${MARK[item.status]}\x1b[0m` : MARK[item.status];
    const [first, ...rest] = wrap(item.summary, textWidth);
    lines.push(`${mark}  ${item.id.padEnd(idWidth)}  ${first ?? ""}`);
    for (const l of rest) lines.push(" ".repeat(indent) + l);
    if (item.detail) for (const l of wrap(item.detail, textWidth - 2)) lines.push(" ".repeat(indent) + "  " + l);
    if (item.fix) for (const l of wrap(`fix: ${item.fix}`, textWidth - 2)) lines.push(" ".repeat(indent) + "  " + l);
  }
  lines.push("");
  lines.push(
    report.canRunVm
      ? `Verdict: use ${report.verdict.use}. ${report.verdict.reason}.`
      : "Verdict: no VM can run on this host.",
  );
  return lines.join("\n") + "\n";
}
