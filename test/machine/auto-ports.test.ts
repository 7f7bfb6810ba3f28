// vnc("auto") and forward("auto", ...) on real QEMU: several VMs at once, no fixed port, and
// each handle reports the ports QEMU really bound.
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startVm, type RunningVm } from "../../sdk/machine/mod.ts";
import { vm } from "../../sdk/spec/mod.ts";
import { bareSpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
afterAll(() => run.cleanup());

/** The first bytes a server sends on `port` (an RFB banner for VNC). */
function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    s.once("data", (d) => {
      resolve(d.toString("latin1"));
      s.destroy();
    });
    s.once("error", reject);
  });
}

/** Whether a TCP connection to `port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("automatic host ports", () => {
  it("three VMs with vnc('auto') and forward('auto', ...) get distinct ports, read back on each handle", async () => {
    const spec = vm().vnc("auto").forward("auto", 22).forward("auto", 53, { protocol: "udp" }).spec;
    const vms: RunningVm[] = [];
    try {
      const started = await Promise.allSettled(
        [0, 1, 2].map((i) => startVm(bareSpec({ name: `auto${i}`, vnc: spec.vnc, network: spec.network }))),
      );
      for (const r of started) if (r.status === "fulfilled") vms.push(r.value);
      expect(started.filter((r) => r.status === "rejected")).toEqual([]);
      const vncPorts = vms.map((m) => m.vnc!.port);
      expect(new Set(vncPorts).size).toBe(3);
      for (const p of vncPorts) {
        expect(p).toBeGreaterThanOrEqual(5900);
        expect(p).toBeLessThanOrEqual(5999);
        expect(await banner(p)).toMatch(/^RFB 003\.00\d\n/);
      }
      const ssh = await Promise.all(vms.map((m) => m.hostPort(22)));
      expect(new Set(ssh).size).toBe(3);
      for (const p of ssh) expect(await accepts(p)).toBe(true);
      const forwards = await vms[0]!.forwards();
      expect(forwards).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ protocol: "tcp", hostAddress: "127.0.0.1", hostPort: ssh[0], guestPort: 22 }),
          expect.objectContaining({ protocol: "udp", guestPort: 53, hostPort: await vms[0]!.hostPort(53, "udp") }),
        ]),
      );
      expect(forwards.every((f) => f.hostPort > 0)).toBe(true);
      await expect(vms[0]!.hostPort(23)).rejects.toMatchObject({ code: "VM_NO_FORWARD" });
    } finally {
      await Promise.all(vms.map((m) => m.shutdown({ timeouts: { powerdown: 0 } })));
    }
  }, 120_000);
});
