/**
 * The QMP client: one connection to a QEMU monitor, many commands in flight, events.
 * @module
 */
import type { Duplex } from "node:stream";
import type { QmpCommands } from "@qemu-types/qmp";
import { TimeoutError } from "../errors/errors.ts";
import { QmpCommandError, QmpConnectionError } from "./errors.ts";
import { EventStream } from "./event-stream.ts";
import { JsonFramer, type Frame, type GarbageFrame } from "./framer.ts";
import { parseJsonLossless as parseQmpJson, stringifyJsonLossless as stringifyQmpJson } from "../util/json.ts";
import { matchesPartial } from "./match.ts";
import { describeTarget, openStream } from "./open-stream.ts";
import type {
  QmpConnectOptions,
  QmpEvent,
  QmpEventFor,
  QmpExecuteParams,
  QmpGreeting,
  QmpRawExecuteOptions,
  QmpReturn,
  QmpTarget,
  QmpWaitOptions,
} from "./types.ts";

interface Pending {
  readonly command: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  readonly event: string;
  readonly match: Record<string, unknown> | undefined;
  readonly resolve: (e: QmpEvent) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A protocol oddity the client tolerated (garbage bytes, a reply nobody asked for). */
export interface QmpAnomaly {
  readonly kind: "garbage" | "unparsable" | "unknown-id" | "unexpected";
  readonly text: string;
  readonly at: number;
}

/** One entry of the schema returned by `query-qmp-schema`. */
export interface QmpSchemaEntry {
  readonly name: string;
  readonly "meta-type": string;
  readonly [key: string]: unknown;
}

const MAX_ANOMALIES = 50;

/**
 * A connection to one QEMU QMP monitor. Commands are matched to replies by `id`, so any
 * number can be in flight; events go to listeners, iterators and waiters, and a bounded
 * history lets `waitFor` find events that arrived before it was called.
 *
 * One in-band command at a time goes out without an `id` and is matched as the only
 * id-less reply QEMU owes (QEMU answers in-band commands in order, and always echoes an
 * `id` it was given). This matters for latency: QEMU reads its monitor socket one byte
 * per `recvmsg()`, so every request byte costs QEMU about 10 us here, and `,"id":123`
 * alone made a lone `query-status` round trip ~20% slower.
 *
 * @example
 * ```ts
 * await using qmp = await QmpClient.connect("/run/vm/qmp.sock");
 * const { status } = await qmp.execute("query-status");
 * const stop = qmp.waitFor("STOP");
 * await qmp.execute("stop");
 * await stop;
 * ```
 */
export class QmpClient implements AsyncDisposable {
  /** The greeting QEMU sent (version and offered capabilities). */
  readonly greeting: QmpGreeting;
  /** QEMU's version as `major.minor.micro`, e.g. `7.2.19`. */
  readonly qemuVersion: string;
  /** Resolves when the connection ends for any reason (close, QEMU exit, error). */
  readonly closed: Promise<void>;
  /** Whether `oob` was negotiated, so `executeRaw(..., { oob: true })` is possible. */
  get oobEnabled(): boolean {
    return this.#oob;
  }
  /** Protocol oddities that were tolerated (most recent last, bounded). */
  readonly anomalies: QmpAnomaly[] = [];

  readonly #stream: Duplex;
  readonly #framer: JsonFramer;
  readonly #pending = new Map<number, Pending>();
  /**
   * The in-band command sent without an `id`: `undefined` when none is owed a reply,
   * `null` when it timed out but its reply is still to come (so that reply is not taken
   * for a later command's).
   */
  #bare: Pending | null | undefined;
  readonly #listeners = new Map<string, Set<(e: QmpEvent) => void>>();
  readonly #streams = new Set<EventStream>();
  readonly #waiters = new Set<Waiter>();
  readonly #history: { readonly event: QmpEvent; readonly at: number }[] = [];
  readonly #historyLimit: number;
  readonly #commandTimeout: number;
  readonly #target: string;
  #nextId = 1;
  readonly #heads = new Map<string, string>();
  readonly #oobHeads = new Map<string, string>();
  #outbox: string[] = [];
  #flushScheduled = false;
  #isClosed = false;
  #oob = false;
  #ending = false;
  #closeError: QmpConnectionError | undefined;
  #resolveClosed!: () => void;
  #greetingWaiter: ((msg: unknown, err?: Error) => void) | undefined;
  #schema: Promise<readonly QmpSchemaEntry[]> | undefined;
  #commandNames: Set<string> | undefined;

  private constructor(stream: Duplex, target: string, options: QmpConnectOptions) {
    this.#stream = stream;
    this.#target = target;
    this.#historyLimit = options.eventHistory ?? 1000;
    this.#commandTimeout = options.commandTimeout ?? 0;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#framer = new JsonFramer(
      (f) => this.#onFrame(f),
      (g) => this.#onGarbage(g),
    );
    // Placeholders until the greeting arrives; connect() fills them before handing out the client.
    this.greeting = { version: { qemu: { major: 0, minor: 0, micro: 0 }, package: "" }, capabilities: [] };
    this.qemuVersion = "0.0.0";
    stream.on("data", (chunk: Buffer | string) => this.#framer.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    stream.on("end", () => this.#disconnect());
    stream.on("close", () => this.#disconnect());
    stream.on("error", (e: Error) => this.#disconnect(e));
  }

  /**
   * Connects, reads the greeting and negotiates capabilities (enabling `oob` when offered).
   * Fails with `QmpConnectionError` code `QMP_CONNECT` if that does not complete within
   * `options.timeout` ms or QEMU sends something other than a greeting.
   *
   * @example
   * ```ts
   * const qmp = await QmpClient.connect("/tmp/vm/qmp.sock", { retryUntil: Date.now() + 10_000 });
   * console.log(qmp.qemuVersion); // "7.2.19"
   * ```
   */
  static async connect(target: QmpTarget, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const name = describeTarget(target);
    const stream = await openStream(target, options.retryUntil ?? 0);
    const client = new QmpClient(stream, name, options);
    const timeout = options.timeout ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QmpConnectionError("QMP_CONNECT", `no QMP greeting and negotiation from ${name} within ${timeout} ms`, {
        advice: "is this really a QMP socket (-qmp / -mon mode=control), and is no other client connected? QEMU greets only one client at a time",
        details: { target: name, timeout },
      })), timeout);
    });
    try {
      await Promise.race([client.#handshake(options.oob ?? true), timedOut]);
      return client;
    } catch (e) {
      client.#stream.destroy();
      client.#disconnect();
      if (e instanceof QmpConnectionError && e.code === "QMP_CONNECT") throw e;
      throw new QmpConnectionError("QMP_CONNECT", `QMP negotiation with ${name} failed: ${(e as Error).message}`, {
        advice: "check that the socket is a QMP monitor of a running QEMU",
        cause: e,
        details: { target: name },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshake(wantOob: boolean): Promise<void> {
    const msg = await new Promise<any>((resolve, reject) => {
      this.#greetingWaiter = (m, err) => (err ? reject(err) : resolve(m));
    });
    const qmp = msg?.QMP;
    const v = qmp?.version?.qemu;
    if (!qmp || typeof v?.major !== "number") {
      throw new QmpConnectionError("QMP_CONNECT", `${this.#target} did not send a QMP greeting (got ${JSON.stringify(msg).slice(0, 200)})`, {
        advice: "the socket is not a QMP monitor (maybe an HMP monitor or a serial console?)",
        details: { target: this.#target },
      });
    }
    const capabilities: string[] = Array.isArray(qmp.capabilities) ? qmp.capabilities : [];
    (this as { greeting: QmpGreeting }).greeting = { version: qmp.version, capabilities };
    (this as { qemuVersion: string }).qemuVersion = `${v.major}.${v.minor}.${v.micro}`;
    const enable = wantOob && capabilities.includes("oob") ? ["oob"] : [];
    await this.executeRaw("qmp_capabilities", enable.length ? { enable } : undefined);
    this.#oob = enable.length > 0;
  }

  /**
   * Runs a command known to the generated types. Unknown names and wrong arguments are
   * compile errors; the promise resolves to the command's generated return type.
   * Integers beyond 2^53 arrive as `bigint`.
   *
   * @example
   * ```ts
   * const info = await qmp.execute("query-status");   // StatusInfo
   * await qmp.execute("screendump", { filename: "/tmp/s.png", format: "png" });
   * ```
   * @throws {QmpCommandError} when QEMU answers with an error.
   * @throws {QmpConnectionError} `QMP_DISCONNECTED` when the connection is lost first.
   * @throws {TimeoutError} when `options.timeout` passes without a reply.
   */
  execute<K extends keyof QmpCommands & string>(name: K, ...params: QmpExecuteParams<K>): Promise<QmpReturn<K>> {
    return this.executeRaw(name, params[0] as Record<string, unknown> | undefined, params[1]) as Promise<QmpReturn<K>>;
  }

  /**
   * Runs any command by name without compile-time checks (for commands newer than the
   * generated baseline). `oob: true` sends it out-of-band with `exec-oob`.
   *
   * @example
   * ```ts
   * const r = await qmp.executeRaw("query-yank", undefined, { oob: true });
   * ```
   */
  executeRaw(name: string, args?: Record<string, unknown>, options?: QmpRawExecuteOptions): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(this.#disconnectedError(name));
    if (this.#commandNames && !this.#commandNames.has(name)) return Promise.reject(this.#notFound(name));
    const oob = options?.oob === true;
    if (oob && !this.oobEnabled) {
      return Promise.reject(new QmpCommandError(name, "GenericError", "out-of-band execution was not negotiated", {
        advice: `QEMU ${this.qemuVersion} did not offer the oob capability on this monitor`,
      }));
    }
    const bare = !oob && this.#bare === undefined;
    const id = bare ? 0 : this.#nextId++;
    const head = this.#head(name, oob);
    const tail = bare ? "}\n" : `,"id":${id}}\n`;
    const line = args === undefined ? `${head}${tail}` : `${head},"arguments":${stringifyQmpJson(args)}${tail}`;
    const timeout = options?.timeout ?? this.#commandTimeout;
    return new Promise((resolve, reject) => {
      const p: Pending = { command: name, resolve, reject, timer: undefined };
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          // A timed-out id-less command still holds the slot (null) until its reply comes.
          if (bare) this.#bare = null;
          else this.#pending.delete(id);
          reject(new TimeoutError(`reply to QMP command ${name}`, timeout, { details: { command: name, qemu: this.qemuVersion } }));
        }, timeout);
      }
      if (bare) this.#bare = p;
      else this.#pending.set(id, p);
      this.#send(line);
    });
  }

  /** `{"execute":"name"` with the name JSON-escaped once per command name, not per call. */
  #head(name: string, oob: boolean): string {
    const cache = oob ? this.#oobHeads : this.#heads;
    let head = cache.get(name);
    if (head === undefined) {
      head = `{${oob ? '"exec-oob"' : '"execute"'}:${JSON.stringify(name)}`;
      if (cache.size < 1000) cache.set(name, head);
    }
    return head;
  }

  /**
   * Runs a human monitor (HMP) command line through `human-monitor-command` and returns
   * its text output.
   *
   * @example
   * ```ts
   * console.log(await qmp.hmp("info status")); // "VM status: paused (prelaunch)\r\n"
   * ```
   */
  async hmp(commandLine: string): Promise<string> {
    return (await this.executeRaw("human-monitor-command", { "command-line": commandLine })) as string;
  }

  /**
   * Calls `listener` for every `event` (or every event at all with `"*"`) from now on.
   * Returns the function that unsubscribes.
   *
   * @example
   * ```ts
   * const off = qmp.on("SHUTDOWN", (e) => console.log(e.data.reason));
   * off();
   * ```
   */
  on<E extends string>(event: E, listener: (e: QmpEventFor<E>) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (e: QmpEvent) => void);
    return () => {
      set.delete(listener as (e: QmpEvent) => void);
    };
  }

  /**
   * An async iterator over every event from now on; it ends when the connection closes or
   * the loop exits.
   *
   * @example
   * ```ts
   * for await (const e of qmp.events()) { if (e.event === "SHUTDOWN") break; }
   * ```
   */
  events(): AsyncIterableIterator<QmpEvent> {
    const s: EventStream = new EventStream(() => this.#streams.delete(s));
    if (this.#isClosed) s.end();
    else this.#streams.add(s);
    return s;
  }

  /**
   * Resolves with the first `event` whose data partially matches `options.match`, looking
   * first at the bounded history (events received before the call, filtered by
   * `options.since`), then at new events.
   *
   * @example
   * ```ts
   * const since = Date.now();
   * await qmp.execute("system_powerdown");
   * await qmp.waitFor("SHUTDOWN", { since, timeout: 60_000 });
   * ```
   * @throws {TimeoutError} after `options.timeout` ms (default 30000).
   * @throws {QmpConnectionError} `QMP_DISCONNECTED` if the connection ends first.
   */
  waitFor<E extends string>(event: E, options: QmpWaitOptions = {}): Promise<QmpEventFor<E>> {
    return this.#waitFor(event, options) as Promise<QmpEventFor<E>>;
  }

  #waitFor(event: string, options: QmpWaitOptions): Promise<QmpEvent> {
    const since = options.since ?? -Infinity;
    for (const h of this.#history) {
      if (h.at >= since && h.event.event === event && (!options.match || matchesPartial(h.event.data, options.match))) {
        return Promise.resolve(h.event);
      }
    }
    if (this.#isClosed) return Promise.reject(this.#disconnectedError(`waitFor(${event})`));
    const timeout = options.timeout ?? 30_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        event,
        match: options.match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new TimeoutError(`QMP event ${event}${options.match ? ` matching ${stringifyQmpJson(options.match)}` : ""}`, timeout));
        }, timeout),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Events still in the bounded history, oldest first, with their receive time (epoch ms). */
  history(): readonly { readonly event: QmpEvent; readonly at: number }[] {
    return [...this.#history];
  }

  /**
   * The connected QEMU's full QMP schema (`query-qmp-schema`), fetched once and cached.
   *
   * @example
   * ```ts
   * const commands = (await qmp.schema()).filter((e) => e["meta-type"] === "command");
   * ```
   */
  schema(): Promise<readonly QmpSchemaEntry[]> {
    if (!this.#schema) {
      this.#schema = (this.executeRaw("query-qmp-schema") as Promise<QmpSchemaEntry[]>).then((entries) => {
        this.#commandNames = new Set(entries.filter((e) => e["meta-type"] === "command").map((e) => e.name));
        return entries;
      });
      this.#schema.catch(() => (this.#schema = undefined));
    }
    return this.#schema;
  }

  /**
   * Whether the connected QEMU has `command`. Once the schema is fetched, calling a missing
   * command fails at once, without a round trip, naming the QEMU version.
   *
   * @example
   * ```ts
   * if (await qmp.hasCommand("query-stats")) { ... }
   * ```
   */
  async hasCommand(command: string): Promise<boolean> {
    await this.schema();
    return this.#commandNames!.has(command);
  }

  /**
   * Closes the connection. Pending commands reject with `QMP_DISCONNECTED`. Idempotent.
   *
   * @example
   * ```ts
   * await qmp.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#isClosed) {
      this.#flush();
      this.#ending = true;
      this.#stream.end();
      // A peer that never closes its side must not keep us waiting.
      const t = setTimeout(() => this.#stream.destroy(), 500);
      t.unref?.();
      this.#disconnect();
    }
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #send(line: string): void {
    this.#outbox.push(line);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Commands issued in the same tick go out in one write: far fewer syscalls when
      // thousands are pipelined, and only a microtask of latency for a single one.
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#outbox.length === 0 || this.#isClosed) return;
    const data = this.#outbox.length === 1 ? this.#outbox[0]! : this.#outbox.join("");
    this.#outbox = [];
    this.#stream.write(data);
  }

  #onFrame(frame: Frame): void {
    let msg: any;
    try {
      msg = parseQmpJson(frame.text, frame.mayHaveBigInts);
    } catch {
      this.#anomaly("unparsable", frame.text);
      if (this.#greetingWaiter) this.#failGreeting(frame.text);
      return;
    }
    if (this.#greetingWaiter) {
      const w = this.#greetingWaiter;
      this.#greetingWaiter = undefined;
      w(msg);
      return;
    }
    if (msg.event !== undefined) return this.#onEvent(msg as QmpEvent);
    const id = msg.id;
    let p: Pending | null | undefined;
    if (id === undefined) {
      p = this.#bare;
      if (p === undefined) return this.#anomaly("unexpected", frame.text);
      this.#bare = undefined;
      if (p === null) return; // the late reply of a command that timed out
    } else {
      p = typeof id === "number" ? this.#pending.get(id) : undefined;
      if (!p) return this.#anomaly("unknown-id", frame.text);
      this.#pending.delete(id);
    }
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (msg.error === undefined) p.resolve(msg.return);
    else if (msg.error.class === "CommandNotFound") p.reject(this.#notFound(p.command, msg.error.desc));
    else {
      p.reject(new QmpCommandError(p.command, String(msg.error.class), String(msg.error.desc), { details: { qemu: this.qemuVersion } }));
    }
  }

  #onGarbage(g: GarbageFrame): void {
    this.#anomaly("garbage", g.garbage);
    if (this.#greetingWaiter) this.#failGreeting(g.garbage);
  }

  #failGreeting(text: string): void {
    const w = this.#greetingWaiter!;
    this.#greetingWaiter = undefined;
    w(undefined, new QmpConnectionError("QMP_CONNECT", `${this.#target} sent ${JSON.stringify(text.slice(0, 200))} instead of a QMP greeting`, {
      advice: "the socket is not a QMP monitor (maybe an HMP monitor or a serial console?)",
      details: { target: this.#target },
    }));
  }

  #onEvent(e: QmpEvent): void {
    const h = this.#history;
    h.push({ event: e, at: Date.now() });
    // Trim in batches so the history costs O(1) per event on average.
    if (h.length > this.#historyLimit * 2) h.splice(0, h.length - this.#historyLimit);
    const exact = this.#listeners.get(e.event);
    if (exact) for (const l of exact) this.#safely(l, e);
    const all = this.#listeners.get("*");
    if (all) for (const l of all) this.#safely(l, e);
    for (const s of this.#streams) s.push(e);
    for (const w of this.#waiters) {
      if (w.event === e.event && (!w.match || matchesPartial(e.data, w.match))) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(e);
      }
    }
  }

  #safely(listener: (e: QmpEvent) => void, e: QmpEvent): void {
    try {
      listener(e);
    } catch (err) {
      // A throwing listener must not break the connection or the other listeners.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  #anomaly(kind: QmpAnomaly["kind"], text: string): void {
    this.anomalies.push({ kind, text: text.length > 500 ? `${text.slice(0, 500)}...` : text, at: Date.now() });
    if (this.anomalies.length > MAX_ANOMALIES) this.anomalies.shift();
  }

  #notFound(command: string, desc?: string): QmpCommandError {
    return new QmpCommandError(command, "CommandNotFound", desc ?? `The command ${command} has not been found`, {
      advice: `QEMU ${this.qemuVersion} has no QMP command "${command}": it may need a newer QEMU or a different build; check qmp.hasCommand() first`,
      details: { qemu: this.qemuVersion },
    });
  }

  #disconnectedError(what: string, cause?: unknown): QmpConnectionError {
    return this.#closeError ?? new QmpConnectionError("QMP_DISCONNECTED", `QMP connection to ${this.#target} is closed (${what})`, {
      advice: "QEMU exited or the monitor was closed; check the VM's exit status and log",
      cause,
    });
  }

  #disconnect(cause?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const mid = this.#framer.midMessage ? " in the middle of a message" : "";
    const pending = [...this.#pending.values()];
    if (this.#bare) pending.push(this.#bare);
    this.#pending.clear();
    this.#bare = undefined;
    const err = new QmpConnectionError("QMP_DISCONNECTED",
      `QMP connection to ${this.#target} (QEMU ${this.qemuVersion}) ended${mid}${pending.length ? ` with ${pending.length} command(s) pending` : ""}${cause ? `: ${cause.message}` : ""}`, {
      advice: "QEMU exited or the monitor was closed; check the VM's exit status and log",
      cause,
      details: { target: this.#target, pending: pending.length },
    });
    this.#closeError = err;
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(err);
    }
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiters.clear();
    for (const s of [...this.#streams]) s.end();
    if (this.#greetingWaiter) {
      const g = this.#greetingWaiter;
      this.#greetingWaiter = undefined;
      g(undefined, new QmpConnectionError("QMP_CONNECT", `${this.#target} closed the connection before the QMP greeting${cause ? `: ${cause.message}` : ""}`, {
        advice: "QEMU greets only one client per monitor: is another client connected? Did QEMU exit?",
        cause,
        details: { target: this.#target },
      }));
    }
    if (!this.#ending && !this.#stream.destroyed) this.#stream.destroy();
    this.#resolveClosed();
  }
}
