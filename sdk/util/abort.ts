/**
 * Small AbortSignal helpers shared by every wait in the SDK. Internal: not exported from the
 * package root.
 * @module
 */
import { AbortError } from "../errors/errors.ts";

/**
 * Rejects (throws) with an {@link AbortError} when `signal` is already aborted.
 *
 * @example
 * ```ts
 * throwIfAborted(options.signal, "start()");
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortError(what, { cause: signal.reason });
}

/**
 * Calls `onAbort` once when `signal` aborts; returns the function that stops listening.
 * A missing signal costs nothing.
 *
 * @example
 * ```ts
 * const off = onAbort(signal, () => reject(new AbortError("waitFor")));
 * ```
 */
export function onAbort(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (!signal) return noop;
  if (signal.aborted) {
    onAbort(signal.reason);
    return noop;
  }
  const listener = () => onAbort(signal.reason);
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

const noop = () => {};
