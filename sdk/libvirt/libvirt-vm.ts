/**
 * A VM running as a libvirt domain: the same contract as a directly started VM
 * ({@link VmHandle}), over qemukit's own QMP monitor and serial socket on the domain's host.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { resolve as resolvePath } from "node:path";
import { writeFile } from "node:fs/promises";
import { inspect } from "node:util";
import { consoleRunner, type GuestShell, makeShell } from "../agent/shell.ts";
import type { Console } from "../machine/console.ts";
import { VmError } from "../machine/errors.ts";
import type { VmHandle } from "../machine/handle.ts";
import type { ShutdownOptions, ShutdownTimeouts } from "../machine/running-vm.ts";
import { forwardedPort, queryForwards, queryVnc } from "../machine/running-vm.ts";
import type { VmExit, VmState, VmThread, VncInfo } from "../machine/types.ts";
import type { BoundForward } from "../machine/usernet.ts";
import type { QmpClient } from "../qmp/mod.ts";
import { exec } from "../util/exec.ts";
import { type LibvirtUri, sshArgv } from "./connection.ts";
import type { LibvirtHost } from "./host.ts";

/** Everything the constructor needs; built by the libvirt start and attach. */
export interface LibvirtVmInit {
  readonly name: string;
  /** The host commands go through (bound to the VM's virsh session when it has one). */
  readonly host: LibvirtHost;
  /** The host as the user named it. */
  readonly userHost: LibvirtHost;
  readonly qmp: QmpClient;
  readonly console?: Console;
  readonly vnc?: VncInfo;
  readonly state: VmState;
  readonly daemonized: boolean;
  /** Undoes what the start made (overlay volumes, local run dir unless `keep`, the virsh session); runs once after exit. */
  readonly cleanup: (keep: boolean) => Promise<void>;
  readonly keep: boolean;
}

const DEFAULTS: Required<ShutdownTimeouts> = { powerdown: 10_000, quit: 5_000, term: 5_000, kill: 5_000 };

/**
 * A libvirt domain started (or attached) by qemukit. Same contract as `RunningVm`: typed
 * `qmp`, `console`, `vnc`, `screenshot()`, `shutdown()` (ACPI, QMP quit, `virsh destroy`),
 * `kill()`, `exited`, `await using`.
 *
 * @example
 * ```ts
 * await using m = await vm().kernel(g.kernel, { initrd: g.initrd, append: g.append }).start({ on: libvirt("qemu:///system") });
 * await m.console.waitFor(g.prompt);
 * ```
 */
export class LibvirtVm implements VmHandle {
  /** Domain name. */
  readonly name: string;
  /** The libvirt host (URI) the domain runs on. */
  readonly host: LibvirtHost;
  /** qemukit's QMP monitor of this domain. */
  readonly qmp: QmpClient;
  /** True when the domain outlives this script (started without `--autodestroy`). */
  readonly daemonized: boolean;
  /** Resolves once QEMU has exited and qemukit's volumes/files for it are removed. Never rejects. */
  readonly exited: Promise<VmExit>;
  #console: Console | undefined;
  #shell: GuestShell | undefined;
  #vnc: VncInfo | undefined;
  #state: VmState;
  #keep: boolean;
  #shutdownReason: string | undefined;
  #destroyed = false;
  #exit: VmExit | undefined;
  #shutdown: Promise<VmExit> | undefined;
  #cleanup: (keep: boolean) => Promise<void>;
  #detached = false;
  #control: LibvirtHost;

  constructor(init: LibvirtVmInit) {
    this.name = init.name;
    this.host = init.userHost;
    this.#control = init.host;
    this.qmp = init.qmp;
    this.daemonized = init.daemonized;
    this.#console = init.console;
    this.#vnc = init.vnc;
    this.#state = init.state;
    this.#keep = init.keep;
    this.#cleanup = init.cleanup;
    init.qmp.on("SHUTDOWN", (e) => {
      // libvirt runs QEMU with -no-shutdown and kills it after a guest poweroff: keep the first reason.
      // After virsh destroy (SIGTERM first) the reason is "killed", not QEMU's "host-signal".
      if (!this.#destroyed) this.#shutdownReason ??= typeof e.data?.reason === "string" ? e.data.reason : "shutdown";
      this.#state = "shutting-down";
    });
    init.qmp.on("STOP", () => {
      if (this.#state === "running") this.#state = "paused";
    });
    init.qmp.on("RESUME", () => {
      if (this.#state === "paused") this.#state = "running";
    });
    // Our monitor's socket closes the moment QEMU exits: no polling of libvirt.
    const ended = () => (this.#detached ? new Promise<VmExit>(() => {}) : this.#finish());
    this.exited = init.qmp.closed.then(ended, ended);
  }

  /** The serial console; throws `NO_CONSOLE` when the spec's serial is not "socket". */
  get console(): Console {
    if (!this.#console) {
      throw new VmError("NO_CONSOLE", `VM "${this.name}" has no serial console connection`, {
        advice: 'start it with serial "socket" (the default)',
      });
    }
    return this.#console;
  }

  /**
   * Guest commands the zx way, as on a `RunningVm`: through the serial console here
   * (stdout and stderr merged, in `stdout`; see docs/guest-commands.md).
   *
   * @example
   * ```ts
   * const r = await m.$`uname -r`;
   * ```
   */
  get $(): GuestShell {
    this.#shell ??= makeShell(async () => consoleRunner(this.console));
    return this.#shell;
  }

  /** True when a serial console is connected. */
  get hasConsole(): boolean {
    return this.#console !== undefined;
  }

  /** VNC server info read back over QMP (on the domain's host). */
  get vnc(): VncInfo | undefined {
    return this.#vnc;
  }

  /** "running", "paused", "shutting-down" or "exited". */
  get state(): VmState {
    return this.#state;
  }

  /** Keep overlay volumes / files after exit. */
  get keep(): boolean {
    return this.#keep;
  }
  set keep(value: boolean) {
    this.#keep = value;
  }

  /**
   * Saves the display as PNG on this machine; returns the absolute path. Remote domains
   * write it on their host and it comes back through libvirt (a volume download).
   * @example `await m.screenshot("/tmp/screen.png");`
   */
  async screenshot(path: string): Promise<string> {
    this.#assertRunning("take a screenshot");
    const abs = resolvePath(path);
    if (!this.host.remote) {
      await this.qmp.execute("screendump", { filename: abs, format: "png" });
      return abs;
    }
    const bytes = await this.#control.fetchScreendump(this.name, (file) =>
      this.qmp.execute("screendump", { filename: file, format: "png" }).then(() => {}),
    );
    await writeFile(abs, bytes);
    return abs;
  }

  /**
   * QEMU's threads on the domain's host, as `ps -L` lists them there (over ssh for a
   * remote host: libvirt has no call that lists a process's threads). The process is the
   * one libvirt started with `-name guest=NAME`; its `tid` is the host's view, which can
   * differ from QMP's thread ids when libvirtd runs in a PID namespace, so vCPU threads are
   * known by the names libvirt has QEMU give them (`debug-threads=on`: "CPU 0/TCG").
   *
   * @example
   * ```ts
   * const vcpus = (await m.threads()).filter((t) => t.kind === "vcpu");
   * ```
   */
  async threads(): Promise<VmThread[]> {
    this.#assertRunning("list threads");
    const [procs, threads] = await hostPs(this.host.target);
    const guest = `guest=${this.name.replaceAll(",", ",,")},`;
    const pid = procs.find((p) => /qemu/.test(p.args) && p.args.includes(guest))?.pid;
    if (pid === undefined) {
      throw new VmError("VM_EXITED", `no QEMU process for domain "${this.name}" on ${this.host.uri}`, {
        advice: `check it with virsh -c '${this.host.uri}' list`,
      });
    }
    return threads
      .filter((t) => t.pid === pid)
      .map((t) => {
        const cpu = /^CPU (\d+)\//.exec(t.name);
        return t.tid === pid
          ? { tid: t.tid, name: t.name, kind: "main" as const }
          : cpu
            ? { tid: t.tid, name: t.name, kind: "vcpu" as const, cpuIndex: Number(cpu[1]) }
            : { tid: t.tid, name: t.name, kind: "other" as const };
      });
  }

  /** Re-reads VNC info over QMP. @example `await m.refreshVnc();` */
  async refreshVnc(): Promise<VncInfo | undefined> {
    this.#vnc = await queryVnc(this.qmp);
    return this.#vnc;
  }

  /** Host ports forwarded into the guest (on the domain's host). @example `await m.forwards();` */
  async forwards(): Promise<BoundForward[]> {
    this.#assertRunning("read its port forwards");
    return queryForwards(this.qmp);
  }

  /** The host port that reaches `guestPort`. @example `await m.hostPort(22);` */
  async hostPort(guestPort: number, protocol: "tcp" | "udp" = "tcp"): Promise<number> {
    return forwardedPort(this.name, await this.forwards(), guestPort, protocol);
  }

  /** Pauses the vCPUs (QMP `stop`; libvirt sees the event). @example `await m.pause();` */
  async pause(): Promise<void> {
    this.#assertRunning("pause");
    await this.qmp.execute("stop");
    this.#state = "paused";
  }

  /** Resumes the vCPUs (QMP `cont`). @example `await m.resume();` */
  async resume(): Promise<void> {
    this.#assertRunning("resume");
    await this.qmp.execute("cont");
    this.#state = "running";
  }

  /** Hard reset (QMP `system_reset`). @example `await m.reset();` */
  async reset(): Promise<void> {
    this.#assertRunning("reset");
    await this.qmp.execute("system_reset");
  }

  /**
   * ACPI powerdown, then QMP `quit`, then `virsh destroy`, each with its timeout
   * (`term` and `kill` both bound the destroy). Idempotent.
   * @example `await m.shutdown({ timeouts: { powerdown: 0 } });`
   */
  shutdown(options: ShutdownOptions = {}): Promise<VmExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.#shutdown ??= this.#ladder({ ...DEFAULTS, ...(options.timeouts ?? {}) });
    return this.#shutdown;
  }

  /** `virsh destroy`: QEMU is killed at once. Idempotent. @example `await m.kill();` */
  async kill(): Promise<VmExit> {
    if (this.#exit) return this.#exit;
    await this.#destroy();
    return this.exited;
  }

  /**
   * Closes qemukit's connections; the domain keeps running (a daemonized one can be
   * `attach()`ed later; one started without daemonize still ends with this script).
   * @example `await m.detach();`
   */
  async detach(): Promise<void> {
    this.#detached = true;
    await this.#console?.close();
    await this.qmp.close();
  }

  /** `await using` support: shuts the VM down. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  [inspect.custom](_depth: number, options: import("node:util").InspectOptionsStylized): string {
    const view: Record<string, unknown> = { name: this.name, host: this.host.uri, state: this.#state };
    if (this.#vnc) view.vnc = this.#vnc.port;
    if (this.#exit) view.exit = this.#exit;
    return `LibvirtVm ${inspect(view, { ...options, compact: 3, breakLength: 100 })}`;
  }

  async #destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#control.destroy(this.name).catch(() => this.host.destroy(this.name).catch(() => {}));
  }

  async #ladder(t: Required<ShutdownTimeouts>): Promise<VmExit> {
    this.#state = "shutting-down";
    const within = async (ms: number): Promise<boolean> =>
      Boolean(this.#exit) || (await Promise.race([this.exited.then(() => true), sleep(ms, false)]));
    const ignore = () => {};
    if (t.powerdown > 0) {
      await this.qmp.execute("system_powerdown", undefined, { timeout: t.powerdown }).catch(ignore);
      if (await within(t.powerdown)) return this.exited;
    }
    if (t.quit > 0) {
      await this.qmp.execute("quit", undefined, { timeout: t.quit }).catch(ignore);
      if (await within(t.quit)) return this.exited;
    }
    await this.#destroy();
    if (await within(Math.max(t.term + t.kill, 1))) return this.exited;
    throw new VmError("VM_STUCK", `domain ${this.name} did not end even after virsh destroy`, {
      advice: `check libvirtd on ${this.host.uri} (virsh -c '${this.host.uri}' list --all)`,
    });
  }

  #assertRunning(what: string): void {
    if (this.#exit) {
      throw new VmError("VM_EXITED", `cannot ${what}: VM "${this.name}" has exited (${this.#exit.reason})`, {
        advice: "start a new VM",
      });
    }
  }

  async #finish(): Promise<VmExit> {
    const reason = this.#shutdownReason ?? (this.#destroyed ? "killed" : "exited");
    const exit: VmExit = { code: null, signal: null, reason };
    this.#exit = exit;
    this.#state = "exited";
    this.#console?.close().catch(() => {});
    await this.#cleanup(this.#keep).catch(() => {});
    return exit;
  }
}

/**
 * Processes (pid, argv) and threads (pid, tid, name) on a libvirt host, from `ps`: run here
 * for a local URI, over one ssh login for a remote one.
 */
async function hostPs(
  target: LibvirtUri,
): Promise<[{ pid: number; args: string }[], { pid: number; tid: number; name: string }[]]> {
  const procsArgs = ["ps", "-e", "-o", "pid=,args="];
  const threadArgs = ["ps", "-e", "-L", "-o", "pid=,lwp=,comm="];
  let procsOut: string;
  let threadsOut: string;
  if (target.ssh) {
    const marker = "__qemukit_threads__";
    const out = (
      await exec([...sshArgv(target.ssh), [...procsArgs, "&&", "echo", marker, "&&", ...threadArgs].join(" ")])
    ).stdout;
    [procsOut = "", threadsOut = ""] = out.split(`${marker}\n`);
  } else {
    [procsOut, threadsOut] = await Promise.all([exec(procsArgs), exec(threadArgs)]).then((r) => r.map((x) => x.stdout));
  }
  const procs = procsOut
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }));
  const threads = threadsOut
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), tid: Number(m[2]), name: m[3]!.trimEnd() }));
  return [procs, threads];
}
