/**
 * Copies host programs into a guest file tree: each program plus the shared
 * libraries `ldd` says it needs, at the same absolute paths.
 * @module
 */
import { readFile, realpath } from "node:fs/promises";
import { exec } from "../util/exec.ts";

/** A file to place in a guest at `path` (absolute), read from the host. */
export interface HostFile {
  readonly path: string;
  readonly data: Uint8Array;
  readonly mode: number;
}

/** Parses `ldd` output into the absolute library paths it lists. */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/**
 * Reads programs and their shared libraries from the host.
 *
 * @example
 * ```ts
 * const files = await hostProgramsWithLibs(["/sbin/mke2fs", "/sbin/sfdisk"]);
 * ```
 */
export async function hostProgramsWithLibs(programs: readonly string[]): Promise<HostFile[]> {
  const out = new Map<string, HostFile>();
  for (const prog of programs) {
    out.set(prog, { path: prog, data: await readFile(await realpath(prog)), mode: 0o755 });
    const r = await exec(["ldd", prog], { debianPackage: "libc-bin", reject: false });
    // A static program makes ldd exit 1 with "not a dynamic executable": nothing to add.
    for (const lib of parseLdd(r.stdout)) {
      if (!out.has(lib)) out.set(lib, { path: lib, data: await readFile(await realpath(lib)), mode: 0o755 });
    }
  }
  return [...out.values()];
}
