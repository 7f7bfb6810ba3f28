/**
 * The guest's serial console as an expect-style object: a rolling buffer of output
 * received since the last match, `waitFor(pattern)`, `send(text)`, `run(cmd)` with exit
 * status, and a transcript (in memory and in `console.log` in the run directory).
 * @module
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import type { Duplex } from "node:stream";
import { TimeoutError } from "../errors/errors.ts";
import { VmError } from "./errors.ts";

/** Options of {@link Console.waitFor}. */
export interface ConsoleWaitOptions {
  /** Milliseconds before rejecting with a TimeoutError. @default 30000 */
  readonly timeout?: number;
}

/** Options of {@link Console.run}. */
export interface ConsoleRunOptions {
  /** Milliseconds for the whole command. @default 30000 */
  readonly timeout?: number;
}

/** What {@link Console.waitFor} found. */
export interface ConsoleMatch {
  /** The match itself (groups included). */
  readonly match: RegExpExecArray;
  /** Output received before the match (since the previous match). */
  readonly before: string;
}

/** Result of {@link Console.run}. */
export interface ConsoleRunResult {
  /** What the command printed (stdout and stderr, `\r\n` turned into `\n`). */
  readonly output: string;
  /** The shell's `$?` after the command. */
  readonly exitCode: number;
}

/** Output kept for matching; older text is dropped (a match can't span more). */
const MAX_PENDING = 1 << 20;
/** In-memory transcript cap; the log file keeps everything. */
const MAX_TRANSCRIPT = 8 << 20;
const DEFAULT_TIMEOUT = 30_000;

let markerCounter = 0;

function toRegExp(pattern: string | RegExp): RegExp {
  if (typeof pattern === "string") return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  // g/y would make exec() stateful (lastIndex); matching always starts at the buffer's start.
  return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
}

interface Waiter {
  readonly re: RegExp;
  readonly resolve: (m: ConsoleMatch) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A serial console connection.
 *
 * @example
 * ```ts
 * await vm.console.waitFor(/login:/, { timeout: 60_000 });
 * const { output, exitCode } = await vm.console.run("uname -r");
 * ```
 */
export class Console {
  #socket: Duplex;
  #decoder = new StringDecoder("utf8");
  #pending = "";
  #transcript = "";
  #log: WriteStream | undefined;
  #waiter: Waiter | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #listeners = new Set<(text: string) => void>();
  #closed = false;
  #closedReason = "the console connection closed";
  /** Resolves when the connection ends (VM exit, close()). */
  readonly closed: Promise<void>;

  /** Wraps an already-connected stream; `logFile` receives every byte of output. */
  constructor(socket: Duplex, options: { logFile?: string } = {}) {
    this.#socket = socket;
    if (options.logFile) {
      this.#log = createWriteStream(options.logFile, { flags: "a", mode: 0o600 });
      this.#log.on("error", () => { this.#log = undefined; });
    }
    socket.on("data", (chunk: Buffer) => this.#onText(this.#decoder.write(chunk)));
    this.closed = new Promise((resolve) => {
      const done = () => {
        if (this.#closed) return;
        this.#closed = true;
        this.#onText(this.#decoder.end());
        this.#waiter?.reject(new VmError("CONSOLE_CLOSED", this.#closedReason, {
          advice: "the VM probably exited; check vm.exited and console.transcript",
        }));
        this.#waiter = undefined;
        this.#log?.end();
        resolve();
      };
      socket.on("close", done);
      socket.on("end", done);
      socket.on("error", done);
    });
  }

  /**
   * Connects to a console unix socket, retrying while it does not exist yet.
   *
   * @example
   * ```ts
   * const c = await Console.connect("/tmp/qemukit-0/vm-1/console.sock", { logFile: "/tmp/c.log" });
   * ```
   */
  static async connect(path: string, options: { logFile?: string; retryUntil?: number } = {}): Promise<Console> {
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = netConnect(path);
          s.once("connect", () => { s.off("error", reject); resolve(s); });
          s.once("error", reject);
        });
        return new Console(socket, options);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const retry = (code === "ENOENT" || code === "ECONNREFUSED") && Date.now() < (options.retryUntil ?? 0);
        if (!retry) {
          throw new VmError("CONSOLE_CONNECT", `could not connect to the serial console at ${path}: ${(e as Error).message}`, {
            cause: e,
            advice: "another client may hold the console (one client at a time), or the VM is gone",
          });
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /** Everything received so far (the last 8 MiB; console.log in the run directory has all of it). */
  get transcript(): string {
    return this.#transcript;
  }

  /** Output received since the last match, not yet consumed by waitFor(). */
  get pending(): string {
    return this.#pending;
  }

  /** True once the connection ended. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Calls `listener` with each piece of output as it arrives; returns an unsubscribe function. */
  onData(listener: (text: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Waits until `pattern` appears in the output received since the last match (output
   * that arrived before this call counts), then consumes the buffer up to the match's end.
   * Calls are served one after another, in call order.
   *
   * @example
   * ```ts
   * const { match } = await vm.console.waitFor(/Linux version (\S+)/, { timeout: 60_000 });
   * ```
   */
  waitFor(pattern: string | RegExp, options: ConsoleWaitOptions = {}): Promise<ConsoleMatch> {
    return this.#exclusive(() => this.#waitForUnlocked(toRegExp(pattern), options.timeout ?? DEFAULT_TIMEOUT, String(pattern)));
  }

  /**
   * Sends text to the guest as if typed (no newline is added).
   *
   * @example
   * ```ts
   * vm.console.send("root\n");
   * ```
   */
  send(text: string): void {
    if (this.#closed) throw new VmError("CONSOLE_CLOSED", this.#closedReason, { advice: "the VM probably exited; check vm.exited" });
    this.#socket.write(text);
  }

  /**
   * Runs a one-line shell command at a shell prompt and returns its output and exit
   * status. Works with busybox sh and bash: the command is wrapped between two unique
   * markers, the second one carrying `$?`.
   *
   * @example
   * ```ts
   * const { output, exitCode } = await vm.console.run("cat /proc/cpuinfo | grep -c processor");
   * ```
   */
  run(command: string, options: ConsoleRunOptions = {}): Promise<ConsoleRunResult> {
    return this.#exclusive(async () => {
      const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
      const id = `${process.pid.toString(36)}${(++markerCounter).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      // The typed line is echoed back; `""` inside the marker keeps the echo from matching.
      // One line: typed-ahead lines would be echoed by the tty in the middle of the output.
      this.send(`echo QK""${id}B; ${command}; echo QK""${id}E:$?\n`);
      const left = () => Math.max(1, deadline - Date.now());
      await this.#waitForUnlocked(new RegExp(`QK${id}B\\r?\\n`), left(), `the start of "${command}"`);
      const end = await this.#waitForUnlocked(new RegExp(`QK${id}E:(\\d+)\\r?\\n`), left(), `the end of "${command}"`);
      return { output: end.before.replace(/\r\n/g, "\n").replace(/\r/g, ""), exitCode: Number(end.match[1]) };
    });
  }

  /** Closes the connection (the VM keeps running). Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closedReason = "the console was closed";
      this.#socket.destroy();
    }
    await this.closed;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #waitForUnlocked(re: RegExp, timeout: number, what: string): Promise<ConsoleMatch> {
    const found = this.#consume(re);
    if (found) return Promise.resolve(found);
    if (this.#closed) {
      return Promise.reject(new VmError("CONSOLE_CLOSED", `${this.#closedReason} before ${what} appeared`, {
        details: { pending: this.#pending.slice(-2000) },
      }));
    }
    return new Promise<ConsoleMatch>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new TimeoutError(`console output matching ${what}`, timeout, {
          details: { pending: this.#pending.slice(-2000) },
        }));
      }, timeout);
      this.#waiter = {
        re,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  #consume(re: RegExp): ConsoleMatch | undefined {
    const m = re.exec(this.#pending);
    if (!m) return undefined;
    const before = this.#pending.slice(0, m.index);
    this.#pending = this.#pending.slice(m.index + m[0].length);
    return { match: m, before };
  }

  #onText(text: string): void {
    if (!text) return;
    this.#log?.write(text);
    this.#transcript += text;
    if (this.#transcript.length > MAX_TRANSCRIPT) this.#transcript = this.#transcript.slice(-MAX_TRANSCRIPT / 2);
    this.#pending += text;
    if (this.#pending.length > MAX_PENDING) this.#pending = this.#pending.slice(-MAX_PENDING / 2);
    for (const l of this.#listeners) l(text);
    const w = this.#waiter;
    if (w) {
      const found = this.#consume(w.re);
      if (found) {
        this.#waiter = undefined;
        w.resolve(found);
      }
    }
  }
}
