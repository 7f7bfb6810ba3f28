import { readHostFacts } from "../../sdk/host/facts.ts";
import { describe, expect, it } from "vitest";
import { probeAccel, probeChecksum, probeFirmware } from "../../sdk/host/probe.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("probeAccel (real QEMU)", () => {
  it("TCG runs the loop, prints the checksum the host computes, and is timed", async () => {
    const r = await probeAccel("tcg");
    expect(r).toMatchObject({
      accel: "tcg",
      ran: true,
      timedOut: false,
      steps: 2_097_152,
      checksum: probeChecksum(64),
    });
    expect(r.runMs).toBeGreaterThanOrEqual(0);
    expect(r.runMs!).toBeLessThan(r.ms);
    expect(r.error).toBeUndefined();
    expect(alive(r.pid!)).toBe(false);
  });

  it("a different step count gives a different checksum, so the answer is computed, not canned", async () => {
    expect(probeChecksum(1)).not.toBe(probeChecksum(2));
    const r = await probeAccel("tcg", { rounds: 1 });
    expect(r).toMatchObject({ ran: true, steps: 32_768, checksum: probeChecksum(1) });
  });

  it("gives up on a guest that makes no progress, within the timeout, and leaves no QEMU behind", async () => {
    const t0 = Date.now();
    const r = await probeAccel("tcg", { payload: "spin", timeout: 700 });
    expect(r).toMatchObject({ ran: false, timedOut: true, timedOutIn: "run" });
    expect(r.runMs).toBeGreaterThanOrEqual(690);
    expect(r.runMs).toBeLessThan(5000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(alive(r.pid!)).toBe(false);
  });

  it("KVM: a result that is consistent on every host (runs, or says why not)", async () => {
    const facts = await readHostFacts();
    const r = await probeAccel("kvm");
    if (r.ran) expect(r.checksum).toBe(probeChecksum(2));
    else expect(Boolean(r.error) || r.timedOut).toBe(true);
    if (!facts.devKvm.exists)
      expect(r).toMatchObject({ ran: false, timedOut: false, error: expect.stringMatching(/kvm/i) });
    expect(alive(r.pid!)).toBe(false);
  });

  it("reports a missing QEMU binary instead of throwing", async () => {
    const r = await probeAccel("tcg", { qemu: "/nonexistent/qemu-system-x86_64" });
    expect(r.ran).toBe(false);
    expect(r.error).toBeTruthy();
  });
});

describe("probeFirmware", () => {
  it("is 64 KiB with a near jump to offset 0 at the reset vector", () => {
    const fw = probeFirmware();
    expect(fw.length).toBe(65536);
    // E9 rel16: 0xFFF3 + 0x000D wraps to 0x0000 within the segment.
    expect([...fw.subarray(0xfff0, 0xfff3)]).toEqual([0xe9, 0x0d, 0x00]);
    // cli; xor ax,ax; then 'S' to COM1.
    expect([...fw.subarray(0, 3)]).toEqual([0xfa, 0x31, 0xc0]);
    expect(() => probeFirmware("checksum", 0)).toThrow(RangeError);
  });
});
