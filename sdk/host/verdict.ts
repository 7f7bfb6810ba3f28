/**
 * Deciding KVM or TCG from the facts and, when the facts cannot settle it, from a probe (pure).
 * @module
 */
import type { AccelVerdict, HostFacts, AccelProbeResult } from "./types.ts";

/**
 * The KVM-PVM case: a `kvm_pvm` module and no vmx/svm flag, so only PVM guest kernels can use KVM.
 *
 * @example
 * ```ts
 * isPvmHost(await readHostFacts()); // true on the lab's cloud VMs
 * ```
 */
export function isPvmHost(facts: HostFacts): boolean {
  return facts.modules.some((m) => /pvm/.test(m.name)) && facts.cpu.virtFlag === undefined;
}

/**
 * What the facts alone say: a final verdict (always TCG), or `undefined` when only a probe can tell.
 *
 * @example
 * ```ts
 * const v = verdictFromFacts(await readHostFacts()) ?? verdictFromProbe(facts, await probeAccel("kvm"));
 * ```
 */
export function verdictFromFacts(facts: HostFacts, now = new Date()): AccelVerdict | undefined {
  const pvm = isPvmHost(facts);
  const base = { pvm, decidedAt: now.toISOString(), ...(facts.bootId ? { bootId: facts.bootId } : {}) };
  const dev = facts.devKvm;
  if (!dev.exists) {
    const why = pvm
      ? "; besides, this host's KVM is KVM-PVM (kvm_pvm loaded, no vmx/svm CPU flag), which cannot run ordinary guests"
      : facts.cpu.virtFlag === undefined
      ? "; the CPU has no vmx/svm flag"
      : facts.modules.length === 0
      ? "; no kvm kernel module is loaded"
      : "";
    return { use: "tcg", reason: `${dev.path} does not exist, so KVM is unavailable${why}`, ...base };
  }
  if (!dev.openable) {
    return {
      use: "tcg",
      reason: `${dev.path} cannot be opened read-write by this user (${dev.openError ?? "error"})`,
      ...base,
    };
  }
  if (pvm) {
    return {
      use: "tcg",
      reason: "KVM-PVM detected (kvm_pvm loaded, no vmx/svm CPU flag): /dev/kvm only runs PVM-enabled " +
        "guest kernels, ordinary guests hang under it",
      ...base,
    };
  }
  return undefined;
}

/**
 * The verdict after a KVM probe ran (facts said KVM might work); `"skipped"` when probing was off.
 *
 * @example
 * ```ts
 * verdictFromProbe(facts, await probeAccel("kvm")).use; // "kvm" when the vCPU ran the payload
 * ```
 */
export function verdictFromProbe(
  facts: HostFacts,
  probe: AccelProbeResult | "skipped" | undefined,
  now = new Date(),
): AccelVerdict {
  if (probe === "skipped") {
    return {
      use: "tcg",
      reason: "KVM looks usable, but probing was disabled and only a probe proves a guest can run",
      pvm: isPvmHost(facts),
      decidedAt: now.toISOString(),
      ...(facts.bootId ? { bootId: facts.bootId } : {}),
    };
  }
  const base = {
    pvm: isPvmHost(facts),
    decidedAt: now.toISOString(),
    ...(facts.bootId ? { bootId: facts.bootId } : {}),
    ...(probe ? { probe } : {}),
  };
  if (!probe) return { use: "tcg", reason: "no qemu-system binary was found to probe KVM with", ...base };
  if (probe.ran) return { use: "kvm", reason: `KVM ran a test guest in ${probe.ms} ms`, ...base };
  if (probe.timedOut && probe.runMs === undefined) {
    return { use: "tcg", reason: `QEMU with KVM did not start and answer QMP within ${probe.ms} ms`, ...base };
  }
  if (probe.timedOut) {
    return {
      use: "tcg",
      reason: `KVM initialised${probe.queryKvm?.enabled ? " (query-kvm: enabled)" : ""} but the vCPU ran no guest ` +
        `code within ${probe.runMs} ms: this KVM cannot run ordinary guests (paravirtual or broken)`,
      ...base,
    };
  }
  if (probe.queryKvm && !probe.queryKvm.enabled) {
    return { use: "tcg", reason: "QEMU started but query-kvm reports KVM disabled", ...base };
  }
  return { use: "tcg", reason: `QEMU could not use KVM: ${probe.error ?? "unknown error"}`, ...base };
}
