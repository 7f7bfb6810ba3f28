/**
 * The `installer` guest: a bootable Debian installer ISO (the netboot installer's
 * text kernel and initrd, isolinux, xorriso), a `SHA512SUMS` file over it, a
 * detached OpenPGP signature made with a key generated for the purpose, and that
 * key's public part as a keyring file for `gpgv --keyring`.
 * @module
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReadStream } from "node:fs";
import { exec } from "../util/exec.ts";
import { buildCached } from "./build.ts";
import { buildTool, installedVersions } from "./debian-packages.ts";
import type { BuildOptions, InstallerGuest } from "./types.ts";

/** The recipe's version, part of the cache key: bump it when a change alters the guest built from the same inputs. */
const RECIPE_VERSION = 2;
const DI_DIR = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";
const ISOLINUX_BIN = "/usr/lib/ISOLINUX/isolinux.bin";
const SYSLINUX_MODULES = "/usr/lib/syslinux/modules/bios";
/** The ISO's file name, as listed in SHA512SUMS. */
export const INSTALLER_ISO_NAME = "debian-12-amd64-netinst-qemukit.iso";

/** isolinux menu: shown for 5 s (a visible boot menu), then the installer starts. */
const ISOLINUX_CFG = `ui menu.c32
prompt 0
timeout 50
menu title Debian GNU/Linux 12 installer (qemukit)
default install
label install
  menu label ^Install
  kernel /install.amd/vmlinuz
  append initrd=/install.amd/initrd.gz vga=788 --- quiet
label expert
  menu label ^Expert install
  kernel /install.amd/vmlinuz
  append initrd=/install.amd/initrd.gz priority=low vga=788 ---
`;

async function sha512File(path: string): Promise<string> {
  const h = createHash("sha512");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** The inputs the installer guest is built from; its hash names the cache entry. */
export async function installerRecipe() {
  const host = await installedVersions("installer", [
    "debian-installer-12-netboot-amd64",
    "isolinux",
    "syslinux-common",
    "xorriso",
    "gnupg",
  ]);
  const recipe = { guest: "installer", version: RECIPE_VERSION, host };
  return { recipe };
}

/**
 * Builds (if needed) and describes the installer ISO and its signed checksums.
 *
 * @example
 * ```ts
 * const i = await installer();
 * // gpgv --keyring i.publicKey i.signature i.sha512sums && sha512sum -c SHA512SUMS
 * ```
 */
export async function installer(options: BuildOptions = {}): Promise<InstallerGuest> {
  const { recipe } = await installerRecipe();
  const { dir, facts, file } = await buildCached(
    {
      name: "installer",
      recipe,
      weights: [1, 6, 2, 2],
      build: async (tmp, progress) => {
        progress.step("lay out the ISO tree (installer kernel + initrd, isolinux)");
        const tree = join(tmp, "iso-tree");
        await mkdir(join(tree, "isolinux"), { recursive: true });
        await mkdir(join(tree, "install.amd"), { recursive: true });
        await copyFile(join(DI_DIR, "linux"), join(tree, "install.amd/vmlinuz"));
        await copyFile(join(DI_DIR, "initrd.gz"), join(tree, "install.amd/initrd.gz"));
        await copyFile(ISOLINUX_BIN, join(tree, "isolinux/isolinux.bin"));
        for (const m of ["ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"]) {
          await copyFile(join(SYSLINUX_MODULES, m), join(tree, "isolinux", m));
        }
        await writeFile(join(tree, "isolinux/isolinux.cfg"), ISOLINUX_CFG);
        progress.step("xorriso (isolinux El Torito image)");
        const iso = join(tmp, INSTALLER_ISO_NAME);
        await buildTool("installer", [
          "xorriso",
          "-as",
          "mkisofs",
          "-quiet",
          "-r",
          "-J",
          "-V",
          "DEBIAN12_QEMUKIT",
          "-o",
          iso,
          "-b",
          "isolinux/isolinux.bin",
          "-c",
          "isolinux/boot.cat",
          "-no-emul-boot",
          "-boot-load-size",
          "4",
          "-boot-info-table",
          tree,
        ]);
        await rm(tree, { recursive: true, force: true });
        progress.step("SHA512SUMS");
        await writeFile(join(tmp, "SHA512SUMS"), `${await sha512File(iso)}  ${INSTALLER_ISO_NAME}\n`);
        progress.step("signing key and detached signature (gpg)");
        // gpg-agent's socket lives in GNUPGHOME: keep the path short and private.
        const gnupgHome = await mkdtemp(join(tmpdir(), "qk-gpg-"));
        const env = { GNUPGHOME: gnupgHome };
        try {
          await buildTool("installer", ["gpg", "--batch", "--quiet", "--gen-key"], {
            env,
            input: [
              "%no-protection",
              "Key-Type: eddsa",
              "Key-Curve: ed25519",
              "Key-Usage: sign",
              "Name-Real: qemukit installer test signing key",
              "Name-Email: installer@qemukit.invalid",
              "Expire-Date: 0",
              "%commit",
              "",
            ].join("\n"),
          });
          const listing = await buildTool("installer", ["gpg", "--batch", "--with-colons", "--list-secret-keys"], {
            env,
          });
          const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(listing.stdout)?.[1];
          if (!fingerprint) throw new Error(`no fingerprint in gpg output: ${listing.stdout}`);
          await buildTool(
            "installer",
            [
              "gpg",
              "--batch",
              "--yes",
              "--local-user",
              fingerprint,
              "--output",
              join(tmp, "SHA512SUMS.sign"),
              "--detach-sign",
              join(tmp, "SHA512SUMS"),
            ],
            { env },
          );
          await buildTool(
            "installer",
            ["gpg", "--batch", "--export", "--output", join(tmp, "signing-key.gpg"), fingerprint],
            { env },
          );
          await writeFile(join(tmp, "FINGERPRINT"), fingerprint + "\n");
          for (const f of [INSTALLER_ISO_NAME, "SHA512SUMS", "SHA512SUMS.sign", "signing-key.gpg", "FINGERPRINT"]) {
            await chmod(join(tmp, f), 0o444);
          }
          return {
            iso: INSTALLER_ISO_NAME,
            sha512sums: "SHA512SUMS",
            signature: "SHA512SUMS.sign",
            publicKey: "signing-key.gpg",
            fingerprint,
          };
        } finally {
          await exec(["gpgconf", "--kill", "gpg-agent"], { env, reject: false }).catch(() => {});
          await rm(gnupgHome, { recursive: true, force: true });
        }
      },
    },
    options,
  );
  return {
    name: "installer",
    iso: file("iso"),
    sha512sums: file("sha512sums"),
    signature: file("signature"),
    publicKey: file("publicKey"),
    fingerprint: facts.fingerprint,
    memoryMiB: 1024,
    dir,
  };
}
