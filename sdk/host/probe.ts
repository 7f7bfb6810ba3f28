/**
 * The real accelerator probe: start QEMU with one accelerator and a 64 KiB firmware whose
 * reset vector writes to QEMU's `isa-debug-exit` port. If the vCPU executes guest code, QEMU
 * exits with a known status within milliseconds; if it does not (the KVM-PVM case, where
 * ordinary guest code never runs), the probe gives up after a short timeout instead of hanging.
 * QMP `query-kvm` is asked on the way, with {@link QmpClient} over QEMU's `-qmp stdio`.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { QmpClient } from "../qmp/client.ts";
import type { Accel } from "../spec/types.ts";
import { which } from "../util/exec.ts";
import type { AccelProbeResult } from "./types.ts";

/** Port the firmware writes to; `isa-debug-exit` turns value v into exit status (v << 1) | 1. */
const DEBUG_EXIT_PORT = 0xf4;
const MAGIC = 0x2a;
const EXPECTED_STATUS = (MAGIC << 1) | 1; // 85

/** Options for {@link probeAccel}. */
export interface ProbeOptions {
  /** qemu-system binary. @default "qemu-system-x86_64" */
  readonly qemu?: string;
  /**
   * How long the vCPU gets, from `cont`, to reach the exit port. KVM needs well under 10 ms,
   * TCG under 50 ms. @default 1000
   */
  readonly timeout?: number;
  /** How long QEMU gets to start and answer QMP (a loaded host is slow to start it). @default 10000 */
  readonly startTimeout?: number;
  /**
   * `exit` runs to the debug-exit port; `spin` loops forever (`jmp $`) and exists so the
   * timeout path can be exercised with a real QEMU. @default "exit"
   */
  readonly payload?: "exit" | "spin";
}

/** The firmware image: zeros, with real-mode code at the reset vector (0xFFFF0 → offset 0xFFF0). */
export function probeFirmware(payload: "exit" | "spin" = "exit"): Uint8Array {
  const image = new Uint8Array(64 * 1024); // QEMU's pc machine wants a multiple of 64 KiB
  const code = payload === "exit"
    ? [0xb0, MAGIC, 0xe6, DEBUG_EXIT_PORT, 0xf4, 0xeb, 0xfd] // mov al,42; out 0xf4,al; hlt; jmp hlt
    : [0xeb, 0xfe]; // jmp $
  image.set(code, 0xfff0);
  return image;
}

/**
 * Starts QEMU paused with `accel`, asks `query-kvm`, resumes, and waits (bounded) for the
 * firmware to reach the exit port. Never throws for a probe outcome; the result says what happened.
 *
 * @example
 * ```ts
 * const r = await probeAccel("tcg");
 * r.ran; // true: TCG executed guest code
 * ```
 */
export async function probeAccel(accel: Accel, options: ProbeOptions = {}): Promise<AccelProbeResult> {
  const qemu = options.qemu ?? "qemu-system-x86_64";
  const timeout = options.timeout ?? 1000;
  const startTimeout = options.startTimeout ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), "qemukit-probe-"));
  const started = Date.now();
  try {
    const firmware = join(dir, "probe.rom");
    await writeFile(firmware, probeFirmware(options.payload));
    const qemuArgv = [
      qemu, "-S", "-nodefaults", "-display", "none", "-no-reboot", "-m", "16",
      "-machine", "pc", "-accel", accel, "-bios", firmware,
      "-device", `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x04`,
      "-qmp", "stdio",
    ];
    // A paused probe must not outlive a crashed caller: tie QEMU to our life where possible.
    const setpriv = await which("setpriv");
    const argv = setpriv ? [setpriv, "--pdeathsig", "SIGKILL", ...qemuArgv] : qemuArgv;
    return await runProbe(accel, argv, startTimeout, timeout, started);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runProbe(
  accel: Accel,
  argv: string[],
  startTimeout: number,
  runTimeout: number,
  started: number,
): Promise<AccelProbeResult> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let spawnError: string | undefined;
  let timedOut = false;
  let resumedAt = 0;
  let queryKvm: AccelProbeResult["queryKvm"];
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  child.on("error", (e) => (spawnError = e.message));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  // Two clocks: starting QEMU may be slow on a busy host and says nothing about KVM; the
  // vCPU's run after `cont` is what a broken or paravirtual KVM never finishes.
  const giveUp = () => {
    timedOut = true;
    child.kill("SIGKILL");
  };
  let timer = setTimeout(giveUp, startTimeout);
  let qmp: QmpClient | undefined;
  try {
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
    qmp = await QmpClient.connect(stream, { timeout: startTimeout });
    const kvm = await qmp.execute("query-kvm");
    queryKvm = { enabled: kvm.enabled, present: kvm.present };
    clearTimeout(timer);
    timer = setTimeout(giveUp, runTimeout);
    resumedAt = Date.now();
    // QEMU may exit (the payload's point) before it answers `cont`; the exit status tells.
    await qmp.executeRaw("cont").catch(() => undefined);
  } catch {
    // QEMU refused to start (e.g. no /dev/kvm) or was killed: its exit status and stderr tell.
  }
  const code = await exited;
  clearTimeout(timer);
  await qmp?.close().catch(() => undefined);
  const ran = !timedOut && code === EXPECTED_STATUS;
  const complaint = stderr.trim().split("\n").filter(Boolean).join("; ");
  const error = spawnError ?? (ran || timedOut ? undefined : complaint || `QEMU exited with status ${code} before the payload ran`);
  return {
    accel,
    ran,
    ...(queryKvm ? { queryKvm } : {}),
    timedOut,
    ms: Date.now() - started,
    ...(resumedAt ? { runMs: Date.now() - resumedAt } : {}),
    ...(child.pid ? { pid: child.pid } : {}),
    ...(error ? { error } : {}),
  };
}
