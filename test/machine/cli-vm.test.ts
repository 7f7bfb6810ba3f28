import { spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { command } from "../../sdk/cli/commands/vm.ts";
import type { CliIO } from "../../sdk/cli/command.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { repoRoot } from "../helpers/cli.ts";
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

  it("web serves a daemonized VM's console at the URL it prints until Ctrl-C, and leaves the VM running", async () => {
    const c = runChildScript("machine-child.ts", ["daemon", "tiny", "cli3", "auto"]);
    const report = (await c.report) as { pid: number };
    pids.push(report.pid);
    await new Promise((r) => c.child.once("exit", r));
    await expect(sub("web").run!(["cli3", "--port", "http"], io())).rejects.toThrow(/--port/);

    // The real bin in its own process, so that Ctrl-C (SIGINT) goes to it alone.
    const web = spawn(process.execPath, [`${repoRoot}bin/qemukit.js`, "vm", "web", "cli3"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    web.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
    });
    const exited = new Promise<number | null>((r) => web.once("exit", (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      web.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const line = out.split("\n").find((l) => l.startsWith("http://"));
        if (line) resolve(line);
      });
      void exited.then((code) => reject(new Error(`qemukit vm web exited (${code}) before printing a URL: ${err}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("cli3");
    expect((await (await fetch(`${url}config.json`)).json()) as { vnc: boolean; serial: boolean }).toMatchObject({
      vnc: true,
      serial: true,
    });
    expect((await fetch(url.replace(/\/[\w-]+\/$/, "/"))).status).toBe(403);

    web.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(err).toContain("stopped: SIGINT");
    expect(isAlive(report.pid)).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
    // The monitor is free again: stop takes it.
    expect(await sub("stop").run!(["cli3", "--powerdown-timeout", "0"], io())).toBe(0);
    expect(await waitGone(report.pid, 2000)).toBe(true);
  }, 180_000);
});
