/**
 * Everything a recipe creates (VMs, temporary directories) is registered here so it goes
 * away when the recipe ends, fails, or the user presses Ctrl-C.
 * @module
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

type Disposer = () => Promise<void>;

/** Every Resources scope not yet disposed, for {@link disposeAll} on Ctrl-C. */
const live = new Set<Resources>();

/** A VM handle as far as clean-up is concerned. */
interface Stoppable {
  shutdown(options?: { timeouts?: { powerdown?: number } }): Promise<unknown>;
  kill(): Promise<unknown>;
}

/**
 * A LIFO stack of clean-up actions, disposed with `await using` or by the Ctrl-C handler.
 *
 * @example
 * ```ts
 * await using res = new Resources();
 * const dir = await res.tempDir("create-disk-");
 * ```
 */
export class Resources implements AsyncDisposable {
  private readonly stack: { label: string; dispose: Disposer }[] = [];
  private disposed = false;
  private readonly vms = new Map<Stoppable, () => void>();

  constructor() {
    live.add(this);
  }

  /** Registers `dispose` to run when the scope ends; returns a function that unregisters it. */
  defer(label: string, dispose: Disposer): () => void {
    const entry = { label, dispose };
    this.stack.push(entry);
    return () => {
      const i = this.stack.indexOf(entry);
      if (i >= 0) this.stack.splice(i, 1);
    };
  }

  /** A fresh directory under the system temp dir, removed with the scope. */
  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `qemukit-${prefix}`));
    this.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /**
   * Registers a running VM, stopped at the end of the scope if the recipe has not stopped
   * it: QMP `quit` (no ACPI wait: this path runs on failures and Ctrl-C), SIGKILL if that
   * does not work within `timeout`. Returns the VM.
   */
  vm<T extends Stoppable>(vm: T, timeout = 20_000): T {
    const withTimeout = <R>(p: Promise<R>, ms: number) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([p, new Promise<"timeout">((ok) => (timer = setTimeout(() => ok("timeout"), ms)))]).finally(
        () => clearTimeout(timer),
      );
    };
    this.vms.set(
      vm,
      this.defer("stop VM", async () => {
        try {
          if ((await withTimeout(vm.shutdown({ timeouts: { powerdown: 0 } }), timeout)) !== "timeout") return;
        } catch {
          /* fall through to kill */
        }
        await withTimeout(
          vm.kill().catch(() => undefined),
          5_000,
        );
      }),
    );
    return vm;
  }

  /** Forgets a VM registered with {@link vm}: someone else stops it now (e.g. after `detach()`). */
  release(vm: Stoppable): void {
    this.vms.get(vm)?.();
    this.vms.delete(vm);
  }

  /** Runs every clean-up action, newest first; collects errors instead of stopping. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    live.delete(this);
    const errors: unknown[] = [];
    while (this.stack.length) {
      const { dispose } = this.stack.pop()!;
      try {
        await dispose();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw new AggregateError(errors, "clean-up failed");
  }
}

/** Disposes every live scope (in parallel). Used by the Ctrl-C handlers. */
export async function disposeAll(): Promise<void> {
  await Promise.allSettled([...live].map((r) => r[Symbol.asyncDispose]()));
}

/**
 * Installs a SIGINT/SIGTERM handler that cleans up every live scope, then runs
 * `onInterrupt` (e.g. to write a partial report), then exits with 130/143. Returns a
 * function that removes the handler.
 */
export function cleanUpOnInterrupt(
  onInterrupt?: (signal: string) => Promise<void> | void,
  before?: (signal: string) => void,
): () => void {
  let busy = false;
  const handler = (signal: NodeJS.Signals) => {
    if (busy) return; // a second Ctrl-C while cleaning up must not leave VMs behind
    busy = true;
    before?.(signal);
    void (async () => {
      await disposeAll();
      try {
        await onInterrupt?.(signal);
      } finally {
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
    })();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
