#!/usr/bin/env -S npx tsx
/**
 * Lab: "Creating a new disk image" (second half) — verify the installer ISO's SHA512SUMS
 * and its OpenPGP signature, then boot a new VM from it with `-cdrom` on an empty disk
 * and reach the installer.
 * @module
 */
import { copyFile, mkdir, open, readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { guests, image, verify, vm } from "../sdk/mod.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { decodePng, colourShares } from "./lib/png.ts";
import { Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** One screen seen while waiting for the installer. */
export interface ScreenSample {
  /** Milliseconds since the VM started. */
  readonly ms: number;
  /** `720x400` in VGA text mode (BIOS, isolinux), a framebuffer size once the installer runs. */
  readonly size: string;
  /** What the screen was taken for: bios, boot-menu, installer, or other. */
  readonly stage: "bios" | "boot-menu" | "installer" | "other";
  /** Share of the screen in the installer's blue. */
  readonly blue: number;
  /** Share of the screen that is not black. */
  readonly lit: number;
  /** The most common colour and its share. */
  readonly dominant: string;
}

/** What install-from-iso observes. */
export interface InstallFromIsoObservations {
  /** `sha512sum -c --ignore-missing SHA512SUMS`: per-file results. */
  readonly checksum: {
    readonly ok: boolean;
    readonly files: readonly { readonly file: string; readonly status: string }[];
  };
  /** `gpg --verify SHA512SUMS.sign`: good signature and the signing key. */
  readonly signature: {
    readonly valid: boolean;
    readonly fingerprint: string;
    readonly signer: string | null;
    readonly expectedFingerprint: string;
  };
  /** A copy of the ISO with one byte changed fails the checksum. */
  readonly tamperedRejected: boolean;
  readonly tampered: { readonly byteOffset: number; readonly isoStatus: string; readonly signatureReason: string };
  /** The installer's first screen appeared (seen on the screen, not in a log). */
  readonly installerReached: boolean;
  /** Milliseconds from start to the installer's screen. */
  readonly installerMs: number;
  /** Milliseconds from start to the ISO's boot menu (isolinux). */
  readonly bootMenuMs: number | null;
  /** The screens seen on the way (BIOS / isolinux / installer). */
  readonly screens: readonly ScreenSample[];
  /** PNG of the installer's screen. */
  readonly screenshot: string;
  /** PNG of the ISO's boot menu, when it was seen. */
  readonly bootMenuScreenshot: string | null;
  /** The new empty disk the installer would install to. */
  readonly disk: { readonly virtualSize: number; readonly actualSize: number };
}

export const meta: RecipeMeta = {
  id: "install-from-iso",
  title: "Verify the installer ISO (checksum, signature, tampering), boot it with -cdrom, reach the installer",
  exercise: "Creating a new disk image (install from an ISO)",
  labCommands: [
    "sha512sum -c --ignore-missing SHA512SUMS",
    "gpg --keyserver keyring.debian.org --receive-keys 0x11CD9819",
    "gpg --verify SHA512SUMS.sign",
    "qemu-img create -f qcow2 virtualdisk.qcow 2G",
    "kvm -hda virtualdisk.qcow -smp 2 -m 512 -cdrom debian-11.3.0-amd64-netinst.iso",
  ],
  heavy: true,
};

/** Inverts the byte at `offset` of the file at `path`. */
async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** What a screendump shows, in numbers: size, share of blue, share of non-black, top colour. */
function screenFacts(png: Uint8Array): { blue: number; lit: number; dominant: string; width: number; height: number } {
  const img = decodePng(png);
  let blue = 0;
  let lit = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const r = img.pixels[i * 3]!,
      g = img.pixels[i * 3 + 1]!,
      b = img.pixels[i * 3 + 2]!;
    if (b >= 0x80 && r < 0x40 && g < 0x40) blue++;
    if (r > 0x20 || g > 0x20 || b > 0x20) lit++;
  }
  const top = colourShares(img, 1)[0]!;
  const share = (k: number) => Math.round((k / n) * 1000) / 1000;
  return {
    blue: share(blue),
    lit: share(lit),
    dominant: `${top.colour} ${(top.share * 100).toFixed(0)}%`,
    width: img.width,
    height: img.height,
  };
}

/**
 * Runs the exercise on the built-in installer ISO.
 *
 * @example
 * ```ts
 * const { signature, tamperedRejected, installerReached } = await run({ outDir: "out" });
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<InstallFromIsoObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const outDir = resolve(options.outDir ?? "lab-output");
  await mkdir(outDir, { recursive: true });
  const inst = await r.step(
    "the installer ISO, SHA512SUMS, signature and key",
    () => guests.installer(),
    (i) => basename(i.iso),
  );

  // #region verify
  const sums = await verify.checksums(inst.sha512sums, { ignoreMissing: true });
  const sig = await verify.signature({ file: inst.sha512sums, signature: inst.signature, keyring: inst.publicKey });
  // #endregion
  r.note(`sha512sum -c: ${sums.results.map((f) => `${f.name}: ${f.status}`).join(", ")}`);
  r.note(
    `gpg --verify: ${sig.ok ? "Good signature" : "BAD signature"} from ${sig.signer ?? "?"}, key ${sig.fingerprint ?? "?"}`,
  );
  if (!sums.ok) throw new Error(`the ISO does not match SHA512SUMS: ${JSON.stringify(sums.results)}`);
  if (!sig.ok || sig.fingerprint !== inst.fingerprint) {
    throw new Error(`the signature over SHA512SUMS is not good or not by ${inst.fingerprint}: ${sig.reason}`);
  }

  const work = await res.tempDir("install-");
  const tampered = await r.step(
    "tampered copies must fail: one byte of the ISO, one byte of SHA512SUMS",
    async () => {
      const isoCopy = join(work, basename(inst.iso));
      const sumsCopy = join(work, "SHA512SUMS");
      await copyFile(inst.iso, isoCopy);
      await copyFile(inst.sha512sums, sumsCopy);
      const offset = 32768 + 1; // inside the ISO 9660 primary volume descriptor
      await flipByte(isoCopy, offset);
      const isoCheck = await verify.checksums(sumsCopy, { ignoreMissing: true, reject: false });
      const isoStatus = isoCheck.results.find((f) => f.name === basename(inst.iso))?.status ?? "MISSING";
      // A changed byte in the checksum list itself must break the signature over it.
      await flipByte(sumsCopy, 0);
      const sigCheck = await verify.signature({
        file: sumsCopy,
        signature: inst.signature,
        keyring: inst.publicKey,
        reject: false,
      });
      return {
        byteOffset: offset,
        isoStatus,
        signatureReason: sig.ok && !sigCheck.ok ? sigCheck.reason : `unexpectedly ${sigCheck.ok ? "good" : "bad"}`,
        rejected: !isoCheck.ok && isoStatus === "FAILED" && !sigCheck.ok,
      };
    },
    (t) => `ISO checksum ${t.isoStatus}; signature over the changed SHA512SUMS: ${t.signatureReason}`,
  );

  const disk = join(work, "virtualdisk.qcow2");
  await image.create(disk, "2G", { format: "qcow2" });
  const diskInfo = await image.info(disk);

  const memory = Math.max(1024, inst.memoryMiB);
  const m = await r.step(
    `boot: -hda virtualdisk.qcow2 -smp 2 -m ${memory} -cdrom ${basename(inst.iso)}`,
    async () => {
      // #region boot
      const builder = vm().name(`lab-install-${process.pid}`).memory(memory).smp(2).hda(disk).cdrom(inst.iso);
      const m = res.vm(await builder.start());
      // #endregion
      return m;
    },
    (m) => `pid ${m.pid}, accel ${m.accel.chosen}`,
  );
  r.note(m.argv.join(" "));

  const screenshot = join(outDir, "install-from-iso-installer.png");
  const menuShot = join(outDir, "install-from-iso-boot-menu.png");
  const t0 = Date.now();
  const screens: ScreenSample[] = [];
  let bootMenuMs: number | null = null;
  const reached = await r.step(
    "watch the screen: BIOS, the ISO's boot menu, then the installer",
    async () => {
      const deadline = t0 + 600_000;
      const probe = join(work, "screen.png");
      while (Date.now() < deadline) {
        // #region watch
        await m.screenshot(probe);
        const s = screenFacts(await readFile(probe));
        // BIOS and isolinux draw in VGA text mode (720x400), the ISO's menu in a blue box.
        // The installer switches to a framebuffer and fills it with its dialog (grey) on a
        // blue background; until then the framebuffer is black.
        const textMode = s.width === 720 && s.height === 400;
        const stage = textMode
          ? s.blue > 0.2
            ? "boot-menu"
            : "bios"
          : s.width >= 640 && s.lit > 0.3 && s.blue > 0.01
            ? "installer"
            : "other";
        // #endregion
        const last = screens[screens.length - 1];
        if (!last || last.stage !== stage || last.dominant !== s.dominant) {
          screens.push({
            ms: Date.now() - t0,
            size: `${s.width}x${s.height}`,
            stage,
            blue: s.blue,
            lit: s.lit,
            dominant: s.dominant,
          });
          r.note(
            `+${((Date.now() - t0) / 1000).toFixed(1)} s: ${stage} (${s.width}x${s.height}, ${(s.blue * 100).toFixed(0)}% blue, ${(s.lit * 100).toFixed(0)}% lit)`,
          );
        }
        if (stage === "boot-menu" && bootMenuMs === null) {
          bootMenuMs = Date.now() - t0;
          await m.screenshot(menuShot);
        }
        if (stage === "installer") {
          await m.screenshot(screenshot);
          return Date.now() - t0;
        }
        await new Promise((ok) => setTimeout(ok, 1000));
      }
      await copyFile(probe, join(outDir, "install-from-iso-last-screen.png")).catch(() => undefined);
      throw new Error(
        `the installer did not appear on the screen within 600 s (last screen: ${join(outDir, "install-from-iso-last-screen.png")}; screens seen: ${JSON.stringify(screens)})`,
      );
    },
    (ms) => `installer after ${(ms / 1000).toFixed(1)} s`,
  );
  await r.step(
    "stop the VM (the lab: 'you can stop the installation process after it begins')",
    () => m.shutdown({ timeouts: { powerdown: 0 } }),
    (e) => e.reason,
  );

  return {
    checksum: { ok: sums.ok, files: sums.results.map((f) => ({ file: f.name, status: f.status })) },
    signature: {
      valid: sig.ok,
      fingerprint: sig.fingerprint!,
      signer: sig.signer ?? null,
      expectedFingerprint: inst.fingerprint,
    },
    tamperedRejected: tampered.rejected,
    tampered: {
      byteOffset: tampered.byteOffset,
      isoStatus: tampered.isoStatus,
      signatureReason: tampered.signatureReason,
    },
    installerReached: true,
    installerMs: reached,
    bootMenuMs,
    screens,
    screenshot,
    bootMenuScreenshot: bootMenuMs === null ? null : menuShot,
    disk: { virtualSize: Number(diskInfo.virtualSize), actualSize: Number(diskInfo.actualSize) },
  };
}

/** One line for the lab's summary table. */
export function summarize(o: InstallFromIsoObservations): string {
  return `checksum ${o.checksum.ok ? "OK" : "FAILED"}; signature ${o.signature.valid ? "good" : "BAD"} (${o.signature.fingerprint.slice(-16)}); tampered rejected: ${o.tamperedRejected}; installer on screen after ${(o.installerMs / 1000).toFixed(1)} s`;
}

export const recipe: Recipe<InstallFromIsoObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
