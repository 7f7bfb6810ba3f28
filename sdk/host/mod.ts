/**
 * `qemukit/host`: the host virtualization check. Can this machine run VMs, with KVM or only
 * TCG, and why.
 *
 * @example
 * ```ts
 * import { host } from "qemukit/host";
 * const report = await host.check();
 * console.log(report.verdict.use, report.verdict.reason);
 * const { accel, chosen, reason } = await host.resolveAccel("auto");
 * ```
 * @module
 */
import { accelVerdict, resolveAccel, verdictCachePath } from "./accel.ts";
import { check } from "./check.ts";
import { readHostFacts } from "./facts.ts";
import { formatHostReport } from "./format.ts";
import { probeAccel } from "./probe.ts";

export type { AccelOptions, ResolvedAccel } from "./accel.ts";
export type { HostCheckOptions } from "./check.ts";
export type { ProbeOptions } from "./probe.ts";
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
