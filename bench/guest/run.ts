/**
 * Guest command benchmark, on the built-in Debian guest under TCG (one boot): `` m.$`true` ``
 * round trips per second through the guest agent and through the serial console, each
 * against the bare round trip of its transport measured in the same run (`guest-ping` for
 * the agent, `console.run("true")` for the console); file copy throughput both ways on both
 * transports; and the boot itself, from the disk through SeaBIOS + GRUB and with the image's
 * own kernel given directly (to the root prompt, to the agent's first answer, QEMU's CPU
 * seconds meanwhile), against the tiny guest booted in the same run.
 *
 * The two transports alternate in blocks, so load from other processes on a shared host hits
 * them alike. Run: `npx tsx bench/guest/run.ts` (GUEST_BENCH_N round trips per transport,
 * default 60; GUEST_BENCH_AGENT_MB, default 8; GUEST_BENCH_CONSOLE_KB, default 96).
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { consoleFiles } from "../../sdk/agent/console-files.ts";
import { agentFiles, copyFileIn, copyFileOut, type GuestFileTransport } from "../../sdk/agent/files.ts";
import { consoleRunner, makeShell } from "../../sdk/agent/shell.ts";
import { debian } from "../../sdk/guests/debian.ts";
import { tiny } from "../../sdk/guests/tiny.ts";
import type { RunningVm } from "../../sdk/machine/running-vm.ts";
import { overlay, vm } from "../../sdk/spec/mod.ts";

const N = Number(process.env.GUEST_BENCH_N ?? 60);
const BLOCK = 10;
const AGENT_BYTES = Number(process.env.GUEST_BENCH_AGENT_MB ?? 8) * 1024 * 1024;
const CONSOLE_BYTES = Number(process.env.GUEST_BENCH_CONSOLE_KB ?? 96) * 1024;

/** QEMU's user+system CPU seconds so far (from /proc/PID/stat, clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function bootTiny(): Promise<{ prompt: number; cpu: number }> {
  const t = await tiny({ progress: false });
  const t0 = performance.now();
  const m = await vm()
    .accel("tcg")
    .memory(t.memoryMiB)
    .kernel(t.kernel, { initrd: t.initrd, append: t.append })
    .network("none")
    .start();
  try {
    await m.console.waitFor(t.prompt, { timeout: 300_000 });
    return { prompt: (performance.now() - t0) / 1000, cpu: cpuSeconds(m.pid) };
  } finally {
    await m.kill();
  }
}

/** Debian from its disk alone, as a PC boots (`-hda`, no `-kernel`), to the root prompt. */
async function bootDebianFromDisk(): Promise<{ prompt: number; cpu: number }> {
  const g = await debian({ progress: false });
  const t0 = performance.now();
  const m = await vm().accel("tcg").memory(g.memoryMiB).smp(2).hda(overlay(g.image)).start();
  try {
    await m.console.waitFor(g.prompt, { timeout: 600_000 });
    return { prompt: (performance.now() - t0) / 1000, cpu: cpuSeconds(m.pid) };
  } finally {
    await m.kill();
  }
}

async function timed(n: number, fn: () => PromiseLike<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return performance.now() - t0;
}

async function copyBoth(files: GuestFileTransport, bytes: number, dir: string, tag: string) {
  const src = join(dir, `${tag}-in.bin`);
  const dst = join(dir, `${tag}-out.bin`);
  const data = randomBytes(bytes);
  writeFileSync(src, data);
  const t0 = performance.now();
  await copyFileIn(files, src, `/root/${tag}.bin`);
  const tIn = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await copyFileOut(files, `/root/${tag}.bin`, dst);
  const tOut = (performance.now() - t1) / 1000;
  if (!readFileSync(dst).equals(data)) throw new Error(`${tag}: the copy came back different`);
  return { inMBs: bytes / 1e6 / tIn, outMBs: bytes / 1e6 / tOut };
}

const work = mkdtempSync(join(tmpdir(), "qk-guest-bench-"));
let m: RunningVm | undefined;
try {
  const tinyBoot = await bootTiny();
  const diskBoot = await bootDebianFromDisk();
  const g = await debian({ progress: false });
  const t0 = performance.now();
  m = await vm()
    .accel("tcg")
    .memory(g.memoryMiB)
    .smp(2)
    .hda(overlay(g.image))
    .kernel(g.kernel, { initrd: g.initrd, append: g.append })
    .agent()
    .start();
  const agentReady = m.agent({ timeout: 600_000 });
  await m.console.waitFor(g.prompt, { timeout: 600_000 });
  const promptS = (performance.now() - t0) / 1000;
  const promptCpu = cpuSeconds(m.pid);
  const agent = await agentReady;
  const agentS = (performance.now() - t0) / 1000;

  const viaConsole = makeShell(async () => consoleRunner(m!.console));
  // warm-up: page cache in the guest, JIT here
  for (let i = 0; i < 5; i++) {
    await m.$`true`;
    await viaConsole`true`;
    await agent.execute("guest-ping");
    await m.console.run("true");
  }
  const t = { ping: 0, agentTrue: 0, consoleRun: 0, consoleTrue: 0 };
  for (let done = 0; done < N; done += BLOCK) {
    const n = Math.min(BLOCK, N - done);
    t.ping += await timed(n, () => agent.execute("guest-ping"));
    t.agentTrue += await timed(n, () => m!.$`true`);
    t.consoleRun += await timed(n, () => m!.console.run("true"));
    t.consoleTrue += await timed(n, () => viaConsole`true`);
  }
  const agentCopy = await copyBoth(agentFiles(agent), AGENT_BYTES, work, "agent");
  const consoleCopy = await copyBoth(consoleFiles(m.console), CONSOLE_BYTES, work, "console");

  const perSec = (ms: number) => (N / (ms / 1000)).toFixed(1).padStart(8);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(7);
  console.log(`qemukit guest bench: Debian guest, TCG, ${N} round trips per line in blocks of ${BLOCK}`);
  console.log("round trips          per second | vs the transport's bare round trip (time ratio)");
  console.log(`agent   guest-ping   ${perSec(t.ping)} |`);
  console.log(`agent   m.$\`true\`    ${perSec(t.agentTrue)} | ${x(t.agentTrue, t.ping)}`);
  console.log(`console run("true")  ${perSec(t.consoleRun)} |`);
  console.log(`console m.$\`true\`    ${perSec(t.consoleTrue)} | ${x(t.consoleTrue, t.consoleRun)}`);
  console.log(`m.$\`true\`: console time / agent time ${x(t.consoleTrue, t.agentTrue)}`);
  const mbs = (v: number) => v.toFixed(3).padStart(7);
  console.log(
    `copy MB/s            in      out  | agent ${(AGENT_BYTES / 1048576).toFixed(0)} MiB, console ${(CONSOLE_BYTES / 1024).toFixed(0)} KiB`,
  );
  console.log(`agent            ${mbs(agentCopy.inMBs)}  ${mbs(agentCopy.outMBs)}`);
  console.log(`console          ${mbs(consoleCopy.inMBs)}  ${mbs(consoleCopy.outMBs)}`);
  console.log(`agent / console  ${x(agentCopy.inMBs, consoleCopy.inMBs)}  ${x(agentCopy.outMBs, consoleCopy.outMBs)}`);
  console.log("boot (TCG)                    wall s   QEMU CPU s | vs tiny (wall, CPU)");
  const bootLine = (label: string, wall: number, cpu: number) =>
    console.log(
      `${label.padEnd(28)}${wall.toFixed(1).padStart(7)}  ${cpu.toFixed(1).padStart(9)} | ${x(wall, tinyBoot.prompt)} ${x(cpu, tinyBoot.cpu)}`,
    );
  bootLine("tiny to prompt", tinyBoot.prompt, tinyBoot.cpu);
  bootLine("debian from disk to prompt", diskBoot.prompt, diskBoot.cpu);
  bootLine("debian -kernel to prompt", promptS, promptCpu);
  console.log(`debian -kernel to agent     ${agentS.toFixed(1).padStart(8)}`);
  const t1 = performance.now();
  const exit = await m.shutdown({ timeouts: { powerdown: 60_000 } });
  console.log(`debian ACPI power-off ${((performance.now() - t1) / 1000).toFixed(1)} s (${exit.reason})`);
  m = undefined;
} finally {
  await m?.kill();
  rmSync(work, { recursive: true, force: true });
}
