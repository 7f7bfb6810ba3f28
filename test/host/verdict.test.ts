import { describe, expect, it } from "vitest";
import { readHostFacts } from "../../sdk/host/facts.ts";
import type { AccelProbeResult } from "../../sdk/host/types.ts";
import { formatRatio, isPvmHost, verdictFromFacts, verdictFromProbes } from "../../sdk/host/verdict.ts";
import { makeHostRoot, PVM_HOST, VMX_HOST } from "../helpers/host-fixtures.ts";

const probe = (accel: "tcg" | "kvm", o: Partial<AccelProbeResult>): AccelProbeResult => ({
  accel,
  ran: true,
  timedOut: false,
  ms: 300,
  steps: accel === "tcg" ? 2_097_152 : 65_536,
  ...o,
});

describe("verdictFromFacts", () => {
  it("KVM-PVM with a usable /dev/kvm: the facts do not decide, the probes must", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const facts = await readHostFacts(fx.root);
    expect(isPvmHost(facts)).toBe(true);
    expect(verdictFromFacts(facts)).toBeUndefined();
  });

  it("no /dev/kvm: TCG, naming the device and the PVM module when present", async () => {
    using fx = makeHostRoot({ ...PVM_HOST, devKvmMode: undefined });
    const v = verdictFromFacts(await readHostFacts(fx.root))!;
    expect(v).toMatchObject({ use: "tcg", pvm: true, bootId: "00000000-0000-4000-8000-000000000000" });
    expect(v.reason).toMatch(/dev\/kvm does not exist.*KVM-PVM/);
  });

  it("no /dev/kvm and no flag, or no module: the reason says which", async () => {
    using noFlag = makeHostRoot({ flags: ["fpu"], modules: {} });
    expect(verdictFromFacts(await readHostFacts(noFlag.root))!.reason).toMatch(/no vmx\/svm flag/);
    using noModule = makeHostRoot({ ...VMX_HOST, modules: {}, devKvmMode: undefined });
    expect(verdictFromFacts(await readHostFacts(noModule.root))!.reason).toMatch(/no kvm kernel module/);
  });

  it("kvm_pvm next to vmx is not a PVM host", async () => {
    using fx = makeHostRoot({ ...VMX_HOST, modules: { kvm: undefined, kvm_intel: "N", kvm_pvm: undefined } });
    const facts = await readHostFacts(fx.root);
    expect(isPvmHost(facts)).toBe(false);
    expect(verdictFromFacts(facts)).toBeUndefined();
  });
});

describe("verdictFromProbes (measured results injected)", () => {
  it("KVM-PVM: kvm slower per step than tcg means tcg, with the figures and the cause", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const facts = await readHostFacts(fx.root);
    // 1300 ms / 64 Ki steps against 40 ms / 2 Mi steps: 1040x slower per step.
    const v = verdictFromProbes(facts, { tcg: probe("tcg", { runMs: 40 }), kvm: probe("kvm", { runMs: 1300 }) });
    expect(v.use).toBe("tcg");
    expect(v.kvmToTcg).toBe(1040);
    expect(v.reason).toBe(
      "kvm ran the probe 1040x slower than tcg (kvm 1300 ms for 65,536 steps, tcg 40 ms for 2,097,152 steps): " +
        "KVM-PVM (kvm_pvm loaded, no vmx/svm CPU flag)",
    );
    expect(v.probes?.kvm?.runMs).toBe(1300);
  });

  it("hardware KVM: faster per step means kvm; no PVM note", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const facts = await readHostFacts(fx.root);
    const v = verdictFromProbes(facts, { tcg: probe("tcg", { runMs: 40 }), kvm: probe("kvm", { runMs: 0.5 }) });
    expect(v).toMatchObject({ use: "kvm", pvm: false, kvmToTcg: 0.4 });
    expect(v.reason).toMatch(/^kvm ran the probe 2\.5x faster than tcg \(kvm 0\.5 ms for 65,536 steps/);
  });

  it("a kvm run below the clock's resolution counts as 0.1 ms, not as infinitely fast", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const v = verdictFromProbes(await readHostFacts(fx.root), {
      tcg: probe("tcg", { runMs: 40 }),
      kvm: probe("kvm", { runMs: 0 }),
    });
    expect(v.use).toBe("kvm");
    expect(v.kvmToTcg).toBe(0.08);
    expect(v.reason).toMatch(/ 13x faster/);
  });

  it("a kvm probe that timed out is a lower bound", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const facts = await readHostFacts(fx.root);
    const kvm = probe("kvm", { ran: false, timedOut: true, timedOutIn: "run", runMs: 3000 });
    const v = verdictFromProbes(facts, { tcg: probe("tcg", { runMs: 40 }), kvm });
    expect(v.use).toBe("tcg");
    expect(v.reason).toMatch(
      /^kvm did not finish the probe \(65,536 steps\) within 3000 ms, over 2400x slower than tcg .*KVM-PVM/,
    );
  });

  it("kvm that cannot start, tcg that fails, nothing probed", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const facts = await readHostFacts(fx.root);
    const failed = probe("kvm", { ran: false, error: "failed to initialize kvm: Permission denied" });
    expect(verdictFromProbes(facts, { tcg: probe("tcg", { runMs: 40 }), kvm: failed })).toMatchObject({
      use: "tcg",
      reason: "QEMU could not use kvm: failed to initialize kvm: Permission denied",
    });
    const noStart = probe("kvm", { ran: false, timedOut: true, timedOutIn: "start", ms: 10_000 });
    expect(verdictFromProbes(facts, { kvm: noStart }).reason).toMatch(/did not start the guest within 10000 ms/);
    const tcgFailed = probe("tcg", { ran: false, error: "boom" });
    expect(verdictFromProbes(facts, { tcg: tcgFailed, kvm: probe("kvm", { runMs: 1 }) })).toMatchObject({
      use: "kvm",
      reason: "kvm ran the probe (1 ms for 65,536 steps); tcg did not (boom)",
    });
    expect(verdictFromProbes(facts, { tcg: probe("tcg", { runMs: 40 }) }).reason).toMatch(/KVM was not probed/);
    expect(verdictFromProbes(facts, {})).toMatchObject({ use: "tcg", reason: "no probe ran" });
  });

  it("formats ratios for people", () => {
    expect([formatRatio(31.4), formatRatio(2.46), formatRatio(1), formatRatio(1040)]).toEqual([
      "31x",
      "2.5x",
      "1.0x",
      "1040x",
    ]);
  });
});
