/**
 * Where a fleet's VMs go: pure, from node facts. Each VM goes to the host with the most
 * memory left after what this placement already put there; ties go to the host running
 * fewer domains (counting those placed), then to the earlier host.
 * @module
 */
import { LibvirtError } from "./errors.ts";
import type { NodeFacts } from "./host.ts";

/**
 * Host index for each of `count` VMs of `memoryMiB` each.
 *
 * @example
 * ```ts
 * placeVms([{ uri: "a", freeMiB: 1000, running: 0, cpus: 2 }, { uri: "b", freeMiB: 3000, running: 0, cpus: 2 }], 3, 512);
 * // [1, 1, 0]
 * ```
 * @throws {LibvirtError} `LIBVIRT_NO_ROOM` when some VM fits on no host.
 */
export function placeVms(facts: readonly NodeFacts[], count: number, memoryMiB: number): number[] {
  const free = facts.map((f) => f.freeMiB);
  const running = facts.map((f) => f.running);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let best = -1;
    for (let h = 0; h < facts.length; h++) {
      if (free[h]! < memoryMiB) continue;
      if (best < 0 || free[h]! > free[best]! || (free[h] === free[best] && running[h]! < running[best]!)) {
        best = h;
      }
    }
    if (best < 0) {
      throw new LibvirtError("LIBVIRT_NO_ROOM", `no host has ${memoryMiB} MiB free for VM ${i + 1} of ${count}`, {
        advice: "add hosts to the fleet, start fewer VMs, or give each less memory",
        details: { facts, placed: out },
      });
    }
    out.push(best);
    free[best]! -= memoryMiB;
    running[best]! += 1;
  }
  return out;
}
