/**
 * The `tiny` guest: Debian's cloud kernel plus an initramfs written here (busybox,
 * e2fsprogs, fdisk/sfdisk, the block-device modules). Boots to a root shell on
 * ttyS0 in a few seconds under TCG.
 * @module
 */
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { buildCached } from "./build.ts";
import { writeCpioGz } from "./cpio.ts";
import { cloudKernelPackage, installedVersions } from "./debian-packages.ts";
import { FileTree } from "./file-tree.ts";
import { hostProgramsWithLibs } from "./host-files.ts";
import { fetchKernel, moduleClosure } from "./kernel.ts";
import { exec } from "../util/exec.ts";
import { jsonRegExp } from "../util/json.ts";
import type { BuildOptions, TinyGuest } from "./types.ts";

/**
 * The recipe's version, part of the cache key (the running file is not, so source and compiled
 * copies share builds). Bump it whenever a change here or in a helper changes the guest built
 * from the same inputs; `guest prune` removes builds of older versions. 2: keys no longer hash
 * the script file.
 */
const RECIPE_VERSION = 2;

/** Modules for disks (IDE/SATA via PIIX, virtio, SCSI CD-ROM), loop, and the ACPI power button. */
const MODULES = [
  "ata_piix",
  "ata_generic",
  "sd_mod",
  "sr_mod",
  "isofs",
  "loop",
  "virtio_pci",
  "virtio_blk",
  "virtio_scsi",
  "virtio_net",
  "button",
  "evdev",
] as const;

/** Real tools that replace busybox applets (busybox has no mkfs.ext4 and a smaller fdisk). */
const HOST_TOOLS = [
  "/sbin/mke2fs",
  "/sbin/e2fsck",
  "/sbin/resize2fs",
  "/sbin/tune2fs",
  "/sbin/dumpe2fs",
  "/sbin/sfdisk",
  "/sbin/fdisk",
  "/sbin/blkid",
  "/sbin/wipefs",
  "/bin/lsblk",
  // Debian's busybox ash runs its own applets before anything on PATH, which would
  // hide the real fdisk and mke2fs; bash does a plain PATH search.
  "/bin/bash",
] as const;
const TOOL_ALIASES: Readonly<Record<string, string>> = {
  "/sbin/mkfs.ext4": "mke2fs",
  "/sbin/mkfs.ext3": "mke2fs",
  "/sbin/mkfs.ext2": "mke2fs",
  "/sbin/fsck.ext4": "e2fsck",
  "/sbin/fsck.ext2": "e2fsck",
};
const HOST_PACKAGES = ["busybox-static", "e2fsprogs", "fdisk", "util-linux", "bash", "libc6"] as const;

/** Kernel command line: serial console, quiet, no slow probes that tiny does not need. */
export const TINY_APPEND = "console=ttyS0 quiet loglevel=3 panic=-1 tsc=unstable";
/** The shell prompt on the serial console (written to JSON as its source text). */
export const TINY_PROMPT: RegExp = jsonRegExp(/root@tiny:[^\n#]*# /);

function initScript(modules: readonly string[]): string {
  return `#!/bin/sh
# qemukit tiny guest: PID 1 sets up the basics, then hands over to busybox init.
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /mnt
mount -t devpts devpts /dev/pts
for m in ${modules.join(" ")}; do insmod /lib/modules/$m.ko 2>/dev/null; done
hostname tiny
exec /sbin/init
`;
}

const INITTAB = `::sysinit:/etc/init.d/rcS
::respawn:/bin/cttyhack /bin/bash -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
`;

const RCS = `#!/bin/sh
# The ACPI power button (QMP system_powerdown) powers the guest off: the first
# input event from the "Power Button" device is the press.
for e in /sys/class/input/event*; do
  if grep -q "Power Button" "$e/device/name" 2>/dev/null; then
    (dd if=/dev/input/\${e##*/} of=/dev/null bs=24 count=1 2>/dev/null && poweroff) &
  fi
done
`;

function profile(release: string): string {
  return `export PATH=/sbin:/bin
export PS1='root@tiny:\\w# '
export HOME=/root
export TERM=vt100
cd /root 2>/dev/null || cd /
echo "qemukit tiny guest: Debian kernel ${release}, busybox, e2fsprogs, fdisk/sfdisk"
`;
}

/** The inputs the tiny guest is built from; its hash names the cache entry. */
export async function tinyRecipe() {
  const kernelPkg = await cloudKernelPackage("tiny");
  const versions = await installedVersions("tiny", HOST_PACKAGES);
  const recipe = {
    guest: "tiny",
    version: RECIPE_VERSION,
    kernel: { package: kernelPkg.name, version: kernelPkg.version },
    host: versions,
    modules: MODULES,
    tools: HOST_TOOLS,
    append: TINY_APPEND,
  };
  return { recipe, kernelPkg };
}

/**
 * Builds (if needed) and describes the tiny guest.
 *
 * @example
 * ```ts
 * const t = await tiny();
 * // qemu-system-x86_64 -kernel t.kernel -initrd t.initrd -append t.append -m t.memoryMiB -nographic
 * ```
 */
export async function tiny(options: BuildOptions = {}): Promise<TinyGuest> {
  const { recipe, kernelPkg } = await tinyRecipe();
  const { dir, facts, file } = await buildCached(
    {
      name: "tiny",
      recipe,
      weights: [5, 1, 1, 3],
      build: async (tmp, progress) => {
        const work = join(tmp, "work");
        await mkdir(work);
        progress.step(`download ${kernelPkg.name} ${kernelPkg.version}`);
        const kernel = await fetchKernel("tiny", kernelPkg.name, kernelPkg.release, work);
        progress.step("resolve kernel modules");
        const mods = await moduleClosure(kernel, MODULES);
        progress.step("collect busybox and disk tools");
        const tree = new FileTree();
        for (const d of ["proc", "sys", "dev", "run", "tmp", "mnt", "root", "etc/init.d", "lib/modules"]) tree.dir(d);
        tree.dir("tmp", 0o1777).dir("root", 0o700);
        // The kernel opens /dev/console before /init runs; without it init has no stdio.
        tree.chardev("dev/console", 5, 1);
        tree.file("bin/busybox", await readFile("/bin/busybox"), 0o755);
        for (const f of await hostProgramsWithLibs(HOST_TOOLS)) tree.file(f.path, f.data, f.mode);
        for (const [alias, target] of Object.entries(TOOL_ALIASES)) tree.symlink(alias, target);
        // Applets go to /bin or /sbin (PATH has no /usr); a real tool of the same name wins.
        const applets = await exec(["/bin/busybox", "--list-full"], { debianPackage: "busybox-static" });
        for (const applet of applets.stdout.split("\n").filter(Boolean)) {
          const name = basename(applet);
          const link = `${applet.includes("sbin/") ? "sbin" : "bin"}/${name}`;
          if (!tree.has(`sbin/${name}`) && !tree.has(`bin/${name}`)) tree.symlink(link, "/bin/busybox");
        }
        for (const m of mods) tree.file(`lib/modules/${m.name}.ko`, await readFile(m.path));
        tree.file("etc/mke2fs.conf", await readFile("/etc/mke2fs.conf"));
        tree.file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        // Bracketed-paste escapes around every prompt would pollute console transcripts.
        tree.file("etc/inputrc", "set enable-bracketed-paste off\n");
        tree.file("etc/group", "root:x:0:\n");
        tree.file("etc/hostname", "tiny\n");
        tree.file("etc/inittab", INITTAB);
        tree.file("etc/init.d/rcS", RCS, 0o755);
        tree.file("etc/profile", profile(kernel.release));
        tree.file("etc/fstab", "");
        tree.file("init", initScript(mods.map((m) => m.name)), 0o755);
        progress.step("write initramfs (cpio newc, gzip)");
        await writeFile(join(tmp, "initrd.gz"), writeCpioGz(tree.entries()));
        await copyFile(kernel.vmlinuz, join(tmp, "vmlinuz"));
        await rm(work, { recursive: true, force: true });
        for (const f of ["initrd.gz", "vmlinuz"]) await chmod(join(tmp, f), 0o444);
        return {
          kernel: "vmlinuz",
          initrd: "initrd.gz",
          kernelRelease: kernel.release,
          modules: mods.map((m) => m.name).join(" "),
        };
      },
    },
    options,
  );
  return {
    name: "tiny",
    kernel: file("kernel"),
    initrd: file("initrd"),
    append: TINY_APPEND,
    prompt: TINY_PROMPT,
    memoryMiB: 256,
    dir,
    kernelRelease: facts.kernelRelease,
  };
}
