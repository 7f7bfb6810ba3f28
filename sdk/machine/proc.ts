/**
 * Facts about processes read from /proc (Linux only, like QEMU/KVM itself).
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import type { VmThread } from "./types.ts";

import { isAlive } from "../util/proc.ts";

export { isAlive };

/** The process's argv from /proc/PID/cmdline, or undefined when it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((s, i, all) => i < all.length - 1 || s !== "");
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its command line names a file inside `runDir` (its sockets,
 * pidfile): guards against a recycled pid being mistaken for our QEMU. `runDir + "/"`, so
 * the QEMU of `vm10` is never taken for that of `vm1`.
 */
export function isOurQemu(pid: number, runDir: string): boolean {
  if (!isAlive(pid)) return false;
  const argv = cmdline(pid);
  const inside = runDir.endsWith("/") ? runDir : `${runDir}/`;
  return argv?.some((a) => a.includes(inside)) ?? false;
}

/**
 * Lists the threads of `pid` with their names; `vcpuTids` maps thread ids to vCPU indexes
 * (from QMP `query-cpus-fast`).
 */
export async function readThreads(pid: number, vcpuTids: ReadonlyMap<number, number> = new Map()): Promise<VmThread[]> {
  const tids = (await readdir(`/proc/${pid}/task`)).map(Number).sort((a, b) => a - b);
  const threads: VmThread[] = [];
  for (const tid of tids) {
    let name: string;
    try {
      name = (await readFile(`/proc/${pid}/task/${tid}/comm`, "utf8")).trimEnd();
    } catch {
      continue; // the thread ended between readdir and read
    }
    const cpuIndex = vcpuTids.get(tid);
    if (cpuIndex !== undefined) threads.push({ tid, name, kind: "vcpu", cpuIndex });
    else threads.push({ tid, name, kind: tid === pid ? "main" : "other" });
  }
  return threads;
}
