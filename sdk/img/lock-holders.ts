/**
 * Who holds an image lock. qemu-img only says "Is another process using the image?";
 * the machine layer knows which of its VMs opened which file and registers a lookup here.
 * @module
 */

/** Returns a holder name (e.g. a VM name) for an absolute image path, or undefined. */
export type LockHolderLookup = (path: string) => string | undefined;

const lookups = new Set<LockHolderLookup>();

/**
 * Registers a function that names the holder of a locked image. Returns an unregister function.
 *
 * @example
 * ```ts
 * const off = registerLockHolderLookup((p) => (p === disk ? "web1" : undefined));
 * // ... ImageLockedError.holder is now "web1" for that disk
 * off();
 * ```
 */
export function registerLockHolderLookup(fn: LockHolderLookup): () => void {
  lookups.add(fn);
  return () => void lookups.delete(fn);
}

/** Asks every registered lookup; the first answer wins. Lookups that throw are skipped. */
export function lookupLockHolder(path: string): string | undefined {
  for (const fn of lookups) {
    try {
      const who = fn(path);
      if (who) return who;
    } catch { /* a broken lookup must not hide the lock error itself */ }
  }
  return undefined;
}
