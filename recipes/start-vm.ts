#!/usr/bin/env -S npx tsx
/**
 * Lab: "Starting a virtual machine" — `kvm -hda debian-11.qcow2 -m 512 -smp 2`, inspect
 * QEMU's threads with `ps -efL`, repeat with 4 vCPUs and explain the difference.
 * @module
 */
import { vm } from "../sdk/mod.ts";
import { bootGuest } from "./lib/guest.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";
import { libvirtHost, type RanOnLibvirt } from "./lib/libvirt.ts";
import { LibvirtVm } from "../sdk/libvirt/mod.ts";

/** One VM's threads as `ps -efL` would show them, with what they are. */
export interface ThreadCount {
  /** QEMU's pid (the `ps -efL` PID column). */
  readonly pid: number;
  readonly total: number;
  /** Threads QMP `query-cpus-fast` names as vCPUs. */
  readonly vcpu: number;
  /** QEMU's I/O thread pool (`worker`): started for disk I/O, gone after ~10 s idle. */
  readonly worker: number;
  /** The rest: main loop, RCU, monitor I/O thread. */
  readonly fixed: number;
  /** Every thread's name (/proc/PID/task/TID/comm, with QEMU's debug-threads=on). */
  readonly names: readonly string[];
}

/** What start-vm observes. */
export interface StartVmObservations {
  /** Total QEMU threads per vCPU count, e.g. `{ "2": 5, "4": 7 }`. */
  readonly threads: Readonly<Record<string, number>>;
  /** Threads QEMU reports as vCPUs (QMP query-cpus-fast), per vCPU count. */
  readonly vcpuThreads: Readonly<Record<string, number>>;
  /** Threads that are neither vCPUs nor I/O workers, per vCPU count (the same in both runs). */
  readonly otherThreads: Readonly<Record<string, number>>;
  /** QEMU's I/O worker threads at the moment of counting, per vCPU count. */
  readonly workerThreads: Readonly<Record<string, number>>;
  /** I/O worker threads right after the start (they end when idle), per vCPU count. */
  readonly workerThreadsAtStart: Readonly<Record<string, number>>;
  readonly details: Readonly<Record<string, ThreadCount>>;
  /** The difference, explained from the numbers above. */
  readonly explanation: string;
  /** The accelerator the VMs ran with, and why. */
  readonly accel: { readonly chosen: string; readonly reason: string };
  readonly guest: string;
  /** Set when the VMs ran as libvirt domains (`--on URI`): where. */
  readonly libvirt?: RanOnLibvirt;
}

export const meta: RecipeMeta = {
  id: "start-vm",
  title: "Start a VM with 512 MB and 2 vCPUs, count QEMU's threads, repeat with 4",
  exercise: "Starting a virtual machine",
  labCommands: [
    "kvm -hda debian-11.qcow2 -m 512 -smp 2",
    "ps -efL | grep kvm",
    "kvm -hda debian-11.qcow2 -m 512 -smp 4",
  ],
  heavy: false,
  libvirt: true,
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
  const guest = await r.step(
    "find the guest",
    () => bootGuest(options),
    (g) => g.label,
  );
  const host = libvirtHost(options);
  const domains: string[] = [];
  if (host) r.note(`running on ${host.remote ? "remote" : "local"} libvirt: ${host.uri}`);
  const details: Record<string, ThreadCount> = {};
  const workersAtStart: Record<string, number> = {};
  let accel = { chosen: "", reason: "" };
  for (const cpus of [2, 4]) {
    await using res = new Resources();
    const name = `lab-start-vm-${cpus}-${process.pid}`;
    const m = await r.step(
      `start: -m 512 -smp ${cpus} (vCPUs paused)${host ? " as a libvirt domain" : ""}`,
      async () => {
        if (host) {
          // #region start-libvirt
          // host = libvirt(options.on); libvirt names the threads itself (debug-threads=on)
          const m = res.vm(await guest.attach(vm().name(name).memory(512).smp(cpus)).start({ on: host, paused: true }));
          // #endregion
          return m;
        }
        // #region start
        const builder = guest.attach(vm().name(name).memory(512).smp(cpus)).args("-name", "debug-threads=on"); // name the threads (CPU 0/TCG, worker...) in /proc
        const m = res.vm(await builder.start({ paused: true }));
        // #endregion
        return m;
      },
      (m) => (isLibvirt(m) ? `domain ${m.name}` : `pid ${m.pid}, accel ${m.accel.chosen}`),
    );
    if (isLibvirt(m)) {
      domains.push(name);
      const kvm = await m.qmp.execute("query-kvm");
      accel = {
        chosen: kvm.enabled ? "kvm" : "tcg",
        reason: `libvirt chose it: the domain's type is ${kvm.enabled ? "kvm" : "qemu (TCG)"} (QMP query-kvm: enabled=${kvm.enabled})`,
      };
      r.note(`virsh dumpxml ${name} shows the domain; ps -efL on its host shows the threads`);
    } else {
      accel = { chosen: m.accel.chosen, reason: m.accel.reason };
      r.note(m.argv.join(" "));
    }
    // Opening the disk starts I/O worker threads; QEMU ends each after 10 s without work.
    // Wait one such period (11 s): a worker that got later work is counted apart (it is
    // not part of the 2-vs-4 difference), not waited for. Measured here, the last worker
    // sometimes lives 20-37 s, and waiting for it cost the lab up to a minute.
    const settled = await r.step(
      "let QEMU's I/O worker threads go idle",
      async () => {
        const t0 = Date.now();
        let workers = (await m.threads()).filter((t) => t.name === "worker").length;
        const atStart = workers;
        while (workers > 0 && Date.now() - t0 < 11_000) {
          await new Promise((ok) => setTimeout(ok, 500));
          workers = (await m.threads()).filter((t) => t.name === "worker").length;
        }
        return { atStart, left: workers, ms: Date.now() - t0 };
      },
      (w) => `${w.atStart} worker thread(s) at start, ${w.left} after ${(w.ms / 1000).toFixed(1)} s`,
    );
    workersAtStart[String(cpus)] = settled.atStart;
    const threads = await r.step(
      isLibvirt(m) ? `ps -efL on the domain's host: threads of its QEMU` : `ps -efL: threads of QEMU pid ${m.pid}`,
      async () => {
        // #region threads
        const threads = await m.threads();
        const vcpus = threads.filter((t) => t.kind === "vcpu");
        // #endregion
        const worker = threads.filter((t) => t.kind !== "vcpu" && t.name === "worker").length;
        return {
          pid: isLibvirt(m) ? (threads.find((t) => t.kind === "main")?.tid ?? 0) : m.pid,
          total: threads.length,
          vcpu: vcpus.length,
          worker,
          fixed: threads.length - vcpus.length - worker,
          names: threads.map((t) => t.name),
        };
      },
      (t) => `${t.total} threads: ${t.names.join(", ")}`,
    );
    details[String(cpus)] = threads;
    await r.step(
      "stop the VM",
      () => m.shutdown({ timeouts: { powerdown: 0 } }),
      (e) => e.reason,
    );
  }
  const two = details["2"]!;
  const four = details["4"]!;
  return {
    threads: { "2": two.total, "4": four.total },
    vcpuThreads: { "2": two.vcpu, "4": four.vcpu },
    otherThreads: { "2": two.fixed, "4": four.fixed },
    workerThreads: { "2": two.worker, "4": four.worker },
    workerThreadsAtStart: workersAtStart,
    details,
    explanation: explain(two, four),
    accel,
    guest: guest.label,
    ...(host ? { libvirt: { uri: host.uri, remote: host.remote, domains } } : {}),
  };
}

function isLibvirt(m: object): m is LibvirtVm {
  return m instanceof LibvirtVm;
}

/** Puts the measured numbers into words; says so when they do not fit the usual model. */
export function explain(two: ThreadCount, four: ThreadCount): string {
  const diff = four.total - two.total;
  const vcpuDiff = four.vcpu - two.vcpu;
  const head = `With 4 vCPUs QEMU has ${four.total} threads, ${diff} more than the ${two.total} with 2 vCPUs.`;
  const workers =
    two.worker || four.worker
      ? ` Besides, ${two.worker} and ${four.worker} 'worker' threads were alive: QEMU's I/O thread pool, which starts threads for disk I/O and ends them when idle, so they come and go independently of the vCPUs.`
      : "";
  if (two.vcpu === 2 && four.vcpu === 4 && two.fixed === four.fixed) {
    return (
      `${head} QEMU runs each virtual CPU in a thread of its own (named 'CPU n/TCG' under TCG; under KVM the thread that enters the guest), ` +
      `so 2 more vCPUs add exactly ${vcpuDiff} vCPU threads; QEMU's own ${four.fixed} threads (main loop, RCU, monitor I/O) stay the same.${workers}`
    );
  }
  return `${head} ${vcpuDiff} of them are vCPU threads (one per vCPU); QEMU's other threads went from ${two.fixed} to ${four.fixed}.${workers}`;
}

/** One line for the lab's summary table. */
export function summarize(o: StartVmObservations): string {
  return `threads: ${o.threads["2"]} with 2 vCPUs, ${o.threads["4"]} with 4 (vCPU ${o.vcpuThreads["2"]} -> ${o.vcpuThreads["4"]}, QEMU's own ${o.otherThreads["2"]} -> ${o.otherThreads["4"]}, I/O workers ${o.workerThreads["2"]} -> ${o.workerThreads["4"]})`;
}

export const recipe: Recipe<StartVmObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
