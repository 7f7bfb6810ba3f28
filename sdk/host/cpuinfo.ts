/**
 * Parsing /proc/cpuinfo (pure).
 * @module
 */
import type { CpuFacts } from "./types.ts";

/**
 * Reads the vendor, model and virtualization flags of the first CPU in `/proc/cpuinfo` text.
 *
 * @example
 * ```ts
 * parseCpuinfo("vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx sse\n").virtFlag; // "vmx"
 * ```
 */
export function parseCpuinfo(text: string): CpuFacts {
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(text);
    return m ? m[1]!.trim() : undefined;
  };
  // Every CPU repeats the same flags; the first block is enough and keeps this fast on big hosts.
  const flags = new Set((field("flags") ?? "").split(/\s+/).filter(Boolean));
  return {
    vendor: field("vendor_id"),
    modelName: field("model name"),
    virtFlag: flags.has("vmx") ? "vmx" : flags.has("svm") ? "svm" : undefined,
    underHypervisor: flags.has("hypervisor"),
    readable: text.length > 0,
  };
}
