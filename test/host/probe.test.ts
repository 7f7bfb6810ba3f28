import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { probeAccel, probeFirmware } from "../../sdk/host/probe.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("probeAccel (real QEMU)", () => {
  it("TCG runs the firmware payload to the debug-exit port, and query-kvm answers", async () => {
    const r = await probeAccel("tcg");
    expect(r).toMatchObject({ accel: "tcg", ran: true, timedOut: false, queryKvm: { enabled: false } });
    expect(r.error).toBeUndefined();
    expect(alive(r.pid!)).toBe(false);
  });

  it("gives up on a vCPU that makes no progress, within the timeout, and leaves no QEMU behind", async () => {
    const t0 = Date.now();
    const r = await probeAccel("tcg", { payload: "spin", timeout: 700 });
    expect(r).toMatchObject({ ran: false, timedOut: true });
    expect(r.queryKvm).toBeDefined(); // QEMU was up and answering: only the guest code never finished
    expect(r.runMs).toBeGreaterThanOrEqual(700);
    expect(r.runMs).toBeLessThan(1500);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(alive(r.pid!)).toBe(false);
  });

  it.runIf(!existsSync("/dev/kvm"))("KVM without /dev/kvm fails fast with QEMU's reason", async () => {
    const r = await probeAccel("kvm");
    expect(r.ran).toBe(false);
    expect(r.timedOut).toBe(false);
    expect(r.error).toMatch(/kvm/i);
    expect(r.ms).toBeLessThan(1500);
  });

  it("reports a missing QEMU binary instead of throwing", async () => {
    const r = await probeAccel("tcg", { qemu: "/nonexistent/qemu-system-x86_64" });
    expect(r.ran).toBe(false);
    expect(r.error).toBeTruthy();
  });

  it("firmware is 64 KiB with code at the reset vector", () => {
    const fw = probeFirmware();
    expect(fw.length).toBe(65536);
    expect([...fw.subarray(0xfff0, 0xfff4)]).toEqual([0xb0, 0x2a, 0xe6, 0xf4]);
  });
});
