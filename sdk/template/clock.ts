/**
 * Putting a clone's clock right without starting a process in it.
 *
 * A restored guest's clock resumes at the moment the template was saved. Typing `date -s`
 * at the console fixes that, but under TCG the clone's first fork+exec is slow (measured
 * on the tiny guest: 0.25-0.33 s, against 0.05 s for the same command a second time): the
 * translated code is not part of the saved state, so the kernel's fork and exec paths, the
 * loader and the program are all translated afresh. Busybox's `date` runs without exec but
 * still forks (0.15-0.21 s); a resident Perl that calls clock_settime costs 0.2-0.3 s in
 * the Debian guest (the interpreter's own code is translated afresh too).
 *
 * So, while the template is made, qemukit leaves a helper waiting in the guest: a
 * 313-byte static x86-64 Linux program (165 bytes of code), written with the shell's
 * `printf` builtin, that reads milliseconds since the epoch from a fifo, calls
 * clock_settime and prints `qemukit-clock ok` on the console. A clone's shell writes the
 * host's time into the fifo with `echo`, a builtin: nothing forks, and the round trip cost
 * 0.05-0.13 s on a loaded machine, most of it the shell reading the typed line, which the
 * clone's first command would pay for anyway. A guest where the helper cannot run (another
 * OS, `/run` not executable) is found out when the template is made, and its clones type
 * `date -s` instead.
 *
 * The answer goes to the console, not back through a second fifo read with the shell's
 * `read -t`: with a template minutes old, that `read` once returned only the answer's
 * first byte, as if timed out (a timeout kept on the wall clock the helper just moved).
 * @module
 */
import type { RunningVm } from "../machine/running-vm.ts";
import { TemplateError } from "./errors.ts";

/** Bumped when the helper or how it is installed changes: it is part of the template key. */
export const CLOCK_HELPER_VERSION = 2;

/** The helper in the guest; it reads the fifo `/run/qkc`. */
export const CLOCK_HELPER_PATH = "/run/qemukit-clock";
// A short name: every character a clone types costs a trip through readline and the UART.
const IN = "/run/qkc";

/**
 * The helper's code, position-independent (assembled with GNU as, listed by objdump).
 * Its stdin is the fifo, opened read-write by the shell that starts it, so it never reaches
 * end-of-file; its stdout is that shell's terminal, the serial console.
 */
const CODE: readonly (readonly [string, string])[] = [
  ["48 83 ec 40", "sub rsp, 64             ; [rsp] timespec, [rsp+16] line buffer"],
  ["31 c0", "next: xor eax, eax     ; read(0, buf, 47)"],
  ["31 ff", "xor edi, edi"],
  ["48 8d 74 24 10", "lea rsi, [rsp+16]"],
  ["ba 2f 00 00 00", "mov edx, 47"],
  ["0f 05", "syscall"],
  ["48 85 c0", "test rax, rax"],
  ["7e 7d", "jle quit                 ; end of input or error: exit"],
  ["48 8d 74 24 10", "lea rsi, [rsp+16]"],
  ["c6 04 06 00", "mov byte [rsi+rax], 0  ; terminate what was read"],
  ["31 c0", "xor eax, eax             ; rax = the decimal number at the start of the line"],
  ["0f b6 0e", "digit: movzx ecx, byte [rsi]"],
  ["83 e9 30", "sub ecx, '0'"],
  ["83 f9 09", "cmp ecx, 9"],
  ["77 0c", "ja parsed"],
  ["48 6b c0 0a", "imul rax, rax, 10"],
  ["48 01 c8", "add rax, rcx"],
  ["48 ff c6", "inc rsi"],
  ["eb e9", "jmp digit"],
  ["48 8d 7c 24 10", "parsed: lea rdi, [rsp+16]"],
  ["48 39 fe", "cmp rsi, rdi"],
  ["74 34", "je refuse                ; no digits: never set the clock to 1970"],
  ["31 d2", "xor edx, edx             ; seconds, nanoseconds = ms / 1000, ms % 1000 * 1e6"],
  ["b9 e8 03 00 00", "mov ecx, 1000"],
  ["48 f7 f1", "div rcx"],
  ["48 69 d2 40 42 0f 00", "imul rdx, rdx, 1000000"],
  ["48 89 04 24", "mov [rsp], rax"],
  ["48 89 54 24 08", "mov [rsp+8], rdx"],
  ["b8 e3 00 00 00", "mov eax, 227             ; clock_settime(CLOCK_REALTIME, rsp)"],
  ["31 ff", "xor edi, edi"],
  ["48 89 e6", "mov rsi, rsp"],
  ["0f 05", "syscall"],
  ["48 85 c0", "test rax, rax"],
  ["75 09", "jnz refuse"],
  ["48 8d 35 28 00 00 00", "lea rsi, [rip+ok]"],
  ["eb 07", "jmp answer"],
  ["48 8d 35 30 00 00 00", "refuse: lea rsi, [rip+no]"],
  ["b8 01 00 00 00", "answer: mov eax, 1      ; write(1, rsi, 17)"],
  ["bf 01 00 00 00", "mov edi, 1"],
  ["ba 11 00 00 00", "mov edx, 17"],
  ["0f 05", "syscall"],
  ["e9 6e ff ff ff", "jmp next"],
  ["b8 3c 00 00 00", "quit: mov eax, 60        ; exit(0)"],
  ["31 ff", "xor edi, edi"],
  ["0f 05", "syscall"],
  ["71 65 6d 75 6b 69 74 2d 63 6c 6f 63 6b 20 6f 6b 0a", 'ok: "qemukit-clock ok\\n"'],
  ["71 65 6d 75 6b 69 74 2d 63 6c 6f 63 6b 20 6e 6f 0a", 'no: "qemukit-clock no\\n"'],
];

/** Where the kernel maps the helper (one read+execute segment: the file itself). */
const LOAD_ADDRESS = 0x400000;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;

/** The helper as an ELF executable: a 64-byte header, one program header, the code. */
export function clockHelperElf(): Uint8Array {
  const code = CODE.flatMap(([hex]) => hex.split(" ").map((b) => Number.parseInt(b, 16)));
  const size = EHDR_SIZE + PHDR_SIZE + code.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little-endian, version 1, System V ABI
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true); // version
  v.setBigUint64(24, BigInt(LOAD_ADDRESS + EHDR_SIZE + PHDR_SIZE), true); // entry: the code's first byte
  v.setBigUint64(32, BigInt(EHDR_SIZE), true); // program headers right after this header
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, PHDR_SIZE, true);
  v.setUint16(56, 1, true); // one program header, no sections
  const ph = EHDR_SIZE;
  v.setUint32(ph, 1, true); // PT_LOAD
  v.setUint32(ph + 4, 5, true); // PF_R | PF_X
  v.setBigUint64(ph + 16, BigInt(LOAD_ADDRESS), true); // vaddr (offset 0: the whole file)
  v.setBigUint64(ph + 24, BigInt(LOAD_ADDRESS), true); // paddr
  v.setBigUint64(ph + 32, BigInt(size), true); // file size
  v.setBigUint64(ph + 40, BigInt(size), true); // memory size
  v.setBigUint64(ph + 48, 0x1000n, true); // alignment
  out.set(code, EHDR_SIZE + PHDR_SIZE);
  return out;
}

/**
 * The console line that writes the helper and starts it in the background. Every byte is
 * an octal escape in `printf`'s format (POSIX, so bash, dash and busybox sh agree); the
 * subshell keeps it out of the interactive shell's jobs.
 */
export function installClockHelperCommand(): string {
  const octal = Array.from(clockHelperElf(), (b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
  return [
    `printf '${octal}' >${CLOCK_HELPER_PATH}`,
    `chmod 700 ${CLOCK_HELPER_PATH}`,
    `rm -f ${IN}`,
    `mkfifo -m 600 ${IN}`,
    `(${CLOCK_HELPER_PATH} 0<>${IN} 2>/dev/null &)`,
  ].join(" && ");
}

/**
 * The console line a clone types: the time for the helper (`echo`, a builtin: no process
 * starts). `1<>` opens the fifo without blocking even if the helper were gone. Typed bare,
 * not through `console.run()`, whose markers would double the line's length.
 */
export function setClockCommand(ms: number): string {
  return `echo ${Math.round(ms)} 1<>${IN}\n`;
}

/** The helper's answer on the console (the typed line's echo holds no such text). */
const ANSWER = /qemukit-clock (ok|no)\r?\n/;

const CONSOLE_ADVICE =
  'the template needs a root shell on the serial console for clock: "console"; pass clock: "none" or your own function';

/**
 * Installs the helper in the VM a template is made from and checks it answers (setting
 * the guest's clock to the host's on the way). False when it cannot run there; the
 * clones then use {@link dateClock}.
 */
export async function installClockHelper(vm: RunningVm, timeout: number): Promise<boolean> {
  const r = await vm.console.run(installClockHelperCommand(), { timeout, nothrow: true });
  if (r.exitCode !== 0) return false;
  try {
    // A helper that did not start never answers: 20 s is plenty for one that did.
    return (await askHelper(vm, Math.min(timeout, 20_000))) === "ok";
  } catch {
    return false;
  }
}

/** Hands the host's time to the helper; resolves to its answer (`ok` or `no`). */
async function askHelper(vm: RunningVm, timeout: number, signal?: AbortSignal): Promise<string> {
  const opts = { timeout, ...(signal ? { signal } : {}) };
  const answer = vm.console.waitFor(ANSWER, opts);
  answer.catch(() => {}); // observed below, after the send
  // The time is taken at the last moment: the shell hands it over within milliseconds.
  await vm.console.send(setClockCommand(Date.now()), opts);
  return (await answer).match[1] ?? "";
}

/** Sets a clone's clock through the helper its template left waiting. */
export async function helperClock(vm: RunningVm, signal?: AbortSignal): Promise<void> {
  let answer: string;
  try {
    answer = await askHelper(vm, 60_000, signal);
  } catch (e) {
    throw new TemplateError(
      "TEMPLATE_CLOCK",
      `the clone's clock helper (${CLOCK_HELPER_PATH}) did not answer at the console: ${(e as Error).message}`,
      {
        cause: e,
        advice: `was the template's console at a shell prompt when it was saved, and does its guest still run ${CLOCK_HELPER_PATH} (did prepare kill it)? Start clones with clock: "none", or rebuild the template (rebuild: true)`,
      },
    );
  }
  if (answer !== "ok") {
    throw new TemplateError("TEMPLATE_CLOCK", "the guest refused to set its clock (clock_settime failed)", {
      advice:
        'the template\'s console shell must run as root for clock: "console"; or pass clock: "none" or your own function',
      details: { answer },
    });
  }
}

/**
 * Sets a clone's clock with `date -s @SECONDS` at the console's shell (one fork+exec). The
 * time typed is the host's when typing starts: when the command took long (the clone's
 * first exec, on a loaded host: a second and more), it runs once more, now quickly.
 */
export async function dateClock(vm: RunningVm, signal?: AbortSignal): Promise<void> {
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const typed = Date.now();
      // Generous: under load the first program a clone runs is slow (TCG translates it afresh).
      await vm.console.run(`date -s @${Math.round(typed / 1000)} >/dev/null`, {
        timeout: 60_000,
        ...(signal ? { signal } : {}),
      });
      if (Date.now() - typed < 500) break;
    }
  } catch (e) {
    throw new TemplateError(
      "TEMPLATE_CLOCK",
      `could not set the clone's clock at its console: ${(e as Error).message}`,
      {
        cause: e,
        advice: CONSOLE_ADVICE,
      },
    );
  }
}
