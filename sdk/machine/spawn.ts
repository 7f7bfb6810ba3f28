/**
 * Spawning QEMU: an argv array, never a shell; wrapped in `setpriv --pdeathsig SIGKILL`
 * so QEMU dies with the Node process even when that is SIGKILLed.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { withParentDeathSignal } from "../util/pdeathsig.ts";
import { debianPackageOf } from "../util/programs.ts";

/** Where QEMU's own stdout/stderr go, besides the in-memory tail used for error messages. */
export type QemuStdio = "log" | "inherit" | "ignore";

/** A spawned QEMU (or, when daemonizing, QEMU's short-lived parent). */
export interface SpawnedQemu {
  readonly child: ChildProcess;
  /** Last 64 KiB of QEMU's stderr and stdout, for error messages. */
  output(): string;
  /** Resolves on the child's exit with code and signal. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const TAIL = 64 << 10;

/**
 * Spawns `argv`. The parent-death signal is tied to the spawning thread, so this must run
 * on the main thread (not a worker_thread). `logFile` receives stdout+stderr when stdio is "log";
 * `fd3` is handed to QEMU as its file descriptor 3.
 */
export async function spawnQemu(
  argv: readonly string[],
  options: { stdio?: QemuStdio; logFile?: string; fd3?: number } = {},
): Promise<SpawnedQemu> {
  const guarded = await withParentDeathSignal(argv, debianPackageOf(argv[0]!));
  const stdio = options.stdio ?? "log";
  // Opened now, not by a stream later: a pending asynchronous open would re-create the file
  // in a run directory that is being removed (a signal during start).
  let logFd: number | undefined;
  if (stdio === "log" && options.logFile) {
    try {
      logFd = openSync(options.logFile, "a", 0o600);
    } catch {
      /* no log file; the in-memory tail still serves error messages */
    }
  }
  const child = spawn(guarded[0]!, guarded.slice(1), {
    // fd 3, when given, is an open file QEMU reads as `-incoming fd:3` (a saved state).
    stdio: [
      "ignore",
      stdio === "inherit" ? "inherit" : "pipe",
      stdio === "inherit" ? "inherit" : "pipe",
      ...(options.fd3 !== undefined ? [options.fd3] : []),
    ],
  });
  let tail = "";
  let log: WriteStream | undefined;
  if (logFd !== undefined) {
    log = createWriteStream("", { fd: logFd });
    log.on("error", () => {
      log = undefined;
    });
  }
  const collect = (b: Buffer) => {
    tail = (tail + b.toString("utf8")).slice(-TAIL);
    log?.write(b);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'exit' fires as soon as the process is reaped; 'close' waits for the pipes, which a
    // daemonized grandchild may still hold. 'exit' keeps `exited` fast.
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  void exit.then(() => setTimeout(() => log?.end(), 50));
  return { child, output: () => tail, exit };
}
