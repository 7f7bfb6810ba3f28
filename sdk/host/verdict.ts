/**
 * Deciding KVM or TCG (pure): the facts rule KVM out when /dev/kvm cannot be used at all;
 * otherwise the timed probes decide, by measured speed.
 * @module
 */
import type { AccelProbeResult, AccelVerdict, HostFacts } from "./types.ts";

/**
 * The KVM-PVM case: a `kvm_pvm` module and no vmx/svm flag. KVM there runs ordinary guest
 * code, only far slower than TCG; this names the cause in a verdict, the probes decide.
 *
 * @example
 * ```ts
 * isPvmHost(await readHostFacts()); // true on the lab's cloud VMs
 * ```
 */
export function isPvmHost(facts: HostFacts): boolean {
  return facts.modules.some((m) => /pvm/.test(m.name)) && facts.cpu.virtFlag === undefined;
}

function base(facts: HostFacts, now: Date) {
  return { pvm: isPvmHost(facts), decidedAt: now.toISOString(), ...(facts.bootId ? { bootId: facts.bootId } : {}) };
}

/**
 * What the facts alone say: TCG when /dev/kvm is missing or cannot be opened, else
 * `undefined` (only the probes can tell).
 *
 * @example
 * ```ts
 * const v = verdictFromFacts(facts) ?? verdictFromProbes(facts, { tcg, kvm });
 * ```
 */
export function verdictFromFacts(facts: HostFacts, now = new Date()): AccelVerdict | undefined {
  const b = base(facts, now);
  const dev = facts.devKvm;
  if (!dev.exists) {
    const why = b.pvm
      ? "; this host's KVM is KVM-PVM besides (kvm_pvm loaded, no vmx/svm CPU flag)"
      : facts.cpu.virtFlag === undefined
        ? "; the CPU has no vmx/svm flag"
        : facts.modules.length === 0
          ? "; no kvm kernel module is loaded"
          : "";
    return { use: "tcg", reason: `${dev.path} does not exist, so KVM is unavailable${why}`, ...b };
  }
  if (!dev.openable) {
    return {
      use: "tcg",
      reason: `${dev.path} cannot be opened read-write by this user (${dev.openError ?? "error"})`,
      ...b,
    };
  }
  return undefined;
}

/**
 * A speed ratio for people: "31x", "2.4x".
 *
 * @example
 * ```ts
 * formatRatio(31.4); // "31x"
 * ```
 */
export function formatRatio(r: number): string {
  return r >= 10 ? `${Math.round(r)}x` : `${(Math.round(r * 10) / 10).toFixed(1)}x`;
}

const steps = (p: AccelProbeResult) => `${p.runMs} ms for ${p.steps.toLocaleString("en-US")} steps`;

/**
 * The verdict from the timed probes: whichever accelerator ran the probe faster per loop
 * step, with the figures. A KVM probe that timed out is a lower bound ("over 400x slower").
 *
 * @example
 * ```ts
 * const tcg = await probeAccel("tcg");
 * const kvm = await probeAccel("kvm");
 * verdictFromProbes(facts, { tcg, kvm }).reason; // "kvm ran the probe 31x slower than tcg (...): KVM-PVM ..."
 * ```
 */
export function verdictFromProbes(
  facts: HostFacts,
  probes: { readonly tcg?: AccelProbeResult; readonly kvm?: AccelProbeResult },
  now = new Date(),
): AccelVerdict {
  const b = { ...base(facts, now), probes };
  const { tcg, kvm } = probes;
  const pvmNote = b.pvm ? ": KVM-PVM (kvm_pvm loaded, no vmx/svm CPU flag)" : "";
  if (!kvm) {
    return {
      use: "tcg",
      reason: tcg ? "KVM was not probed, and only a probe proves it runs guests faster" : "no probe ran",
      ...b,
    };
  }
  const tcgRan = tcg?.ran === true && tcg.runMs !== undefined;
  // Time per step, with a floor of 0.1 ms (the clock's resolution) so a ratio stays finite.
  const perStep = (p: AccelProbeResult) => Math.max(p.runMs ?? 0, 0.1) / p.steps;
  const ratio = (k: AccelProbeResult, t: AccelProbeResult) => Math.round((perStep(k) / perStep(t)) * 1000) / 1000;
  if (kvm.ran && kvm.runMs !== undefined) {
    if (!tcgRan) {
      return {
        use: "kvm",
        reason: `kvm ran the probe (${steps(kvm)}); tcg did not (${tcg?.error ?? "not run"})`,
        ...b,
      };
    }
    const r = ratio(kvm, tcg!);
    const figures = `(kvm ${steps(kvm)}, tcg ${steps(tcg!)})`;
    if (r <= 1)
      return {
        use: "kvm",
        reason: `kvm ran the probe ${formatRatio(1 / r)} faster than tcg ${figures}`,
        kvmToTcg: r,
        ...b,
      };
    return {
      use: "tcg",
      reason: `kvm ran the probe ${formatRatio(r)} slower than tcg ${figures}${pvmNote}`,
      kvmToTcg: r,
      ...b,
    };
  }
  if (kvm.timedOut && kvm.timedOutIn === "run" && kvm.runMs !== undefined) {
    const within = `kvm did not finish the probe (${kvm.steps.toLocaleString("en-US")} steps) within ${kvm.runMs} ms`;
    if (!tcgRan) return { use: "tcg", reason: `${within}${pvmNote}`, ...b };
    const r = ratio(kvm, tcg!);
    return {
      use: "tcg",
      reason: `${within}, over ${formatRatio(r)} slower than tcg (${steps(tcg!)})${pvmNote}`,
      kvmToTcg: r,
      ...b,
    };
  }
  if (kvm.timedOut) return { use: "tcg", reason: `QEMU with kvm did not start the guest within ${kvm.ms} ms`, ...b };
  return { use: "tcg", reason: `QEMU could not use kvm: ${kvm.error ?? "unknown error"}`, ...b };
}
