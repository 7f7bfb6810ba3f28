/**
 * Public shapes of the QMP client: events, greeting, options, and the helpers that make
 * `execute` typed by the generated `@qemu-types/qmp` package.
 * @module
 */
import type { QmpCommands, QmpEvents } from "@qemu-types/qmp";

/** An asynchronous QMP event as QEMU sent it. */
export interface QmpEvent {
  /** Event name, e.g. `STOP`, `SHUTDOWN`, `BLOCK_JOB_COMPLETED`. */
  readonly event: string;
  /** Event payload; its shape per event is `QmpEvents[name]` in `@qemu-types/qmp`. */
  // biome-ignore lint/suspicious/noExplicitAny: the payload of an event the generated types do not know (a newer QEMU's) is arbitrary JSON, read without casts as JSON.parse's result is; known events get a typed `data` through QmpEventFor.
  readonly data?: any;
  /** When QEMU emitted the event (host clock). */
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

/** The greeting QEMU sends when a client connects. */
export interface QmpGreeting {
  readonly version: {
    readonly qemu: { readonly major: number; readonly minor: number; readonly micro: number };
    readonly package: string;
  };
  /** Capabilities QEMU offers, e.g. `["oob"]`. */
  readonly capabilities: string[];
}

/** Where to connect: a unix socket path, a TCP address, or an already-open duplex stream. */
export type QmpTarget = string | { readonly host: string; readonly port: number } | import("node:stream").Duplex;

/** Options for `QmpClient.connect`. */
export interface QmpConnectOptions {
  /** Time allowed for connecting, the greeting and capability negotiation, in ms. @default 10000 */
  readonly timeout?: number;
  /** Keep retrying while the socket is missing or refuses (QEMU still starting) until this epoch ms. */
  readonly retryUntil?: number;
  /** Default timeout for every command in ms; 0 means none. @default 60000 */
  readonly commandTimeout?: number;
  /**
   * Refuse, before sending, arguments QEMU's JSON parser would reject (too deep, too many
   * tokens, too large, lone surrogates, noncharacters): QEMU's answer to those carries no
   * id. Turn off only to test QEMU itself; the client then copes with the id-less errors
   * by rejecting the commands they may belong to (`QMP_PROTOCOL`). @default true
   */
  readonly checkArguments?: boolean;
  /** Negotiate out-of-band execution when QEMU offers it. @default true */
  readonly oob?: boolean;
  /** How many past events `waitFor` can still see. @default 1000 */
  readonly eventHistory?: number;
}

/** Options for one command. */
export interface QmpExecuteOptions {
  /** Reject with a `TimeoutError` if no reply arrives within this many ms; 0 means none. @default the connection's commandTimeout (60000) */
  readonly timeout?: number;
  /** Reject with an `AbortError` when this signal aborts (the command may still run in QEMU). */
  readonly signal?: AbortSignal;
}

/** Options for {@link QmpClient.executeRaw}. */
export interface QmpRawExecuteOptions extends QmpExecuteOptions {
  /** Send as `exec-oob` (out-of-band); needs the `oob` capability and a command that allows it. */
  readonly oob?: boolean;
}

/** Options for {@link QmpClient.waitFor}. */
export interface QmpWaitOptions {
  /** Partial deep match against the event's `data`. */
  readonly match?: Record<string, unknown>;
  /** Give up after this many ms with a `TimeoutError`. @default 30000 */
  readonly timeout?: number;
  /** Give up with an `AbortError` when this signal aborts. */
  readonly signal?: AbortSignal;
  /**
   * Also look at events received at or after this epoch ms that no `waitFor` has consumed
   * yet (the bounded history). Without it only events arriving after the call count.
   * Capture `Date.now()` before an action whose event may come before its reply.
   */
  readonly since?: number;
}

/** Names of the commands known to the generated types. */
export type QmpCommandName = keyof QmpCommands & string;

type ArgsOf<K extends keyof QmpCommands> = QmpCommands[K] extends { args: infer A } ? A : never;
type RetOf<K extends keyof QmpCommands> = QmpCommands[K] extends { ret: infer R } ? R : never;

/** True when no member of T is required (so the argument object may be left out). */
// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty object here, the type-level test for "no required member", not "any non-nullish value".
type AllOptional<T> = {} extends T ? true : false;

/** Parameter list of `execute(name, ...)`: the arguments object is required when the command has required members. */
export type QmpExecuteParams<K extends keyof QmpCommands> =
  AllOptional<ArgsOf<K>> extends true
    ? [args?: ArgsOf<K>, options?: QmpExecuteOptions]
    : [args: ArgsOf<K>, options?: QmpExecuteOptions];

/** What `execute(name)` resolves to. */
export type QmpReturn<K extends keyof QmpCommands> = RetOf<K>;

/**
 * The event type for a name: for events known to the generated types, `data` is typed
 * (`waitFor("SHUTDOWN")` gives `data.reason: ShutdownCause`); other names get {@link QmpEvent}.
 */
export type QmpEventFor<E extends string> = E extends keyof QmpEvents
  ? Omit<QmpEvent, "event" | "data"> & { readonly event: E; readonly data: QmpEvents[E] }
  : QmpEvent;
