import { readdirSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { startVm, Wait, VmStartError } from "../../sdk/machine/mod.ts";
import { AbortError } from "../../sdk/errors/errors.ts";
import { bareSpec, tinySpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

/** Processes whose command line mentions `text` (QEMU's argv names its run directory). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${e}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmd.includes(text) && cmd.includes("qemu-system") && state !== "Z") out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

const run = useTempRunRoot();
afterAll(() => run.cleanup());

/** vnc("auto"): the first free display from 0 to 99, read back on the handle. */
const autoVnc = { display: 0, to: 99, listen: "127.0.0.1", websocket: false, password: false };

describe("wait strategies", () => {
  it("have default timeouts and descriptions", () => {
    expect(Wait.forConsole(/x/).timeout).toBe(60_000);
    expect(Wait.forEvent("RESUME").description).toBe("QMP event RESUME");
    expect(Wait.forPort(22).description).toContain("127.0.0.1:22");
    expect(Wait.forAll([Wait.forPort(1, { timeout: 90_000 }), Wait.forEvent("X")]).timeout).toBe(90_000);
  });

  it("forEvent sees an event emitted when the vCPUs start (subscribed before cont)", async () => {
    const vm = await startVm(bareSpec(), { waitFor: Wait.forEvent("RESUME", { timeout: 5000 }) });
    expect(vm.state).toBe("running");
    await vm.kill();
  });

  it("forPort with a banner: QEMU's VNC server greets with RFB", async () => {
    const vm = await startVm(bareSpec({ vnc: autoVnc }), {
      waitFor: Wait.forAll([
        Wait.forPort((m) => m.vnc!.port, { timeout: 5000 }),
        Wait.forEvent("RESUME", { timeout: 5000 }),
      ]),
    });
    expect(vm.vnc!.port).toBeGreaterThanOrEqual(5900);
    await vm.kill();
  });

  it("a strategy that times out fails the start with VM_START and leaves nothing", async () => {
    const t0 = Date.now();
    const err = await startVm(bareSpec(), { waitFor: Wait.forEvent("NEVER_HAPPENS", { timeout: 300 }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VmStartError);
    expect((err as VmStartError).message).toMatch(/did not become ready \(QMP event NEVER_HAPPENS\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readdirSync(run.root)).toEqual([]);
  });

  it("paused: true leaves the vCPUs stopped", async () => {
    const vm = await startVm(bareSpec(), { paused: true });
    expect(vm.state).toBe("paused");
    expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ running: false });
    await vm.resume();
    expect(vm.state).toBe("running");
    await vm.kill();
  });

  it("forPort and forAll stop when their signal aborts", async () => {
    const vm = await startVm(bareSpec());
    try {
      const ac = new AbortController();
      // Nothing listens on port 1 of this machine's loopback.
      const port = Wait.forPort(1, { timeout: 60_000 }).wait(vm, { signal: ac.signal });
      const all = Wait.forAll([Wait.forEvent("NEVER", { timeout: 60_000 }), Wait.forPort(1, { timeout: 60_000 })]).wait(
        vm,
        { signal: ac.signal },
      );
      setTimeout(() => ac.abort(), 200);
      await expect(port).rejects.toBeInstanceOf(AbortError);
      await expect(all).rejects.toBeInstanceOf(AbortError);
    } finally {
      await vm.kill();
    }
  });
});

describe("aborting start()", () => {
  it("with a signal aborted already: nothing is created", async () => {
    const err = await startVm(bareSpec({ name: "abort-early" }), { signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbortError);
    expect(readdirSync(run.root)).toEqual([]);
  });

  it("while the tiny guest boots: QEMU is killed, the run directory and overlay are gone", async () => {
    const t = await tinySpec({ name: "abort-boot" });
    const ac = new AbortController();
    const starting = startVm(t.spec, {
      waitFor: Wait.forConsole(/never-printed-by-the-guest/, { timeout: 120_000 }),
      signal: ac.signal,
    });
    // Abort once QEMU runs (its run directory has vm.json with a pid).
    for (let i = 0; i < 600; i++) {
      const meta = (() => {
        try {
          return JSON.parse(readFileSync(`${run.root}/abort-boot/vm.json`, "utf8"));
        } catch {
          return undefined;
        }
      })();
      if (meta?.pid) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(processesMentioning(`${run.root}/abort-boot/`).length).toBe(1);
    const t0 = Date.now();
    ac.abort(new Error("user pressed Ctrl-C"));
    const err = await starting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).code).toBe("ABORTED");
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(processesMentioning(`${run.root}/abort-boot/`)).toEqual([]);
    expect(readdirSync(run.root)).toEqual([]);
  }, 180_000);

  it("right after the call (before QEMU is up): same result", async () => {
    const ac = new AbortController();
    const starting = startVm(bareSpec({ name: "abort-spawn" }), { signal: ac.signal });
    queueMicrotask(() => ac.abort());
    const err = await starting.then(
      (vm) => vm,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbortError);
    expect(processesMentioning(`${run.root}/abort-spawn/`)).toEqual([]);
    expect(readdirSync(run.root)).toEqual([]);
  });
});
