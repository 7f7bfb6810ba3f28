/**
 * Launch QEMU with a compiled argv under `-S`, prove it is up (QMP answers
 * `query-status`, or the process stays alive), and kill exactly that process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { exec } from "../../sdk/util/exec.ts";
import type { CompiledVm } from "../../sdk/compile/types.ts";
import { until } from "./until.ts";

const KERNEL = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux";

/** Create fixture files: qcow2 via qemu-img, raw/iso as small files, a real kernel for -kernel. */
export async function createFixtureFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, kind] of Object.entries(files)) {
    const path = join(dir, name);
    if (kind === "qcow2") await exec(["qemu-img", "create", "-q", "-f", "qcow2", path, "16M"]);
    else if (kind === "kernel") copyFileSync(KERNEL, path);
    else writeFileSync(path, Buffer.alloc(kind === "iso" ? 2048 * 16 : 1024 * 1024));
  }
}

/** One QMP command over a fresh connection (greeting, qmp_capabilities, command). */
export async function qmpOnce(socket: string, execute: string, timeoutMs = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no QMP answer on ${socket} within ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = "";
    let step = 0;
    s.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on("data", (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if ("event" in msg) continue;
        if (step === 0) s.write(JSON.stringify({ execute: "qmp_capabilities" }) + "\n");
        else if (step === 1) s.write(JSON.stringify({ execute }) + "\n");
        else {
          clearTimeout(timer);
          s.destroy();
          if (msg.error) reject(new Error(msg.error.desc));
          else resolve(msg.return);
        }
        step++;
      }
    });
  });
}

/** Threads of a live process (0 once it is gone). */
function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** Poll until `fn` resolves, or rethrow its last error after `ms`. */
export async function retry<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface Launched {
  readonly pid: number;
  readonly stderr: () => string;
  /** Status from QMP, or "alive" when the VM has no QMP socket. */
  readonly status: string;
  kill(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Spawn the compiled argv (overlays created first) and wait until QEMU is really up. */
export async function launchCompiled(c: CompiledVm): Promise<Launched> {
  for (const o of c.overlays)
    await exec(["qemu-img", "create", "-q", "-f", "qcow2", "-b", o.base, "-F", o.baseFormat, o.path]);
  const child: ChildProcess = spawn(c.argv[0], c.argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let pid = child.pid!;
  const daemon = c.argv.includes("-daemonize");
  const killAll = async () => {
    if (daemon && pid !== child.pid && isAlive(pid)) {
      process.kill(pid, "SIGKILL");
      await retry(async () => {
        if (isAlive(pid)) throw new Error("still alive");
      }, 5000);
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    if (daemon) {
      const code = await exited;
      if (code !== 0) throw new Error(`daemonizing QEMU exited with ${code}: ${err}`);
      pid = Number(readFileSync(c.pidfile!, "utf8").trim());
    }
    let status = "alive";
    if (c.qmpSocket) {
      const r = await Promise.race([
        retry(() => qmpOnce(c.qmpSocket!, "query-status"), 15_000),
        exited.then((code) => {
          if (!daemon) throw new Error(`QEMU exited with ${code}: ${err}`);
          return new Promise<never>(() => {});
        }),
      ]);
      status = r.status;
    } else {
      // No monitor to ask: QEMU is up once machine init made its vCPU thread (threads are
      // main, call_rcu and one per vCPU without QMP), or it has exited with an error.
      await until(
        () => !isAlive(pid) || child.exitCode !== null || threadCount(pid) >= 3,
        15_000,
        `QEMU ${pid} to create its vCPU thread`,
      );
      if (!isAlive(pid) || child.exitCode !== null) throw new Error(`QEMU exited: ${err}`);
    }
    return { pid, status, stderr: () => err, kill: killAll };
  } catch (e) {
    await killAll();
    throw e;
  }
}
