#!/usr/bin/env -S npx tsx
/**
 * Lab: "Verify that the system supports virtualization" — `grep vmx /proc/cpuinfo`,
 * `lsmod | grep kvm`, `ls -l /dev/kvm`, and which accelerator QEMU can really use.
 * @module
 */
import { host } from "../sdk/mod.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { Reporter } from "./lib/reporter.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** What check-host observes. */
export interface CheckHostObservations {
  /** `vmx` (Intel VT-x), `svm` (AMD-V), or null when /proc/cpuinfo shows neither. */
  readonly cpuFlag: "vmx" | "svm" | null;
  /** Loaded kvm* modules, as `lsmod | grep kvm` would list them. */
  readonly kvmModules: readonly string[];
  /** `/dev/kvm` as `ls -l` shows it, and whether this user can open it read-write. */
  readonly devKvm: {
    readonly exists: boolean;
    readonly mode: string | null;
    readonly group: string | null;
    readonly accessible: boolean;
  };
  /** The accelerator `accel: "auto"` uses on this host. */
  readonly accel: "kvm" | "tcg";
  /** Why, in one sentence. */
  readonly reason: string;
  /** KVM-PVM detected: a paravirtual KVM that runs ordinary guests far slower than TCG. */
  readonly pvm: boolean;
  /** Each check line: id, status, summary. */
  readonly checks: readonly { readonly id: string; readonly status: string; readonly summary: string }[];
  /** QEMU programs found and their versions. */
  readonly qemu: Readonly<Record<string, string | null>>;
}

export const meta: RecipeMeta = {
  id: "check-host",
  title: "Check the host for virtualization support",
  exercise: "Verify that the system supports virtualization",
  labCommands: ["grep vmx /proc/cpuinfo", "lsmod | grep kvm", "ls -l /dev/kvm"],
  heavy: false,
};

/**
 * Runs the host check and reports the lab's answers.
 *
 * @example
 * ```ts
 * const { cpuFlag, accel, reason } = await run();
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<CheckHostObservations> {
  const r = options.reporter ?? new Reporter();
  const report = await r.step(
    "host.check(): CPU flags, kvm modules, /dev/kvm, accelerator probe",
    async () => {
      // #region check-host
      const report = await host.check();
      // #endregion
      return report;
    },
    (rep) => `${rep.items.length} checks, verdict ${rep.verdict.use}`,
  );
  // #region facts
  const { cpu, modules, devKvm } = report.facts; // grep vmx /proc/cpuinfo, lsmod | grep kvm, ls -l /dev/kvm
  const { use, reason, pvm } = report.verdict; // what accel: "auto" will use, and why
  // #endregion
  for (const item of report.items) r.note(`${item.status.padEnd(4)} ${item.id}: ${item.summary}`);
  r.note(`cpu flag (grep vmx/svm /proc/cpuinfo): ${cpu.virtFlag ?? "none"}`);
  r.note(`kvm modules (lsmod | grep kvm): ${modules.map((m) => m.name).join(", ") || "none"}`);
  r.note(
    `/dev/kvm (ls -l): ${devKvm.exists ? `${devKvm.mode} ${devKvm.owner ?? devKvm.uid} ${devKvm.group ?? devKvm.gid}` : "missing"}`,
  );
  r.note(`accelerator: ${use} (${reason})`);
  return {
    cpuFlag: cpu.virtFlag ?? null,
    kvmModules: modules.map((m) => m.name),
    devKvm: {
      exists: devKvm.exists,
      mode: devKvm.mode ?? null,
      group: devKvm.group ?? (devKvm.gid !== undefined ? String(devKvm.gid) : null),
      accessible: devKvm.openable === true,
    },
    accel: use,
    reason,
    pvm,
    checks: report.items.map((i) => ({ id: i.id, status: i.status, summary: i.summary })),
    qemu: Object.fromEntries(report.qemu.map((q) => [q.name, q.version ?? null])),
  };
}

/** One line for the lab's summary table. */
export function summarize(o: CheckHostObservations): string {
  const dev = o.devKvm.exists
    ? `/dev/kvm ${o.devKvm.mode} group ${o.devKvm.group}${o.devKvm.accessible ? "" : " (no access)"}`
    : "no /dev/kvm";
  return `cpu flag ${o.cpuFlag ?? "none"}; modules ${o.kvmModules.join(",") || "none"}; ${dev}; accel ${o.accel}${o.pvm ? " (KVM-PVM detected)" : ""}`;
}

export const recipe: Recipe<CheckHostObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
