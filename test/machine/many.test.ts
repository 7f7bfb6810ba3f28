import { readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { startVm, Wait, type RunningVm } from "../../sdk/machine/mod.ts";
import { runChildScript, tinySpec, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
afterAll(() => run.cleanup());

describe("many tiny guests from one script", () => {
  it("8 start concurrently, each with its own sockets and a VNC port of its own (vnc auto)", async () => {
    const t = await tinySpec();
    const vms: RunningVm[] = [];
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          startVm(
            {
              ...t.spec,
              name: `m${i}`,
              vnc: { display: 0, to: 99, listen: "127.0.0.1", websocket: false, password: false },
            },
            {
              waitFor: Wait.forConsole(t.prompt, { timeout: 240_000 }),
            },
          ),
        ),
      );
      for (const r of results) if (r.status === "fulfilled") vms.push(r.value);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      expect(new Set(vms.map((v) => v.pid)).size).toBe(8);
      // vnc("auto"): QEMU takes free displays, whatever else runs on this host; each handle says which.
      const ports = vms.map((v) => v.vnc?.port);
      expect(new Set(ports).size).toBe(8);
      for (const p of ports) expect(p).toSatisfy((n: number) => n >= 5900 && n <= 5999);
      expect(readdirSync(run.root).sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
      // Each console talks to its own guest.
      const outs = await Promise.all(
        vms.map((v, i) => v.console.run(`echo guest-${i}-$((${i}*3))`, { timeout: 60_000 })),
      );
      expect(outs.map((o) => o.output)).toEqual(vms.map((_, i) => `guest-${i}-${i * 3}\n`));
    } finally {
      await Promise.all(vms.map((v) => v.shutdown({ timeouts: { powerdown: 0 } })));
    }
    expect(readdirSync(run.root)).toEqual([]);
  }, 300_000);

  it("SIGKILL of a script running the tiny guest leaves no QEMU", async () => {
    const c = runChildScript("machine-child.ts", ["hold", "tiny"]);
    const report = (await c.report) as { pid: number };
    c.child.kill("SIGKILL");
    expect(await waitGone(report.pid, 2000)).toBe(true);
  }, 180_000);
});
