/**
 * Finding QEMU's programs and their versions.
 * @module
 */
import { exec, which } from "../util/exec.ts";
import type { HostQemuTool } from "./types.ts";

/** The programs the host check looks for, most important first. */
export const QEMU_PROGRAMS = ["qemu-system-x86_64", "qemu-system-i386", "qemu-kvm", "qemu-img"] as const;

/**
 * Pulls the version number out of `--version` output.
 *
 * @example
 * ```ts
 * parseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)"); // "7.2.22"
 * ```
 */
export function parseQemuVersion(text: string): string | undefined {
  return /version\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

/**
 * Looks a QEMU program up on PATH and asks its version.
 *
 * @example
 * ```ts
 * (await findQemuTool("qemu-img")).version; // "7.2.22"
 * ```
 */
export async function findQemuTool(name: string): Promise<HostQemuTool> {
  const path = await which(name);
  if (!path) return { name, path: undefined, version: undefined };
  try {
    const { stdout } = await exec([path, "--version"], { timeout: 10_000 });
    return { name, path, version: parseQemuVersion(stdout) };
  } catch (e) {
    return { name, path, version: undefined, error: (e as Error).message };
  }
}
