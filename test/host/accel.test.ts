import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accelVerdict, resolveAccel, verdictCachePath } from "../../sdk/host/accel.ts";
import { makeHostRoot, PVM_HOST, VMX_HOST } from "../helpers/host-fixtures.ts";

const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
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
    expect(await resolveAccel("tcg")).toEqual({ accel: ["tcg"], chosen: "tcg", reason: "tcg requested explicitly" });
    expect(await resolveAccel("kvm")).toMatchObject({ accel: ["kvm"], chosen: "kvm" });
    expect(await resolveAccel(["tcg"])).toMatchObject({ accel: ["tcg"], chosen: "tcg" });
    expect(existsSync(verdictCachePath())).toBe(false);
  });

  it("a list with kvm keeps it only when KVM can run guests here", async () => {
    const v = await accelVerdict();
    const r = await resolveAccel(["tcg", "kvm"]);
    expect(r.accel).toEqual(v.use === "kvm" ? ["tcg", "kvm"] : ["tcg"]);
    expect(r.chosen).toBe("tcg");
  });

  it("auto decides on this machine within 2 s and caches the verdict under the boot id", async () => {
    const t0 = Date.now();
    const r = await resolveAccel("auto");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.accel).toEqual([r.chosen]);
    if (!existsSync("/dev/kvm")) {
      expect(r.chosen).toBe("tcg");
      expect(r.reason).toMatch(/\/dev\/kvm does not exist/);
    }
    const cached = JSON.parse(readFileSync(verdictCachePath(), "utf8"));
    expect(cached).toMatchObject({ version: 2, bootId, qemu: "qemu-system-x86_64", verdict: { use: r.chosen, reason: r.reason } });
  });

  it("uses the cached verdict for the same boot and ignores one from another boot", async () => {
    await accelVerdict();
    const path = verdictCachePath();
    const data = JSON.parse(readFileSync(path, "utf8"));
    // Forge a verdict only the cache could produce, to prove it is read.
    data.verdict = { ...data.verdict, use: "tcg", reason: "from the cache" };
    writeFileSync(path, JSON.stringify(data));
    expect((await resolveAccel("auto")).reason).toBe("from the cache");
    writeFileSync(path, JSON.stringify({ ...data, bootId: "another-boot" }));
    expect((await resolveAccel("auto")).reason).not.toBe("from the cache");
    expect(JSON.parse(readFileSync(path, "utf8")).bootId).toBe(bootId);
    // Same boot, but the host changed since (say /dev/kvm appeared): decided afresh.
    writeFileSync(path, JSON.stringify({ ...data, facts: "[\"vmx\",[\"kvm\"],true,true,null]" }));
    expect((await resolveAccel("auto")).reason).not.toBe("from the cache");
  });

  it("drops kvm from a fallback list when KVM cannot run guests (KVM-PVM fixture)", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const r = await resolveAccel(["kvm", "tcg"], { root: fx.root });
    expect(r).toMatchObject({ accel: ["tcg"], chosen: "tcg" });
    expect(r.reason).toMatch(/kvm dropped.*KVM-PVM/);
    expect((await resolveAccel("auto", { root: fx.root })).chosen).toBe("tcg");
    expect(existsSync(verdictCachePath())).toBe(false); // fixture verdicts never touch the cache
  });

  it("auto on a VT-x fixture runs the real KVM probe, which fails here without /dev/kvm", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const v = await accelVerdict({ root: fx.root });
    expect(v.probe?.accel).toBe("kvm");
    if (!existsSync("/dev/kvm")) {
      expect(v.use).toBe("tcg");
      expect(v.reason).toMatch(/QEMU could not use KVM: .*kvm/i);
    }
  });
});
