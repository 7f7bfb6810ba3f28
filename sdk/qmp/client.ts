/**
 * The QMP client: one connection to a QEMU monitor, many commands in flight, events.
 * @module
 */
import type { Duplex } from "node:stream";
import type { QmpCommands } from "@qemu-types/qmp";
import { AbortError, TimeoutError } from "../errors/errors.ts";
import { onAbort } from "../util/abort.ts";
import { QmpArgumentsError, QmpCommandError, QmpConnectionError, QmpProtocolError } from "./errors.ts";
import { EventStream } from "./event-stream.ts";
import { JsonFramer, type Frame, type GarbageFrame } from "./framer.ts";
import { parseJsonLossless as parseQmpJson, stringifyJsonLossless as stringifyQmpJson } from "../util/json.ts";
import { qmpArgumentsProblem } from "./limits.ts";
import { matchesPartial } from "./match.ts";
import { nearestNames } from "./suggest.ts";
import { describeTarget, openStream } from "./open-stream.ts";
import type {
  QmpConnectOptions,
  QmpEvent,
  QmpEventFor,
  QmpExecuteParams,
  QmpGreeting,
  QmpExecuteOptions,
  QmpRawExecuteOptions,
  QmpReturn,
  QmpTarget,
  QmpWaitOptions,
} from "./types.ts";

/** A message as QEMU sent it; which fields it has is checked before any is used. */
// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON off the wire, narrowed by its event/id/error/return fields
type WireMessage = any;

interface Pending {
  readonly command: string;
  /** The request id; 0 for the one in-band command sent without an id. */
  readonly id: number;
  readonly oob: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Epoch ms when a command on the connection's default timeout times out (0: own timer or none). */
  deadline: number;
  /** In the in-band queue (#inband), still owed a reply. */
  queued: boolean;
  /** Set once the caller has its answer (reply, timeout, abort): later news is dropped. */
  settled: boolean;
  unlisten: (() => void) | undefined;
}

interface Waiter {
  readonly event: string;
  readonly match: Record<string, unknown> | undefined;
  readonly resolve: (e: QmpEvent) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly unlisten: () => void;
}

interface HistoryEntry {
  readonly event: QmpEvent;
  readonly at: number;
  /** Taken by a waitFor() already: no other waitFor() returns it. */
  consumed: boolean;
}

/** A protocol oddity the client tolerated (garbage bytes, a reply nobody asked for). */
export interface QmpAnomaly {
  /**
   * `garbage`: bytes outside any JSON object; `unparsable`: a message that is no JSON;
   * `unknown-id`: a reply for no command; `unexpected`: an id-less reply nobody is owed (or
   * dropped while resynchronising); `fault`: an id-less error that rejected a command with
   * QMP_PROTOCOL.
   */
  readonly kind: "garbage" | "unparsable" | "unknown-id" | "unexpected" | "fault";
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

/** Default for {@link QmpConnectOptions.commandTimeout}, in ms. */
export const QMP_DEFAULT_COMMAND_TIMEOUT = 60_000;
/** Default for {@link QmpWaitOptions.timeout}, in ms. */
export const QMP_DEFAULT_WAIT_TIMEOUT = 30_000;

/** What QEMU says when it cannot parse a request (such errors carry no `id`). */
const PARSE_ERROR = /^JSON |^QMP input must be a JSON object|^Expected 'execute'|^QMP input object member/;

/**
 * A connection to one QEMU QMP monitor. Commands are matched to replies by `id`, so any
 * number can be in flight; events go to listeners, iterators and waiters.
 *
 * One in-band command at a time goes out without an `id` and is matched as the only
 * id-less reply QEMU owes. This matters for latency: QEMU reads its monitor socket one byte
 * per `recvmsg()`, so every request byte costs QEMU about 10 us here, and `,"id":123`
 * alone made a lone `query-status` round trip ~20% slower. It is safe because QEMU echoes
 * every `id` of a request it could parse, answers in-band requests in order, and the client
 * never sends a request QEMU cannot parse (see {@link QmpArgumentsError}). Should an id-less
 * error come anyway (QEMU's parser refusing something), it is a protocol fault: the
 * commands it may belong to reject with {@link QmpProtocolError}, and no command goes out
 * without an id until QEMU has answered one sent after the fault.
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
  /** Commands sent with an id and not yet answered (settled ones too: their reply is still owed). */
  readonly #pending = new Map<number, Pending>();
  /**
   * In-band commands in the order they were sent, answered or not; QEMU answers them in
   * this order. `#inbandHead` is the index of the oldest one still owed a reply.
   */
  #inband: Pending[] = [];
  #inbandHead = 0;
  /** The in-band command sent without an `id` and still owed a reply (settled or not). */
  #bare: Pending | undefined;
  /**
   * After a protocol fault: the first id sent after it. Until QEMU answers a command with
   * that id or a later one, id-less replies cannot be attributed and none go out bare.
   */
  #quarantine = 0;
  /**
   * Commands on the connection's default timeout, in send order (so their deadlines are in
   * order too): one timer for the oldest instead of one per command, which pipelined
   * commands would pay for with a setTimeout and a clearTimeout each.
   */
  #timed: Pending[] = [];
  #timedHead = 0;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #check: boolean;
  readonly #listeners = new Map<string, Set<(e: QmpEvent) => void>>();
  readonly #streams = new Set<EventStream>();
  readonly #waiters = new Set<Waiter>();
  readonly #history: HistoryEntry[] = [];
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
  #commandList: Promise<string[]> | undefined;

  private constructor(stream: Duplex, target: string, options: QmpConnectOptions) {
    this.#stream = stream;
    this.#target = target;
    this.#historyLimit = options.eventHistory ?? 1000;
    this.#commandTimeout = options.commandTimeout ?? QMP_DEFAULT_COMMAND_TIMEOUT;
    this.#check = options.checkArguments ?? true;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#framer = new JsonFramer(
      (f) => this.#onFrame(f),
      (g) => this.#onGarbage(g),
    );
    // Placeholders until the greeting arrives; connect() fills them before handing out the client.
    this.greeting = { version: { qemu: { major: 0, minor: 0, micro: 0 }, package: "" }, capabilities: [] };
    this.qemuVersion = "0.0.0";
    stream.on("data", (chunk: Buffer | string) =>
      this.#framer.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
    );
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
      timer = setTimeout(
        () =>
          reject(
            new QmpConnectionError("QMP_CONNECT", `no QMP greeting and negotiation from ${name} within ${timeout} ms`, {
              advice:
                "is this really a QMP socket (-qmp / -mon mode=control), and is no other client connected? QEMU greets only one client at a time",
              details: { target: name, timeout },
            }),
          ),
        timeout,
      );
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
    const msg = await new Promise<WireMessage>((resolve, reject) => {
      this.#greetingWaiter = (m, err) => (err ? reject(err) : resolve(m));
    });
    const qmp = msg?.QMP;
    const v = qmp?.version?.qemu;
    if (!qmp || typeof v?.major !== "number") {
      throw new QmpConnectionError(
        "QMP_CONNECT",
        `${this.#target} did not send a QMP greeting (got ${JSON.stringify(msg).slice(0, 200)})`,
        {
          advice: "the socket is not a QMP monitor (maybe an HMP monitor or a serial console?)",
          details: { target: this.#target },
        },
      );
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
   * await qmp.execute("screendump", { filename: "/tmp/s.png", format: "png" }, { timeout: 5000 });
   * ```
   * @throws {QmpCommandError} when QEMU answers with an error.
   * @throws {QmpConnectionError} `QMP_DISCONNECTED` when the connection is lost first.
   * @throws {TimeoutError} when no reply comes within `options.timeout` (default: the
   *   connection's `commandTimeout`, 60 s unless set).
   * @throws {AbortError} when `options.signal` aborts first.
   * @throws {QmpArgumentsError} when QEMU could not parse the arguments (nothing is sent).
   * @throws {QmpProtocolError} when QEMU's answer cannot be told apart from another command's.
   */
  execute<K extends keyof QmpCommands & string>(name: K, ...params: QmpExecuteParams<K>): Promise<QmpReturn<K>> {
    return this.executeRaw(name, params[0] as Record<string, unknown> | undefined, params[1]) as Promise<QmpReturn<K>>;
  }

  /**
   * Runs any command by name without compile-time checks (for commands newer than the
   * generated baseline). `oob: true` sends it out-of-band with `exec-oob`. Timeouts,
   * aborts and errors as for {@link QmpClient.execute}. A timed-out or aborted command has
   * still been sent: QEMU may run it, and its late reply is dropped.
   *
   * @example
   * ```ts
   * const r = await qmp.executeRaw("query-yank", undefined, { oob: true, timeout: 1000 });
   * ```
   */
  executeRaw(name: string, args?: Record<string, unknown>, options?: QmpRawExecuteOptions): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(this.#disconnectedError(name));
    if (options?.signal?.aborted)
      return Promise.reject(new AbortError(`QMP command ${name}`, { cause: options.signal.reason }));
    if (this.#commandNames && !this.#commandNames.has(name)) return this.#notFound(name);
    const oob = options?.oob === true;
    if (oob && !this.oobEnabled) {
      return Promise.reject(
        new QmpCommandError(name, "GenericError", "out-of-band execution was not negotiated", {
          advice: `QEMU ${this.qemuVersion} did not offer the oob capability on this monitor`,
        }),
      );
    }
    let argsJson: string | undefined;
    if (args !== undefined) {
      argsJson = stringifyQmpJson(args);
      const problem = this.#check ? qmpArgumentsProblem(argsJson) : undefined;
      if (problem !== undefined) return Promise.reject(new QmpArgumentsError(name, problem));
    }
    const bare = !oob && this.#bare === undefined && this.#quarantine === 0;
    const id = bare ? 0 : this.#nextId++;
    const head = this.#head(name, oob);
    const tail = bare ? "}\n" : `,"id":${id}}\n`;
    const line = argsJson === undefined ? `${head}${tail}` : `${head},"arguments":${argsJson}${tail}`;
    const timeout = options?.timeout ?? this.#commandTimeout;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        command: name,
        id,
        oob,
        resolve,
        reject,
        timer: undefined,
        deadline: 0,
        queued: !oob,
        settled: false,
        unlisten: undefined,
      };
      // A timed-out command keeps its place (and a bare one its slot) until its late reply comes.
      if (options?.timeout === undefined && timeout > 0) {
        p.deadline = Date.now() + timeout;
        this.#timed.push(p);
        this.#sweepTimer ??= setTimeout(this.#sweep, timeout);
      } else if (timeout > 0) {
        p.timer = setTimeout(() => this.#settle(p, this.#timeoutError(p, timeout)), timeout);
      }
      if (options?.signal) {
        p.unlisten = onAbort(options.signal, (reason) =>
          this.#settle(p, new AbortError(`QMP command ${name}`, { cause: reason })),
        );
      }
      if (bare) this.#bare = p;
      else this.#pending.set(id, p);
      if (!oob) this.#inband.push(p);
      this.#send(line);
    });
  }

  #timeoutError(p: Pending, timeout: number): TimeoutError {
    return new TimeoutError(`reply to QMP command ${p.command}`, timeout, {
      details: { command: p.command, qemu: this.qemuVersion },
    });
  }

  /** Gives the caller its answer once; a value settles with `resolve`, an Error with `reject`. */
  #settle(p: Pending, error: unknown, value?: unknown): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.unlisten?.();
    if (p.deadline !== 0 && this.#timed[this.#timedHead] === p) this.#dropSettledTimed();
    if (error === undefined) p.resolve(value);
    else p.reject(error);
  }

  /** Moves past answered commands at the front of the default-timeout queue; no timer once it is empty. */
  #dropSettledTimed(): void {
    const q = this.#timed;
    let h = this.#timedHead;
    while (h < q.length && q[h]!.settled) h++;
    if (h === q.length) {
      this.#timed = [];
      this.#timedHead = 0;
      if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    } else if (h > 1024 && h * 2 > q.length) {
      this.#timed = q.slice(h);
      this.#timedHead = 0;
    } else this.#timedHead = h;
  }

  /** Times out the oldest default-timeout commands whose deadline passed, then waits for the next. */
  readonly #sweep = (): void => {
    this.#sweepTimer = undefined;
    const now = Date.now();
    for (
      let p = this.#timed[this.#timedHead];
      p !== undefined && (p.settled || p.deadline <= now);
      p = this.#timed[this.#timedHead]
    ) {
      // Settling an expired head advances #timedHead (and may reset the queue).
      if (p.settled) this.#timedHead++;
      else this.#settle(p, this.#timeoutError(p, this.#commandTimeout));
    }
    this.#dropSettledTimed();
    const next = this.#timed[this.#timedHead];
    if (next !== undefined) this.#sweepTimer ??= setTimeout(this.#sweep, Math.max(1, next.deadline - now));
  };

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
   * its text output. `options` (timeout, signal) as for {@link QmpClient.execute}.
   *
   * @example
   * ```ts
   * console.log(await qmp.hmp("info status")); // "VM status: paused (prelaunch)\r\n"
   * ```
   */
  async hmp(commandLine: string, options?: QmpExecuteOptions): Promise<string> {
    return await this.execute("human-monitor-command", { "command-line": commandLine }, options);
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
   * Resolves with the next `event` whose data partially matches `options.match`. One rule:
   * a matched event is consumed (no other `waitFor` returns it), and events that arrived
   * before the call count only when asked for with `options.since` (epoch ms): then the
   * oldest unconsumed match received at or after `since` is returned first.
   *
   * @example
   * ```ts
   * const since = Date.now();
   * await qmp.execute("system_powerdown");
   * await qmp.waitFor("SHUTDOWN", { since, timeout: 60_000 }); // found even if it came before the reply
   * ```
   * @throws {TimeoutError} after `options.timeout` ms (default 30000).
   * @throws {AbortError} when `options.signal` aborts first.
   * @throws {QmpConnectionError} `QMP_DISCONNECTED` if the connection ends first.
   */
  waitFor<E extends string>(event: E, options: QmpWaitOptions = {}): Promise<QmpEventFor<E>> {
    return this.#waitFor(event, options) as Promise<QmpEventFor<E>>;
  }

  #waitFor(event: string, options: QmpWaitOptions): Promise<QmpEvent> {
    const what = `QMP event ${event}${options.match ? ` matching ${stringifyQmpJson(options.match)}` : ""}`;
    if (options.signal?.aborted)
      return Promise.reject(new AbortError(`waiting for ${what}`, { cause: options.signal.reason }));
    if (options.since !== undefined) {
      for (const h of this.#history) {
        if (
          !h.consumed &&
          h.at >= options.since &&
          h.event.event === event &&
          (!options.match || matchesPartial(h.event.data, options.match))
        ) {
          h.consumed = true;
          return Promise.resolve(h.event);
        }
      }
    }
    if (this.#isClosed) return Promise.reject(this.#disconnectedError(`waitFor(${event})`));
    const timeout = options.timeout ?? QMP_DEFAULT_WAIT_TIMEOUT;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        event,
        match: options.match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#dropWaiter(waiter);
          reject(new TimeoutError(what, timeout));
        }, timeout),
        unlisten: onAbort(options.signal, (reason) => {
          this.#dropWaiter(waiter);
          reject(new AbortError(`waiting for ${what}`, { cause: reason }));
        }),
      };
      this.#waiters.add(waiter);
    });
  }

  #dropWaiter(w: Waiter): void {
    this.#waiters.delete(w);
    clearTimeout(w.timer);
    w.unlisten();
  }

  /**
   * Events still in the bounded history, oldest first, with their receive time (epoch ms)
   * and whether a `waitFor` has consumed them.
   *
   * @example
   * ```ts
   * const stops = qmp.history().filter((h) => h.event.event === "STOP");
   * ```
   */
  history(): readonly { readonly event: QmpEvent; readonly at: number; readonly consumed: boolean }[] {
    return this.#history.map((h) => ({ ...h }));
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
    // Resolve only once the socket is really gone: until then this process still holds
    // the monitor, and an attach() right after (here or elsewhere) would find it busy.
    const stream = this.#stream;
    const gone = stream.destroyed ? undefined : new Promise<void>((r) => stream.once("close", () => r()));
    if (!this.#isClosed) {
      this.#flush();
      this.#ending = true;
      stream.end();
      // A peer that never closes its side must not keep us waiting.
      const t = setTimeout(() => stream.destroy(), 500);
      t.unref?.();
      this.#disconnect();
    }
    await gone;
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
    let msg: WireMessage;
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
    if (msg.event !== undefined) {
      this.#onEvent(msg as QmpEvent);
      return;
    }
    const id = msg.id;
    if (id === undefined) {
      this.#onIdlessReply(msg, frame.text);
      return;
    }
    const p = typeof id === "number" ? this.#pending.get(id) : undefined;
    if (!p) {
      this.#anomaly("unknown-id", frame.text);
      return;
    }
    this.#pending.delete(id);
    if (!p.oob) {
      this.#advanceInband(p);
      if (this.#quarantine !== 0 && id >= this.#quarantine) this.#quarantine = 0;
    }
    this.#deliver(p, msg);
  }

  /**
   * A reply without an id. QEMU answers in-band requests in order, so it belongs to the
   * oldest in-band command still owed a reply, and only the bare command can get an id-less
   * answer to a request QEMU parsed. Anything else is a protocol fault.
   */
  #onIdlessReply(msg: WireMessage, text: string): void {
    const head = this.#inband[this.#inbandHead];
    const parseError = msg.error !== undefined && PARSE_ERROR.test(String(msg.error.desc));
    if (this.#quarantine !== 0) {
      // More errors of the request that failed to parse, or the bare command's own reply:
      // only a reply that is no parse error can be the latter.
      if (parseError || head === undefined || head !== this.#bare) {
        this.#anomaly("unexpected", text);
        return;
      }
      this.#advanceInband(head);
      this.#bare = undefined;
      this.#deliver(head, msg);
      return;
    }
    if (head === undefined) {
      this.#anomaly("unexpected", text);
      // An id-less parse error with nothing owed: something we could not see was sent.
      if (parseError) this.#fault(undefined, msg);
      return;
    }
    if (head.id !== 0 || parseError) {
      this.#fault(head, msg);
      return;
    }
    this.#advanceInband(head);
    this.#bare = undefined;
    this.#deliver(head, msg);
  }

  /**
   * QEMU could not parse a request. The request may produce more than one id-less error
   * (QEMU's parser resynchronises token by token), so until QEMU answers a command sent
   * after this point, no command goes out without an id and id-less parse errors are
   * dropped. Rejected with QmpProtocolError: the command at the head of the in-band queue,
   * whose reply this is taken for.
   */
  #fault(head: Pending | undefined, msg: WireMessage): void {
    const desc = msg.error !== undefined ? String(msg.error.desc) : undefined;
    this.#anomaly("fault", stringifyQmpJson(msg));
    const resync = this.#quarantine === 0 || this.#quarantine < this.#nextId;
    this.#quarantine = this.#nextId;
    const victims = new Set<Pending>();
    if (head) victims.add(head);
    if (head === this.#bare) this.#bare = undefined;
    for (const v of victims) {
      v.queued = false;
      if (v.id !== 0) this.#pending.delete(v.id);
      this.#settle(
        v,
        new QmpProtocolError(
          v.command,
          `QEMU answered with an error that carries no id (${desc ?? "a reply"}), which cannot be matched to QMP command ${v.command} for sure`,
          desc,
          { details: { qemu: this.qemuVersion } },
        ),
      );
    }
    // Drop the victims from the in-band queue: their replies will not be matched any more.
    this.#inband = this.#inband.slice(this.#inbandHead).filter((p) => !victims.has(p));
    this.#inbandHead = 0;
    // A command of our own, with the id the quarantine waits for: its reply ends the
    // quarantine, and commands queued before it that QEMU skipped reject instead of hanging.
    if (resync && !this.#isClosed) void this.executeRaw("query-version", undefined, { timeout: 0 }).catch(() => {});
  }

  /**
   * `p`'s reply came: it leaves the in-band queue. In-band commands sent before it and still
   * queued were answered without an id that was never matched (only possible after QEMU's
   * parser failed): they reject rather than wait forever.
   */
  #advanceInband(p: Pending): void {
    if (!p.queued) return;
    const q = this.#inband;
    let h = this.#inbandHead;
    while (h < q.length && q[h] !== p) {
      const skipped = q[h++]!;
      skipped.queued = false;
      if (skipped.id !== 0) this.#pending.delete(skipped.id);
      else if (this.#bare === skipped) this.#bare = undefined;
      this.#settle(
        skipped,
        new QmpProtocolError(
          skipped.command,
          `QEMU answered a later command before QMP command ${skipped.command}, whose reply was lost`,
          undefined,
          { details: { qemu: this.qemuVersion } },
        ),
      );
    }
    if (h < q.length) q[h++]!.queued = false;
    if (h === q.length) {
      this.#inband = [];
      this.#inbandHead = 0;
    } else if (h > 1024 && h * 2 > q.length) {
      this.#inband = q.slice(h);
      this.#inbandHead = 0;
    } else this.#inbandHead = h;
  }

  #deliver(p: Pending, msg: WireMessage): void {
    if (p.settled) return;
    if (msg.error === undefined) {
      this.#settle(p, undefined, msg.return);
      return;
    }
    if (msg.error.class === "CommandNotFound") {
      // Settled first so a timeout cannot fire while the suggestions are looked up.
      p.settled = true;
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.unlisten?.();
      if (p.deadline !== 0 && this.#timed[this.#timedHead] === p) this.#dropSettledTimed();
      this.#notFound(p.command, msg.error.desc).then(p.resolve, p.reject);
      return;
    }
    const desc = String(msg.error.desc);
    this.#settle(
      p,
      new QmpCommandError(p.command, String(msg.error.class), desc, {
        ...(p.oob && /OOB/.test(desc)
          ? {
              advice: `only commands that allow out-of-band execution take { oob: true } (see "allow-oob" in qmp.schema()); send ${p.command} in-band`,
            }
          : {}),
        details: { qemu: this.qemuVersion },
      }),
    );
  }

  #onGarbage(g: GarbageFrame): void {
    this.#anomaly("garbage", g.garbage);
    if (this.#greetingWaiter) this.#failGreeting(g.garbage);
  }

  #failGreeting(text: string): void {
    const w = this.#greetingWaiter!;
    this.#greetingWaiter = undefined;
    w(
      undefined,
      new QmpConnectionError(
        "QMP_CONNECT",
        `${this.#target} sent ${JSON.stringify(text.slice(0, 200))} instead of a QMP greeting`,
        {
          advice: "the socket is not a QMP monitor (maybe an HMP monitor or a serial console?)",
          details: { target: this.#target },
        },
      ),
    );
  }

  #onEvent(e: QmpEvent): void {
    const h = this.#history;
    const entry: HistoryEntry = { event: e, at: Date.now(), consumed: false };
    h.push(entry);
    // Trim in batches so the history costs O(1) per event on average.
    if (h.length > this.#historyLimit * 2) h.splice(0, h.length - this.#historyLimit);
    const exact = this.#listeners.get(e.event);
    if (exact) for (const l of exact) this.#safely(l, e);
    const all = this.#listeners.get("*");
    if (all) for (const l of all) this.#safely(l, e);
    for (const s of this.#streams) s.push(e);
    // The first waiter (in call order) that matches takes the event; it is consumed.
    for (const w of this.#waiters) {
      if (w.event === e.event && (!w.match || matchesPartial(e.data, w.match))) {
        this.#dropWaiter(w);
        entry.consumed = true;
        w.resolve(e);
        break;
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

  /** The CommandNotFound error, with the nearest command names this QEMU has. */
  async #notFound(command: string, desc?: string): Promise<never> {
    const names = await this.#names().catch(() => [] as string[]);
    const near = nearestNames(command, names);
    const advice = near.length
      ? `did you mean ${near.join(" or ")}? (QEMU ${this.qemuVersion} has no QMP command "${command}"; list them with qmp.schema())`
      : `QEMU ${this.qemuVersion} has no QMP command "${command}" and none with a similar name; list them with qmp.schema() or check qmp.hasCommand() first`;
    throw new QmpCommandError(command, "CommandNotFound", desc ?? `The command ${command} has not been found`, {
      advice,
      details: { qemu: this.qemuVersion, suggestions: near },
    });
  }

  /** Command names of the connected QEMU (`query-commands`, fetched once). */
  #names(): Promise<string[]> {
    if (this.#commandNames) return Promise.resolve([...this.#commandNames]);
    if (!this.#commandList) {
      this.#commandList = this.execute("query-commands").then((list) => list.map((c) => c.name));
      this.#commandList.catch(() => (this.#commandList = undefined));
    }
    return this.#commandList;
  }

  #disconnectedError(what: string, cause?: unknown): QmpConnectionError {
    return (
      this.#closeError ??
      new QmpConnectionError("QMP_DISCONNECTED", `QMP connection to ${this.#target} is closed (${what})`, {
        advice: "QEMU exited or the monitor was closed; check the VM's exit status and log",
        cause,
      })
    );
  }

  #disconnect(cause?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const mid = this.#framer.midMessage ? " in the middle of a message" : "";
    const pending = [...this.#pending.values()].filter((p) => !p.settled);
    if (this.#bare && !this.#bare.settled) pending.push(this.#bare);
    this.#pending.clear();
    this.#bare = undefined;
    this.#inband = [];
    this.#inbandHead = 0;
    const err = new QmpConnectionError(
      "QMP_DISCONNECTED",
      `QMP connection to ${this.#target} (QEMU ${this.qemuVersion}) ended${mid}${pending.length ? ` with ${pending.length} command(s) pending` : ""}${cause ? `: ${cause.message}` : ""}`,
      {
        advice: "QEMU exited or the monitor was closed; check the VM's exit status and log",
        cause,
        details: { target: this.#target, pending: pending.length },
      },
    );
    this.#closeError = err;
    for (const p of pending) this.#settle(p, err);
    this.#timed = [];
    this.#timedHead = 0;
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const w of [...this.#waiters]) {
      this.#dropWaiter(w);
      w.reject(err);
    }
    this.#waiters.clear();
    for (const s of [...this.#streams]) s.end();
    if (this.#greetingWaiter) {
      const g = this.#greetingWaiter;
      this.#greetingWaiter = undefined;
      g(
        undefined,
        new QmpConnectionError(
          "QMP_CONNECT",
          `${this.#target} closed the connection before the QMP greeting${cause ? `: ${cause.message}` : ""}`,
          {
            advice: "QEMU greets only one client per monitor: is another client connected? Did QEMU exit?",
            cause,
            details: { target: this.#target },
          },
        ),
      );
    }
    if (!this.#ending && !this.#stream.destroyed) this.#stream.destroy();
    this.#resolveClosed();
  }
}
