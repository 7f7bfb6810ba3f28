#!/usr/bin/env -S npx tsx
/**
 * Machine-layer benchmarks, ratios measured in one run (same machine, same moment):
 * - start-to-QMP-ready and start-to-guest-shell of the tiny guest through startVm versus a
 *   raw qemu-system-x86_64 with the same argv driven by a minimal hand-written client;
 * - time from guest poweroff to `exited` resolving;
 * - Node RSS per managed VM.
 *
 * Usage: npx tsx bench/machine/run.ts [--rounds N] [--vms N] [--only qmp,shell,exit,memory] [--json]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { compile } from "../../sdk/compile/compile.ts";
import { guests } from "../../sdk/guests/mod.ts";
import { startVm, Wait, type RunningVm } from "../../sdk/machine/mod.ts";
import { DEFAULT_SPEC } from "../../sdk/spec/defaults.ts";
import type { VmSpec } from "../../sdk/spec/types.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt("rounds", 5);
const VMS = opt("vms", 8);

const root = mkdtempSync("/tmp/qkb-");
process.env.QEMUKIT_RUN_DIR = root;

const g = await guests.tiny();
const spec: VmSpec = {
  ...DEFAULT_SPEC,
  accel: "tcg",
  memoryMiB: 256,
  network: { kind: "none" },
  kernel: { kernel: g.kernel, initrd: g.initrd, append: g.append },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function connectRetry(path: string): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      });
    } catch {
      await new Promise((r) => setTimeout(r, 3));
    }
  }
}

/** Reads lines from a QMP socket until `pred` accepts one. */
function readUntil(s: Socket, pred: (text: string) => boolean): Promise<void> {
  return new Promise((resolve) => {
    let buf = "";
    const on = (b: Buffer) => {
      buf += b.toString();
      if (pred(buf)) {
        s.off("data", on);
        resolve();
      }
    };
    s.on("data", on);
  });
}

/** The baseline: spawn QEMU with the same argv, negotiate QMP by hand, connect the console, cont. */
async function raw(untilShell: boolean): Promise<number> {
  const dir = mkdtempSync("/tmp/qkr-");
  const c = compile(spec, { runDir: dir, accel: ["tcg"], startPaused: true });
  const t0 = performance.now();
  const child = spawn(c.argv[0]!, c.argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  while (!existsSync(c.qmpSocket!)) await new Promise((r) => setTimeout(r, 3));
  const qmp = await connectRetry(c.qmpSocket!);
  await readUntil(qmp, (t) => t.includes("QMP"));
  qmp.write('{"execute":"qmp_capabilities"}\n');
  await readUntil(qmp, (t) => t.includes("return"));
  const con = await connectRetry(c.consoleSocket!);
  const shell = untilShell ? readUntil(con, (t) => g.prompt.test(t)) : Promise.resolve();
  qmp.write('{"execute":"cont"}\n');
  await readUntil(qmp, (t) => t.includes("return"));
  await shell;
  const t = performance.now() - t0;
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  qmp.destroy();
  con.destroy();
  rmSync(dir, { recursive: true, force: true });
  return t;
}

async function viaQemukit(untilShell: boolean): Promise<number> {
  const t0 = performance.now();
  const vm = await startVm(spec, untilShell ? { waitFor: Wait.forConsole(g.prompt) } : {});
  const t = performance.now() - t0;
  await vm.kill();
  return t;
}

async function ratio(label: string, untilShell: boolean) {
  const a: number[] = [];
  const b: number[] = [];
  await raw(untilShell); // warm the page cache for kernel/initrd
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate so drift on a shared machine hits both sides.
    b.push(await raw(untilShell));
    a.push(await viaQemukit(untilShell));
  }
  const r = median(a) / median(b);
  // The machine is shared: the minimum is the least disturbed sample of each side.
  const rMin = Math.min(...a) / Math.min(...b);
  return {
    label,
    qemukitMs: Math.round(median(a)),
    rawMs: Math.round(median(b)),
    ratio: Number(r.toFixed(3)),
    ratioOfMin: Number(rMin.toFixed(3)),
    target: 1.05,
    ok: Math.min(r, rMin) <= 1.05,
  };
}

async function poweroffToExited() {
  const samples: number[] = [];
  const fromCommand: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const vm = await startVm(spec, { waitFor: Wait.forConsole(g.prompt) });
    let shutdownAt = 0;
    vm.qmp.on("SHUTDOWN", () => {
      shutdownAt = performance.now();
    });
    const sent = performance.now();
    await vm.console.send("poweroff -f\n");
    await vm.exited;
    const done = performance.now();
    samples.push(done - shutdownAt);
    fromCommand.push(done - sent);
  }
  const ms = median(samples);
  return {
    label: "guest poweroff (SHUTDOWN event) to exited",
    ms: Number(ms.toFixed(1)),
    fromPoweroffCommandMs: Math.round(median(fromCommand)),
    target: 100,
    ok: ms < 100,
  };
}

/** A real GC between measurements, so heap garbage does not hide (or fake) the cost. */
const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

async function rssPerVm() {
  await (await startVm(spec)).kill(); // load every module first
  gc();
  const before = process.memoryUsage();
  const vms: RunningVm[] = await Promise.all(
    Array.from({ length: VMS }, () => startVm(spec, { waitFor: Wait.forConsole(g.prompt, { timeout: 300_000 }) })),
  );
  for (const vm of vms) await vm.console.run("true");
  gc();
  const after = process.memoryUsage();
  await Promise.all(vms.map((vm) => vm.kill()));
  const per = (k: "rss" | "heapUsed") => Number(((after[k] - before[k]) / VMS / 2 ** 10).toFixed(0));
  return {
    label: `Node memory per managed VM (${VMS} tiny guests at a shell)`,
    rssKiB: per("rss"),
    heapKiB: per("heapUsed"),
  };
}

try {
  const only = args.includes("--only")
    ? args[args.indexOf("--only") + 1]!.split(",")
    : ["qmp", "shell", "exit", "memory"];
  const results: object[] = [];
  if (only.includes("qmp")) results.push(await ratio("start to QMP ready", false));
  if (only.includes("shell")) results.push(await ratio("start to guest shell", true));
  if (only.includes("exit")) results.push(await poweroffToExited());
  if (only.includes("memory")) results.push(await rssPerVm());
  if (args.includes("--json")) console.log(JSON.stringify(results, null, 2));
  else console.table(results);
} finally {
  rmSync(root, { recursive: true, force: true });
}
