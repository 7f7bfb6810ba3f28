/**
 * Every external program qemukit runs (the SDK, recipes, tests and benchmarks), with the
 * Debian package that provides it. `scripts/setup.sh` installs exactly these packages (a
 * test keeps its list equal to {@link setupPackages}), a not-found error names the package,
 * and a test fails when code runs a program this table does not name. Pure data.
 * @module
 */

/** One program: the Debian package it comes from and what qemukit uses it for. */
export interface ProgramInfo {
  /** Debian package that ships the program. */
  readonly package: string;
  /** Who runs it and why, for people reading the table. */
  readonly usedFor: string;
}

/**
 * Program name (as spawned, without a directory) -> its Debian package.
 *
 * @example
 * ```ts
 * PROGRAMS["qemu-img"].package; // "qemu-utils"
 * ```
 */
export const PROGRAMS = {
  "qemu-system-x86_64": { package: "qemu-system-x86", usedFor: "running VMs, the accelerator probes" },
  "qemu-system-i386": { package: "qemu-system-x86", usedFor: "the host check reports it" },
  "qemu-kvm": { package: "qemu-system-x86", usedFor: "the host check reports QEMU under its RHEL name when present" },
  "qemu-img": { package: "qemu-utils", usedFor: "every image operation" },
  "qemu-io": { package: "qemu-utils", usedFor: "tests and benchmarks write patterns into images" },
  setpriv: { package: "util-linux", usedFor: "QEMU dies with its parent (--pdeathsig); tests drop privileges" },
  prlimit: { package: "util-linux", usedFor: "a test hits RLIMIT_FSIZE for real" },
  script: { package: "bsdutils", usedFor: "the REPL benchmark runs the REPL on a pty" },
  mount: { package: "mount", usedFor: "a test mounts a small tmpfs to fill it" },
  umount: { package: "mount", usedFor: "a test mounts a small tmpfs to fill it" },
  sfdisk: { package: "fdisk", usedFor: "partitioning the debian guest's disk" },
  "mkfs.ext4": { package: "e2fsprogs", usedFor: "the debian guest's root filesystem" },
  mmdebstrap: { package: "mmdebstrap", usedFor: "building the debian guest's root tree" },
  "grub-mkimage": { package: "grub-common", usedFor: "the debian guest's boot loader" },
  xorriso: { package: "xorriso", usedFor: "the installer guest's ISO" },
  gpg: { package: "gnupg", usedFor: "the installer guest's signing key; verify dearmors keys" },
  gpgconf: { package: "gpgconf", usedFor: "stopping the gpg-agent a key generation started" },
  gpgv: { package: "gpgv", usedFor: "verify.signature()" },
  "apt-get": { package: "apt", usedFor: "downloading guest kernels and packages" },
  "apt-cache": { package: "apt", usedFor: "finding the guest kernel's version" },
  "dpkg-deb": { package: "dpkg", usedFor: "unpacking downloaded packages" },
  "dpkg-query": { package: "dpkg", usedFor: "guest cache keys name host package versions" },
  ldd: { package: "libc-bin", usedFor: "copying host programs with their libraries into a guest" },
  busybox: { package: "busybox-static", usedFor: "the tiny guest's userland" },
  xz: { package: "xz-utils", usedFor: "unpacking the debian guest's kernel for direct (PVH) boot" },
  cpio: { package: "cpio", usedFor: "tests read back the initramfs archives qemukit writes" },
  tmux: { package: "tmux", usedFor: "REPL tests drive the REPL on a real terminal" },
  vncsnapshot: { package: "vncsnapshot", usedFor: "a real VNC client in the vnc recipe" },
  chromium: { package: "chromium", usedFor: "the web console tests load its page in a real browser (playwright-core)" },
  sh: { package: "dash", usedFor: "tests compare shell quoting with a real shell" },
  dash: { package: "dash", usedFor: "a POSIX shell run by name" },
  grep: { package: "grep", usedFor: "a host test reads /proc/cpuinfo as grep does" },
  dd: { package: "coreutils", usedFor: "tests corrupt image headers" },
  rm: { package: "coreutils", usedFor: "tests remove files behind qemukit's back" },
  mkdir: { package: "coreutils", usedFor: "tests make directories with odd names" },
  truncate: { package: "coreutils", usedFor: "sparse disk files" },
  sha256sum: { package: "coreutils", usedFor: "tests compare checksums with the real tool" },
  sha512sum: { package: "coreutils", usedFor: "tests compare checksums with the real tool" },
  sha1sum: { package: "coreutils", usedFor: "tests compare checksums with the real tool" },
  md5sum: { package: "coreutils", usedFor: "tests compare checksums with the real tool" },
  cat: {
    package: "coreutils",
    usedFor: "tests run small real programs; templates save a machine state through QEMU's `exec:cat > FILE`",
  },
  echo: { package: "coreutils", usedFor: "tests run small real programs" },
  printf: { package: "coreutils", usedFor: "tests run small real programs" },
  sleep: { package: "coreutils", usedFor: "tests run small real programs" },
  true: { package: "coreutils", usedFor: "tests run small real programs" },
  wc: { package: "coreutils", usedFor: "the guest-script docs example counts the report's lines (zx)" },
  head: { package: "coreutils", usedFor: "the guest-script docs example reads the report's title (zx)" },
  chown: { package: "coreutils", usedFor: "data-safety tests hand a run root to another user" },
  stat: { package: "coreutils", usedFor: "data-safety tests read owners and modes as the shell does" },
  ps: { package: "procps", usedFor: "LibvirtVm.threads() lists QEMU's threads on the domain's host" },
  ss: { package: "iproute2", usedFor: "naming the process that holds a VNC port already in use" },
  tar: { package: "tar", usedFor: "the package test unpacks the packed tarballs" },
  find: { package: "findutils", usedFor: "the package test looks for .ts files in the installed packages" },
  virsh: { package: "libvirt-clients", usedFor: "the libvirt backend: domains, pools, volumes, node facts" },
  "virt-xml-validate": {
    package: "libvirt-clients",
    usedFor: "tests check compiled domain XML against libvirt's schema",
  },
  libvirtd: { package: "libvirt-daemon", usedFor: "tests and benchmarks run a private libvirtd" },
  unshare: { package: "util-linux", usedFor: "the private libvirtd runs in its own mount and PID namespace" },
  ssh: { package: "openssh-client", usedFor: "qemukit's streams to a remote libvirt host's sockets" },
  "ssh-keygen": { package: "openssh-client", usedFor: "tests make keys for a private sshd" },
  sshd: { package: "openssh-server", usedFor: "tests reach libvirt over qemu+ssh:// through a private sshd" },
  nc: {
    package: "netcat-openbsd",
    usedFor: "run on a libvirt host by libvirt's ssh transport and qemukit's socket streams",
  },
} as const satisfies Readonly<Record<string, ProgramInfo>>;

/**
 * Programs that come with the JavaScript runtimes rather than from apt: Node.js (which runs
 * qemukit, so it is there) and the `deno` npm package (a devDependency).
 *
 * @example
 * ```ts
 * RUNTIME_PROGRAMS.npm; // "ships with Node.js"
 * ```
 */
export const RUNTIME_PROGRAMS: Readonly<Record<string, string>> = {
  node: "runs qemukit itself",
  npm: "ships with Node.js",
  deno: "the npm package deno (a devDependency), for the Deno smoke test and REPL",
};

/** A program named in {@link PROGRAMS}. */
export type ProgramName = keyof typeof PROGRAMS;

/**
 * Packages needed for their files rather than for a program qemukit runs.
 *
 * @example
 * ```ts
 * Object.keys(DATA_PACKAGES).includes("grub-pc-bin"); // true
 * ```
 */
export const DATA_PACKAGES: Readonly<Record<string, string>> = {
  bash: "copied with e2fsprogs and fdisk into the tiny guest (bash, libc6 are Essential)",
  libc6: "copied with e2fsprogs and fdisk into the tiny guest (bash, libc6 are Essential)",
  "grub-pc-bin": "GRUB's i386-pc modules and boot.img for the debian guest",
  "debian-installer-12-netboot-amd64": "the installer guest's kernel and initrd",
  isolinux: "isolinux.bin for the installer ISO",
  "syslinux-common": "ldlinux.c32 and menu modules for the installer ISO",
  "debian-archive-keyring": "real OpenPGP keys to verify apt's signed files offline",
  "xz-utils": "xz and zstd decompressors for the archives a guest build unpacks",
  zstd: "xz and zstd decompressors for the archives a guest build unpacks",
  "libvirt-daemon-system": "libvirt's QEMU driver and directories, for the libvirt backend's tests",
  "libxml2-utils": "xmllint, which virt-xml-validate runs",
};

/**
 * The Debian package that provides `program` (a bare name or a path), if the table names it.
 *
 * @example
 * ```ts
 * debianPackageOf("/usr/bin/qemu-img"); // "qemu-utils"
 * debianPackageOf("frobnicate");        // undefined
 * ```
 */
export function debianPackageOf(program: string): string | undefined {
  const name = program.slice(program.lastIndexOf("/") + 1);
  return Object.hasOwn(PROGRAMS, name) ? PROGRAMS[name as ProgramName].package : undefined;
}

/**
 * Every Debian package `scripts/setup.sh` installs: the programs' packages and the data
 * packages, sorted and without duplicates.
 *
 * @example
 * ```ts
 * setupPackages().includes("cpio"); // true
 * ```
 */
export function setupPackages(): string[] {
  const all = new Set<string>([...Object.values(PROGRAMS).map((p) => p.package), ...Object.keys(DATA_PACKAGES)]);
  return [...all].sort();
}
