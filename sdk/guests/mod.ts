/**
 * Built-in guests, built offline from Debian packages and cached:
 * `guests.tiny()` (kernel + qemukit's own initramfs), `guests.debian()` (a
 * BIOS-bootable Debian 12 disk), `guests.installer()` (a signed installer ISO).
 *
 * @example
 * ```ts
 * import { guests } from "qemukit";
 * const t = await guests.tiny();
 * await vm().kernel(t.kernel, { initrd: t.initrd, append: t.append }).memory(t.memoryMiB).start();
 * ```
 * @module
 */
import { tiny } from "./tiny.ts";

export { tiny, TINY_APPEND, TINY_PROMPT } from "./tiny.ts";
export { writeCpio, writeCpioGz, type CpioEntry } from "./cpio.ts";
export { FileTree } from "./file-tree.ts";
export { GuestBuildError } from "./errors.ts";
export { progressPrinter } from "./progress.ts";
export type * from "./types.ts";
export { GUEST_NAMES } from "./types.ts";

/** The built-in guests, as one namespace-style object. */
export const guests = { tiny } as const;
