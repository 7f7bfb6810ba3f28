// accel("auto") and its per-boot cache, host-independent: every probe result is injected,
// so no test here starts QEMU or touches this machine's /dev/kvm.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accelVerdict, kvmWarning, resolveAccel, verdictCachePath } from "../../sdk/host/accel.ts";
import { readHostFacts } from "../../sdk/host/facts.ts";
import { injectedProber, makeHostRoot, PVM_HOST, PVM_SPEEDS, VMX_HOST, VMX_SPEEDS } from "../helpers/host-fixtures.ts";

let cache: string;
let saved: string | undefined;
beforeEach(() => {
  saved = process.env.QEMUKIT_CACHE;
  cache = mkdtempSync(join(tmpdir(), "qemukit-hostcache-"));
  process.env.QEMUKIT_CACHE = cache;
});
afterEach(() => {
  if (saved === undefined) delete process.env.QEMUKIT_CACHE;
  else process.env.QEMUKIT_CACHE = saved;
  rmSync(cache, { recursive: true, force: true });
});

describe("resolveAccel", () => {
  it("honours explicit choices without probing", async () => {
    const prober = injectedProber({});
    expect(await resolveAccel("tcg", { prober })).toEqual({
      accel: ["tcg"],
      chosen: "tcg",
      reason: "tcg requested explicitly",
    });
    expect(await resolveAccel("kvm", { prober })).toMatchObject({ accel: ["kvm"], chosen: "kvm" });
    expect(await resolveAccel(["tcg"], { prober })).toMatchObject({ accel: ["tcg"], chosen: "tcg" });
    expect(prober.calls).toEqual([]);
    expect(existsSync(verdictCachePath())).toBe(false);
  });

  it("KVM-PVM fixture: auto picks tcg by measured speed, and a fallback list drops kvm", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const prober = injectedProber(PVM_SPEEDS);
    const auto = await resolveAccel("auto", { root: fx.root, prober });
    expect(auto).toMatchObject({ accel: ["tcg"], chosen: "tcg" });
    expect(auto.reason).toMatch(/^kvm ran the probe 1040x slower than tcg .*KVM-PVM/);
    expect(prober.calls).toEqual(["tcg", "kvm"]);
    const list = await resolveAccel(["kvm", "tcg"], { root: fx.root, prober });
    expect(list).toMatchObject({ accel: ["tcg"], chosen: "tcg" });
    expect(list.reason).toMatch(/^kvm dropped from the requested list: kvm ran the probe/);
    expect(existsSync(verdictCachePath())).toBe(false); // fixture verdicts never touch the cache
  });

  it("VT-x fixture: auto picks kvm, and a list keeps it", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const prober = injectedProber(VMX_SPEEDS);
    expect(await resolveAccel("auto", { root: fx.root, prober })).toMatchObject({ accel: ["kvm"], chosen: "kvm" });
    expect(await resolveAccel(["tcg", "kvm"], { root: fx.root, prober })).toMatchObject({
      accel: ["tcg", "kvm"],
      chosen: "tcg",
    });
  });

  it("a fixture without /dev/kvm is settled by the facts, with no probe", async () => {
    using fx = makeHostRoot({ ...VMX_HOST, devKvmMode: undefined });
    const prober = injectedProber(VMX_SPEEDS);
    const v = await accelVerdict({ root: fx.root, prober });
    expect(v).toMatchObject({ use: "tcg", reason: expect.stringMatching(/does not exist/) });
    expect(prober.calls).toEqual([]);
  });

  it("a fixture root without an injected prober runs no real probe (QEMU would probe this machine)", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const v = await accelVerdict({ root: fx.root });
    expect(v).toMatchObject({ use: "tcg", reason: "no probe ran" });
    expect(v.probes).toEqual({});
  });
});

describe("the per-boot verdict cache (this machine's facts, injected probes)", () => {
  it("is written under the boot id, used for the same boot and facts, and ignored otherwise", async () => {
    const facts = await readHostFacts();
    const prober = injectedProber(PVM_SPEEDS);
    const first = await accelVerdict({ prober });
    const path = verdictCachePath();
    const data = JSON.parse(readFileSync(path, "utf8"));
    expect(data).toMatchObject({
      version: 3,
      bootId: facts.bootId,
      qemu: "qemu-system-x86_64",
      verdict: { use: first.use },
    });
    // Forge a verdict only the cache could produce, to prove it is read.
    writeFileSync(path, JSON.stringify({ ...data, verdict: { ...data.verdict, reason: "from the cache" } }));
    expect((await resolveAccel("auto", { prober })).reason).toBe("from the cache");
    writeFileSync(
      path,
      JSON.stringify({ ...data, bootId: "another-boot", verdict: { ...data.verdict, reason: "from the cache" } }),
    );
    expect((await resolveAccel("auto", { prober })).reason).not.toBe("from the cache");
    expect(JSON.parse(readFileSync(path, "utf8")).bootId).toBe(facts.bootId);
    // Same boot, but the host changed since (say /dev/kvm appeared): decided afresh.
    writeFileSync(
      path,
      JSON.stringify({ ...data, facts: '["vmx",["kvm"],true,true,null]', verdict: { reason: "from the cache" } }),
    );
    expect((await resolveAccel("auto", { prober })).reason).not.toBe("from the cache");
    expect((await accelVerdict({ prober, cache: false })).reason).not.toBe("from the cache");
  });
});

describe('kvmWarning: an explicit accel("kvm") where the host knows better', () => {
  it("says so when the facts rule KVM out (no /dev/kvm)", async () => {
    using fx = makeHostRoot({ ...VMX_HOST, devKvmMode: undefined });
    const w = await kvmWarning({ root: fx.root });
    expect(w).toMatch(/^accel\("kvm"\) was asked for, but this host has KVM unusable: .*dev\/kvm does not exist/);
    expect(w).toContain('use accel("auto")');
  });

  it("says so with the figures when KVM measured slower (KVM-PVM), and not when it measured faster", async () => {
    using pvm = makeHostRoot(PVM_HOST);
    const slow = await kvmWarning({ root: pvm.root, prober: injectedProber(PVM_SPEEDS) });
    expect(slow).toMatch(/measured KVM as the slower accelerator: kvm ran the probe \d+x slower than tcg/);
    using vmx = makeHostRoot(VMX_HOST);
    expect(await kvmWarning({ root: vmx.root, prober: injectedProber(VMX_SPEEDS) })).toBeUndefined();
  });

  it("never probes: with nothing measured for a usable /dev/kvm there is nothing to say", async () => {
    using pvm = makeHostRoot(PVM_HOST);
    expect(await kvmWarning({ root: pvm.root })).toBeUndefined();
    expect(existsSync(verdictCachePath())).toBe(false);
  });
});
