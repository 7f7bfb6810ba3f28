/**
 * Reaching a libvirt host: its URI, one-shot `virsh` calls, a long-lived `virsh` that holds
 * a domain's connection (and so its `--autodestroy` lifetime), and byte streams to unix
 * sockets on the host (direct when local, `ssh ... nc -U` when remote).
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { Duplex } from "node:stream";
import { exec } from "../util/exec.ts";
import { withParentDeathSignal } from "../util/pdeathsig.ts";
import { LibvirtError } from "./errors.ts";

/** How a `qemu+ssh://` URI reaches its host, for qemukit's own streams. */
export interface SshTarget {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly keyfile?: string;
  readonly noVerify: boolean;
  readonly knownHosts?: string;
}

/** A parsed libvirt URI. */
export interface LibvirtUri {
  readonly uri: string;
  /** Set for `qemu+ssh://`: the VM runs on another host. */
  readonly ssh?: SshTarget;
}

/**
 * Parses a libvirt URI; only `qemu://` (local) and `qemu+ssh://` are accepted.
 *
 * @example
 * ```ts
 * parseLibvirtUri("qemu+ssh://root@host:2222/system?keyfile=/k").ssh; // { host: "host", port: 2222, user: "root", keyfile: "/k", ... }
 * ```
 */
export function parseLibvirtUri(uri: string): LibvirtUri {
  let u: URL;
  try {
    u = new URL(uri);
  } catch (e) {
    throw new LibvirtError("LIBVIRT_CONNECT", `not a libvirt URI: ${JSON.stringify(uri)}`, {
      advice: 'use e.g. "qemu:///system" or "qemu+ssh://root@host/system"',
      cause: e,
    });
  }
  if (u.protocol === "qemu:") {
    if (u.hostname) {
      throw new LibvirtError("LIBVIRT_CONNECT", `${uri} names a host without a transport`, {
        advice: "use qemu+ssh://user@host/system for another host, or qemu:///system for this one",
      });
    }
    return { uri };
  }
  if (u.protocol === "qemu+ssh:") {
    const q = u.searchParams;
    return {
      uri,
      ssh: {
        host: u.hostname,
        ...(u.port ? { port: Number(u.port) } : {}),
        ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
        ...(q.get("keyfile") ? { keyfile: q.get("keyfile")! } : {}),
        noVerify: q.get("no_verify") === "1",
        ...(q.get("known_hosts") ? { knownHosts: q.get("known_hosts")! } : {}),
      },
    };
  }
  throw new LibvirtError("LIBVIRT_CONNECT", `unsupported libvirt transport ${u.protocol} in ${uri}`, {
    advice: "qemukit runs QEMU domains over qemu:/// (local) or qemu+ssh:// (remote)",
  });
}

/** ssh argv (without the remote command) that reaches the URI's host the way libvirt does. */
export function sshArgv(t: SshTarget): string[] {
  return [
    "ssh",
    "-T",
    "-e",
    "none",
    "-o",
    "BatchMode=yes",
    ...(t.port ? ["-p", String(t.port)] : []),
    ...(t.user ? ["-l", t.user] : []),
    ...(t.keyfile ? ["-i", t.keyfile] : []),
    ...(t.noVerify
      ? ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
      : []),
    ...(t.knownHosts ? ["-o", `UserKnownHostsFile=${t.knownHosts}`] : []),
    "--",
    t.host,
  ];
}

/**
 * Runs `virsh -c URI ...args` once; rejects with `LIBVIRT_COMMAND` carrying virsh's words.
 *
 * @example
 * ```ts
 * const names = await virsh("qemu:///system", ["list", "--name"]);
 * ```
 */
export async function virsh(uri: string, args: readonly string[], options: { input?: string } = {}): Promise<string> {
  const r = await exec(["virsh", "-q", "-c", uri, ...args], {
    reject: false,
    timeout: 120_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  if (r.exitCode !== 0) {
    const said = r.stderr.replace(/^error: /gm, "").trim();
    throw new LibvirtError("LIBVIRT_COMMAND", `virsh ${args[0]} failed on ${uri}: ${said}`, {
      advice: /Failed to connect|cannot recv data|No such file/.test(said)
        ? `is libvirtd running and reachable at ${uri}? Try: virsh -c '${uri}' version`
        : "see libvirt's message above",
      details: { uri, args, stderr: r.stderr },
    });
  }
  return r.stdout;
}

// Terminal control sequences readline may write even to a pipe.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * One `virsh` process kept open on a URI. Commands are written to its stdin one at a time;
 * `echo` with a unique marker ends each reply. The open connection is what keeps an
 * `--autodestroy` domain alive: when this process dies (with its parent, by the
 * parent-death signal), libvirt destroys the domain.
 */
export class VirshSession {
  #child: ChildProcess;
  #out = "";
  #err = "";
  #queue: Promise<unknown> = Promise.resolve();
  #waiters: (() => void)[] = [];
  #seq = 0;
  #closed = false;
  readonly uri: string;

  private constructor(uri: string, child: ChildProcess) {
    this.uri = uri;
    this.#child = child;
    child.stdout!.on("data", (b: Buffer) => {
      this.#out += b.toString();
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stderr!.on("data", (b: Buffer) => {
      this.#err += b.toString();
      for (const w of this.#waiters.splice(0)) w();
    });
    child.once("exit", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stdin!.on("error", () => {});
  }

  /** Spawns `virsh -c URI` under the parent-death signal. */
  static async open(uri: string): Promise<VirshSession> {
    const argv = await withParentDeathSignal(["virsh", "-q", "-c", uri], "libvirt-clients");
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    const s = new VirshSession(uri, child);
    await s.run(["connect", uri]);
    return s;
  }

  /** Runs one virsh command; resolves with its stdout, rejects with virsh's error. */
  run(args: readonly string[]): Promise<string> {
    const next = this.#queue.then(() => this.#runNow(args));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #runNow(args: readonly string[]): Promise<string> {
    if (this.#closed) {
      throw new LibvirtError("LIBVIRT_CONNECT", `the virsh session to ${this.uri} has ended`, {
        advice: "libvirtd or the ssh connection went away; start the VM again",
      });
    }
    const marker = `__qemukit_${process.pid}_${++this.#seq}__`;
    this.#out = "";
    this.#err = "";
    // virsh's own shell-like parser: quote every word, escape quotes and backslashes.
    const line = [...args].map((a) => `'${a.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`).join(" ");
    this.#child.stdin!.write(`${line}\necho ${marker}\n`);
    // Interactive virsh echoes each line after its prompt ("virsh # CMD\n"), then the
    // command's output; `echo MARKER` prints the marker without a newline.
    const done = `echo ${marker}\n${marker}`;
    while (!this.#out.includes(done) && !this.#closed) await new Promise<void>((r) => this.#waiters.push(r));
    const text = this.#out.replace(ANSI, "");
    const end = text.lastIndexOf(`virsh # echo ${marker}`);
    const body = end >= 0 ? text.slice(0, end) : text;
    const out = body.slice(body.indexOf("\n") + 1);
    // stderr is written before the marker but arrives on another pipe: let it be read.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const err = this.#err.replace(ANSI, "").trim();
    if (/^error:/m.test(err) || (this.#closed && !this.#out.includes(done))) {
      throw new LibvirtError(
        "LIBVIRT_COMMAND",
        `virsh ${args[0]} failed on ${this.uri}: ${err.replace(/^error: /gm, "") || "the session ended"}`,
        {
          advice: "see libvirt's message above",
          details: { uri: this.uri, args, stderr: err },
        },
      );
    }
    return out;
  }

  /** Ends the session (an `--autodestroy` domain it created is destroyed by libvirt). */
  async close(): Promise<void> {
    if (this.#closed) return;
    const gone = new Promise<void>((r) => this.#child.once("exit", () => r()));
    this.#child.stdin!.end("quit\n");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * A byte stream to a unix socket on the libvirt host: a direct connection when local, else
 * `ssh host nc -U PATH` (netcat-openbsd, which libvirt's own ssh transport also uses).
 * Locally it retries until `retryUntil` (a socket QEMU has yet to create), unless `signal`
 * aborts first.
 */
export async function openHostSocket(
  target: LibvirtUri,
  path: string,
  retryUntil = 0,
  signal?: AbortSignal,
): Promise<Duplex> {
  if (!target.ssh) {
    for (;;) {
      if (signal?.aborted) {
        throw new LibvirtError("LIBVIRT_CONNECT", `gave up connecting to ${path}`, {
          advice: "the domain did not start",
          cause: signal.reason,
        });
      }
      try {
        return await new Promise<Duplex>((resolve, reject) => {
          const s = connect(path);
          s.once("connect", () => resolve(s));
          s.once("error", reject);
        });
      } catch (e) {
        if (Date.now() >= retryUntil) {
          throw new LibvirtError("LIBVIRT_CONNECT", `could not connect to ${path}: ${(e as Error).message}`, {
            advice: "is the domain still running? (virsh list)",
            cause: e,
          });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  const argv = await withParentDeathSignal([...sshArgv(target.ssh), "nc", "-U", path], "openssh-client");
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdin!.on("error", () => {});
  const stream = Duplex.from({ writable: child.stdin!, readable: child.stdout! });
  stream.on("close", () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  // A missing socket or a refused ssh login ends nc/ssh at once: the stream then ends
  // without data, and the QMP greeting the caller waits for never comes (it fails fast).
  child.once("exit", () => {
    if (stderr.trim())
      stream.destroy(
        new LibvirtError("LIBVIRT_CONNECT", `could not reach ${path} on ${target.ssh!.host}: ${stderr.trim()}`, {
          advice: "the remote host needs nc (netcat-openbsd), as libvirt's own ssh transport does",
        }),
      );
  });
  return stream;
}
