#!/usr/bin/env -S npx tsx
/**
 * Lab: "Starting a virtual machine" — `kvm -hda debian-11.qcow2 -m 512 -smp 2`, inspect
 * QEMU's threads with `ps -efL`, repeat with 4 vCPUs and explain the difference.
 * @module
 */
import { vm } from "./lib/sdk.ts";
import { bootGuest } from "./lib/guest.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** One VM's threads as `ps -efL` would show them, with what they are. */
export interface ThreadCount {
  readonly total: number;
  readonly vcpu: number;
  /** Names (/proc/PID/task/TID/comm) of the vCPU threads. */
  readonly vcpuNames: readonly string[];
  /** Names of QEMU's other threads. */
  readonly otherNames: readonly string[];
}

/** What start-vm observes. */
export interface StartVmObservations {
  /** Total QEMU threads per vCPU count, e.g. `{ "2": 5, "4": 7 }`. */
  readonly threads: Readonly<Record<string, number>>;
  /** Threads QEMU reports as vCPUs (QMP query-cpus-fast), per vCPU count. */
  readonly vcpuThreads: Readonly<Record<string, number>>;
  /** Threads that are not vCPUs, per vCPU count (the same in both runs). */
  readonly otherThreads: Readonly<Record<string, number>>;
  readonly details: Readonly<Record<string, ThreadCount>>;
  /** The difference, explained from the numbers above. */
  readonly explanation: string;
  /** The accelerator the VMs ran with, and why. */
  readonly accel: { readonly chosen: string; readonly reason: string };
  readonly guest: string;
}

export const meta: RecipeMeta = {
  id: "start-vm",
  title: "Start a VM with 512 MB and 2 vCPUs, count QEMU's threads, repeat with 4",
  exercise: "Starting a virtual machine",
  labCommands: ["kvm -hda debian-11.qcow2 -m 512 -smp 2", "ps -efL | grep kvm", "kvm -hda debian-11.qcow2 -m 512 -smp 4"],
  heavy: false,
};

/**
 * Starts the guest twice (2 and 4 vCPUs) with its vCPUs paused, counts threads, stops it.
 * The vCPU threads exist from the start, so no boot is needed to count them.
 *
 * @example
 * ```ts
 * const { threads, explanation } = await run(); // { "2": 5, "4": 7 }
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<StartVmObservations> {
  const r = options.reporter ?? new Reporter();
  const guest = await r.step("find the guest", () => bootGuest(options), (g) => g.label);
  const details: Record<string, ThreadCount> = {};
  let accel = { chosen: "", reason: "" };
  for (const cpus of [2, 4]) {
    await using res = new Resources();
    const m = await r.step(`start: -m 512 -smp ${cpus} (vCPUs paused)`, async () => {
      // #region start
      const builder = guest.attach(vm().name(`lab-start-vm-${cpus}-${process.pid}`).memory(512).smp(cpus));
      const m = res.vm(await builder.start({ paused: true }));
      // #endregion
      return m;
    }, (m) => `pid ${m.pid}, accel ${m.accel.chosen}`);
    accel = { chosen: m.accel.chosen, reason: m.accel.reason };
    r.note(m.argv.join(" "));
    const threads = await r.step(`ps -efL: threads of QEMU pid ${m.pid}`, async () => {
      // #region threads
      const threads = await m.threads();
      const vcpus = threads.filter((t) => t.kind === "vcpu");
      // #endregion
      return {
        total: threads.length,
        vcpu: vcpus.length,
        vcpuNames: vcpus.map((t) => t.name),
        otherNames: threads.filter((t) => t.kind !== "vcpu").map((t) => t.name),
      };
    }, (t) => `${t.total} threads: ${t.vcpu} vCPU (${t.vcpuNames.join(", ")}) + ${t.otherNames.join(", ")}`);
    details[String(cpus)] = threads;
    await r.step("stop the VM", () => m.shutdown({ timeouts: { powerdown: 0 } }), (e) => e.reason);
  }
  const two = details["2"]!;
  const four = details["4"]!;
  return {
    threads: { "2": two.total, "4": four.total },
    vcpuThreads: { "2": two.vcpu, "4": four.vcpu },
    otherThreads: { "2": two.total - two.vcpu, "4": four.total - four.vcpu },
    details,
    explanation: explain(two, four),
    accel,
    guest: guest.label,
  };
}

/** Puts the measured numbers into words; says so when they do not fit the usual model. */
export function explain(two: ThreadCount, four: ThreadCount): string {
  const diff = four.total - two.total;
  const vcpuDiff = four.vcpu - two.vcpu;
  const otherTwo = two.total - two.vcpu;
  const otherFour = four.total - four.vcpu;
  const perVcpu = two.vcpu === 2 && four.vcpu === 4;
  const head = `With 4 vCPUs QEMU has ${four.total} threads, ${diff} more than the ${two.total} with 2 vCPUs.`;
  if (perVcpu && vcpuDiff === diff && otherTwo === otherFour) {
    return `${head} QEMU runs each virtual CPU in a thread of its own (query-cpus-fast names ${four.vcpu} vCPU threads with 4 vCPUs, ` +
      `${two.vcpu} with 2), so 2 more vCPUs add exactly ${diff} threads; the other ${otherFour} threads are QEMU's own ` +
      `(main loop, RCU, monitor I/O) and do not depend on the vCPU count.`;
  }
  return `${head} ${vcpuDiff} of the extra threads are vCPU threads (one per vCPU); the other threads changed from ${otherTwo} to ${otherFour}, ` +
    `so something besides the vCPUs (e.g. I/O worker threads) also came or went.`;
}

/** One line for the lab's summary table. */
export function summarize(o: StartVmObservations): string {
  return `threads: ${o.threads["2"]} with 2 vCPUs, ${o.threads["4"]} with 4 (vCPU threads ${o.vcpuThreads["2"]} -> ${o.vcpuThreads["4"]}, others ${o.otherThreads["2"]} -> ${o.otherThreads["4"]})`;
}

export const recipe: Recipe<StartVmObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
