/**
 * Fleets: start VMs across libvirt hosts, placed by free memory and running domains,
 * and stop what the fleet started when it closes.
 * @module
 */
import type { StartOptions } from "../machine/start.ts";
import type { VmExit } from "../machine/types.ts";
import type { VmBuilder } from "../spec/builder.ts";
import type { VmSpec } from "../spec/types.ts";
import { asHost, type LibvirtHost, type NodeFacts } from "./host.ts";
import type { LibvirtVm } from "./libvirt-vm.ts";
import { placeVms } from "./placement.ts";
import { startOnLibvirt } from "./start.ts";

/** One VM a fleet started. */
export interface FleetMember {
  readonly name: string;
  readonly uri: string;
  readonly state: LibvirtVm["state"];
}

/**
 * VMs across libvirt hosts. Get one from {@link fleet}.
 *
 * @example
 * ```ts
 * await using f = fleet(["qemu:///system", "qemu+ssh://root@b/system"]);
 * const vms = await f.start(4, vm().memory(256).kernel(k, { initrd, append }));
 * ```
 */
export class Fleet implements AsyncDisposable {
  readonly hosts: readonly LibvirtHost[];
  #vms: LibvirtVm[] = [];
  #counter = 0;

  constructor(hosts: readonly (LibvirtHost | string)[]) {
    this.hosts = hosts.map(asHost);
  }

  /** Node facts of every host, in order. @example `await f.facts();` */
  facts(): Promise<NodeFacts[]> {
    return Promise.all(this.hosts.map((h) => h.nodeFacts()));
  }

  /**
   * Starts `count` VMs of `spec`, placed by free memory then running domains, named
   * `NAME-N` (the spec's name, or "fleet"). All start or none: if one fails, the others
   * of this call are killed and the error is rethrown.
   * @example `const [a, b] = await f.start(2, vm().memory(256).kernel(k));`
   * @throws {LibvirtError} `LIBVIRT_NO_ROOM` when a VM fits on no host.
   */
  async start(count: number, spec: VmBuilder | VmSpec, options: StartOptions = {}): Promise<LibvirtVm[]> {
    const s: VmSpec = "spec" in spec ? spec.spec : spec;
    const where = placeVms(await this.facts(), count, s.memoryMiB);
    const prefix = s.name ?? "fleet";
    const results = await Promise.allSettled(
      where.map((h) => startOnLibvirt({ ...s, name: `${prefix}-${++this.#counter}` }, this.hosts[h]!, options)),
    );
    const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await Promise.all(started.map((m) => m.kill()));
      throw failed.reason;
    }
    this.#vms.push(...started);
    return started;
  }

  /** The VMs this fleet started that have not exited. @example `f.list().map((m) => m.uri);` */
  list(): FleetMember[] {
    return this.#vms
      .filter((m) => m.state !== "exited")
      .map((m) => ({ name: m.name, uri: m.host.uri, state: m.state }));
  }

  /** The handles of the VMs still running. @example `for (const m of f.vms()) await m.console.run("uptime");` */
  vms(): LibvirtVm[] {
    return this.#vms.filter((m) => m.state !== "exited");
  }

  /**
   * Shuts down every VM the fleet started (the usual ladder, in parallel).
   * @example `await f.close();`
   */
  async close(options: Parameters<LibvirtVm["shutdown"]>[0] = {}): Promise<VmExit[]> {
    const vms = this.#vms;
    this.#vms = [];
    return Promise.all(vms.map((m) => m.shutdown(options)));
  }

  /** `await using` support: closes the fleet. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A fleet over libvirt hosts (URIs or {@link libvirt} hosts).
 *
 * @example
 * ```ts
 * await using f = fleet([libvirt("qemu:///system"), "qemu+ssh://root@b/system"]);
 * await f.start(2, vm().memory(256).kernel(k, { initrd, append }));
 * ```
 */
export function fleet(hosts: readonly (LibvirtHost | string)[]): Fleet {
  return new Fleet(hosts);
}
