import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../../sdk/util/exec.ts";
import { GuestCommandError, startVm, Wait, type RunningVm } from "../../sdk/machine/mod.ts";
import { AbortError } from "../../sdk/errors/errors.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { builtInTemplate } from "../../sdk/template/mod.ts";
import { tinySpec, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";
import { until } from "../helpers/until.ts";

const run = useTempRunRoot();
const tasks = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
};
const tmp = mkdtempSync("/tmp/qkt-img-");
afterAll(() => {
  run.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the tiny guest: console, threads, snapshots, poweroff", () => {
  let vm: RunningVm;
  let prompt: RegExp;
  let base: string;
  beforeAll(async () => {
    base = join(tmp, "blank.raw");
    await exec(["qemu-img", "create", "-q", "-f", "raw", base, "8M"]);
    const t = await tinySpec({
      name: "tiny1",
      smp: { cpus: 2 },
      disks: [
        { source: { kind: "overlay", base, baseFormat: "raw" }, interface: "virtio", media: "disk", readOnly: false },
      ],
    });
    prompt = t.prompt;
    vm = await startVm(t.spec, { waitFor: Wait.forConsole(prompt, { timeout: 120_000 }) });
  });
  afterAll(async () => {
    await vm?.kill();
  });

  it("keeps early boot output (connected before the vCPUs start)", () => {
    // The guest's first line (its banner) would be at risk if the console connected after `cont`.
    expect(vm.console.transcript.trimStart()).toMatch(/^qemukit tiny guest/);
    expect(vm.console.transcript).toMatch(prompt);
  });

  it("run() returns output and exit status; a non-zero status rejects unless nothrow", async () => {
    expect(await vm.console.run("echo hello")).toEqual({ output: "hello\n", exitCode: 0 });
    expect(await vm.console.run("false", { nothrow: true })).toEqual({ output: "", exitCode: 1 });
    expect((await vm.console.run("(exit 7)", { nothrow: true })).exitCode).toBe(7);
    const missing = await vm.console.run("ls /nonexistent").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(GuestCommandError);
    expect(missing).toMatchObject({ code: "GUEST_COMMAND", command: "ls /nonexistent" });
    expect((missing as GuestCommandError).exitCode).not.toBe(0);
    expect((missing as GuestCommandError).output).toMatch(/No such file or directory/);
    expect((missing as GuestCommandError).message).toMatch(/exited with status \d+: .*No such file/);
    const multi = await vm.console.run("printf 'a\\nb\\n'; echo c");
    expect(multi.output).toBe("a\nb\nc\n");
  });

  it("aborting run() interrupts the command in the guest (Ctrl-C) and leaves the console usable", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const sleeping = vm.console.run("sleep 300; echo not-$((40+2))-interrupted", { signal: ac.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Queued behind it: waits its turn, then works.
    const next = vm.console.run("echo after-abort");
    await vm.console.send("");
    setTimeout(() => ac.abort(new Error("enough")), 1000);
    const err = await sleeping;
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).code).toBe("ABORTED");
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await next).output).toBe("after-abort\n");
    // The sleep is gone from the guest, and nothing of it leaks into later output.
    expect((await vm.console.run("ps | grep -c '[s]leep 300' || true")).output.trim()).toBe("0");
    expect(vm.console.transcript).not.toContain("not-42-interrupted");
  });

  it("a run() that times out is interrupted too; an aborted waitFor or send rejects at once", async () => {
    const err = await vm.console.run("sleep 300", { timeout: 1500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "TIMEOUT" });
    expect((await vm.console.run("echo still-here")).output).toBe("still-here\n");
    const ac = new AbortController();
    const w = vm.console.waitFor(/never-printed/, { signal: ac.signal, timeout: 60_000 });
    ac.abort();
    await expect(w).rejects.toBeInstanceOf(AbortError);
    await expect(vm.console.send("x", { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect((await vm.console.run("echo fine")).output).toBe("fine\n");
  });

  it("sees the overlay disk, created over the raw base with the format given", async () => {
    const { output } = await vm.console.run("cat /sys/block/vda/size");
    expect(Number(output.trim()) * 512).toBe(8 * 2 ** 20);
    const overlays = readFileSync(join(vm.runDir, "vm.json"), "utf8");
    expect(overlays).toContain(".qcow2");
  });

  it("waitFor matches output that arrived before the call (rolling buffer), then consumes it", async () => {
    await vm.console.send("echo ready-$((40+2))\n");
    // Let the output arrive before asking for it: the transcript shows it first.
    await until(() => vm.console.transcript.includes("ready-42"), 30_000, "ready-42 in the transcript");
    const m = await vm.console.waitFor(/ready-(\d+)/, { timeout: 1000 });
    expect(m.match[1]).toBe("42");
    await vm.console.waitFor(prompt, { timeout: 5000 });
    // Consumed: the same text does not match twice.
    await expect(vm.console.waitFor(/ready-42/, { timeout: 300 })).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("keeps a transcript in memory and in console.log", async () => {
    await vm.console.run("echo transcript-marker");
    expect(vm.console.transcript).toContain("transcript-marker");
    // The log is written behind the transcript: wait for it, then look.
    const log = () => readFileSync(join(vm.runDir, "console.log"), "utf8");
    await until(() => log().includes("transcript-marker"), 10_000, "the marker in console.log");
    expect(log()).toContain("transcript-marker");
  });

  it("finds one vCPU thread per vCPU, matching what the guest sees", async () => {
    const threads = await vm.threads();
    expect(threads.filter((t) => t.kind === "vcpu").length).toBe(2);
    expect((await vm.console.run("grep -c ^processor /proc/cpuinfo")).output.trim()).toBe("2");
  });

  it("saves, lists and loads internal snapshots (qcow2 overlay)", async () => {
    await vm.console.run("echo one > /tmp/f");
    await vm.snapshots.save("s1");
    expect((await vm.snapshots.list()).map((s) => s.tag)).toEqual(["s1"]);
    await vm.console.run("echo two > /tmp/f");
    await vm.snapshots.load("s1");
    expect(vm.state).toBe("running");
    expect((await vm.console.run("cat /tmp/f")).output).toBe("one\n");
    await vm.snapshots.delete("s1");
    expect(await vm.snapshots.list()).toEqual([]);
    await expect(vm.snapshots.load("nope")).rejects.toMatchObject({ code: "VM_SNAPSHOT" });
    // A failed loadvm must not leave the guest stopped.
    expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ running: true });
    expect((await vm.console.run("echo alive")).output).toBe("alive\n");
  });

  it("guest poweroff resolves exited fast, then the run dir and overlay are gone", async () => {
    let shutdownAt = 0;
    let goneAt = 0;
    let poll: ReturnType<typeof setInterval> | undefined;
    vm.qmp.on("SHUTDOWN", () => {
      shutdownAt = performance.now();
      // When did the process really end? (QEMU's own teardown is not ours to measure.)
      // The leader turns zombie first; the parent learns of the exit only once every
      // thread (and the guest RAM mapping) is torn down, when /proc/PID/task empties.
      poll = setInterval(() => {
        if (!goneAt && !isAlive(vm.pid) && tasks(vm.pid) <= 1) goneAt = performance.now();
      }, 1);
    });
    await vm.console.send("poweroff -f\n");
    const exit = await Promise.race([
      vm.exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no exit; console: ${vm.console.transcript.slice(-300)}`)), 30_000),
      ),
    ]);
    const exitedAt = performance.now();
    clearInterval(poll);
    expect(exit).toEqual({ code: 0, signal: null, reason: "guest-shutdown" });
    expect(shutdownAt).toBeGreaterThan(0);
    // Target on an idle host: < 100 ms from SHUTDOWN (bench/machine); here the host is shared.
    expect(exitedAt - shutdownAt).toBeLessThan(1000);
    expect(exitedAt - (goneAt || exitedAt)).toBeLessThan(1000);
    expect(existsSync(vm.runDir)).toBe(false);
    expect(await waitGone(vm.pid, 100)).toBe(true);
    await expect(vm.console.run("true")).rejects.toMatchObject({ code: "CONSOLE_CLOSED" });
  });
});

describe("await using with the ACPI power button", () => {
  it("shutdown() by powerdown ends with the guest's own poweroff", async () => {
    // A booted guest is all this needs: a clone of the cached template (issue 19), not a boot.
    const t = await builtInTemplate("tiny", { timeout: 120_000 });
    let pid = 0;
    let exited: Promise<unknown> | undefined;
    {
      await using vm = await t.start();
      pid = vm.pid;
      exited = vm.exited;
    }
    expect(await exited).toEqual({ code: 0, signal: null, reason: "guest-shutdown" });
    expect(await waitGone(pid, 100)).toBe(true);
  });
});
