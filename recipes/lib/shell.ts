/**
 * Running commands in the guest over its serial console, failing loudly.
 * @module
 */
import type { Reporter } from "./reporter.ts";

/** The part of a VM's console the recipes use. */
export interface GuestConsole {
  run(command: string, options?: { timeout?: number }): Promise<{ output: string; exitCode: number }>;
}

/**
 * Runs `command` in the guest and returns its output; a non-zero exit status rejects (the
 * console's GuestCommandError carries status and output). Each command is a reported step.
 *
 * @example
 * ```ts
 * const parts = await guestRun(r, m.console, "cat /proc/partitions");
 * ```
 */
export async function guestRun(
  r: Reporter,
  console: GuestConsole,
  command: string,
  timeout = 120_000,
): Promise<string> {
  return r.step(
    `guest# ${command}`,
    async () => {
      const { output } = await console.run(command, { timeout });
      return output;
    },
    (out) => {
      const lines = out.trim().split("\n").filter(Boolean);
      return lines.length === 0 ? undefined : lines.length === 1 ? lines[0] : `${lines.length} lines`;
    },
  );
}

/** `/proc/partitions` as records. */
export function parseProcPartitions(text: string): { name: string; blocks: number; bytes: number }[] {
  return text
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4 && /^\d+$/.test(f[0]!) && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[3]!, blocks: Number(f[2]), bytes: Number(f[2]) * 1024 }));
}
