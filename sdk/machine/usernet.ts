/**
 * Reading back user-mode network port forwards from QEMU's `info usernet` (HMP): the only
 * place QEMU tells which host port it bound for a `hostfwd` with port 0.
 * @module
 */

/** A host port forwarded into the guest, as QEMU bound it. */
export interface BoundForward {
  readonly protocol: "tcp" | "udp";
  /** Address the host side listens on, as QEMU prints it (`127.0.0.1`, `0.0.0.0`, `*`). */
  readonly hostAddress: string;
  /** The port QEMU really bound (never 0). */
  readonly hostPort: number;
  readonly guestAddress: string;
  readonly guestPort: number;
}

const LINE = /^\s*(TCP|UDP)\[HOST_FORWARD\]\s+\d+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\b/;

/**
 * Parses the `HOST_FORWARD` rows of `info usernet`.
 *
 * @example
 * ```ts
 * parseUsernet("  TCP[HOST_FORWARD]  13  127.0.0.1 36443  10.0.2.15  22  0  0");
 * // [{ protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 36443, guestAddress: "10.0.2.15", guestPort: 22 }]
 * ```
 */
export function parseUsernet(text: string): BoundForward[] {
  const out: BoundForward[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (!m) continue;
    out.push({
      protocol: m[1]!.toLowerCase() as "tcp" | "udp",
      hostAddress: m[2]!,
      hostPort: Number(m[3]),
      guestAddress: m[4]!,
      guestPort: Number(m[5]),
    });
  }
  return out;
}
