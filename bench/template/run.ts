#!/usr/bin/env -S npx tsx
/**
 * Template benchmark, everything measured in one run on this machine:
 * - cold boot to a shell (start, wait for the root prompt, run `true` at the console)
 *   versus a clone to a shell (`t.start()`, which restores the saved state, resumes and sets
 *   the clock through the helper the template left in the guest, then `true` at the
 *   console), for the tiny and the Debian guest; the clone's figure thus holds two console
 *   round trips, the cold one's a prompt and one;
 * - 8 Debian clones started at once, until every one has answered `true`.
 *
 * Each clone round also runs a clone with `clock: "none"`: what the clock fix costs is the
 * difference (its console line is the clone's first, which TCG translates the shell's and
 * the tty's code for; with `clock: "none"` the `true` pays for that instead).
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
import { VmBuilder } from "../../sdk/spec/builder.ts";
import { builtInTemplate } from "../../sdk/template/builtin.ts";
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

async function clone(t: Template, clock?: "none"): Promise<number> {
  const t0 = performance.now();
  const m = await t.start(clock ? { clock } : {});
  await m.console.run("true");
  const ms = performance.now() - t0;
  await m.kill();
  return ms;
}

interface Row {
  guest: string;
  coldMs: number[];
  cloneMs: number[];
  /** Clones without the clock fix (`clock: "none"`). */
  noClockMs: number[];
  stateBytes: number;
  buildMs: number;
}
const rows: Row[] = [];
const many: { clock: string; wallMs: number; eachMs: number[] }[] = [];

async function measure(guest: "tiny" | "debian", prompt: RegExp, coldRounds: number): Promise<Template> {
  const t0 = performance.now();
  // The same templates the REPL's .template and the tests use, in a private cache root.
  const t = await builtInTemplate(guest, { cacheRoot });
  const buildMs = performance.now() - t0;
  const b = new VmBuilder(t.spec);
  const coldMs: number[] = guest === "debian" ? [t.info.bootMs] : [];
  for (let i = 0; i < coldRounds; i++) coldMs.push(await cold(b, prompt));
  await clone(t); // the first clone reads the files into the page cache, as any later clone finds them
  const cloneMs: number[] = [];
  const noClockMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    cloneMs.push(await clone(t));
    noClockMs.push(await clone(t, "none"));
  }
  rows.push({ guest, coldMs, cloneMs, noClockMs, stateBytes: t.info.stateBytes, buildMs });
  return t;
}

async function concurrently(t: Template, clock?: "none"): Promise<void> {
  const t0 = performance.now();
  const vms: RunningVm[] = [];
  try {
    const eachMs = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const m = await t.start(clock ? { clock } : {});
        vms.push(m);
        await m.console.run("true");
        return performance.now() - t0;
      }),
    );
    many.push({ clock: clock ?? "console", wallMs: performance.now() - t0, eachMs });
  } finally {
    await Promise.all(vms.map((m) => m.kill()));
  }
}

try {
  if (ONLY.has("tiny")) await measure("tiny", (await guests.tiny()).prompt, 3);
  if (ONLY.has("debian") || ONLY.has("many")) {
    const t = await measure("debian", (await guests.debian()).prompt, ONLY.has("debian") ? 1 : 0);
    if (ONLY.has("many")) {
      await concurrently(t);
      await concurrently(t, "none");
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (JSON_OUT) {
  console.log(JSON.stringify({ rows, many }, null, 2));
} else {
  console.log(`qemukit template bench: median of ${ROUNDS} clones; seconds to a shell that answered \`true\``);
  console.log("guest    cold boot   clone    clone/cold  no clock fix  state KB  template build");
  for (const r of rows) {
    const c = median(r.coldMs);
    const k = median(r.cloneMs);
    console.log(
      `${r.guest.padEnd(8)} ${sec(c).padStart(9)} ${sec(k).padStart(7)}   ${(k / c).toFixed(4).padStart(8)}x  ${sec(median(r.noClockMs)).padStart(12)}  ${(r.stateBytes / 1024).toFixed(0).padStart(8)}  ${sec(r.buildMs).padStart(8)} s`,
    );
    console.log(
      `         clones: ${r.cloneMs.map(sec).join(" ")}; no clock fix: ${r.noClockMs.map(sec).join(" ")}; cold: ${r.coldMs.map(sec).join(" ")}`,
    );
  }
  for (const x of many) {
    console.log(
      `8 Debian clones at once, clock ${x.clock}: all at a shell after ${sec(x.wallMs)} s (each: ${x.eachMs
        .sort((a, b) => a - b)
        .map(sec)
        .join(" ")})`,
    );
  }
  console.log("targets: debian clone <= 0.500 s and <= 0.05x cold; tiny clone <= 0.250 s; 8 debian clones <= 3 s");
}
