/**
 * `qemukit/libvirt`: run qemukit specs as libvirt domains, locally (`qemu:///system`) or on
 * other hosts (`qemu+ssh://`), with the same handle contract as a direct start; compile
 * specs to domain XML; place VMs across hosts with {@link fleet}.
 *
 * ```ts
 * import { vm, guests } from "qemukit";
 * import { libvirt } from "qemukit/libvirt";
 * const g = await guests.tiny();
 * await using m = await vm().memory(256).kernel(g.kernel, { initrd: g.initrd, append: g.append })
 *   .start({ on: libvirt("qemu:///system") });
 * ```
 * @module
 */
export { compileDomain, QEMUKIT_XMLNS } from "./domain.ts";
export type { CompiledDomain, DomainContext, PlacedDisk } from "./domain.ts";
export { LibvirtError } from "./errors.ts";
export type { LibvirtErrorCode } from "./errors.ts";
export { checkLibvirtSupport, LIBVIRT_REFUSALS } from "./features.ts";
export type { LibvirtRefusal, LibvirtTarget } from "./features.ts";
export { libvirt, LibvirtHost } from "./host.ts";
export type { LibvirtOptions, NodeFacts, VolumeInfo } from "./host.ts";
export { LibvirtVm } from "./libvirt-vm.ts";
export { attachOnLibvirt as attach, listOnLibvirt as list, startOnLibvirt } from "./start.ts";
export type { LibvirtListing, LibvirtStartOptions } from "./start.ts";
export type { VmHandle } from "../machine/handle.ts";
export { Fleet, fleet } from "./fleet.ts";
export type { FleetMember } from "./fleet.ts";
export { placeVms } from "./placement.ts";
export { checkLibvirt } from "./check.ts";
