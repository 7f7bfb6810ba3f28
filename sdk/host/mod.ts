/**
 * Host virtualization check: can this machine run VMs, with KVM or only TCG, and why.
 *
 * @example
 * ```ts
 * import { host } from "qemukit";
 * const report = await host.check();
 * const { chosen, reason } = await host.resolveAccel("auto");
 * ```
 * @module
 */
export { accelVerdict, resolveAccel, verdictCachePath } from "./accel.ts";
export type { AccelOptions, ResolvedAccel } from "./accel.ts";
export { parseCpuinfo } from "./cpuinfo.ts";
export { readHostFacts } from "./facts.ts";
export { probeAccel, probeFirmware } from "./probe.ts";
export type { ProbeOptions } from "./probe.ts";
export { isPvmHost, verdictFromFacts, verdictFromProbe } from "./verdict.ts";
export type * from "./types.ts";
