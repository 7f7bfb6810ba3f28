/**
 * Every light recipe, run the way users run it: `npx tsx recipes/<id>.ts --json` (stdout
 * must be exactly one JSON object), some under `deno run -A`, one through `qemukit recipe`.
 * The Debian-guest recipes (add-disk, overlays, install-from-iso) run once, through the
 * lab runner, in lab.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { image } from "../../sdk/mod.ts";
import { freeDisplay } from "../../recipes/lib/ports.ts";
import { runCli } from "../helpers/cli.ts";
import { isAlive, onlyJson, recipeTempDirs, runRecipeDeno, runRecipeTsx } from "../helpers/recipes-run.ts";

let dir: string;
let tempBefore: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qemukit-recipes-test-"));
  tempBefore = recipeTempDirs(["create-disk-", "convert-"]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

describe("recipes under tsx", () => {
  it("check-host reports the lab's three answers and the accelerator", async () => {
    const run = await runRecipeTsx("check-host", ["--json"]);
    const o = onlyJson(run);
    expect(run.status).toBe(0);
    expect([null, "vmx", "svm"]).toContain(o.cpuFlag);
    expect(Array.isArray(o.kvmModules)).toBe(true);
    expect(o.devKvm).toMatchObject({ exists: existsSync("/dev/kvm") });
    expect(["kvm", "tcg"]).toContain(o.accel);
    expect(String(o.reason).length).toBeGreaterThan(10);
    // The recipe reads the same facts the lab's commands show.
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    expect(o.cpuFlag === null).toBe(!/\b(vmx|svm)\b/.test(cpuinfo));
  });

  it("create-disk: a 2 GiB qcow2 that takes a few hundred KiB", async () => {
    const run = await runRecipeTsx("create-disk", ["--json"]);
    const o = onlyJson(run);
    expect(o).toMatchObject({ virtualSize: 2 * 1024 ** 3, format: "qcow2", clusterSize: 65536 });
    expect(o.actualSize as number).toBeGreaterThan(0);
    expect(o.actualSize as number).toBeLessThan(MiB);
    expect(run.stderr).toContain("✓ qemu-img create");
  });

  it("create-disk without --json prints a readable account with each step", async () => {
    const run = await runRecipeTsx("create-disk");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/lab: \$ qemu-img create -f qcow2 virtualdisk.qcow 2G/);
    expect(run.stdout).toMatch(/✓ qemu-img info virtualdisk.qcow2 \(\d+ ms\): qcow2, virtual 2.0 GiB/);
    expect(run.stdout).toMatch(/observations:\n {2}virtualSize: 2147483648/);
  });

  it("convert: vdi and vmdk keep the content, drop the snapshot, change the cluster size", async () => {
    // A small "debian-11.qcow2" with data in it, so the run is quick.
    const raw = join(dir, "data.raw");
    const bytes = Buffer.alloc(48 * MiB);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i ^ 0x5a5a5a5a, i);
    await writeFile(raw, bytes);
    const src = join(dir, "debian-11.qcow2");
    await image.convert(raw, src, { format: "qcow2" });
    const run = await runRecipeTsx("convert", ["--json", "--image", src]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    expect(o.before).toMatchObject({ format: "qcow2", virtualSize: 48 * MiB, clusterSize: 65536 });
    expect(o.after.vdi).toMatchObject({ format: "vdi", virtualSize: 48 * MiB, clusterSize: 1024 * 1024 });
    expect(o.after.vmdk).toMatchObject({ format: "vmdk", virtualSize: 48 * MiB });
    expect(o.snapshots).toEqual({ before: ["new"], vdi: [], vmdk: [] });
    expect(o.contentIdentical).toEqual({ vdi: true, vmdk: true });
    expect(o.after.vdi.actualSize).toBeGreaterThan(40 * MiB);
  });

  it("start-vm: one thread per vCPU (tiny guest: the thread count does not depend on the OS)", async () => {
    const run = await runRecipeTsx("start-vm", ["--json", "--guest", "tiny"]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    for (const n of ["2", "4"]) expect(isAlive(o.details[n].pid), `QEMU ${o.details[n].pid} still runs`).toBe(false);
    expect(o.vcpuThreads).toEqual({ "2": 2, "4": 4 });
    expect(o.threads["4"] - o.threads["2"]).toBe(2 + o.workerThreads["4"] - o.workerThreads["2"]);
    expect(o.otherThreads["2"]).toBe(o.otherThreads["4"]);
    expect(o.details["4"].names.filter((n: string) => /^CPU \d\/TCG$/.test(n))).toHaveLength(
      o.accel.chosen === "tcg" ? 4 : 0,
    );
    expect(o.explanation).toMatch(/thread of its own/);
  });

  it("vnc: finds QEMU's VNC port among the listening sockets, speaks RFB, grabs the screen, re-attaches", async () => {
    const display = await freeDisplay(1);
    const out = join(dir, "vnc");
    const run = await runRecipeTsx("vnc", ["--json", "--guest", "tiny", "--display", String(display), "--out", out]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    expect(o.port).toBe(5900 + o.display);
    expect(o.display).toBeGreaterThanOrEqual(display);
    expect(o.rfbVersion).toMatch(/^RFB 003\.00[38]$/);
    expect(o.framebuffer.name).toMatch(/^QEMU/);
    expect(o.reattached).toBe(true);
    expect(readFileSync(o.screenshot).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(o.vncSnapshot).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8])); // JPEG
    // The web console: the page with its token, 403 without, RFB through its websocket.
    expect(o.web).toMatchObject({ pageStatus: 200, withoutToken: 403, rfbVersion: "RFB 003.008" });
    expect(o.web.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    // The same desktop (its size may have changed meanwhile: SeaBIOS 640x480, text mode 720x400).
    expect(o.web.framebuffer.name).toBe(o.framebuffer.name);
    // The daemonized VM is gone: the pid that owned the port no longer exists.
    expect(isAlive(o.listeningPid)).toBe(false);
  });
});

describe("recipes under Deno", () => {
  it("create-disk", async () => {
    const run = await runRecipeDeno("create-disk", ["--json"]);
    expect(onlyJson(run)).toMatchObject({ virtualSize: 2 * 1024 ** 3, format: "qcow2" });
    expect(run.status).toBe(0);
  });

  it("start-vm with the tiny guest", async () => {
    const run = await runRecipeDeno("start-vm", ["--json", "--guest", "tiny"]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    expect(o.vcpuThreads).toEqual({ "2": 2, "4": 4 });
  });

  it("check-host", async () => {
    const run = await runRecipeDeno("check-host", ["--json"]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    expect(o.devKvm).toMatchObject({ exists: existsSync("/dev/kvm") });
    expect(["kvm", "tcg"]).toContain(o.accel);
  });

  it("vnc with the tiny guest", async () => {
    const display = await freeDisplay(11);
    const run = await runRecipeDeno("vnc", [
      "--json",
      "--guest",
      "tiny",
      "--display",
      String(display),
      "--out",
      join(dir, "vnc-deno"),
    ]);
    const o = onlyJson(run) as any;
    expect(run.status).toBe(0);
    expect(o.port).toBe(5900 + o.display);
    expect(o.rfbVersion).toMatch(/^RFB 003\.00[38]$/);
    expect(o.web).toMatchObject({ pageStatus: 200, withoutToken: 403, rfbVersion: "RFB 003.008" });
    expect(isAlive(o.listeningPid)).toBe(false);
  });
});

describe("qemukit recipe", () => {
  it("lists the recipes and runs one", () => {
    const list = runCli(["recipe", "--list"]);
    expect(list.status).toBe(0);
    for (const id of [
      "check-host",
      "start-vm",
      "vnc",
      "create-disk",
      "install-from-iso",
      "add-disk",
      "overlays",
      "convert",
    ])
      expect(list.stdout).toContain(id);
    const run = runCli(["recipe", "create-disk", "--json"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ format: "qcow2" });
    expect(runCli(["recipe", "nope"]).status).toBe(2);
  });
});

describe("leftovers", () => {
  it("no recipe temp dir is left", () => {
    expect(recipeTempDirs(["create-disk-", "convert-"]).filter((d) => !tempBefore.includes(d))).toEqual([]);
  });
});
