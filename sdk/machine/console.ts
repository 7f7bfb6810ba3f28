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
import { AbortError, TimeoutError } from "../errors/errors.ts";
import { onAbort } from "../util/abort.ts";
import { GuestCommandError, VmError } from "./errors.ts";

/** Options of {@link Console.waitFor}. */
export interface ConsoleWaitOptions {
  /** Milliseconds before rejecting with a TimeoutError. @default 30000 */
  readonly timeout?: number;
  /** Reject with an AbortError when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Console.send}. */
export interface ConsoleSendOptions {
  /** Milliseconds for the text to be handed to QEMU's socket. @default 30000 */
  readonly timeout?: number;
  /** Reject with an AbortError when this signal aborts first. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Console.run}. */
export interface ConsoleRunOptions {
  /** Milliseconds for the whole command; then it is interrupted (Ctrl-C) and a TimeoutError thrown. @default 30000 */
  readonly timeout?: number;
  /** Interrupt the command (Ctrl-C) and reject with an AbortError when this signal aborts. */
  readonly signal?: AbortSignal;
  /** Resolve with a non-zero exit status instead of rejecting with a GuestCommandError. @default false */
  readonly nothrow?: boolean;
  /**
   * Called with the command's output as it arrives, a line or more at a time (`\r` dropped,
   * as in the result), before `run()` resolves with all of it.
   */
  readonly onOutput?: (text: string) => void;
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

/** Time a shell gets to show it is back at its prompt after Ctrl-C, in ms. */
const INTERRUPT_TIMEOUT = 10_000;

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

function abortError(what: string, signal: AbortSignal | undefined): AbortError {
  return new AbortError(what, { cause: signal?.reason });
}

/**
 * The VM's hook to stop the console's waits while the guest cannot run (QEMU stopped it on a
 * host I/O error): `console[HALT](error)` fails the current and every queued or later
 * `run()`/`waitFor()` with `error`; `console[HALT](undefined)` lets them wait again. A symbol,
 * so it is no part of what scripts see.
 */
export const HALT: unique symbol = Symbol("qemukit.console.halt");

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
  #halted: Error | undefined;
  /** Resolves when the connection ends (VM exit, close()). */
  readonly closed: Promise<void>;

  /** Wraps an already-connected stream; `logFile` receives every byte of output. */
  constructor(socket: Duplex, options: { logFile?: string } = {}) {
    this.#socket = socket;
    if (options.logFile) {
      this.#log = createWriteStream(options.logFile, { flags: "a", mode: 0o600 });
      this.#log.on("error", () => {
        this.#log = undefined;
      });
    }
    socket.on("data", (chunk: Buffer) => this.#onText(this.#decoder.write(chunk)));
    this.closed = new Promise((resolve) => {
      const done = () => {
        if (this.#closed) return;
        this.#closed = true;
        this.#onText(this.#decoder.end());
        this.#waiter?.reject(
          new VmError("CONSOLE_CLOSED", this.#closedReason, {
            advice: "the VM probably exited; check vm.exited and console.transcript",
          }),
        );
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
          s.once("connect", () => {
            s.off("error", reject);
            resolve(s);
          });
          s.once("error", reject);
        });
        return new Console(socket, options);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const retry = (code === "ENOENT" || code === "ECONNREFUSED") && Date.now() < (options.retryUntil ?? 0);
        if (!retry) {
          throw new VmError(
            "CONSOLE_CONNECT",
            `could not connect to the serial console at ${path}: ${(e as Error).message}`,
            {
              cause: e,
              advice: "another client may hold the console (one client at a time), or the VM is gone",
            },
          );
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
   * @throws {TimeoutError} after `options.timeout` ms (default 30000).
   * @throws {AbortError} when `options.signal` aborts (also while queued behind another call).
   * @throws {VmError} `CONSOLE_CLOSED` when the connection ends first.
   */
  waitFor(pattern: string | RegExp, options: ConsoleWaitOptions = {}): Promise<ConsoleMatch> {
    const what = `console.waitFor(${String(pattern)})`;
    return this.#exclusive(
      () =>
        this.#waitForUnlocked(toRegExp(pattern), options.timeout ?? DEFAULT_TIMEOUT, String(pattern), options.signal),
      options.signal,
      what,
    );
  }

  /**
   * Sends text to the guest as if typed (no newline is added); resolves once QEMU's socket
   * has taken it. Not queued behind `run()`/`waitFor()`: use it to answer a prompt of a
   * running command.
   *
   * @example
   * ```ts
   * await vm.console.send("root\n");
   * ```
   * @throws {VmError} `CONSOLE_CLOSED` when the connection has ended.
   * @throws {TimeoutError} / {AbortError} when the socket does not take the text in time.
   */
  send(text: string, options: ConsoleSendOptions = {}): Promise<void> {
    if (this.#closed)
      return Promise.reject(
        new VmError("CONSOLE_CLOSED", this.#closedReason, { advice: "the VM probably exited; check vm.exited" }),
      );
    if (options.signal?.aborted) return Promise.reject(abortError("console.send()", options.signal));
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (e?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => finish(new TimeoutError("console.send() handing text to QEMU", timeout)), timeout);
      const off = onAbort(options.signal, () => finish(abortError("console.send()", options.signal)));
      this.#socket.write(text, (e) =>
        finish(e ? new VmError("CONSOLE_CLOSED", `${this.#closedReason}: ${e.message}`, { cause: e }) : undefined),
      );
    });
  }

  /**
   * Runs a one-line shell command at a shell prompt and returns its output and exit
   * status. Works with busybox sh and bash: the command is wrapped between two unique
   * markers, the second one carrying `$?`. A non-zero status rejects with a
   * {@link GuestCommandError} (carrying status and output) unless `nothrow` is set. On
   * timeout or abort the command is interrupted in the guest (Ctrl-C) and the console is
   * resynchronised with the shell's prompt, so the next `run()` works.
   *
   * @example
   * ```ts
   * const { output } = await vm.console.run("cat /proc/cpuinfo | grep -c processor");
   * const { exitCode } = await vm.console.run("test -e /etc/motd", { nothrow: true });
   * ```
   * @throws {GuestCommandError} `GUEST_COMMAND` on a non-zero exit status (unless `nothrow`).
   * @throws {TimeoutError} after `options.timeout` ms (default 30000), the command interrupted.
   * @throws {AbortError} when `options.signal` aborts, the command interrupted.
   */
  run(command: string, options: ConsoleRunOptions = {}): Promise<ConsoleRunResult> {
    const what = `console.run(${JSON.stringify(command)})`;
    return this.#exclusive(
      async () => {
        const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
        const id = `${process.pid.toString(36)}${(++markerCounter).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
        // The typed line is echoed back; `""` inside the marker keeps the echo from matching.
        // One line: typed-ahead lines would be echoed by the tty in the middle of the output.
        await this.send(`echo QK""${id}B; ${command}; echo QK""${id}E:$?\n`);
        const left = () => Math.max(1, deadline - Date.now());
        let end: ConsoleMatch;
        try {
          await this.#waitForUnlocked(
            new RegExp(`QK${id}B\\r?\\n`),
            left(),
            `the start of "${command}"`,
            options.signal,
          );
          const stream = options.onOutput ? outputStream(`QK${id}E:`, options.onOutput) : undefined;
          // What followed the start marker in its chunk is pending already; the rest comes later.
          stream?.(this.#pending);
          const off = stream ? this.onData(stream) : undefined;
          try {
            end = await this.#waitForUnlocked(
              new RegExp(`QK${id}E:(\\d+)\\r?\\n`),
              left(),
              `the end of "${command}"`,
              options.signal,
            );
          } finally {
            off?.();
          }
        } catch (e) {
          if ((e instanceof TimeoutError || e instanceof AbortError) && !this.#closed) await this.#interrupt(id);
          throw e;
        }
        const result = { output: end.before.replace(/\r\n/g, "\n").replace(/\r/g, ""), exitCode: Number(end.match[1]) };
        if (result.exitCode !== 0 && !options.nothrow)
          throw new GuestCommandError(command, result.exitCode, result.output);
        return result;
      },
      options.signal,
      what,
    );
  }

  /**
   * Ctrl-C for the command that is still running, then a marker echoed by the shell: once
   * it comes back, the shell is at its prompt again and the output before it is dropped.
   */
  async #interrupt(id: string): Promise<void> {
    try {
      await this.send("\x03");
      await this.send(`echo QK""${id}I\n`);
      await this.#waitForUnlocked(new RegExp(`QK${id}I\\r?\\n`), INTERRUPT_TIMEOUT, "the shell prompt after Ctrl-C");
    } catch {
      // The console may be unusable now (a program ignoring SIGINT); the next call will tell.
    }
  }

  /** The VM's host I/O error hook (the HALT symbol of console.ts), not for scripts. @hidden */
  [HALT](error: Error | undefined): void {
    this.#halted = error;
    if (error) this.#waiter?.reject(error);
  }

  /** Closes the connection (the VM keeps running). Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closedReason = "the console was closed";
      this.#socket.destroy();
    }
    await this.closed;
  }

  /**
   * Runs `fn` after every earlier call finished. A caller whose signal aborts while still
   * queued is rejected at once and `fn` is skipped; once `fn` runs, it handles the signal.
   */
  #exclusive<T>(fn: () => Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(what, signal));
    let started = false;
    const start = () => {
      started = true;
      if (signal?.aborted) throw abortError(what, signal);
      if (this.#halted) throw this.#halted;
      return fn();
    };
    const run = this.#queue.then(start, start);
    this.#queue = run.catch(() => {});
    if (!signal) return run;
    return new Promise<T>((resolve, reject) => {
      const off = onAbort(signal, () => {
        if (!started) reject(abortError(what, signal));
      });
      run.then(
        (v) => {
          off();
          resolve(v);
        },
        (e) => {
          off();
          reject(e);
        },
      );
    });
  }

  #waitForUnlocked(re: RegExp, timeout: number, what: string, signal?: AbortSignal): Promise<ConsoleMatch> {
    const found = this.#consume(re);
    if (found) return Promise.resolve(found);
    if (this.#halted) return Promise.reject(this.#halted);
    if (this.#closed) {
      return Promise.reject(
        new VmError("CONSOLE_CLOSED", `${this.#closedReason} before ${what} appeared`, {
          details: { pending: this.#pending.slice(-2000) },
        }),
      );
    }
    if (signal?.aborted) return Promise.reject(abortError(`waiting for ${what}`, signal));
    return new Promise<ConsoleMatch>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        off();
        if (this.#waiter === waiter) this.#waiter = undefined;
      };
      const timer = setTimeout(() => {
        stop();
        reject(
          new TimeoutError(`console output matching ${what}`, timeout, {
            details: { pending: this.#pending.slice(-2000) },
          }),
        );
      }, timeout);
      const off = onAbort(signal, () => {
        stop();
        reject(abortError(`waiting for ${what}`, signal));
      });
      const waiter: Waiter = {
        re,
        resolve: (m) => {
          stop();
          resolve(m);
        },
        reject: (e) => {
          stop();
          reject(e);
        },
      };
      this.#waiter = waiter;
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

/**
 * Passes a command's output on a line at a time (a line may still grow, so it waits for
 * the newline), up to the end marker's line, whose text before the marker is the last.
 */
function outputStream(marker: string, onOutput: (text: string) => void): (text: string) => void {
  let held = "";
  let done = false;
  return (text) => {
    if (done) return;
    held += text;
    const at = held.indexOf(marker);
    const upTo = at >= 0 ? at : held.lastIndexOf("\n") + 1;
    const out = held.slice(0, upTo).replace(/\r/g, "");
    held = held.slice(upTo);
    if (at >= 0) done = true;
    if (out) onOutput(out);
  };
}
