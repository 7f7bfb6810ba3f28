/**
 * Host virtualization check: can this machine run VMs, with KVM or only TCG, and why.
 *
 * @example
 * ```ts
 * import { host, resolveAccel } from "qemukit";
 * const report = await host.check();
 * console.log(report.verdict.use, report.verdict.reason);
 * const { accel, chosen, reason } = await resolveAccel("auto");
 * ```
 * @module
 */
import { accelVerdict, resolveAccel, verdictCachePath } from "./accel.ts";
import { check } from "./check.ts";
import { readHostFacts } from "./facts.ts";
import { formatHostReport } from "./format.ts";
import { probeAccel } from "./probe.ts";

export { accelVerdict, resolveAccel, verdictCachePath } from "./accel.ts";
export type { AccelOptions, ResolvedAccel } from "./accel.ts";
export { check as checkHost } from "./check.ts";
export type { HostCheckOptions } from "./check.ts";
export { parseCpuinfo } from "./cpuinfo.ts";
export { readHostFacts } from "./facts.ts";
export { formatHostReport } from "./format.ts";
export { probeAccel, probeChecksum, probeFirmware } from "./probe.ts";
export type { ProbeOptions } from "./probe.ts";
export { isPvmHost, verdictFromFacts, verdictFromProbes } from "./verdict.ts";
export type { Prober } from "./measure.ts";
export type * from "./types.ts";

/**
 * The host check as one object: `host.check()`, `host.resolveAccel(choice)`,
 * `host.verdict()`, `host.facts()`, `host.probe(accel)`, `host.format(report)`.
 *
 * @example
 * ```ts
 * const { verdict } = await host.check();
 * ```
 */
export const host = Object.freeze({
  check,
  resolveAccel,
  verdict: accelVerdict,
  verdictCachePath,
  facts: readHostFacts,
  probe: probeAccel,
  format: formatHostReport,
});
