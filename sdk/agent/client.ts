/**
 * A client for the QEMU guest agent (`qemu-ga`) over the unix socket of its virtio-serial
 * channel. The agent speaks QMP-like JSON without a greeting; a client makes sure the
 * stream is in step with `guest-sync-delimited` (the agent answers with a 0xFF byte first,
 * which also flushes any half-read garbage), and commands are answered one at a time in order.
 * @module
 */
import { createConnection, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { AbortError } from "../errors/errors.ts";
import { onAbort } from "../util/abort.ts";
import { AgentError } from "./errors.ts";
import type { AgentCommand, AgentCommands } from "./types.ts";

/** Options of {@link GuestAgent.connect}. */
export interface AgentConnectOptions {
  /** How long to wait for the agent to answer (it may still be booting). @default 60000 */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

/** Options of one agent command. */
export interface AgentCommandOptions {
  /** Milliseconds to wait for the reply. @default 30000 */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
}

const SENTINEL = 0xff;
/** How often a handshake is re-sent while the agent is silent (not yet started, or restarting). */
const SYNC_RETRY_MS = 1000;

type Reply = { return?: unknown; error?: { class?: string; desc?: string } };

/**
 * A connected guest agent.
 *
 * @example
 * ```ts
 * const agent = await GuestAgent.connect(`${m.runDir}/qga.sock`);
 * const { pid } = await agent.execute("guest-exec", { path: "/bin/true" });
 * console.log((await agent.execute("guest-exec-status", { pid })).exited);
 * await agent.close();
 * ```
 */
export class GuestAgent {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: ((r: Reply | Error) => void) | undefined;
  #closed: AgentError | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = Math.floor(Math.random() * 1e9);

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (d: Buffer) => this.#onData(d));
    const end = () => {
      this.#closed ??= new AgentError("AGENT_CLOSED", "the guest agent connection closed", {
        advice: "the VM may have exited; connect again after it restarts",
      });
      this.#waiter?.(this.#closed);
    };
    socket.on("close", end);
    socket.on("error", end);
  }

  /**
   * Connects to the agent socket and synchronises with `guest-sync-delimited`, re-sending
   * the handshake every second until qemu-ga answers (it starts late in the guest's boot).
   * @example `const agent = await GuestAgent.connect("/tmp/qk/vm1/qga.sock", { timeout: 120_000 });`
   * @throws {AgentError} AGENT_UNAVAILABLE (no socket), AGENT_NOT_RESPONDING (no answer in time).
   */
  static async connect(path: string, options: AgentConnectOptions = {}): Promise<GuestAgent> {
    const timeout = options.timeout ?? 60_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      s.once("connect", () => resolve(s));
      s.once("error", (e) =>
        reject(
          new AgentError("AGENT_UNAVAILABLE", `cannot connect to the guest agent socket ${path}: ${e.message}`, {
            cause: e,
            advice: "start the VM with a guest agent channel: vm()...agent().start()",
            details: { path },
          }),
        ),
      );
    });
    const agent = new GuestAgent(socket);
    try {
      await agent.sync({ timeout, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (e) {
      await agent.close();
      throw e;
    }
    return agent;
  }

  /**
   * (Re)synchronises the stream: sends `guest-sync-delimited` with a fresh id until the
   * reply with the latest id arrives; replies to earlier attempts are skipped.
   * @example `await agent.sync({ timeout: 10_000 });`
   */
  sync(options: AgentCommandOptions = {}): Promise<void> {
    return this.#serial(() => this.#sync(options.timeout ?? 60_000, options.signal));
  }

  /**
   * Sends one command and resolves with its `return` value.
   * @example `await agent.execute("guest-ping");`
   * @throws {AgentError} AGENT_COMMAND with the agent's error class and text, AGENT_TIMEOUT, AGENT_CLOSED.
   * @throws {AbortError} when `options.signal` aborts (the stream is re-synchronised on the next command).
   */
  execute<C extends AgentCommand>(
    command: C,
    ...rest: AgentCommands[C]["args"] extends undefined
      ? [args?: AgentCommands[C]["args"], options?: AgentCommandOptions]
      : [args: AgentCommands[C]["args"], options?: AgentCommandOptions]
  ): Promise<AgentCommands[C]["ret"]> {
    const [args, options = {}] = rest;
    return this.#serial(async () => {
      const reply = await this.#roundTrip(
        { execute: command, ...(args !== undefined ? { arguments: args } : {}) },
        options.timeout ?? 30_000,
        options.signal,
        command,
      );
      if (reply.error) {
        throw new AgentError(
          "AGENT_COMMAND",
          `guest agent command ${command} failed: ${reply.error.desc ?? reply.error.class}`,
          {
            advice: "see the agent's words above; for file commands check the guest path and its permissions",
            details: { command, class: reply.error.class, desc: reply.error.desc },
          },
        );
      }
      return reply.return as AgentCommands[C]["ret"];
    });
  }

  /**
   * Closes the connection (the agent keeps running in the guest).
   * @example `await agent.close();`
   */
  async close(): Promise<void> {
    if (this.#socket.destroyed) return;
    await new Promise<void>((r) => {
      this.#socket.once("close", () => r());
      this.#socket.destroy();
    });
  }

  /** True once the connection ended. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  #desynced = false;

  /** One command at a time: qemu-ga answers in order and replies carry no ids. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      // A command abandoned by a timeout or abort may still be answered: resynchronise first.
      if (this.#desynced) await this.#sync(30_000, undefined);
      return fn();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async #sync(timeout: number, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + timeout;
    this.#desynced = true;
    for (;;) {
      if (this.#closed) throw this.#closed;
      const id = ++this.#nextId;
      // The leading 0xFF makes the agent drop any partial request it was reading.
      this.#write(
        Buffer.concat([
          Buffer.from([SENTINEL]),
          Buffer.from(JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } }) + "\n"),
        ]),
      );
      const until = Date.now() + Math.min(SYNC_RETRY_MS, Math.max(1, deadline - Date.now()));
      for (;;) {
        const left = until - Date.now();
        if (left <= 0) break;
        let reply: Reply;
        try {
          reply = await this.#next(left, signal);
        } catch (e) {
          if (e instanceof AgentError && e.code === "AGENT_TIMEOUT") break;
          throw e;
        }
        if (reply.return === id) {
          this.#desynced = false;
          return;
        }
        // An answer to an earlier attempt, or to an abandoned command: skip it.
      }
      if (Date.now() >= deadline) {
        throw new AgentError("AGENT_NOT_RESPONDING", `the guest agent did not answer within ${timeout} ms`, {
          advice:
            "is qemu-ga running in the guest on the org.qemu.guest_agent.0 port? (the built-in Debian guest starts it at boot); " +
            "under TCG a boot takes 15-60 s: pass a longer { timeout }",
          details: { timeout },
        });
      }
      await sleep(0);
    }
  }

  async #roundTrip(message: object, timeout: number, signal: AbortSignal | undefined, what: string): Promise<Reply> {
    if (this.#closed) throw this.#closed;
    this.#write(Buffer.from(JSON.stringify(message) + "\n"));
    this.#desynced = true;
    try {
      const reply = await this.#next(timeout, signal, what);
      this.#desynced = false;
      return reply;
    } catch (e) {
      if (e instanceof AgentError && e.code === "AGENT_TIMEOUT") {
        throw new AgentError("AGENT_TIMEOUT", `the guest agent did not answer ${what} within ${timeout} ms`, {
          advice: "the guest may be busy or hung; pass a longer { timeout } (TCG is slow)",
          details: { command: what, timeout },
        });
      }
      throw e;
    }
  }

  #write(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /** The next reply, or AGENT_TIMEOUT / AbortError / AGENT_CLOSED. */
  #next(timeout: number, signal: AbortSignal | undefined, what = "guest-sync-delimited"): Promise<Reply> {
    const ready = this.#takeLine();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<Reply>((resolve, reject) => {
      const finish = (r: Reply | Error) => {
        clearTimeout(timer);
        off();
        this.#waiter = undefined;
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      const timer = setTimeout(
        () => finish(new AgentError("AGENT_TIMEOUT", `no reply to ${what} within ${timeout} ms`)),
        timeout,
      );
      const off = onAbort(signal, (reason) => finish(new AbortError(`guest agent ${what}`, { cause: reason })));
      this.#waiter = finish;
    });
  }

  #onData(d: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, d]) : d;
    if (!this.#waiter) return;
    const r = this.#takeLine();
    if (r) this.#waiter(r);
  }

  /** Parses the next complete reply from the buffer; sentinel bytes and non-JSON lines are dropped. */
  #takeLine(): Reply | undefined {
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a);
      if (nl < 0) return undefined;
      let line = this.#buffer.subarray(0, nl);
      this.#buffer = this.#buffer.subarray(nl + 1);
      const ff = line.lastIndexOf(SENTINEL);
      if (ff >= 0) line = line.subarray(ff + 1);
      const text = line.toString("utf8").trim();
      if (!text) continue;
      try {
        const parsed = JSON.parse(text) as Reply;
        if (parsed && typeof parsed === "object" && ("return" in parsed || "error" in parsed)) return parsed;
      } catch {
        /* garbage before a sync, e.g. an answer cut off by a restart */
      }
    }
  }
}
