/**
 * Shared fixtures for the machine tests: a private short run root per test file, plain
 * specs without a guest (QEMU alone) and with the tiny guest, and process checks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_SPEC } from "../../sdk/spec/defaults.ts";
import type { VmSpec } from "../../sdk/spec/types.ts";
import { isAlive } from "../../sdk/machine/proc.ts";

/** Makes a short private run root (`/tmp/qkt-XXXXXX`) and points QEMUKIT_RUN_DIR at it. */
export function useTempRunRoot(): { root: string; cleanup: () => void } {
  const root = mkdtempSync("/tmp/qkt-");
  process.env.QEMUKIT_RUN_DIR = root;
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A QEMU-only VM (no guest, no disks, no network): starts in ~0.1 s under TCG. */
export function bareSpec(overrides: Partial<VmSpec> = {}): VmSpec {
  return { ...DEFAULT_SPEC, accel: "tcg", memoryMiB: 64, network: { kind: "none" }, ...overrides };
}

/** The tiny guest booted from kernel + initrd, TCG, 256 MiB. */
export async function tinySpec(overrides: Partial<VmSpec> = {}): Promise<{ spec: VmSpec; prompt: RegExp }> {
  const { guests } = await import("../../sdk/guests/mod.ts");
  const g = await guests.tiny();
  return {
    prompt: g.prompt,
    spec: {
      ...DEFAULT_SPEC,
      accel: "tcg",
      memoryMiB: 256,
      network: { kind: "none" },
      kernel: { kernel: g.kernel, initrd: g.initrd, append: g.append },
      ...overrides,
    },
  };
}

/** Polls until `pid` is gone (or a zombie); false after `ms`. */
export async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return !isAlive(pid);
}

/** Path of a helper script next to this file. */
export function helperScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/**
 * Runs a helper script with tsx; resolves with the first stdout line that parses as JSON
 * (the script's report) while the script keeps running.
 */
export function runChildScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  report: Promise<Record<string, unknown>>;
  stderr: () => string;
} {
  // node --import tsx, not the tsx wrapper: signals must reach the script's own process.
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", helperScript(script), ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const report = new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`child ${script} exited (${code ?? signal}) before reporting: ${err}`)),
    );
  });
  return { child, report, stderr: () => err };
}
