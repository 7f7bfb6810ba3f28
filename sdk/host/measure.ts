/**
 * Running both timed probes for a verdict: TCG first, then KVM when /dev/kvm can be opened.
 * @module
 */
import type { Accel } from "../spec/types.ts";
import { probeAccel, type ProbeOptions } from "./probe.ts";
import type { AccelProbeResult, HostFacts } from "./types.ts";

/** Runs one probe; {@link probeAccel} unless a caller injects its own (tests, custom hosts). */
export type Prober = (accel: Accel, options: ProbeOptions) => Promise<AccelProbeResult>;

/** Options for {@link runProbes}. */
export interface RunProbesOptions {
  /** qemu-system binary to probe with; without one (and without a prober) nothing runs. */
  readonly qemu: string | undefined;
  /**
   * Runs each probe. Without one, real probes run only for facts read from `/`: for a fixture
   * root, QEMU would probe this machine's /dev/kvm, not the fixture's.
   */
  readonly prober?: Prober;
  /** How long the KVM probe's guest gets, in ms. @default 3000 */
  readonly kvmTimeout?: number;
  /** How long the TCG probe's guest gets, in ms. @default 10000 */
  readonly tcgTimeout?: number;
}

/**
 * Runs the TCG probe and, when /dev/kvm opens, the KVM probe, one after the other so neither
 * slows the other.
 *
 * @example
 * ```ts
 * const { tcg, kvm } = await runProbes(await readHostFacts(), { qemu: "/usr/bin/qemu-system-x86_64" });
 * ```
 */
export async function runProbes(
  facts: HostFacts,
  options: RunProbesOptions,
): Promise<{ tcg?: AccelProbeResult; kvm?: AccelProbeResult }> {
  const prober = options.prober ?? (facts.root === "/" ? probeAccel : undefined);
  if (!prober || !options.qemu) return {};
  const qemu = options.qemu;
  const tcg = await prober("tcg", { qemu, timeout: options.tcgTimeout ?? 10_000 });
  if (!facts.devKvm.exists || !facts.devKvm.openable) return { tcg };
  const kvm = await prober("kvm", { qemu, timeout: options.kvmTimeout ?? 3000 });
  return { tcg, kvm };
}
