/**
 * The timed accelerator probe: QEMU runs a 64 KiB firmware of hand-assembled x86 code under
 * one accelerator. The code writes `S` to the serial port, runs a loop that computes a
 * 16-bit checksum (a multiply, a store to RAM, a load, a rotate per step and an I/O port
 * write per 32 Ki steps), writes the checksum in hex and exits QEMU through `isa-debug-exit`.
 * The host times the serial bytes: from `S` to the checksum is how fast this accelerator
 * runs guest code, free of QEMU's start and exit. The checksum must match the one computed
 * here, so a result proves the guest really ran the loop.
 *
 * TCG gets 2 Mi steps (tens of ms, well above a busy host's scheduling noise), KVM 64 Ki
 * (hardware KVM needs well under a millisecond; KVM-PVM, which emulates real-mode code,
 * about 1.5 s here); results are compared per step.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Accel } from "../spec/types.ts";
import { which } from "../util/exec.ts";
import type { AccelProbeResult } from "./types.ts";

/** Port `isa-debug-exit` listens on; writing v makes QEMU exit with status (v << 1) | 1. */
const DEBUG_EXIT_PORT = 0xf4;
const MAGIC = 0x2a;
const EXPECTED_STATUS = (MAGIC << 1) | 1; // 85
const SEED = 0x1234;
const INNER = 0x8000;

/** Options for {@link probeAccel}. */
export interface ProbeOptions {
  /** qemu-system binary. @default "qemu-system-x86_64" */
  readonly qemu?: string;
  /**
   * How long the guest gets, from its first serial byte, to report the checksum, in ms.
   * TCG needs a few ms, hardware KVM less; KVM-PVM emulates this real-mode code and needs
   * seconds. @default 3000
   */
  readonly timeout?: number;
  /** How long QEMU gets to start and reach the first guest instruction (a loaded host is slow). @default 10000 */
  readonly startTimeout?: number;
  /**
   * `checksum` runs the loop; `spin` writes `S` and loops forever (`jmp $`), so the timeout
   * path can be exercised with a real QEMU. @default "checksum"
   */
  readonly payload?: "checksum" | "spin";
  /** Loop steps, in multiples of 32 Ki (1..65535). @default 64 for tcg (2 Mi steps), 2 for kvm (64 Ki steps) */
  readonly rounds?: number;
}

const lo = (v: number) => v & 0xff;
const hi = (v: number) => (v >> 8) & 0xff;

/**
 * The probe firmware: 16-bit real-mode code at offset 0 and a `jmp` to it at the reset
 * vector (0xFFF0). Real mode needs no descriptor tables, and every accelerator starts there.
 *
 * @example
 * ```ts
 * const rom = probeFirmware("checksum", 2); // 65536 bytes for QEMU's -bios
 * ```
 */
export function probeFirmware(payload: "checksum" | "spin" = "checksum", rounds = 2): Uint8Array {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 0xffff)
    throw new RangeError(`rounds must be 1..65535, not ${rounds}`);
  const c: number[] = [];
  const rel8 = (target: number) => lo(target - (c.length + 2)); // relative to the end of a 2-byte jump
  c.push(0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0); // cli; xor ax,ax; mov ds,ax; mov es,ax
  c.push(0xba, 0xf8, 0x03, 0xb0, 0x53, 0xee); //       mov dx,0x3f8; mov al,'S'; out dx,al
  if (payload === "spin") {
    c.push(0xeb, 0xfe); //                              jmp $
  } else {
    c.push(0xb8, lo(SEED), hi(SEED), 0x31, 0xdb); //    mov ax,SEED; xor bx,bx
    c.push(0xba, lo(rounds), hi(rounds)); //            mov dx,rounds
    const outer = c.length;
    c.push(0xb9, lo(INNER), hi(INNER), 0x31, 0xff); //  mov cx,INNER; xor di,di
    const inner = c.length;
    c.push(0x69, 0xc0, 0x55, 0x62); //                  imul ax,ax,25173
    c.push(0x05, 0x19, 0x36); //                        add ax,13849
    c.push(0x89, 0x05, 0x03, 0x1d); //                  mov [di],ax; add bx,[di]
    c.push(0xd1, 0xc3, 0x83, 0xc7, 0x02); //            rol bx,1; add di,2
    c.push(0xe2, rel8(inner)); //                       loop inner
    c.push(0xe6, 0x80, 0x4a); //                        out 0x80,al; dec dx
    c.push(0x75, rel8(outer)); //                       jnz outer
    c.push(0xb9, 0x04, 0x00); //                        mov cx,4
    const digit = c.length;
    c.push(0xc1, 0xc3, 0x04, 0x88, 0xd8, 0x24, 0x0f); // rol bx,4; mov al,bl; and al,0xf
    c.push(0x04, 0x30, 0x3c, 0x39, 0x76, 0x02, 0x04, 0x07); // add al,'0'; cmp al,'9'; jbe +2; add al,7
    c.push(0xba, 0xf8, 0x03, 0xee); //                  mov dx,0x3f8; out dx,al
    c.push(0xe2, rel8(digit)); //                       loop digit
    c.push(0xb0, 0x0a, 0xee); //                        mov al,'\n'; out dx,al
    c.push(0xb0, MAGIC, 0xe6, DEBUG_EXIT_PORT); //      mov al,MAGIC; out 0xf4,al
    c.push(0xf4, 0xeb, 0xfd); //                        hlt; jmp hlt
  }
  const image = new Uint8Array(64 * 1024); // QEMU's pc machine wants a multiple of 64 KiB
  image.set(c, 0);
  const back = (0 - (0xfff0 + 3)) & 0xffff;
  image.set([0xe9, lo(back), hi(back)], 0xfff0); // reset vector: jmp near 0 (same segment)
  return image;
}

/**
 * The checksum the firmware must print for `rounds`, computed the same way on the host.
 *
 * @example
 * ```ts
 * probeChecksum(2); // "909D": what the guest must print after 2 x 32 Ki steps
 * ```
 */
export function probeChecksum(rounds = 2): string {
  let ax = SEED;
  let bx = 0;
  for (let i = 0; i < rounds * INNER; i++) {
    ax = (Math.imul(ax, 25173) + 13849) & 0xffff;
    bx = (bx + ax) & 0xffff;
    bx = ((bx << 1) | (bx >> 15)) & 0xffff;
  }
  return bx.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Runs the probe firmware under `accel` and times it. Never throws for a probe outcome;
 * the result says what happened (`ran`, `timedOut`, `error`).
 *
 * @example
 * ```ts
 * const r = await probeAccel("tcg");
 * r.ran;   // true: TCG ran the loop and printed the right checksum
 * r.runMs; // e.g. 4.2: ms from the guest's first serial byte to its checksum
 * ```
 */
export async function probeAccel(accel: Accel, options: ProbeOptions = {}): Promise<AccelProbeResult> {
  const qemu = options.qemu ?? "qemu-system-x86_64";
  const rounds = options.rounds ?? (accel === "tcg" ? 64 : 2);
  const payload = options.payload ?? "checksum";
  const dir = await mkdtemp(join(tmpdir(), "qemukit-probe-"));
  const started = performance.now();
  try {
    const firmware = join(dir, "probe.rom");
    await writeFile(firmware, probeFirmware(payload, rounds));
    // biome-ignore format: flag and value pairs read best together
    const qemuArgv = [
      qemu, "-nodefaults", "-display", "none", "-no-reboot", "-m", "16", "-machine", "pc",
      "-accel", accel, ...(accel === "kvm" ? ["-cpu", "qemu64"] : []), "-bios", firmware,
      "-device", `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x04`,
      "-serial", "stdio", "-monitor", "none",
    ];
    // A probe must not outlive a crashed caller: tie QEMU to our life where possible.
    const setpriv = await which("setpriv");
    const argv = setpriv ? [setpriv, "--pdeathsig", "SIGKILL", ...qemuArgv] : qemuArgv;
    return await runProbe(accel, argv, {
      startTimeout: options.startTimeout ?? 10_000,
      runTimeout: options.timeout ?? 3000,
      expected: payload === "checksum" ? probeChecksum(rounds) : undefined,
      steps: rounds * INNER,
      started,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface RunPlan {
  readonly startTimeout: number;
  readonly runTimeout: number;
  readonly expected: string | undefined;
  readonly steps: number;
  readonly started: number;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

function runProbe(accel: Accel, argv: string[], plan: RunPlan): Promise<AccelProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    let spawnError: string | undefined;
    let timedOut: "start" | "run" | undefined;
    let ranAt: number | undefined;
    let doneAt: number | undefined;
    // Two clocks: starting QEMU may be slow on a busy host and says nothing about the
    // accelerator; the guest's run, from its first byte, is what is measured and bounded.
    const giveUp = (phase: "start" | "run") => () => {
      timedOut = phase;
      child.kill("SIGKILL");
    };
    let timer = setTimeout(giveUp("start"), plan.startTimeout);
    child.stdout.on("data", (b: Buffer) => {
      const now = performance.now();
      out += b.toString("latin1");
      if (ranAt === undefined && out.includes("S")) {
        ranAt = now;
        clearTimeout(timer);
        timer = setTimeout(giveUp("run"), plan.runTimeout);
      }
      if (doneAt === undefined && /S[0-9A-F]{4}\n/.test(out)) doneAt = now;
    });
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("error", (e) => (spawnError = e.message));
    child.on("close", (code) => {
      clearTimeout(timer);
      const answer = /S([0-9A-F]{4})\n/.exec(out)?.[1];
      const ran = !timedOut && code === EXPECTED_STATUS && answer !== undefined && answer === plan.expected;
      const complaint = stderr
        .trim()
        .split("\n")
        .filter((l) => l && !/warning: host doesn't support/.test(l))
        .join("; ");
      let error = spawnError;
      if (!error && !ran && !timedOut) {
        error =
          answer !== undefined && answer !== plan.expected
            ? `the guest computed ${answer}, expected ${plan.expected}: the accelerator ran the code wrongly`
            : complaint || `QEMU exited with status ${code} before the guest reported`;
      }
      const end = doneAt ?? performance.now();
      resolve({
        accel,
        ran,
        timedOut: timedOut !== undefined,
        ...(timedOut ? { timedOutIn: timedOut } : {}),
        ms: Math.round(performance.now() - plan.started),
        ...(ranAt !== undefined ? { runMs: round1(end - ranAt) } : {}),
        steps: plan.steps,
        ...(answer !== undefined ? { checksum: answer } : {}),
        ...(child.pid ? { pid: child.pid } : {}),
        ...(error ? { error } : {}),
      });
    });
  });
}
