/**
 * The VMs a REPL session started, so that leaving the REPL (Ctrl-D, `.exit`, Ctrl-C twice)
 * does not leave QEMU running. Daemonized VMs are left alone: that is what daemonize means.
 * @module
 */

/** The parts of a RunningVm the session uses. */
export interface SessionVm {
  readonly name: string;
  readonly pid: number;
  readonly daemonized: boolean;
  readonly exited: Promise<unknown>;
  readonly qmp?: {
    executeRaw(name: string, args?: Record<string, unknown>, options?: { timeout?: number }): Promise<unknown>;
  };
  shutdown(options?: { timeouts?: Record<string, number> }): Promise<unknown>;
  detach?(): Promise<void>;
}

/** A `list()` entry, as far as the session cares. */
export interface SessionListing {
  readonly name: string;
  readonly pid: number;
  readonly daemonized: boolean;
  readonly ownerPid: number;
}

/** Options of {@link VmSession}. */
export interface VmSessionOptions {
  /** The SDK's `list()`, used to catch VMs this process started outside the tracked paths. */
  readonly list?: () => Promise<readonly SessionListing[]>;
  /** Shutdown ladder for REPL exit; short, since the user is waiting. */
  readonly timeouts?: Record<string, number>;
}

const EXIT_TIMEOUTS = { powerdown: 1500, quit: 3000, term: 3000, kill: 3000 };

/**
 * Tracks VMs started in this process and stops them on {@link VmSession.close}.
 *
 * @example
 * ```ts
 * const session = new VmSession({ list });
 * session.track(await vm().start());
 * await session.close(); // shutdown() on every non-daemonized VM still running
 * ```
 */
export class VmSession {
  readonly #vms = new Set<SessionVm>();
  readonly #options: VmSessionOptions;
  #closing: Promise<void> | undefined;

  constructor(options: VmSessionOptions = {}) {
    this.#options = options;
  }

  /** Remembers `vm` until it exits; returns it for chaining. */
  track<T extends SessionVm>(vm: T): T {
    this.#vms.add(vm);
    void vm.exited.then(
      () => this.#vms.delete(vm),
      () => this.#vms.delete(vm),
    );
    return vm;
  }

  /** VMs started in this session that are still running, newest last. */
  get running(): readonly SessionVm[] {
    return [...this.#vms];
  }

  /**
   * Wraps a start function (`VmBuilder.prototype.start`, `startVm`) so that every VM it
   * returns is tracked.
   */
  wrapStart<A extends unknown[], R extends SessionVm>(
    start: (this: unknown, ...args: A) => Promise<R>,
  ): (this: unknown, ...args: A) => Promise<R> {
    const session = this;
    const wrapped = async function (this: unknown, ...args: A): Promise<R> {
      return session.track(await start.apply(this, args));
    };
    Object.defineProperty(wrapped, "name", { value: start.name });
    return wrapped;
  }

  /** Shuts down every tracked non-daemonized VM, detaches from daemonized ones. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const timeouts = this.#options.timeouts ?? EXIT_TIMEOUTS;
    const vms = [...this.#vms];
    await Promise.allSettled(vms.map((vm) => (vm.daemonized ? vm.detach?.() : vm.shutdown({ timeouts }))));
    // A VM started through a path we did not wrap is still our child: QEMU would die with us
    // (pdeathsig), but a signal now lets it exit cleanly and its run directory be removed.
    if (!this.#options.list) return;
    const known = new Set(vms.map((v) => v.pid));
    const listing = await this.#options.list().catch(() => [] as SessionListing[]);
    const strays = listing.filter((l) => l.ownerPid === process.pid && !l.daemonized && !known.has(l.pid));
    for (const s of strays) {
      try {
        process.kill(s.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
  }
}
