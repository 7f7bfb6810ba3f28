import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { attach, list, VmError } from "../../sdk/machine/mod.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { runChildScript, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  run.cleanup();
});

describe("daemonize, list and attach", () => {
  it("a VM daemonized by another process is listed, re-attached and shut down from here", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "bare", "d1"]);
    const report = (await c.report) as { pid: number; runDir: string; name: string };
    started.push(report.pid);
    const code = await new Promise<number | null>((r) => c.child.once("exit", (code) => r(code)));
    expect(code).toBe(0);
    // The starter is gone; the VM is not.
    expect(isAlive(report.pid)).toBe(true);

    const listed = await list();
    expect(listed.map((v) => [v.name, v.pid, v.daemonized])).toEqual([["d1", report.pid, true]]);

    const vm = await attach("d1");
    expect(vm.pid).toBe(report.pid);
    expect(vm.daemonized).toBe(true);
    expect(vm.accel.chosen).toBe("tcg");
    expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ running: true });
    expect((await vm.threads()).some((t) => t.kind === "vcpu")).toBe(true);

    const t0 = performance.now();
    const exit = await vm.shutdown({ timeouts: { powerdown: 0 } });
    expect(exit.reason).toBe("host-qmp-quit");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await waitGone(report.pid, 100)).toBe(true);
    expect(existsSync(report.runDir)).toBe(false);
    expect(await list()).toEqual([]);
  });

  it("attach by directory; a second client is refused while one holds the monitor", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "bare", "d2"]);
    const report = (await c.report) as { pid: number; runDir: string };
    started.push(report.pid);
    await new Promise((r) => c.child.once("exit", r));
    const vm = await attach(report.runDir);
    // The default 5 s greeting timeout is not what ends it: the holder is seen at once.
    const t1 = performance.now();
    const err = await attach("d2").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - t1).toBeLessThan(2000);
    expect(err).toBeInstanceOf(VmError);
    expect((err as VmError).code).toBe("VM_BUSY");
    expect((err as VmError).message).toContain(`held by process ${process.pid} (this process)`);
    // Killed from outside: exited still resolves (polling /proc, not a child).
    process.kill(report.pid, "SIGKILL");
    const t0 = performance.now();
    const exit = await vm.exited;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(exit.code).toBeNull();
    expect(existsSync(report.runDir)).toBe(false);
  });

  it("a daemonized tiny guest: console and VNC come back on attach", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "tiny", "d3", "auto"]);
    const report = (await c.report) as { pid: number; runDir: string };
    started.push(report.pid);
    await new Promise((r) => c.child.once("exit", r));
    const vm = await attach("d3");
    const d = vm.vnc!.display; // vnc auto in the child: whichever display was free
    expect(vm.vnc).toEqual({ display: d, host: "127.0.0.1", port: 5900 + d, websocketPort: 5700 + d });
    expect(await vm.console.run("echo back-$((6*7))", { timeout: 30_000 })).toEqual({
      output: "back-42\n",
      exitCode: 0,
    });
    // The guest powers itself off; exited follows (QMP closes, /proc polled fast).
    await vm.console.send("poweroff -f\n");
    const exit = await vm.exited;
    expect(exit.reason).toBe("guest-shutdown");
    expect(existsSync(report.runDir)).toBe(false);
  }, 180_000);

  it("list() skips and cleans stale run directories; attach() to a missing VM fails clearly", async () => {
    const stale = join(run.root, "stale1");
    mkdirSync(stale, { mode: 0o700 });
    writeFileSync(
      join(stale, "vm.json"),
      JSON.stringify({
        qemukit: 1,
        name: "stale1",
        runDir: stale,
        pid: 2 ** 22 + 7,
        ownerPid: 2 ** 22 + 7,
        argv: [],
        daemonized: true,
        keep: false,
        temporaryFiles: [],
        started: new Date().toISOString(),
      }),
    );
    // Only a directory carrying qemukit's marker is ever removed.
    writeFileSync(
      join(stale, ".qemukit-run"),
      JSON.stringify({ qemukit: 1, name: "stale1", ownerPid: 2 ** 22 + 7, created: new Date().toISOString() }),
    );
    const unmarked = join(run.root, "unmarked");
    mkdirSync(unmarked, { mode: 0o700 });
    writeFileSync(join(unmarked, "vm.json"), readFileSync(join(stale, "vm.json")));
    mkdirSync(join(run.root, "not-ours"));
    expect(await list()).toEqual([]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(unmarked, "vm.json"))).toBe(true);
    expect(existsSync(join(run.root, "not-ours"))).toBe(true);
    await expect(attach("nope")).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });
});
