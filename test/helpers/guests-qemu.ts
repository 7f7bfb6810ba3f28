/**
 * A bare QEMU runner for the guests tests: spawns qemu-system-x86_64 under TCG with
 * the serial console on a pipe, waits for text, types commands, always kills what it
 * started. Kept independent of sdk/machine so these tests check the guests alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";

export interface SerialVm {
  readonly proc: ChildProcess;
  /** Everything the serial console printed so far. */
  output(): string;
  /** Waits until `re` matches the output printed after `from` (an index into output()). */
  waitFor(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  /** Types a line; returns the output index before it, for waitFor. */
  send(line: string): number;
  /** Types `cmd`, waits for the prompt, returns what came in between. */
  run(cmd: string, prompt: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code when QEMU exits. */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Starts QEMU (TCG, no display, serial on stdio, no monitor unless given in args). */
export function startSerialVm(args: readonly string[]): SerialVm {
  const proc = spawn(
    "qemu-system-x86_64",
    ["-accel", "tcg", "-display", "none", "-serial", "stdio", "-no-reboot", ...args],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  live.add(proc);
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString("latin1");
    for (const w of waiters) w();
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) =>
    proc.on("exit", (code) => {
      live.delete(proc);
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const vm: SerialVm = {
    proc,
    output: () => out,
    waitFor(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out.slice(from));
          if (m) {
            done();
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`QEMU exited before ${re} appeared; output:\n${out.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${re} did not appear within ${timeoutMs} ms; output:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    send(line) {
      const at = out.length;
      proc.stdin!.write(line + "\n");
      return at;
    },
    async run(cmd, prompt, timeoutMs = 60_000) {
      const marker = `__qk${Math.floor(Math.random() * 1e9)}__`;
      const at = vm.send(`${cmd}; echo ${marker}`);
      await vm.waitFor(new RegExp(`\\n${marker}`), timeoutMs, at);
      await vm.waitFor(prompt, timeoutMs, at);
      const text = out.slice(at);
      const start = text.indexOf("\n") + 1;
      return text.slice(start, text.indexOf(`\n${marker}`, start - 1) + 1).replace(/\r/g, "");
    },
    exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGKILL");
        await once(proc, "exit").catch(() => {});
      }
    },
  };
  return vm;
}

/** Kills every QEMU this helper started and that is still running (afterEach/afterAll). */
export async function killAllSerialVms(): Promise<void> {
  await Promise.all(
    [...live].map(async (p) => {
      p.kill("SIGKILL");
      if (p.exitCode === null && p.signalCode === null) await once(p, "exit").catch(() => {});
    }),
  );
}

/** One QMP command over a unix socket (greeting, capabilities, command); returns the reply. */
export async function qmpOnce(socketPath: string, command: string, args?: Record<string, unknown>): Promise<unknown> {
  const sock = connect(socketPath);
  await once(sock, "connect");
  let buf = "";
  const lines: unknown[] = [];
  const waiters: (() => void)[] = [];
  sock.on("data", (b) => {
    buf += b.toString("utf8");
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) lines.push(JSON.parse(line));
      for (const w of waiters.splice(0)) w();
    }
  });
  const next = async (pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    for (;;) {
      const idx = lines.findIndex((m) => pred(m as Record<string, unknown>));
      if (idx >= 0) return lines.splice(idx, 1)[0] as Record<string, unknown>;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  try {
    await next((m) => "QMP" in m);
    sock.write(JSON.stringify({ execute: "qmp_capabilities", id: 1 }) + "\n");
    await next((m) => m.id === 1);
    sock.write(JSON.stringify({ execute: command, arguments: args ?? {}, id: 2 }) + "\n");
    const reply = await next((m) => m.id === 2);
    if ("error" in reply) throw new Error(`QMP ${command}: ${JSON.stringify(reply.error)}`);
    return reply.return;
  } finally {
    sock.destroy();
  }
}
