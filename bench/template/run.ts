#!/usr/bin/env -S npx tsx
/**
 * Template benchmark, everything measured in one run on this machine:
 * - cold boot to a shell (start, wait for the root prompt, run `true` at the console)
 *   versus a clone to a shell (`t.start()`, which restores the saved state, resumes and sets
 *   the clock at the console, then `true` at the console), for the tiny and the Debian guest;
 *   the clone's figure thus holds two console round trips, the cold one's a prompt and one;
 * - 8 Debian clones started at once, until every one has answered `true`.
 *
 * The Debian cold figure is the template's own boot (the same start + prompt wait, done once
 * to make the template) plus one more cold boot: Debian boots cost 15-50 s under TCG.
 * Templates are built in a private cache root, so a cached one never hides the build.
 *
 * Targets (issue 19): Debian clone <= 0.5 s and <= 0.05x its cold boot; tiny clone <= 0.25 s;
 * 8 concurrent Debian clones all at a shell within 3 s (2 cores).
 *
 * Usage: npx tsx bench/template/run.ts [--rounds N] [--only tiny,debian,many] [--json]
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { guests } from "../../sdk/guests/mod.ts";
import type { RunningVm } from "../../sdk/machine/running-vm.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { vm, type VmBuilder } from "../../sdk/spec/builder.ts";
import { overlay } from "../../sdk/spec/overlay.ts";
import type { Template } from "../../sdk/template/template.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ROUNDS = Number(opt("rounds", "5"));
const ONLY = new Set(opt("only", "tiny,debian,many").split(","));
const JSON_OUT = args.includes("--json");

const work = mkdtempSync("/tmp/qkbt-");
process.env.QEMUKIT_RUN_DIR = join(work, "run");
const cacheRoot = join(work, "cache");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sec = (ms: number) => (ms / 1000).toFixed(3);

async function cold(b: VmBuilder, prompt: RegExp): Promise<number> {
  const t0 = performance.now();
  const m = await b.start({ waitFor: Wait.forConsole(prompt, { timeout: 300_000 }) });
  await m.console.run("true");
  const ms = performance.now() - t0;
  await m.kill();
  return ms;
}

async function clone(t: Template): Promise<number> {
  const t0 = performance.now();
  const m = await t.start();
  await m.console.run("true");
  const ms = performance.now() - t0;
  await m.kill();
  return ms;
}

interface Row {
  guest: string;
  coldMs: number[];
  cloneMs: number[];
  stateBytes: number;
  buildMs: number;
}
const rows: Row[] = [];
let many: { clones: number; wallMs: number; eachMs: number[] } | undefined;

async function measure(guest: string, b: VmBuilder, prompt: RegExp, coldRounds: number): Promise<Template> {
  const t0 = performance.now();
  const t = await b.template({ ready: Wait.forConsole(prompt, { timeout: 300_000 }), cacheRoot });
  const buildMs = performance.now() - t0;
  const coldMs: number[] = guest === "debian" ? [t.info.bootMs] : [];
  for (let i = 0; i < coldRounds; i++) coldMs.push(await cold(b, prompt));
  await clone(t); // the first read of the state file warms the page cache, as any later clone finds it
  const cloneMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) cloneMs.push(await clone(t));
  rows.push({ guest, coldMs, cloneMs, stateBytes: t.info.stateBytes, buildMs });
  return t;
}

try {
  if (ONLY.has("tiny")) {
    const g = await guests.tiny();
    const b = vm()
      .accel("tcg")
      .memory(g.memoryMiB)
      .network("none")
      .kernel(g.kernel, { initrd: g.initrd, append: g.append });
    await measure("tiny", b, g.prompt, 3);
  }
  if (ONLY.has("debian") || ONLY.has("many")) {
    const g = await guests.debian();
    const b = vm().accel("tcg").memory(g.memoryMiB).smp(2).network("none").disk(overlay(g.image));
    const t = await measure("debian", b, g.prompt, ONLY.has("debian") ? 1 : 0);
    if (ONLY.has("many")) {
      const t0 = performance.now();
      const vms: RunningVm[] = [];
      const eachMs = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const m = await t.start();
          vms.push(m);
          await m.console.run("true");
          return performance.now() - t0;
        }),
      );
      many = { clones: 8, wallMs: performance.now() - t0, eachMs };
      await Promise.all(vms.map((m) => m.kill()));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (JSON_OUT) {
  console.log(JSON.stringify({ rows, many }, null, 2));
} else {
  console.log(`qemukit template bench: median of ${ROUNDS} clones; seconds to a shell that answered \`true\``);
  console.log("guest    cold boot   clone    clone/cold  state KB  template build");
  for (const r of rows) {
    const c = median(r.coldMs);
    const k = median(r.cloneMs);
    console.log(
      `${r.guest.padEnd(8)} ${sec(c).padStart(9)} ${sec(k).padStart(7)}   ${(k / c).toFixed(4).padStart(8)}x  ${(r.stateBytes / 1024).toFixed(0).padStart(8)}  ${sec(r.buildMs).padStart(8)} s`,
    );
    console.log(`         clones: ${r.cloneMs.map(sec).join(" ")}; cold: ${r.coldMs.map(sec).join(" ")}`);
  }
  if (many) {
    console.log(
      `8 Debian clones at once: all at a shell after ${sec(many.wallMs)} s (each: ${many.eachMs
        .sort((a, b) => a - b)
        .map(sec)
        .join(" ")})`,
    );
  }
  console.log("targets: debian clone <= 0.500 s and <= 0.05x cold; tiny clone <= 0.250 s; 8 debian clones <= 3 s");
}
