import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runChildScript, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
afterAll(() => run.cleanup());

/** Starts the child script, returns its report once the VM runs. */
async function childWithVm(mode: "hold" | "crash") {
  const c = runChildScript("machine-child.ts", [mode, "bare"]);
  const report = (await c.report) as { pid: number; runDir: string };
  expect(existsSync(`/proc/${report.pid}`)).toBe(true);
  return { ...c, ...report };
}

describe("no orphans", () => {
  it("SIGKILL of the script leaves no QEMU (parent-death signal)", async () => {
    const c = await childWithVm("hold");
    c.child.kill("SIGKILL");
    expect(await waitGone(c.pid, 2000)).toBe(true);
  });

  it("SIGTERM: the reaper kills QEMU, removes the run dir, and the script still dies of SIGTERM", async () => {
    const c = await childWithVm("hold");
    const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
      c.child.once("exit", (code, signal) => r({ code, signal })),
    );
    c.child.kill("SIGTERM");
    expect(await exit).toEqual({ code: null, signal: "SIGTERM" });
    expect(await waitGone(c.pid, 2000)).toBe(true);
    expect(existsSync(c.runDir)).toBe(false);
  });

  it("SIGINT (Ctrl-C) likewise", async () => {
    const c = await childWithVm("hold");
    const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
      c.child.once("exit", (code, signal) => r({ code, signal })),
    );
    c.child.kill("SIGINT");
    expect(await exit).toEqual({ code: null, signal: "SIGINT" });
    expect(await waitGone(c.pid, 2000)).toBe(true);
    expect(existsSync(c.runDir)).toBe(false);
  });

  it("an uncaught exception: QEMU killed, run dir removed, exit code 1", async () => {
    const c = await childWithVm("crash");
    const exit = await new Promise<number | null>((r) => c.child.once("exit", (code) => r(code)));
    expect(exit).toBe(1);
    expect(c.stderr()).toContain("deliberate crash");
    expect(await waitGone(c.pid, 2000)).toBe(true);
    expect(existsSync(c.runDir)).toBe(false);
  });
});
