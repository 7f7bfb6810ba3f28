/**
 * Starts a throwaway QEMU with a QMP socket for the qmp tests and benchmark, and makes sure
 * it is gone afterwards (only the process started here is killed).
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running QEMU started for a test. */
export interface TestQemu {
  readonly socket: string;
  readonly dir: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when QEMU exits. */
  readonly exited: Promise<number | string>;
  /** Kills QEMU (SIGKILL if SIGTERM is not enough) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Spawns `qemu-system-x86_64` under TCG with a QMP unix socket. `machine: "none"` is the
 * cheapest; `"pc"` gives a paused PC with a VGA for STOP/RESUME/SHUTDOWN/screendump.
 */
export function startTestQemu(options: { machine?: "none" | "pc"; extraArgs?: readonly string[] } = {}): TestQemu {
  const dir = mkdtempSync(join(tmpdir(), "qk-qmp-"));
  const socket = join(dir, "qmp.sock");
  const machineArgs =
    options.machine === "pc"
      ? ["-machine", "pc", "-accel", "tcg", "-m", "64", "-vga", "std"]
      : ["-machine", "none", "-accel", "tcg"];
  const argv = [
    "--pdeathsig",
    "SIGKILL",
    "qemu-system-x86_64",
    ...machineArgs,
    "-nodefaults",
    "-display",
    "none",
    "-S",
    "-qmp",
    `unix:${socket},server=on,wait=off`,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn("setpriv", argv, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  void exited.then((code) => {
    if (code !== 0 && code !== "SIGTERM" && code !== "SIGKILL" && stderr) process.stderr.write(`qemu: ${stderr}`);
  });
  return { socket, dir, pid: child.pid!, child, exited, stop };
}
