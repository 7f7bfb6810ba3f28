/**
 * The main job, for real: the Debian-guest recipes (add-disk, overlays, install-from-iso)
 * run once through `qemukit lab` and the test checks the report; a failing recipe makes the
 * exit code non-zero with the failure in the report; Ctrl-C leaves no VM behind.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, qemuProcesses, recipeTempDirs, repoRoot, runProcess } from "../helpers/recipes-run.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qemukit-lab-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
// The real bin (what `npx qemukit` runs): TypeScript is loaded in-process, so a signal
// reaches qemukit itself. (The `tsx` CLI wrapper SIGKILLs its child when the child does not
// acknowledge a relayed signal within 30 ms, which a busy machine can miss.)
const lab = (args: string[], options: Parameters<typeof runProcess>[1] = {}) =>
  runProcess([process.execPath, `${repoRoot}bin/qemukit.js`, "lab", ...args], { timeout: 1_500_000, ...options });

describe("qemukit lab", () => {
  it("runs the Debian-guest exercises and writes lab-report.json/.md with measured observations", async () => {
    const heavyTemp = ["add-disk-", "overlays-", "install-"];
    const before = recipeTempDirs(heavyTemp);
    const out = join(dir, "out");
    const run = await lab(["--out", out, "--only", "add-disk,overlays,install-from-iso"]);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    expect(run.stdout).toMatch(/3\/3 recipes passed in [\d.]+ s wall time \(QEMU 7\.\d+\.\d+, accel (tcg|kvm)/);

    const report = JSON.parse(readFileSync(join(out, "lab-report.json"), "utf8"));
    expect(report).toMatchObject({
      ok: true,
      interrupted: false,
      qemuVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(report.accel.chosen).toMatch(/^(tcg|kvm)$/);
    expect(report.wallMs).toBeGreaterThan(0);
    const byId = Object.fromEntries(report.recipes.map((r: any) => [r.id, r]));
    for (const id of ["add-disk", "overlays", "install-from-iso"]) {
      expect(byId[id].status, JSON.stringify(byId[id].error)).toBe("passed");
      expect(byId[id].steps.length).toBeGreaterThan(2);
      expect(byId[id].summary.length).toBeGreaterThan(10);
    }

    const add = byId["add-disk"].observations;
    expect(add.sizeBefore).toBeLessThan(MiB);
    expect(add.sizeAfter - add.sizeBefore).toBeGreaterThan(200 * MiB);
    expect(add.sizeAfter).toBeLessThan(add.virtualSize);
    const parts = add.partitions.filter((p: any) => p.name !== add.guestDisk);
    expect(parts.map((p: any) => [p.bytes, p.fstype])).toEqual([
      [500 * MiB, "ext4"],
      [500 * MiB, "ext4"],
    ]);
    expect(add.filesWritten.map((f: any) => f.bytes)).toEqual([100 * MiB, 100 * MiB]);

    const ov = byId.overlays.observations;
    expect(ov.concurrent).toBe(true);
    expect(ov.writeGrowth.overlay1).toBeGreaterThan(49 * MiB);
    expect(ov.writeGrowth.overlay2).toBeLessThan(10 * MiB);
    expect(ov.overlay1Growth).toBeGreaterThan(ov.overlay2Growth + 40 * MiB);
    expect(ov.baseUnchanged.unchanged).toBe(true);
    expect(ov.baseUnchanged.bytesCompared).toBeGreaterThan(MiB);
    expect(ov.backingChain.map((l: any) => l.format)).toEqual(["qcow2", "qcow2"]);
    expect(ov.backingChain[0].backingFormat).toBe("qcow2");

    const inst = byId["install-from-iso"].observations;
    expect(inst).toMatchObject({
      checksum: { ok: true },
      signature: { valid: true },
      tamperedRejected: true,
      installerReached: true,
    });
    expect(inst.signature.fingerprint).toBe(inst.signature.expectedFingerprint);
    expect(inst.screens.map((s: any) => s.stage)).toContain("boot-menu");
    expect(readFileSync(inst.screenshot).subarray(1, 4).toString()).toBe("PNG");

    const md = readFileSync(join(out, "lab-report.md"), "utf8");
    expect(md).toMatch(/^# KVM lab report/);
    expect(md).toContain("| [add-disk](#add-disk) |");
    expect(md).toContain("```json");

    for (const name of ["lab-add-disk-", "lab-overlays-", "lab-install-"]) expect(qemuProcesses(name)).toEqual([]);
    expect(recipeTempDirs(heavyTemp).filter((d) => !before.includes(d))).toEqual([]);
  }, 1_600_000);

  it("exits 1 when a recipe fails and puts the failure in the report", async () => {
    const out = join(dir, "fail");
    const run = await lab([
      "--out",
      out,
      "--only",
      "convert,create-disk",
      "--image",
      join(dir, "missing-debian-11.qcow2"),
    ]);
    expect(run.status).toBe(1);
    const report = JSON.parse(readFileSync(join(out, "lab-report.json"), "utf8"));
    expect(report.ok).toBe(false);
    const convert = report.recipes.find((r: any) => r.id === "convert");
    expect(convert.status).toBe("failed");
    expect(convert.error.message).toMatch(/missing-debian-11\.qcow2/);
    expect(report.recipes.find((r: any) => r.id === "create-disk").status).toBe("passed");
    expect(readFileSync(join(out, "lab-report.md"), "utf8")).toMatch(/\*\*Failure:\*\*/);
    expect(run.stdout).toMatch(/convert +✗/);
  }, 300_000);

  it("Ctrl-C stops the daemonized VNC VM, removes temporary files and still writes a report", async () => {
    const out = join(dir, "int");
    let qemuPid = 0;
    const run = await lab(["--out", out, "--only", "vnc", "--jobs", "1"], {
      timeout: 300_000,
      onStderr: (text, child) => {
        const m = /\[vnc\] +✓ start daemonized.*QEMU pid (\d+)/.exec(text);
        if (m && !qemuPid) {
          qemuPid = Number(m[1]);
          child.kill("SIGINT");
        }
      },
    });
    expect(qemuPid).toBeGreaterThan(0);
    expect(run.status).toBe(130);
    expect(isAlive(qemuPid)).toBe(false);
    // The VM's run directory (sockets, overlay over the base) is gone too.
    const runDir = /path=(\S+)\/qmp\.sock/.exec(run.stderr)?.[1];
    expect(runDir).toBeDefined();
    expect(existsSync(runDir!)).toBe(false);
    const report = JSON.parse(readFileSync(join(out, "lab-report.json"), "utf8"));
    expect(report).toMatchObject({ ok: false, interrupted: true });
    expect(report.recipes[0].status).toMatch(/interrupted/);
  }, 320_000);
});
