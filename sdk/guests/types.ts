/**
 * Descriptions of the built-in guests, as returned by `guests.tiny()` and friends.
 * @module
 */

/** Debian's cloud kernel with an initramfs qemukit writes itself; boots with `-kernel`/`-initrd`. */
export interface TinyGuest {
  readonly name: "tiny";
  /** The kernel image (bzImage), for `-kernel`. */
  readonly kernel: string;
  /** The gzip-compressed cpio initramfs, for `-initrd`. */
  readonly initrd: string;
  /** Kernel command line for `-append`; includes `console=ttyS0`. */
  readonly append: string;
  /**
   * Matches the root shell prompt on the serial console (`root@tiny:/# `). `JSON.stringify`
   * writes its source text (`new RegExp(text)` rebuilds it).
   */
  readonly prompt: RegExp;
  /** Memory the guest is meant to run with. */
  readonly memoryMiB: number;
  /** Cache directory that holds the files. */
  readonly dir: string;
  /** Kernel release, e.g. `6.1.0-56-cloud-amd64`. */
  readonly kernelRelease: string;
}

/**
 * A Debian 12 disk that boots two ways: from the disk alone (SeaBIOS, GRUB in the MBR, as a
 * real machine would; about 23-26 s to a shell under TCG here), or faster with the same
 * kernel and initramfs given to QEMU directly (`kernel`, `initrd`, `append`; about 12 s),
 * which skips the BIOS disk reads and, for a PVH kernel, the kernel's own decompression.
 */
export interface DebianGuest {
  readonly name: "debian";
  /** The qcow2 base image. Read-only: run it through an overlay. */
  readonly image: string;
  readonly format: "qcow2";
  /**
   * The image's kernel for `-kernel`: an uncompressed PVH `vmlinux` (QEMU jumps straight to
   * its entry point), or its bzImage when the kernel has no PVH entry.
   */
  readonly kernel: string;
  /** The image's own initramfs (the one GRUB loads), for `-initrd`. */
  readonly initrd: string;
  /** The kernel command line GRUB passes, for `-append`; the root file system is the disk's. */
  readonly append: string;
  /** Matches the root shell prompt on ttyS0 (`root@debian:~# `); JSON holds its source text. */
  readonly prompt: RegExp;
  readonly memoryMiB: number;
  readonly dir: string;
  readonly kernelRelease: string;
}

/** A Debian installer ISO with SHA512SUMS, a detached signature and the signing key. */
export interface InstallerGuest {
  readonly name: "installer";
  /** The bootable ISO (isolinux), for `-cdrom`. */
  readonly iso: string;
  /** `SHA512SUMS` listing the ISO's file name. */
  readonly sha512sums: string;
  /** Detached binary OpenPGP signature over `SHA512SUMS`. */
  readonly signature: string;
  /** Binary keyring holding the signing key's public part (for `gpgv --keyring`). */
  readonly publicKey: string;
  /** Fingerprint of the signing key (40 hex digits). */
  readonly fingerprint: string;
  /** Memory the installer needs to show its menu without "low memory mode". */
  readonly memoryMiB: number;
  readonly dir: string;
}

/** Any built-in guest. */
export type Guest = TinyGuest | DebianGuest | InstallerGuest;

/** Names of the built-in guests. */
export type GuestName = Guest["name"];

/** The names, in build order. */
export const GUEST_NAMES: readonly GuestName[] = ["tiny", "debian", "installer"];

/** A progress report from a guest build. */
export interface BuildProgress {
  readonly guest: GuestName;
  /** 1-based step number. */
  readonly step: number;
  readonly steps: number;
  /** What the step does. */
  readonly label: string;
  /** Overall completion, 0..100. */
  readonly percent: number;
}

/** Options accepted by `guests.tiny()`, `guests.debian()` and `guests.installer()`. */
export interface BuildOptions {
  /** Rebuild even when a cached build exists. @default false */
  readonly force?: boolean;
  /**
   * Where progress goes: a callback, `"auto"` (stderr: a rewritten line on a TTY,
   * plain lines otherwise) or `false` (silent). @default "auto"
   */
  readonly progress?: ((p: BuildProgress) => void) | "auto" | false;
  /** Cache root; defaults to `cacheDir()`. */
  readonly cacheDir?: string;
}

/** One entry of `guests.list()`. */
export interface GuestListing {
  readonly name: GuestName;
  /** True when a complete build for the current recipe is in the cache. */
  readonly built: boolean;
  /** Recipe hash the current build would have. */
  readonly hash: string;
  /** The directory of the current recipe's build (exists only when built). */
  readonly dir: string;
  /** Bytes on disk, when built. */
  readonly bytes?: number;
  /** Seconds the build took, when built. */
  readonly buildSeconds?: number;
  /**
   * Builds of this guest that no copy of qemukit can use: an older recipe version, or the
   * current version built from inputs that changed since. `guests.prune()` removes these.
   */
  readonly stale: readonly string[];
  /** Other builds of this guest kept because they may belong to another copy (a newer recipe version, an unknown format). */
  readonly others: readonly string[];
}
