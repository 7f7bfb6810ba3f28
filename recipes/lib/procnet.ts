/**
 * The lab's hint "find the VNC port by inspecting the listening TCP ports", done the way
 * `ss -ltnp` does it: read the kernel's socket tables and map socket inodes to processes.
 * @module
 */
import { readdir, readFile, readlink } from "node:fs/promises";

/** A TCP socket in LISTEN state. */
export interface ListeningSocket {
  readonly address: string;
  readonly port: number;
  readonly family: "ipv4" | "ipv6";
  readonly inode: number;
  /** Processes holding the socket open (only those this user may inspect). */
  readonly pids: readonly number[];
}

const TCP_LISTEN = "0A";

/** Parses one /proc/net/tcp or tcp6 table into its LISTEN sockets (pids not yet known). */
export function parseProcNetTcp(text: string, family: "ipv4" | "ipv6"): Omit<ListeningSocket, "pids">[] {
  const out: Omit<ListeningSocket, "pids">[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const [addrHex, portHex] = f[1]!.split(":");
    out.push({ address: decodeAddress(addrHex!, family), port: parseInt(portHex!, 16), family, inode: Number(f[9]) });
  }
  return out;
}

/** The kernel prints addresses as host-order 32-bit words in hex. */
function decodeAddress(hex: string, family: "ipv4" | "ipv6"): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (family === "ipv4") return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** Socket inode -> pids, from the `socket:[inode]` links in /proc/<pid>/fd. */
async function socketOwners(pids?: readonly number[]): Promise<Map<number, number[]>> {
  const owners = new Map<number, number[]>();
  const candidates = pids ?? (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number);
  await Promise.all(
    candidates.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        return; // gone, or not ours to look at
      }
      for (const fd of fds) {
        const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (!m) continue;
        const inode = Number(m[1]);
        const list = owners.get(inode) ?? [];
        if (!list.includes(pid)) list.push(pid);
        owners.set(inode, list);
      }
    }),
  );
  return owners;
}

/**
 * Every listening TCP socket on the host with the processes that own it.
 *
 * @example
 * ```ts
 * const qemuPorts = (await listeningSockets()).filter((s) => s.pids.includes(vmPid));
 * ```
 */
export async function listeningSockets(): Promise<ListeningSocket[]> {
  const tables = await Promise.all([
    readFile("/proc/net/tcp", "utf8")
      .then((t) => parseProcNetTcp(t, "ipv4"))
      .catch(() => []),
    readFile("/proc/net/tcp6", "utf8")
      .then((t) => parseProcNetTcp(t, "ipv6"))
      .catch(() => []),
  ]);
  const owners = await socketOwners();
  return tables.flat().map((s) => ({ ...s, pids: owners.get(s.inode) ?? [] }));
}
