/**
 * Fixture filesystem roots for the host check: a KVM-PVM host or a VT-x host cannot be
 * produced on demand, so their /proc, /sys/module, /dev and /etc are written as files.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Prober } from "../../sdk/host/measure.ts";
import type { ProbeOptions } from "../../sdk/host/probe.ts";
import type { AccelProbeResult } from "../../sdk/host/types.ts";
import type { Accel } from "../../sdk/spec/types.ts";

export interface HostFixture {
  readonly vendor?: string;
  readonly model?: string;
  readonly flags?: readonly string[];
  /** Module name -> `nested` parameter value (undefined: module has no nested parameter). */
  readonly modules?: Readonly<Record<string, string | undefined>>;
  /** Create dev/kvm (a regular file standing in for the device) with this mode. */
  readonly devKvmMode?: number;
  readonly bootId?: string;
}

export interface FixtureRoot {
  readonly root: string;
  [Symbol.dispose](): void;
}

export function makeHostRoot(f: HostFixture): FixtureRoot {
  const root = mkdtempSync(join(tmpdir(), "qemukit-hostfx-"));
  const write = (rel: string, text: string) => {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const cpu = (n: number) =>
    `processor\t: ${n}\nvendor_id\t: ${f.vendor ?? "AuthenticAMD"}\nmodel name\t: ${f.model ?? "Test CPU"}\n` +
    `flags\t\t: ${(f.flags ?? ["fpu", "sse2"]).join(" ")}\n\n`;
  write("proc/cpuinfo", cpu(0) + cpu(1));
  write("proc/sys/kernel/random/boot_id", `${f.bootId ?? "00000000-0000-4000-8000-000000000000"}\n`);
  mkdirSync(join(root, "sys/module/ext4"), { recursive: true });
  for (const [name, nested] of Object.entries(f.modules ?? {})) {
    mkdirSync(join(root, "sys/module", name, "parameters"), { recursive: true });
    if (nested !== undefined) write(`sys/module/${name}/parameters/nested`, `${nested}\n`);
  }
  write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  write("etc/group", "root:x:0:\nkvm:x:0:\nnogroup:x:65534:\n");
  if (f.devKvmMode !== undefined) {
    write("dev/kvm", "");
    chmodSync(join(root, "dev/kvm"), f.devKvmMode);
  } else {
    mkdirSync(join(root, "dev"), { recursive: true });
  }
  return { root, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

/** A KVM-PVM host as described in /work/shared/design.md: kvm + kvm_pvm, no vmx/svm, /dev/kvm usable. */
export const PVM_HOST: HostFixture = {
  vendor: "AuthenticAMD",
  model: "AMD EPYC",
  flags: ["fpu", "sse2", "hypervisor", "lm"],
  modules: { kvm: undefined, kvm_pvm: undefined },
  devKvmMode: 0o660,
};

/** An ordinary Intel host with VT-x, kvm_intel (nested on) and /dev/kvm. */
export const VMX_HOST: HostFixture = {
  vendor: "GenuineIntel",
  model: "Intel Xeon",
  flags: ["fpu", "vmx", "sse2", "lm"],
  modules: { kvm: undefined, kvm_intel: "Y" },
  devKvmMode: 0o660,
};

/** A probe outcome for an injected prober: what a real probe measured on some host. */
export type ProbeOutcome = Partial<AccelProbeResult> | "missing";

/**
 * A prober that answers from given outcomes instead of starting QEMU (host-independent
 * tests of the verdict logic), and records which accelerators were asked for.
 */
export function injectedProber(outcomes: { tcg?: ProbeOutcome; kvm?: ProbeOutcome }): Prober & { calls: Accel[] } {
  const calls: Accel[] = [];
  const prober = async (accel: Accel, options: ProbeOptions): Promise<AccelProbeResult> => {
    calls.push(accel);
    const o = outcomes[accel] ?? "missing";
    const steps = (options.rounds ?? (accel === "tcg" ? 64 : 2)) * 32768;
    if (o === "missing") return { accel, ran: false, timedOut: false, ms: 5, steps, error: `no outcome for ${accel}` };
    return { accel, ran: true, timedOut: false, ms: (o.runMs ?? 1) + 200, steps, ...o };
  };
  return Object.assign(prober, { calls });
}

/** Outcomes as measured on the lab's KVM-PVM machines: TCG 40 ms for 2 Mi steps, KVM 1.3 s for 64 Ki. */
export const PVM_SPEEDS = { tcg: { runMs: 40 }, kvm: { runMs: 1300 } } as const;
/** Outcomes of an ordinary VT-x host: KVM far faster than TCG. */
export const VMX_SPEEDS = { tcg: { runMs: 40 }, kvm: { runMs: 0.2 } } as const;
