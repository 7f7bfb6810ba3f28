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
export { buildGuest, guests, list as listGuests, prune as pruneGuests } from "./guests.ts";
export { tiny, tinyRecipe, TINY_APPEND, TINY_PROMPT } from "./tiny.ts";
export { debian, debianRecipe, DEBIAN_APPEND, DEBIAN_PROMPT } from "./debian.ts";
export { installer, installerRecipe, INSTALLER_ISO_NAME } from "./installer.ts";
export { writeCpio, writeCpioGz, type CpioEntry } from "./cpio.ts";
export { FileTree } from "./file-tree.ts";
export { GuestBuildError } from "./errors.ts";
export { progressPrinter } from "./progress.ts";
export { type BuildManifest, cachedBuild, recipeHash } from "./cache.ts";
export type * from "./types.ts";
export { GUEST_NAMES } from "./types.ts";
