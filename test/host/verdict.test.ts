import { describe, expect, it } from "vitest";
import { readHostFacts } from "../../sdk/host/facts.ts";
import { probeAccel } from "../../sdk/host/probe.ts";
import { isPvmHost, verdictFromFacts, verdictFromProbe } from "../../sdk/host/verdict.ts";
import { makeHostRoot, PVM_HOST, VMX_HOST } from "../helpers/host-fixtures.ts";

describe("verdictFromFacts", () => {
  it("KVM-PVM with a usable /dev/kvm: TCG, and says why", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const facts = await readHostFacts(fx.root);
    expect(isPvmHost(facts)).toBe(true);
    const v = verdictFromFacts(facts)!;
    expect(v).toMatchObject({ use: "tcg", pvm: true, bootId: "00000000-0000-4000-8000-000000000000" });
    expect(v.reason).toMatch(/KVM-PVM/);
    expect(v.reason).toMatch(/ordinary guests/);
  });

  it("no /dev/kvm: TCG, naming the device and the PVM module when present", async () => {
    using fx = makeHostRoot({ ...PVM_HOST, devKvmMode: undefined });
    const v = verdictFromFacts(await readHostFacts(fx.root))!;
    expect(v.use).toBe("tcg");
    expect(v.reason).toMatch(/dev\/kvm does not exist.*KVM-PVM/);
  });

  it("kvm_pvm next to vmx is not PVM-only: the probe must decide", async () => {
    using fx = makeHostRoot({ ...VMX_HOST, modules: { kvm: undefined, kvm_intel: "N", kvm_pvm: undefined } });
    const facts = await readHostFacts(fx.root);
    expect(isPvmHost(facts)).toBe(false);
    expect(verdictFromFacts(facts)).toBeUndefined();
  });
});

describe("verdictFromProbe", () => {
  it("a vCPU that never progresses (real QEMU, spinning payload) means TCG", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const facts = await readHostFacts(fx.root);
    const stuck = await probeAccel("tcg", { payload: "spin", timeout: 500 });
    const v = verdictFromProbe(facts, { ...stuck, accel: "kvm" });
    expect(v.use).toBe("tcg");
    expect(v.reason).toMatch(/ran no guest code within \d+ ms/);
  });

  it("a probe that ran means KVM; a failed one reports QEMU's error; no QEMU means TCG", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const facts = await readHostFacts(fx.root);
    const ran = await probeAccel("tcg");
    expect(verdictFromProbe(facts, { ...ran, accel: "kvm" }).use).toBe("kvm");
    const failed = verdictFromProbe(facts, { accel: "kvm", ran: false, timedOut: false, ms: 3, error: "failed to initialize kvm" });
    expect(failed).toMatchObject({ use: "tcg", reason: "QEMU could not use KVM: failed to initialize kvm" });
    expect(verdictFromProbe(facts, undefined).reason).toMatch(/no qemu-system binary/);
    expect(verdictFromProbe(facts, "skipped").use).toBe("tcg");
  });
});
