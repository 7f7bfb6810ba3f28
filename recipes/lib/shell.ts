/**
 * Guest commands as reported steps: `m.$` does the quoting, the status and the transport
 * (the guest agent, or the serial console); this adds the reporter's line for each.
 * @module
 */
import type { GuestProcess } from "../../sdk/agent/shell.ts";
import type { Reporter } from "./reporter.ts";

/**
 * Runs a guest command (an `m.$` template, not awaited yet) as a reported step and returns
 * its stdout; a non-zero exit status rejects with m.$'s GuestProcessError.
 *
 * @example
 * ```ts
 * const parts = await guestRun(r, m.$`cat /proc/partitions`);
 * await guestRun(r, m.$`mkfs.ext4 -q -F ${dev}1`.timeout(120_000));
 * ```
 */
export async function guestRun(r: Reporter, command: GuestProcess): Promise<string> {
  return r.step(
    `guest# ${command.command}`,
    async () => (await command).stdout,
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
