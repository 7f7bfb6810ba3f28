import { readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { startVm, Wait, VmStartError } from "../../sdk/machine/mod.ts";
import { bareSpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

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
      waitFor: Wait.forAll([Wait.forPort((m) => m.vnc!.port, { timeout: 5000 }), Wait.forEvent("RESUME", { timeout: 5000 })]),
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
});
