/**
 * `qemukit/guests`: built-in guests, built offline from Debian packages and cached:
 * `guests.tiny()` (kernel + qemukit's own initramfs), `guests.debian()` (a BIOS-bootable
 * Debian 12 disk), `guests.installer()` (a signed installer ISO), `guests.list()`,
 * `guests.prune()`.
 *
 * @example
 * ```ts
 * import { guests } from "qemukit/guests";
 * const t = await guests.tiny();
 * await vm().kernel(t.kernel, { initrd: t.initrd, append: t.append }).memory(t.memoryMiB).start();
 * ```
 * @module
 */
export { guests } from "./guests.ts";
export { GuestBuildError } from "./errors.ts";
export { GUEST_NAMES } from "./types.ts";
export type * from "./types.ts";
