/**
 * Which guest a recipe boots: the built-in Debian disk (the lab's debian-11.qcow2), the
 * user's own image, or the tiny kernel+initramfs guest where the exercise does not care.
 * @module
 */
import { guests, overlay, type VmBuilder } from "../../sdk/mod.ts";
import type { RecipeOptions } from "./types.ts";

/** A bootable guest, ready to put into a builder. */
export interface BootGuest {
  /** "debian", "tiny" or the user's image path. */
  readonly label: string;
  /** The base disk image (never written), when the guest boots from a disk. */
  readonly base?: string;
  /** Root shell prompt on the serial console. */
  readonly prompt: RegExp;
  /** Boots it: the base under a fresh overlay as the first IDE disk (`-hda`), or kernel+initrd. */
  attach(b: VmBuilder, overlayPath?: string): VmBuilder;
}

/**
 * A prompt that matches the usual root shells (`root@host:~# `) of a user-provided image
 * with root autologin on ttyS0.
 */
const GENERIC_PROMPT = /root@[^\s:]+:[^#\n]*# $/;

/** Resolves the guest `options` ask for, building the built-in one first if needed. */
export async function bootGuest(options: RecipeOptions, allowTiny = true): Promise<BootGuest> {
  if (options.image) {
    const base = options.image;
    return {
      label: base,
      base,
      prompt: GENERIC_PROMPT,
      attach: (b, path) => b.hda(overlay(base, path ? { path } : {})),
    };
  }
  if (options.guest === "tiny") {
    if (!allowTiny)
      throw new Error("this exercise needs a guest that boots from a disk image: use --guest debian or --image PATH");
    const t = await guests.tiny({ progress: false });
    return {
      label: "tiny",
      prompt: t.prompt,
      attach: (b) => b.kernel(t.kernel, { initrd: t.initrd, append: t.append }),
    };
  }
  const d = await guests.debian();
  return {
    label: "debian",
    base: d.image,
    prompt: d.prompt,
    attach: (b, path) => b.hda(overlay(d.image, { baseFormat: d.format, ...(path ? { path } : {}) })),
  };
}

/** The base image a disk-only exercise works on (convert, overlays). */
export async function baseImage(options: RecipeOptions): Promise<string> {
  if (options.image) return options.image;
  return (await guests.debian()).image;
}
