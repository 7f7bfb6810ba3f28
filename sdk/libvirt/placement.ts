/**
 * Where a fleet's VMs go: pure, from node facts. Each VM goes to the host with the most
 * memory left after what this placement already put there; ties go to the host running
 * fewer domains (counting those placed), then to the earlier host.
 * @module
 */
import { LibvirtError } from "./errors.ts";
import type { NodeFacts } from "./host.ts";

/**
 * Host index for each of `count` VMs of `memoryMiB` each. Connections that reach the same
 * node (the same `node` id: two URIs to one libvirtd) share its memory and domains; VMs
 * placed on such a node take turns between its connections.
 *
 * @example
 * ```ts
 * placeVms([{ uri: "a", node: "1", freeMiB: 1000, running: 0, cpus: 2 }, { uri: "b", node: "2", freeMiB: 3000, running: 0, cpus: 2 }], 3, 512);
 * // [1, 1, 1]
 * ```
 * @throws {LibvirtError} `LIBVIRT_NO_ROOM` when some VM fits on no host.
 */
export function placeVms(facts: readonly NodeFacts[], count: number, memoryMiB: number): number[] {
  const nodes: { free: number; running: number; members: number[] }[] = [];
  const byId = new Map<string, (typeof nodes)[number]>();
  facts.forEach((f, i) => {
    const known = byId.get(f.node);
    if (known) known.members.push(i);
    else {
      const n = { free: f.freeMiB, running: f.running, members: [i] };
      byId.set(f.node, n);
      nodes.push(n);
    }
  });
  const placedOn = facts.map(() => 0);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let best: (typeof nodes)[number] | undefined;
    for (const n of nodes) {
      if (n.free < memoryMiB) continue;
      if (!best || n.free > best.free || (n.free === best.free && n.running < best.running)) best = n;
    }
    if (!best) {
      throw new LibvirtError("LIBVIRT_NO_ROOM", `no host has ${memoryMiB} MiB free for VM ${i + 1} of ${count}`, {
        advice: "add hosts to the fleet, start fewer VMs, or give each less memory",
        details: { facts, placed: out },
      });
    }
    const conn = best.members.reduce((a, b) => (placedOn[b]! < placedOn[a]! ? b : a));
    out.push(conn);
    placedOn[conn]! += 1;
    best.free -= memoryMiB;
    best.running += 1;
  }
  return out;
}
