/**
 * Wait strategies: when is a freshly started guest "ready"? Small objects made by the
 * `Wait` factory, each with a default timeout, passed as `startVm(spec, { waitFor })`.
 * @module
 */
import { connect } from "node:net";
import { AbortError, TimeoutError } from "../errors/errors.ts";
import { onAbort } from "../util/abort.ts";
import type { VmHandle } from "./handle.ts";

/** Options `start()` passes to {@link WaitStrategy.wait}. */
export interface WaitRunOptions {
  /** Aborts the wait (start() passes its own signal). */
  readonly signal?: AbortSignal;
}

/** A readiness check. `wait()` is called before the vCPUs start, so nothing is missed. */
export interface WaitStrategy {
  /** Human description used in timeout errors. */
  readonly description: string;
  /** Milliseconds before the start fails. */
  readonly timeout: number;
  /** Resolves when ready; rejects with TimeoutError on timeout, AbortError when `options.signal` aborts. */
  wait(vm: VmHandle, options?: WaitRunOptions): Promise<void>;
}

/** Default timeouts (ms); TCG boots are slow. */
export const WAIT_DEFAULT_TIMEOUT = 60_000;

/** `p`, or a TimeoutError after `ms`, or an AbortError when `signal` aborts; `stop` ends the work behind `p`. */
function bounded<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  signal: AbortSignal | undefined,
  stop?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let off = () => {};
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stop?.();
        reject(new TimeoutError(what, ms));
      }, ms);
      off = onAbort(signal, (reason) => {
        stop?.();
        reject(new AbortError(`waiting for ${what}`, { cause: reason }));
      });
    }),
  ]).finally(() => {
    clearTimeout(timer);
    off();
  });
}

/** Tries one TCP connection; resolves true when it counts as ready. */
function probePort(host: string, port: number, banner: boolean, probeMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), probeMs);
    s.once("error", () => done(false));
    s.once("close", () => done(false));
    s.once("connect", () => {
      if (!banner) done(true);
    });
    s.once("data", () => done(true));
  });
}

/** The wait-strategy factories, {@link Wait}. */
export interface WaitFactories {
  /**
   * Ready when the serial console prints `pattern` (consumed like console.waitFor).
   * @example `Wait.forConsole(/login:/, { timeout: 120_000 })`
   */
  forConsole(pattern: string | RegExp, options?: { timeout?: number }): WaitStrategy;
  /**
   * Ready when QMP reports `event` (optionally with data matching `match`).
   * @example `Wait.forEvent("RESUME")`
   */
  forEvent(event: string, options?: { timeout?: number; match?: Record<string, unknown> }): WaitStrategy;
  /**
   * Ready when a TCP port on the host answers. With QEMU user networking the host side
   * accepts connections before the guest listens, so by default readiness means the
   * service sent something first (SSH, SMTP banners); pass `banner: false` when a
   * successful connect is enough (ports QEMU itself serves, e.g. VNC).
   * The port may come from the started VM, for ports QEMU picked (`vnc("auto")`, `forward("auto", ...)`).
   * @example `Wait.forPort(2222, { timeout: 120_000 })` or `Wait.forPort((m) => m.hostPort(22))`
   */
  forPort(
    port: number | ((vm: VmHandle) => number | Promise<number>),
    options?: { host?: string; timeout?: number; banner?: boolean; interval?: number },
  ): WaitStrategy;
  /**
   * Ready when every strategy is; fails as soon as one fails.
   * @example `Wait.forAll([Wait.forConsole(/\# /), Wait.forPort(8080)])`
   */
  forAll(strategies: readonly WaitStrategy[], options?: { timeout?: number }): WaitStrategy;
}

/**
 * Factories for wait strategies.
 *
 * @example
 * ```ts
 * const m = await vm().memory(512).start({ waitFor: Wait.forAll([Wait.forConsole(/# $/), Wait.forPort(2222)]) });
 * ```
 */
export const Wait: WaitFactories = {
  forConsole(pattern: string | RegExp, options: { timeout?: number } = {}): WaitStrategy {
    const timeout = options.timeout ?? WAIT_DEFAULT_TIMEOUT;
    return {
      description: `console output matching ${String(pattern)}`,
      timeout,
      wait: async (vm, o = {}) => {
        await vm.console.waitFor(pattern, { timeout, ...(o.signal ? { signal: o.signal } : {}) });
      },
    };
  },

  forEvent(event: string, options: { timeout?: number; match?: Record<string, unknown> } = {}): WaitStrategy {
    const timeout = options.timeout ?? WAIT_DEFAULT_TIMEOUT;
    return {
      description: `QMP event ${event}`,
      timeout,
      wait: async (vm, o = {}) => {
        await vm.qmp.waitFor(event, {
          timeout,
          ...(options.match ? { match: options.match } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        });
      },
    };
  },

  forPort(
    port: number | ((vm: VmHandle) => number | Promise<number>),
    options: { host?: string; timeout?: number; banner?: boolean; interval?: number } = {},
  ): WaitStrategy {
    const timeout = options.timeout ?? WAIT_DEFAULT_TIMEOUT;
    const host = options.host ?? "127.0.0.1";
    const banner = options.banner ?? true;
    const interval = options.interval ?? 100;
    const shown = typeof port === "number" ? String(port) : "<port from the VM>";
    const description = `TCP ${host}:${shown}${banner ? " sending a banner" : " accepting connections"}`;
    return {
      description,
      timeout,
      wait: (vm, o = {}) => {
        let stopped = false;
        return bounded(
          (async () => {
            const p = typeof port === "number" ? port : await port(vm);
            while (vm.state !== "exited" && !stopped) {
              if (await probePort(host, p, banner, 2000)) return;
              await new Promise((r) => setTimeout(r, interval));
            }
          })(),
          timeout,
          description,
          o.signal,
          () => {
            stopped = true;
          },
        );
      },
    };
  },

  forAll(strategies: readonly WaitStrategy[], options: { timeout?: number } = {}): WaitStrategy {
    const timeout = options.timeout ?? Math.max(WAIT_DEFAULT_TIMEOUT, ...strategies.map((s) => s.timeout));
    const description = strategies.map((s) => s.description).join(" and ");
    return {
      description,
      timeout,
      wait: (vm, o = {}) => {
        // One controller for the parts: when one fails or the whole times out, the rest stop.
        const ac = new AbortController();
        const off = onAbort(o.signal, (reason) => ac.abort(reason));
        const all = Promise.all(
          strategies.map((s) =>
            s.wait(vm, { signal: ac.signal }).catch((e) => {
              ac.abort(e);
              throw e;
            }),
          ),
        );
        return bounded(
          all.then(() => {}),
          timeout,
          description,
          o.signal,
          () => ac.abort(),
        ).finally(off);
      },
    };
  },
};
