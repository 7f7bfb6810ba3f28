/**
 * Who holds a resource a VM needs: the process listening on a TCP port (a VNC display in
 * use), the client connected to a QMP socket (a monitor QEMU serves one client at a time),
 * and a free VNC display to offer instead. Linux /proc and `ss`; every lookup is best
 * effort and answers `undefined`/`[]` when it cannot tell.
 * @module
 */
import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer } from "node:net";

/** A process, as far as /proc tells. */
export interface ProcessInfo {
  readonly pid: number;
  /** Its command line (arguments joined by spaces, shortened). */
  readonly command: string;
}

/** The command line of `pid`, or its name. */
export async function describeProcess(pid: number): Promise<ProcessInfo> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  let command = cmdline.split("\0").filter(Boolean).join(" ");
  if (!command) command = (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "?")).trim();
  return { pid, command: command.length > 160 ? `${command.slice(0, 157)}...` : command };
}

/** The process whose open files include the socket with this inode. */
async function socketOwner(inode: string): Promise<number | undefined> {
  const target = `socket:[${inode}]`;
  for (const e of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    const fds = await readdir(`/proc/${e}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await readlink(`/proc/${e}/fd/${fd}`).catch(() => "")) === target) return Number(e);
    }
  }
  return undefined;
}

/**
 * The process listening on TCP `port` (any local address), from /proc/net/tcp{,6}.
 *
 * @example
 * ```ts
 * const holder = await tcpListener(5901); // { pid: 4242, command: "qemu-system-x86_64 ..." }
 * ```
 */
export async function tcpListener(port: number): Promise<ProcessInfo | undefined> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address:port, f[3] state (0A = LISTEN), f[9] inode.
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === "0A" && f[9] !== "0") {
        const pid = await socketOwner(f[9]!);
        if (pid !== undefined) return describeProcess(pid);
      }
    }
  }
  return undefined;
}

/** True when a client is connected to the unix socket `path` (an accepted connection exists). */
export async function unixSocketInUse(path: string): Promise<boolean> {
  const text = await readFile("/proc/net/unix", "utf8").catch(() => "");
  // Columns: Num RefCount Protocol Flags Type St Inode Path; St 03 = connected.
  return text.split("\n").some((l) => {
    const f = l.trim().split(/\s+/);
    return f.length >= 8 && f[5] === "03" && f.slice(7).join(" ") === path;
  });
}

/**
 * The clients connected to the unix socket `path` (QEMU's side excluded), through `ss`,
 * which alone knows both ends of a unix connection. `undefined` when `ss` cannot tell;
 * a connection whose client is already gone (QEMU has not closed its end yet) is not
 * counted. A client whose process is not visible is listed with pid 0.
 */
export async function unixSocketClients(path: string): Promise<ProcessInfo[] | undefined> {
  const out = await new Promise<string | undefined>((resolve) => {
    execFile("ss", ["-xpnH"], { timeout: 3000, maxBuffer: 16 << 20 }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
  if (out === undefined) return undefined;
  const lines = out.split("\n").map((l) => l.trim().split(/\s+/));
  // Fields: Netid State Recv-Q Send-Q Local LocalInode Peer PeerInode [users:(...)]
  const peers = new Set(lines.filter((f) => f[4] === path && f[1] === "ESTAB").map((f) => f[7]));
  const clients: ProcessInfo[] = [];
  const seen = new Set<number>();
  for (const f of lines) {
    if (!peers.has(f[5]) || f[4] === path) continue;
    const pids = [
      ...f
        .slice(8)
        .join(" ")
        .matchAll(/pid=(\d+)/g),
    ].map((m) => Number(m[1]));
    if (pids.length === 0) clients.push({ pid: 0, command: "(a process this user cannot see)" });
    for (const pid of pids) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      clients.push(await describeProcess(pid));
    }
  }
  return clients;
}

/** Whether TCP `port` on `host` can be listened on now. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * The first VNC display after `display` whose port (5900+N) is free on `host`.
 *
 * @example
 * ```ts
 * await freeVncDisplay(1); // 2, when 5902 is free
 * ```
 */
export async function freeVncDisplay(display: number, host = "127.0.0.1"): Promise<number | undefined> {
  for (let d = display + 1; d < display + 50 && d <= 99; d++) {
    if (await portFree(host === "" ? "0.0.0.0" : host, 5900 + d)) return d;
  }
  return undefined;
}
