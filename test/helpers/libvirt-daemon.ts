/**
 * A private libvirtd (and sshd) for tests, started by hand without systemd and stopped
 * with everything it ran. Nothing touches a system libvirtd:
 *
 * - libvirtd runs in its own mount and PID namespace (`unshare`): /etc/libvirt,
 *   /run/libvirt, /var/lib/libvirt and /var/log/libvirt are bind-mounted from a temp
 *   directory, and its sockets live in that directory (`unix_sock_dir`), reached with
 *   `qemu:///system?socket=...`.
 * - A shell is PID 1 of the namespace and reaps: libvirt daemonizes QEMU, and this
 *   machine's PID 1 does not reap, so a powered-off QEMU would stay a zombie and libvirt
 *   would wait about 2 s for it to vanish. Killing the namespace's PID 1 kills libvirtd
 *   and every QEMU it started.
 * - QEMU capabilities are cached across runs in $QEMUKIT_CACHE/libvirt-test-cache (a cold
 *   probe takes ~8 s here).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { exec } from "../../sdk/util/exec.ts";
import { until } from "./until.ts";

/** A running private libvirtd. */
export interface PrivateLibvirtd extends AsyncDisposable {
  /** Temp directory holding its config, state and sockets. */
  readonly dir: string;
  /** Its read-write socket. */
  readonly socket: string;
  /** `qemu:///system?socket=...`: the URI that reaches it. */
  readonly uri: string;
  /** A storage pool directory tests may use (removed with the daemon). */
  readonly poolDir: string;
  stop(): Promise<void>;
}

/** Runs inside the namespace: private libvirt directories, then libvirtd under a reaping sh. */
const NAMESPACE_SCRIPT = [
  "set -e",
  'd="$1"',
  'mount --bind "$d/etc" /etc/libvirt',
  'mount --bind "$d/run" /run/libvirt',
  'mount --bind "$d/lib" /var/lib/libvirt',
  'mount --bind "$d/log" /var/log/libvirt',
  'mount --bind "$2" /var/cache/libvirt',
  'libvirtd --config /etc/libvirt/libvirtd.conf --pid-file "$d/libvirtd.pid" &',
  // dash's wait reaps every child, including the QEMUs reparented to this PID 1.
  "wait",
].join("\n");

function cacheDir(): string {
  return join(process.env.QEMUKIT_CACHE ?? join(homedir(), ".cache", "qemukit"), "libvirt-test-cache");
}

/**
 * Starts a private libvirtd; `await using d = await startPrivateLibvirtd()`.
 */
export async function startPrivateLibvirtd(): Promise<PrivateLibvirtd> {
  const dir = await mkdtemp("/tmp/qk-lvd-");
  for (const sub of ["etc/qemu", "run", "lib", "log", "sock", "pool"]) await mkdir(join(dir, sub), { recursive: true });
  const cache = cacheDir();
  await mkdir(cache, { recursive: true });
  for (const target of ["/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt"]) {
    await mkdir(target, { recursive: true });
  }
  await writeFile(
    join(dir, "etc/libvirtd.conf"),
    [
      `unix_sock_dir = "${dir}/sock"`,
      'unix_sock_rw_perms = "0700"',
      'auth_unix_rw = "none"',
      'auth_unix_ro = "none"',
      `log_outputs = "3:file:${dir}/libvirtd.log"`,
      "",
    ].join("\n"),
  );
  // QEMU runs as root (it reads root's guest cache); no virtlogd, cgroups or private /dev
  // namespaces, none of which this machine's init provides.
  await writeFile(
    join(dir, "etc/qemu.conf"),
    [
      'user = "+0"',
      'group = "+0"',
      'stdio_handler = "file"',
      "cgroup_controllers = [ ]",
      "namespaces = [ ]",
      "dynamic_ownership = 0",
      "remember_owner = 0",
      "",
    ].join("\n"),
  );
  const child = spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "--pid",
      "--fork",
      "--mount-proc",
      "--kill-child",
      "--",
      "sh",
      "-c",
      NAMESPACE_SCRIPT,
      "sh",
      dir,
      cache,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const socket = join(dir, "sock", "libvirt-sock");
  const uri = `qemu:///system?socket=${socket}`;
  // unshare blocks SIGTERM while it waits; SIGKILL it, and --kill-child takes the
  // namespace's PID 1 with it, which ends libvirtd and every QEMU in the namespace.
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // libvirtd answers once its drivers are up (the first QEMU probe can take seconds).
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`libvirtd exited: ${stderr}`);
        const r = await exec(["virsh", "-c", uri, "version"], { reject: false, timeout: 60_000 });
        return r.exitCode === 0;
      },
      120_000,
      "the private libvirtd to answer",
    );
  } catch (e) {
    const log = await readFile(join(dir, "libvirtd.log"), "utf8").catch(() => "");
    await stop();
    throw new Error(`${(e as Error).message}\n${log.slice(-2000)}`);
  }
  return { dir, socket, uri, poolDir: join(dir, "pool"), stop, [Symbol.asyncDispose]: stop };
}

/** A running private sshd on loopback that accepts root with a generated key. */
export interface PrivateSshd extends AsyncDisposable {
  readonly dir: string;
  readonly port: number;
  /** The client's private key file. */
  readonly keyfile: string;
  /**
   * A `qemu+ssh://` URI for the libvirtd whose socket is `socket`, through this sshd
   * (libvirt runs `nc -U socket` on the far side).
   */
  uriFor(socket: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Starts sshd on 127.0.0.1 with a fresh host key and a fresh client key for root. */
export async function startPrivateSshd(): Promise<PrivateSshd> {
  const dir = await mkdtemp("/tmp/qk-sshd-");
  await exec(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await exec(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")));
  // sshd's privilege separation directory; systemd would create it.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  await writeFile(
    join(dir, "sshd_config"),
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${dir}/host_key`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      `PidFile ${dir}/sshd.pid`,
      "MaxStartups 100",
      "MaxSessions 100",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(
      () => {
        if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
        return /Server listening/.test(stderr);
      },
      20_000,
      "sshd to listen",
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const keyfile = join(dir, "client_key");
  return {
    dir,
    port,
    keyfile,
    uriFor: (socket) =>
      `qemu+ssh://root@127.0.0.1:${port}/system?socket=${socket}&keyfile=${keyfile}&no_verify=1&proxy=netcat`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
