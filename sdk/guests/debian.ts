/**
 * The `debian` guest: a BIOS-bootable Debian 12 qcow2, built without mounting
 * anything. mmdebstrap fills a directory; `mkfs.ext4 -d` turns it into the first
 * partition of a raw file; GRUB's boot.img and a grub-mkimage core image go into
 * the first sectors; `qemu-img convert` makes the qcow2.
 *
 * Boot speed under TCG: SeaBIOS + GRUB read the kernel and initrd through slow
 * BIOS disk calls, so the initrd is a ~2 MB busybox one written here (the disk
 * drivers, ext4 and their CRC modules are modules in Debian's generic kernel)
 * instead of Debian's ~30 MB one, systemd units nobody needs on a throwaway VM are
 * masked, root's shell on ttyS0 starts without login or sysinit.target, and the
 * qcow2 is not compressed (BIOS reads of compressed clusters are slow).
 * @module
 */
import { chmod, mkdir, open, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exec } from "../util/exec.ts";
import { jsonRegExp } from "../util/json.ts";
import { buildCached } from "./build.ts";
import { writeCpioGz } from "./cpio.ts";
import { buildTool, installedVersions, kernelPackage } from "./debian-packages.ts";
import { FileTree } from "./file-tree.ts";
import { kernelIn, moduleClosure } from "./kernel.ts";
import { writeBootKernel } from "./pvh.ts";
import type { BuildOptions, DebianGuest } from "./types.ts";

/** The recipe's version, part of the cache key: bump it when a change alters the guest built from the same inputs. */
const RECIPE_VERSION = 8;
const SUITE = "bookworm";
const MIRRORS = [
  "deb http://deb.debian.org/debian bookworm main",
  "deb http://deb.debian.org/debian-security bookworm-security main",
];
/**
 * Debian's generic kernel, not the cloud one: the cloud kernel has no e1000 driver, and e1000
 * is QEMU's default NIC (and `vm()`'s). Modules no VM needs are removed after install.
 */
const KERNEL_FLAVOUR = "amd64";
const PACKAGES = [
  "systemd-sysv",
  "udev",
  "kmod",
  `linux-image-${KERNEL_FLAVOUR}`,
  "fdisk",
  "e2fsprogs",
  "util-linux",
  "procps",
  "iproute2",
  "less",
  "qemu-guest-agent",
  "acpid",
];
/** Module trees of the generic kernel a QEMU guest never uses (about 250 MB of the image). */
const PRUNED_MODULES = [
  "sound",
  "drivers/gpu",
  "drivers/media",
  "drivers/net/wireless",
  "drivers/infiniband",
  "drivers/staging",
  "drivers/bluetooth",
  "drivers/iio",
  "drivers/isdn",
  "drivers/net/can",
  "drivers/usb/gadget",
  "drivers/input/touchscreen",
  "drivers/input/joystick",
  "drivers/mtd",
  "drivers/comedi",
  "net/wireless",
  "net/mac80211",
  "net/bluetooth",
];
/**
 * Loaded at boot by qemukit-modules.service, beside the shell's start rather than before it
 * (systemd-modules-load would hold up sysinit.target: 6 s under a loaded TCG) and before
 * udev's coldplug gets to them: the NICs QEMU offers, the virtio-serial port of the guest
 * agent, and the ACPI power button with evdev so acpid sees it.
 */
const BOOT_MODULES = ["e1000", "virtio_net", "virtio_console", "button", "evdev"];
/** The virtio-serial port name QEMU's guest agent channel uses (and qemu-ga looks for). */
export const GUEST_AGENT_PORT = "org.qemu.guest_agent.0";
/**
 * Modules udev would load for QEMU's PC devices and CPU flags that a test VM has no use for:
 * KVM inside the guest (nested, and slow to load under TCG), CPU frequency scaling that fails
 * on every CPU, the floppy, PC speaker, PS/2 mouse, SMBus. Blacklisted, udev skips them.
 */
const BLACKLISTED_MODULES = [
  "kvm",
  "kvm_amd",
  "kvm_intel",
  "powernow_k8",
  "floppy",
  "pcspkr",
  "psmouse",
  "serio_raw",
  "i2c_piix4",
];
/** Units a throwaway test VM does not need; each costs seconds under TCG. */
const MASKED = [
  // measured with systemd-analyze blame under TCG: getty-static alone took 12 s
  "getty-static.service",
  "getty@tty1.service",
  "getty@tty2.service",
  "serial-getty@ttyS0.service",
  "e2scrub_reap.service",
  "e2scrub_all.timer",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "fstrim.timer",
  "dpkg-db-backup.timer",
  "systemd-tmpfiles-clean.timer",
  "man-db.timer",
  "systemd-timesyncd.service",
  "systemd-networkd-wait-online.service",
  "remote-fs.target",
  "systemd-pstore.service",
  "sys-kernel-debug.mount",
  "sys-kernel-tracing.mount",
  "sys-kernel-config.mount",
  "sys-fs-fuse-connections.mount",
  "dev-hugepages.mount",
  "dev-mqueue.mount",
  "modprobe@drm.service",
  "modprobe@fuse.service",
  "modprobe@configfs.service",
  "modprobe@dm_mod.service",
  "modprobe@loop.service",
  "modprobe@efi_pstore.service",
  "systemd-journal-catalog-update.service",
  "systemd-update-done.service",
  "ldconfig.service",
  "systemd-hwdb-update.service",
  "systemd-sysusers.service",
  "systemd-random-seed.service",
  "systemd-update-utmp.service",
  "systemd-update-utmp-runlevel.service",
  "systemd-remount-fs.service",
  "systemd-binfmt.service",
  "proc-sys-fs-binfmt_misc.automount",
  "systemd-firstboot.service",
  "systemd-journal-flush.service",
  // Debian's unit waits for udev to announce the port; qemukit-ga.service finds it in sysfs.
  "qemu-guest-agent.service",
];
// ext4 and crc32c (its checksums) are modules in the generic kernel, and sd_mod needs t10_pi,
// whose CRCs come from crypto modules loaded only on request; built-in ones are skipped.
const INITRD_MODULES = [
  "crc32c_generic",
  "crct10dif_generic",
  "crc64_rocksoft_generic",
  "ata_piix",
  "ata_generic",
  "sd_mod",
  "virtio_pci",
  "virtio_blk",
  "ext4",
];
const LABEL = "qemukit-root";
const DISK_BYTES = 4 * 1024 ** 3;
const PART_START_SECTOR = 2048;

/** Kernel command line baked into grub.cfg. */
export const DEBIAN_APPEND = `root=LABEL=${LABEL} rw console=tty0 console=ttyS0,115200 quiet loglevel=3`;
/** The root prompt on ttyS0 (written to JSON as its source text). */
export const DEBIAN_PROMPT: RegExp = jsonRegExp(/root@debian:[^\n#]*# /);

const INIT = `#!/bin/sh
# qemukit's initramfs for the debian guest: load the disk drivers, mount root, switch.
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules); do
  insmod /lib/modules/$m.ko || echo "qemukit initramfs: insmod $m failed"
done
root=LABEL=${LABEL}
flags=rw
for a in $(cat /proc/cmdline); do
  case $a in root=*) root=\${a#root=} ;; ro) flags=ro ;; esac
done
dev=
i=0
# IDE probing under a loaded TCG host can take many seconds: wait up to 60 s.
while [ $i -lt 1200 ]; do
  case $root in /dev/*) [ -b "$root" ] && dev=$root ;; *) dev=$(findfs "$root" 2>/dev/null) ;; esac
  [ -n "$dev" ] && break
  i=$((i + 1))
  sleep 0.05
done
mkdir -p /newroot
if ! mount -t ext4 -o $flags "$dev" /newroot; then
  echo "qemukit initramfs: cannot mount the root file system ($root); dropping to a shell"
  exec sh
fi
umount /sys /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
`;

/** DHCP on whichever NIC QEMU gives (e1000 is `ens3`/`eth0`, virtio-net `ens*`/`enp*`). */
const NETWORK_FILE = `[Match]
Name=en* eth*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
`;

/**
 * acpid runs this on the ACPI power button, so QMP \`system_powerdown\` ends in a poweroff.
 * Signal 48 is SIGRTMIN+14 (glibc's SIGRTMIN is 34), systemd's "power off now": PID 1 goes
 * straight to systemd-shutdown, which still kills every process and unmounts or remounts the
 * file systems read-only, so nothing written is lost; it skips stopping each unit in turn
 * (7-10 s under a loaded TCG, past shutdown()'s patience). \`kill\` is the shell's builtin, so
 * no program has to start (\`systemctl --force poweroff\` took 3 s of that under load).
 */
const ACPI_POWER_EVENT = `event=button/power.*
action=kill -48 1
`;
/**
 * Starts qemu-ga on the virtio-serial port named ${GUEST_AGENT_PORT}, found through sysfs
 * (no wait for udev); a VM without that channel gives up after 10 s and stays quiet.
 */
const GUEST_AGENT_SCRIPT = `#!/bin/sh
i=0
while [ $i -lt 100 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ -r "$p/name" ] || continue
    if [ "$(cat "$p/name")" = "${GUEST_AGENT_PORT}" ]; then
      exec /usr/sbin/qemu-ga --method=virtio-serial --path="/dev/\${p##*/}"
    fi
  done
  i=$((i + 1))
  sleep 0.1
done
echo "qemukit-ga: no virtio-serial port named ${GUEST_AGENT_PORT}; the VM has no guest agent channel"
`;

const MODULES_UNIT = `[Unit]
Description=Drivers for QEMU's NICs, virtio-serial and the power button (qemukit)
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/sbin/modprobe -a ${BOOT_MODULES.join(" ")}

[Install]
WantedBy=multi-user.target
`;

// No default dependencies: qemu-ga needs only its port (virtio_console, loaded by
// qemukit-modules) and /run, not sysinit.target's udev coldplug and tmpfiles, which under TCG
// held the agent's first answer 10-15 s behind the shell prompt.
const GUEST_AGENT_UNIT = `[Unit]
Description=QEMU guest agent on the ${GUEST_AGENT_PORT} port (qemukit)
DefaultDependencies=no
After=qemukit-modules.service
Before=shutdown.target
Conflicts=shutdown.target

[Service]
ExecStart=/usr/local/sbin/qemukit-ga
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
`;

/**
 * bash as root on ttyS0 straight away: no agetty, login, PAM or motd (seconds under TCG), and
 * no wait for sysinit.target (udev's coldplug, tmpfiles): the root file system is mounted by
 * the initramfs, /dev by the kernel, so a shell can run as soon as journald listens. Services
 * (network, qemu-ga) keep coming up behind it; wait for them, not for the prompt, when a test
 * needs them (e.g. \`systemctl is-system-running --wait\`, or the agent's handshake).
 */
const CONSOLE_UNIT = `[Unit]
Description=Root shell on the serial console (qemukit)
DefaultDependencies=no
After=systemd-journald.socket
Before=shutdown.target
Conflicts=rescue.service shutdown.target

[Service]
ExecStart=-/bin/bash -l
WorkingDirectory=/root
Environment=HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=vt220
Type=simple
Restart=always
StandardInput=tty
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=yes
TTYVHangup=yes
KillMode=process
IgnoreSIGPIPE=no
SendSIGHUP=yes

[Install]
WantedBy=multi-user.target
`;

function grubCfg(release: string): string {
  return `serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
menuentry "Debian GNU/Linux 12 (qemukit)" {
  linux /boot/vmlinuz-${release} ${DEBIAN_APPEND}
  initrd /boot/initrd-qemukit.img
}
`;
}

async function writeRootCustomisations(root: string, release: string, initrd: Uint8Array): Promise<void> {
  const put = async (path: string, text: string | Uint8Array, mode = 0o644) => {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text, { mode });
    await chmod(join(root, path), mode);
  };
  await put("etc/hostname", "debian\n");
  await put("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 debian\n::1 localhost ip6-localhost ip6-loopback\n");
  // The initramfs mounts root read-write already; a root line here would make systemd
  // wait for udev to announce the disk (24 s under TCG) before remounting it.
  await put("etc/fstab", "# / is mounted read-write by qemukit's initramfs (LABEL=${LABEL})\n");
  // Root logs in on the serial console without a password (a local test VM).
  const shadow = await readFile(join(root, "etc/shadow"), "utf8");
  await put("etc/shadow", shadow.replace(/^root:[^:]*:/m, "root::"), 0o640);
  // Our own serial console unit instead of serial-getty@ttyS0: that one binds to
  // dev-ttyS0.device and so waits for udev's coldplug; the port exists from the start.
  // Root's shell needs no password: it is started without a login.
  await put("etc/systemd/system/qemukit-console.service", CONSOLE_UNIT);
  await mkdir(join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  await symlink(
    "../qemukit-console.service",
    join(root, "etc/systemd/system/multi-user.target.wants/qemukit-console.service"),
  );
  await put("etc/systemd/system/qemukit-modules.service", MODULES_UNIT);
  await enable(root, "qemukit-modules.service", "multi-user.target", "/etc/systemd/system");
  await put("etc/systemd/network/80-qemukit.network", NETWORK_FILE);
  await enable(root, "systemd-networkd.service", "multi-user.target");
  await enable(root, "systemd-networkd.socket", "sockets.target");
  // QEMU's user network answers DNS at 10.0.2.3 (no resolver daemon in the image).
  await rm(join(root, "etc/resolv.conf"), { force: true });
  await put("etc/resolv.conf", "nameserver 10.0.2.3\n");
  await put("etc/acpi/events/qemukit-power", ACPI_POWER_EVENT);
  await put("etc/modprobe.d/qemukit-blacklist.conf", BLACKLISTED_MODULES.map((m) => `blacklist ${m}\n`).join(""));
  await enable(root, "acpid.service", "multi-user.target");
  await put("usr/local/sbin/qemukit-ga", GUEST_AGENT_SCRIPT, 0o755);
  await put("etc/systemd/system/qemukit-ga.service", GUEST_AGENT_UNIT);
  await enable(root, "qemukit-ga.service", "multi-user.target", "/etc/systemd/system");
  await put("root/.inputrc", "$include /etc/inputrc\nset enable-bracketed-paste off\n");
  await put("etc/systemd/journald.conf.d/qemukit.conf", "[Journal]\nStorage=volatile\n");
  for (const unit of MASKED) {
    const link = join(root, "etc/systemd/system", unit);
    await rm(link, { force: true });
    await symlink("/dev/null", link);
  }
  // systemd runs every generator (one program start each, ~0.3 s apiece under TCG) before it
  // loads a unit; none has work on this image (no fstab entries, crypttab, SysV scripts that
  // lack units, GPT root, or hibernation), so all are masked the documented way.
  await mkdir(join(root, "etc/systemd/system-generators"), { recursive: true });
  for (const g of await readdir(join(root, "lib/systemd/system-generators"))) {
    await symlink("/dev/null", join(root, "etc/systemd/system-generators", g));
  }
  // No display manager: graphical.target only adds a step.
  await rm(join(root, "etc/systemd/system/default.target"), { force: true });
  await symlink("/lib/systemd/system/multi-user.target", join(root, "etc/systemd/system/default.target"));
  await put("boot/initrd-qemukit.img", initrd);
  await put("boot/grub/grub.cfg", grubCfg(release));
}

/** `systemctl enable` without systemctl: the wants symlink. */
async function enable(root: string, unit: string, target: string, dir = "/lib/systemd/system"): Promise<void> {
  const wants = join(root, "etc/systemd/system", `${target}.wants`);
  await mkdir(wants, { recursive: true });
  await rm(join(wants, unit), { force: true });
  await symlink(`${dir}/${unit}`, join(wants, unit));
}

async function initramfs(root: string, release: string): Promise<Uint8Array> {
  const kernel = await kernelIn(root, release);
  const mods = await moduleClosure(kernel, INITRD_MODULES);
  const tree = new FileTree();
  for (const d of ["proc", "sys", "dev", "newroot", "lib/modules"]) tree.dir(d);
  tree.chardev("dev/console", 5, 1);
  tree.file("bin/busybox", await readFile("/bin/busybox"), 0o755);
  for (const a of ["sh", "mount", "umount", "insmod", "findfs", "switch_root", "sleep", "mkdir", "cat"]) {
    tree.symlink(`bin/${a}`, "busybox");
  }
  tree.symlink("sbin", "bin");
  for (const m of mods) tree.file(`lib/modules/${m.name}.ko`, await readFile(m.path));
  tree.file("etc/modules", mods.map((m) => m.name).join("\n") + "\n");
  tree.file("init", INIT, 0o755);
  return writeCpioGz(tree.entries(), 9);
}

/** Writes GRUB's boot.img (first 440 bytes: the partition table stays) and core image at sector 1. */
async function installGrub(raw: string, coreImg: string): Promise<void> {
  const bootImg = await readFile("/usr/lib/grub/i386-pc/boot.img");
  const core = await readFile(coreImg);
  // boot.img loads core.img's first sector from LBA 1 (its default kernel sector) and
  // diskboot.img then reads the rest from LBA 2 on: placing core.img right after the
  // MBR needs no patching. The partition starts at 1 MiB, so core.img must fit below it.
  if (core.length > (PART_START_SECTOR - 1) * 512) throw new Error(`GRUB core image too big: ${core.length} bytes`);
  const fh = await open(raw, "r+");
  try {
    await fh.write(bootImg, 0, 440, 0);
    await fh.write(core, 0, core.length, 512);
  } finally {
    await fh.close();
  }
}

/** The inputs the debian guest is built from; its hash names the cache entry. */
export async function debianRecipe() {
  const kernelPkg = await kernelPackage("debian", KERNEL_FLAVOUR);
  const host = await installedVersions("debian", [
    "mmdebstrap",
    "e2fsprogs",
    "fdisk",
    "grub-pc-bin",
    "grub-common",
    "qemu-utils",
    "busybox-static",
  ]);
  const recipe = {
    guest: "debian",
    version: RECIPE_VERSION,
    kernel: { package: kernelPkg.name, version: kernelPkg.version },
    packages: PACKAGES,
    host,
  };
  return { recipe, kernelPkg };
}

/**
 * Builds (if needed) and describes the Debian 12 disk guest.
 *
 * @example
 * ```ts
 * const d = await debian();
 * await vm().memory(512).smp(2).disk(overlay(d.image)).start();
 * ```
 */
export async function debian(options: BuildOptions = {}): Promise<DebianGuest> {
  const { recipe } = await debianRecipe();
  const { dir, facts, file } = await buildCached(
    {
      name: "debian",
      recipe,
      weights: [40, 2, 3, 8, 1, 25],
      build: async (tmp, progress) => {
        const rootDir = join(tmp, "rootfs");
        progress.step(`mmdebstrap ${SUITE} (${PACKAGES.length} packages + minbase)`);
        await buildTool(
          "debian",
          [
            "mmdebstrap",
            "--variant=minbase",
            "--quiet",
            `--include=${PACKAGES.join(",")}`,
            // Debian's own initramfs would be ~30 MB, slow to read through BIOS calls; we write our own.
            // (diverted before the kernel's postinst runs; a conffile edit would stop dpkg at a prompt).
            `--essential-hook=chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"`,
            `--customize-hook=for d in ${PRUNED_MODULES.join(" ")}; do rm -rf "$1"/lib/modules/*/kernel/$d; done; ` +
              `for r in "$1"/lib/modules/*; do chroot "$1" depmod "\${r##*/}"; done`,
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            "--dpkgopt=path-include=/usr/share/locale/locale.alias",
            SUITE,
            rootDir,
            ...MIRRORS,
          ],
          {
            // mmdebstrap's helpers start with `#!/usr/bin/env python3`, once per package: a
            // version-manager shim earlier on PATH (pyenv, asdf) would cost seconds each.
            env: { PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ""}` },
          },
        );
        progress.step("initramfs, GRUB config, root shell on ttyS0, masked units");
        const release = (await readdir(join(rootDir, "lib/modules")))[0]!;
        const initrd = await initramfs(rootDir, release);
        await writeRootCustomisations(rootDir, release, initrd);
        progress.step("kernel and initramfs beside the disk, for direct boot (-kernel)");
        const kernelFormat = await writeBootKernel(join(rootDir, "boot", `vmlinuz-${release}`), join(tmp, "vmlinux"));
        await writeFile(join(tmp, "initrd-qemukit.img"), initrd);
        await chmod(join(tmp, "vmlinux"), 0o444);
        await chmod(join(tmp, "initrd-qemukit.img"), 0o444);
        await mkdir(join(rootDir, "boot/grub/i386-pc"), { recursive: true });
        for (const f of await readdir("/usr/lib/grub/i386-pc")) {
          if (f.endsWith(".mod") || f.endsWith(".lst")) {
            await writeFile(join(rootDir, "boot/grub/i386-pc", f), await readFile(join("/usr/lib/grub/i386-pc", f)));
          }
        }
        progress.step("partition table and ext4 file system (mkfs.ext4 -d)");
        const raw = join(tmp, "disk.raw");
        await (await open(raw, "w")).close();
        await exec(["truncate", "-s", String(DISK_BYTES), raw]);
        await buildTool("debian", ["sfdisk", "--quiet", raw], {
          input: `label: dos\nstart=${PART_START_SECTOR}, type=83, bootable\n`,
        });
        const partKiB = (DISK_BYTES - PART_START_SECTOR * 512) / 1024;
        await buildTool("debian", [
          "mkfs.ext4",
          "-q",
          "-F",
          "-L",
          LABEL,
          "-d",
          rootDir,
          "-E",
          `offset=${PART_START_SECTOR * 512}`,
          raw,
          `${partKiB}k`,
        ]);
        progress.step("GRUB boot.img + core image (i386-pc)");
        const core = join(tmp, "core.img");
        await buildTool("debian", [
          "grub-mkimage",
          "-O",
          "i386-pc",
          "-o",
          core,
          "-p",
          "(hd0,msdos1)/boot/grub",
          "biosdisk",
          "part_msdos",
          "ext2",
          "normal",
          "linux",
          "serial",
          "terminal",
          "configfile",
          "echo",
          "test",
        ]);
        await installGrub(raw, core);
        await rm(rootDir, { recursive: true, force: true });
        // Not compressed (-c): SeaBIOS reads the kernel a few sectors at a time, and QEMU
        // inflates a whole 64 KiB cluster for each read of a compressed one. Measured under
        // TCG: 82 s to the prompt compressed (100 MB) vs 34 s uncompressed (300 MB).
        progress.step("qemu-img convert -O qcow2");
        await buildTool("debian", [
          "qemu-img",
          "convert",
          "-f",
          "raw",
          "-O",
          "qcow2",
          raw,
          join(tmp, "debian-12.qcow2"),
        ]);
        await rm(raw, { force: true });
        await rm(core, { force: true });
        await chmod(join(tmp, "debian-12.qcow2"), 0o444);
        return {
          image: "debian-12.qcow2",
          kernelRelease: release,
          kernel: "vmlinux",
          kernelFormat,
          initrd: "initrd-qemukit.img",
        };
      },
    },
    options,
  );
  return {
    name: "debian",
    image: file("image"),
    format: "qcow2",
    kernel: file("kernel"),
    initrd: file("initrd"),
    append: DEBIAN_APPEND,
    prompt: DEBIAN_PROMPT,
    memoryMiB: 512,
    dir,
    kernelRelease: facts.kernelRelease,
  };
}
