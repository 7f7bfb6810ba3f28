// The QMP client against a booted guest (the tiny one, TCG): typed queries whose answers
// depend on a running guest, STOP/RESUME, a guest-initiated SHUTDOWN, and a screendump of
// the guest's real screen. The guest is a clone of a cached template (issue 19): the test
// needs a booted guest, not a boot, and a clone is at its shell in under a second.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningVm, Wait } from "../../sdk/machine/mod.ts";
import { template } from "../../sdk/template/mod.ts";
import { tinySpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

describe("QMP on a booted tiny guest", () => {
  let run: ReturnType<typeof useTempRunRoot>;
  let vm: RunningVm;
  let prompt: RegExp;
  const out = mkdtempSync(join(tmpdir(), "qemukit-qmp-tiny-"));

  beforeAll(async () => {
    run = useTempRunRoot();
    const t = await tinySpec({ smp: { cpus: 2 } });
    prompt = t.prompt;
    const tmpl = await template(t.spec, { ready: Wait.forConsole(prompt, { timeout: 240_000 }) });
    vm = await tmpl.start();
  }, 300_000);
  afterAll(async () => {
    await vm?.kill();
    run?.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it("answers typed queries about the running guest", async () => {
    const status = await vm.qmp.execute("query-status");
    expect(status).toMatchObject({ status: "running", running: true });
    const cpus = await vm.qmp.execute("query-cpus-fast");
    expect(cpus.map((c) => c["cpu-index"])).toEqual([0, 1]);
    const tids = (await vm.threads()).map((t) => t.tid);
    for (const c of cpus) expect(tids).toContain(Number(c["thread-id"]));
    const version = await vm.qmp.execute("query-version");
    expect(version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(await vm.qmp.hmp("info status")).toMatch(/VM status: running/);
  });

  it("sees STOP and RESUME, and the guest keeps working afterwards", async () => {
    const since = Date.now();
    await vm.qmp.execute("stop");
    await vm.qmp.waitFor("STOP", { since, timeout: 10_000 });
    expect((await vm.qmp.execute("query-status")).status).toBe("paused");
    await vm.qmp.execute("cont");
    await vm.qmp.waitFor("RESUME", { since, timeout: 10_000 });
    const r = await vm.console.run("echo alive", { timeout: 30_000 });
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.output).toContain("alive");
  });

  it("screendumps the guest's screen as a PNG", async () => {
    const file = join(out, "screen.png");
    await vm.qmp.execute("screendump", { filename: file, format: "png" });
    const png = readFileSync(file);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.readUInt32BE(16)).toBeGreaterThan(0); // width from the IHDR chunk
  });

  it("delivers the guest's own SHUTDOWN, then the connection closes", async () => {
    const since = Date.now();
    vm.console.send("poweroff -f\n");
    const e = await vm.qmp.waitFor("SHUTDOWN", { since, timeout: 30_000 });
    expect(e.data).toMatchObject({ guest: true, reason: "guest-shutdown" });
    await vm.qmp.closed;
    await expect(vm.qmp.execute("query-status")).rejects.toMatchObject({ code: "QMP_DISCONNECTED" });
  });
});
