import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { command } from "../../sdk/cli/commands/vm.ts";
import type { CliIO } from "../../sdk/cli/command.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { runChildScript, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
const pids: number[] = [];
afterAll(() => {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  run.cleanup();
});

function io(): CliIO & { out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = "";
  stdout.on("data", (b: Buffer) => {
    text += b.toString();
  });
  return { stdout, stderr, out: () => text };
}

const sub = (name: string) => command.subcommands!.find((c) => c.name === name)!;

describe("qemukit vm", () => {
  it("list shows a daemonized VM; stop shuts it down; list is empty again", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "bare", "cli1"]);
    const report = (await c.report) as { pid: number };
    pids.push(report.pid);
    await new Promise((r) => c.child.once("exit", r));

    const a = io();
    expect(await sub("list").run!([], a)).toBe(0);
    expect(a.out()).toMatch(new RegExp(`^NAME\\s+PID.*\\ncli1\\s+${report.pid}\\s+tcg\\s+-\\s+yes`, "m"));

    const j = io();
    await sub("list").run!(["--json"], j);
    expect(JSON.parse(j.out())).toMatchObject([{ name: "cli1", pid: report.pid, daemonized: true }]);

    const s = io();
    expect(await sub("stop").run!(["cli1", "--powerdown-timeout", "0"], s)).toBe(0);
    expect(s.out()).toBe("cli1: host-qmp-quit\n");
    expect(await waitGone(report.pid, 500)).toBe(true);

    const e = io();
    await sub("list").run!([], e);
    expect(e.out()).toBe("no qemukit VMs running\n");
  });

  it("kill, and the usage errors", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "bare", "cli2"]);
    const report = (await c.report) as { pid: number };
    pids.push(report.pid);
    await new Promise((r) => c.child.once("exit", r));
    await expect(sub("stop").run!([], io())).rejects.toThrow(/which VM/);
    await expect(sub("stop").run!(["cli2", "--powerdown-timeout", "soon"], io())).rejects.toThrow(/milliseconds/);
    expect(isAlive(report.pid)).toBe(true);
    const k = io();
    expect(await sub("kill").run!(["cli2"], k)).toBe(0);
    expect(k.out()).toBe("cli2: killed\n");
    await expect(sub("kill").run!(["cli2"], io())).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
  });
});
