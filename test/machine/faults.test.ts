// Fault injection (docs/data-safety.md): SIGKILL, SIGTERM or SIGINT at a random moment of a
// loop of VM starts, image conversions or overlay creations, 50 runs. After each, the next
// run's sweeps (list(), the image layer's temp sweep) must leave no process, no temp file
// and no run directory behind; a VM that had finished a daemonized start is listed.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sweepStaleTemps } from "../../sdk/img/paths.ts";
import { list } from "../../sdk/machine/mod.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { helperScript, waitGone } from "../helpers/machine-fixtures.ts";

const work = mkdtempSync("/tmp/qkf-");
const root = join(work, "run");
mkdirSync(root, { mode: 0o700 });
mkdirSync(join(work, "img"));
const savedRoot = process.env.QEMUKIT_RUN_DIR;
process.env.QEMUKIT_RUN_DIR = root;
afterAll(() => {
  for (const pid of processesUsing(work)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  if (savedRoot === undefined) delete process.env.QEMUKIT_RUN_DIR;
  else process.env.QEMUKIT_RUN_DIR = savedRoot;
  rmSync(work, { recursive: true, force: true });
});

execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(work, "base.qcow2"), "64M"]);
execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(work, "src.qcow2"), "64M"]);
execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 24M", join(work, "src.qcow2")], { stdio: "ignore" });

/** Live processes (not zombies) whose command line mentions `dir`: QEMU, qemu-img. */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(dir) && isAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Temp files anywhere under `dir` (image temp names, vm.json temp names). */
function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.qemukit-\d+-|\.tmp$/.test(f));
}

/** What a leftover run directory holds, for the failure message. */
function describeLeftovers(dir: string): string {
  return readdirSync(dir)
    .map((d) => {
      const files = readdirSync(join(dir, d));
      const read = (f: string) => {
        try {
          return readFileSync(join(dir, d, f), "utf8")
            .replace(/\s+/g, " ")
            .slice(0, 400);
        } catch {
          return "-";
        }
      };
      return `${d}: [${files.join(", ")}] marker=${read(".qemukit-run")} meta=${read("vm.json")}`;
    })
    .join("; ");
}

const SIGNALS = ["SIGKILL", "SIGTERM", "SIGINT"] as const;
const OPS = ["start", "convert", "overlay"] as const;
const RUNS = Number(process.env.QK_FAULT_RUNS ?? 50);

describe("fault injection", () => {
  it(`${RUNS} runs of start/convert/overlay killed at random leave nothing behind`, async () => {
    const log: string[] = [];
    let listedDaemons = 0;
    for (let run = 0; run < RUNS; run++) {
      const op = OPS[run % OPS.length]!;
      const signal = SIGNALS[Math.floor(Math.random() * SIGNALS.length)]!;
      const child = spawn(process.execPath, ["--import", "tsx", helperScript("fault-child.ts"), op, work], {
        cwd: new URL("../../", import.meta.url).pathname,
        env: process.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (b: Buffer) => {
        stderr += b.toString();
      });
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once("data", () => resolve());
        child.once("exit", () => reject(new Error(`fault child exited early: ${stderr}`)));
      });
      const delay = Math.floor(Math.random() * (op === "start" ? 1500 : 600));
      await new Promise((r) => setTimeout(r, delay));
      child.kill(signal);
      await exited;
      log.push(`${run}: ${op} ${signal} after ${delay} ms`);
      if (process.env.QK_FAULT_DEBUG) console.error(log.at(-1));

      // The parent-death signal takes a moment to arrive.
      for (const pid of processesUsing(work)) await waitGone(pid, 5000);
      // The next run: list() reaps stale run directories (and orphaned daemons) and lists
      // finished daemonized VMs, which outlive their script by design: stop those here.
      for (const v of await list()) {
        expect(v.daemonized, `${log.at(-1)}: a non-daemonized VM outlived its script`).toBe(true);
        listedDaemons++;
        process.kill(v.pid, "SIGKILL");
        await waitGone(v.pid, 5000);
      }
      await list();
      sweepStaleTemps(join(work, "img"), { force: true });

      expect(processesUsing(work), log.at(-1)).toEqual([]);
      expect(readdirSync(root), `${log.at(-1)}: ${describeLeftovers(root)}`).toEqual([]);
      expect(tempFiles(work), log.at(-1)).toEqual([]);
    }
    console.log(`fault injection: ${RUNS} runs, ${listedDaemons} finished daemonized VM(s) listed and stopped`);
  }, 400_000);
});
