/**
 * Who holds an image lock. qemu-img only says "Is another process using the image?";
 * the machine layer knows which of its VMs opened which file and registers a lookup here.
 * @module
 */

import { readFileSync, type Stats } from "node:fs";

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
    } catch {
      /* a broken lookup must not hide the lock error itself */
    }
  }
  return undefined;
}

/**
 * True when QEMU's image locks are held on the file `st` describes. QEMU (and qemu-img)
 * take open-file-description locks on bytes 100-299 of every image they open, read-only or
 * not; /proc/locks lists them as `OFDLCK ... MAJ:MIN:INODE START END`. False when /proc/locks
 * cannot be read.
 *
 * @example
 * ```ts
 * if (isLockedByQemu(statSync("disk.qcow2"))) console.log("a VM uses it");
 * ```
 */
export function isLockedByQemu(st: Pick<Stats, "dev" | "ino">): boolean {
  let text: string;
  try {
    text = readFileSync("/proc/locks", "utf8");
  } catch {
    return false;
  }
  // Linux's stat dev encoding: major in bits 8-19, minor in bits 0-7 and 20-31.
  const major = (st.dev >> 8) & 0xfff;
  const minor = (st.dev & 0xff) | ((st.dev >>> 12) & 0xfff00);
  const id = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${st.ino}`;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    // "1: OFDLCK ADVISORY READ -1 fe:00:2147935 100 101" (a blocked waiter has "->" after the number)
    const at = f.indexOf(id);
    if (at < 0 || !f.includes("OFDLCK")) continue;
    const start = Number(f[at + 1]);
    if (start >= 100 && start < 300) return true;
  }
  return false;
}
