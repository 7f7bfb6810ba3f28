// host.check() on fixture roots with injected probe results: the same outcome on every host,
// and no QEMU is started (a fixture root never gets a real probe).
import { describe, expect, it } from "vitest";
import { check } from "../../sdk/host/check.ts";
import { formatHostReport } from "../../sdk/host/format.ts";
import { injectedProber, makeHostRoot, PVM_HOST, PVM_SPEEDS, VMX_HOST, VMX_SPEEDS } from "../helpers/host-fixtures.ts";

const item = (r: Awaited<ReturnType<typeof check>>, id: string) => r.items.find((i) => i.id === id);

describe("host.check on fixture roots", () => {
  it("KVM-PVM host: both probes measured, tcg wins by the measured ratio", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const prober = injectedProber(PVM_SPEEDS);
    const r = await check({ root: fx.root, prober });
    expect(prober.calls).toEqual(["tcg", "kvm"]);
    expect(item(r, "cpu-virt-flag")).toMatchObject({ status: "fail", summary: expect.stringMatching(/no vmx\/svm/) });
    expect(item(r, "kvm-modules")).toMatchObject({ status: "warn", detail: expect.stringMatching(/kvm_pvm/) });
    expect(item(r, "dev-kvm")?.summary).toMatch(/present, root:root/);
    expect(item(r, "dev-kvm-access")?.status).toBe("pass");
    expect(item(r, "tcg-probe")).toMatchObject({
      status: "pass",
      summary: "tcg ran the probe (2,097,152 loop steps) in 40 ms",
    });
    expect(item(r, "kvm-probe")).toMatchObject({
      status: "pass",
      summary: "kvm ran the probe (65,536 loop steps) in 1300 ms",
    });
    expect(r.verdict).toMatchObject({ use: "tcg", pvm: true, kvmToTcg: 1040 });
    expect(item(r, "verdict")?.summary).toMatch(/^use tcg: kvm ran the probe 1040x slower than tcg .*: KVM-PVM/);
    expect(r.canRunVm).toBe(true);
    expect(formatHostReport(r, { columns: 100 })).toMatch(/Verdict: use tcg\. kvm ran the probe 1040x slower/);
  });

  it("KVM-PVM host whose kvm probe times out: a lower bound, still tcg", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const prober = injectedProber({
      tcg: { runMs: 40 },
      kvm: { ran: false, timedOut: true, timedOutIn: "run", runMs: 3000 },
    });
    const r = await check({ root: fx.root, prober });
    expect(item(r, "kvm-probe")).toMatchObject({
      status: "warn",
      summary: "kvm did not finish the probe (65,536 loop steps) within 3000 ms",
    });
    expect(r.verdict.reason).toMatch(/over 2400x slower than tcg/);
  });

  it("VT-x host: kvm wins, the verdict passes, and the nested setting shows", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const r = await check({ root: fx.root, prober: injectedProber(VMX_SPEEDS) });
    expect(item(r, "cpu-virt-flag")).toMatchObject({
      status: "pass",
      summary: expect.stringMatching(/vmx \(Intel VT-x\)/),
    });
    expect(item(r, "kvm-modules")).toMatchObject({ status: "pass", summary: "loaded: kvm, kvm_intel" });
    expect(item(r, "nested")?.summary).toMatch(/enabled \(kvm_intel\.nested=Y\)/);
    expect(r.verdict.use).toBe("kvm");
    expect(item(r, "verdict")).toMatchObject({
      status: "pass",
      summary: expect.stringMatching(/^use kvm: kvm ran the probe 6\.3x faster than tcg/),
    });
  });

  it("without an injected prober a fixture root gets no probe, and says so", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const r = await check({ root: fx.root });
    expect(item(r, "tcg-probe")).toMatchObject({
      status: "info",
      summary: "tcg probe not run: the facts come from a fixture root",
    });
    expect(item(r, "kvm-probe")?.status).toBe("info");
    expect(r.verdict.probes).toEqual({});
  });

  it("no kvm module and no flag: no kvm probe, fixes name modprobe or firmware settings", async () => {
    using fx = makeHostRoot({ flags: ["fpu"], modules: {} });
    const prober = injectedProber(VMX_SPEEDS);
    const r = await check({ root: fx.root, prober });
    expect(prober.calls).toEqual(["tcg"]);
    expect(item(r, "kvm-modules")?.status).toBe("fail");
    expect(item(r, "dev-kvm")).toMatchObject({ status: "fail", detail: "no kvm module is loaded" });
    expect(item(r, "kvm-probe")).toMatchObject({
      status: "info",
      summary: "kvm probe not run: /dev/kvm is not usable",
    });
    expect(item(r, "cpu-virt-flag")?.fix).toMatch(/firmware setup/);
    expect(r.verdict.use).toBe("tcg");
  });

  it("probe: false runs nothing", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const prober = injectedProber(VMX_SPEEDS);
    const r = await check({ root: fx.root, probe: false, prober });
    expect(prober.calls).toEqual([]);
    expect(item(r, "kvm-probe")?.summary).toBe("kvm probe not run: probing is off");
  });
});
