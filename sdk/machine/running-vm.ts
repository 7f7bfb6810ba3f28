/**
 * The started VM: a handle scripts, the REPL and tools rely on.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { resolve as resolvePath } from "node:path";
import { inspect } from "node:util";
import type { QmpClient } from "../qmp/mod.ts";
import { GuestAgent } from "../agent/client.ts";
import { consoleFiles } from "../agent/console-files.ts";
import { agentFiles, copyFileIn, copyFileOut, type GuestFileOptions, type GuestFileTransport } from "../agent/files.ts";
import { agentRunner, consoleRunner, type GuestRunner, type GuestShell, makeShell } from "../agent/shell.ts";
import { type Console, HALT } from "./console.ts";
import { VmError } from "./errors.ts";
import { AgentError } from "../agent/errors.ts";
import type { GuestOutput } from "../agent/output.ts";
import { isAlive, readThreads } from "./proc.ts";
import { removeRunDirSync } from "./run-dir.ts";
import type { SpawnedQemu } from "./spawn.ts";
import type { AccelInfo, VmExit, VmState, VmThread, VncInfo } from "./types.ts";
import { type BoundForward, parseUsernet } from "./usernet.ts";
import type { WebConsole, WebOptions } from "../web/server.ts";

/** Timeouts of the shutdown ladder, in ms. A step with 0 is skipped. */
export interface ShutdownTimeouts {
  /** ACPI power button (`system_powerdown`), then wait for QEMU to exit. @default 10000 */
  readonly powerdown?: number;
  /** QMP `quit`. @default 5000 */
  readonly quit?: number;
  /** SIGTERM. @default 5000 */
  readonly term?: number;
  /** SIGKILL (only waits for the exit to be noticed). @default 5000 */
  readonly kill?: number;
}

/** Options of {@link RunningVm.shutdown}. */
export interface ShutdownOptions {
  readonly timeouts?: ShutdownTimeouts;
}

/** One internal snapshot (savevm) as QEMU lists it. */
export interface VmSnapshot {
  readonly id: string;
  readonly tag: string;
  /** Bytes of saved RAM/device state. */
  readonly vmStateSize: number;
  readonly date: Date;
  /** Guest clock when saved, in seconds. */
  readonly vmClockSeconds: number;
}

/** Everything the constructor needs; built by startVm() and attach(). */
export interface RunningVmInit {
  readonly name: string;
  readonly runDir: string;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly accel: AccelInfo;
  readonly qmp: QmpClient;
  readonly console?: Console;
  readonly vnc?: VncInfo;
  readonly daemonized: boolean;
  readonly keep: boolean;
  readonly temporaryFiles: readonly string[];
  /** Our child process, when QEMU is one (not daemonized, not attached). */
  readonly child?: SpawnedQemu;
  readonly state: VmState;
  /** Called once after exit (reaper unregistration, lock lookups...). */
  readonly onExit?: () => void;
  /** The guest agent channel's socket, when the VM has one (`vm().agent()`). */
  readonly agentSocket?: string;
}

/** How long `m.agent()` (and so the first `m.$` command) waits for qemu-ga to answer: a TCG boot. */
const AGENT_CONNECT_TIMEOUT = 120_000;

/** Time allowed for savevm/loadvm/delvm, in ms. */
const SNAPSHOT_TIMEOUT = 600_000;

const DEFAULTS: Required<ShutdownTimeouts> = { powerdown: 10_000, quit: 5_000, term: 5_000, kill: 5_000 };

/**
 * A running QEMU. Obtained from `startVm()`, `vm().start()` or `attach()`.
 *
 * @example
 * ```ts
 * await using m = await vm().memory("256M").kernel(g.kernel, { initrd: g.initrd, append: g.append }).start();
 * await m.console.waitFor(g.prompt);
 * console.log(await m.console.run("uname -a"), await m.threads());
 * ```
 */
export class RunningVm implements AsyncDisposable {
  /** VM name (also the run directory's name). */
  readonly name: string;
  /** Private directory with sockets, logs, vm.json and temporary overlays. */
  readonly runDir: string;
  /** QEMU's process id. */
  readonly pid: number;
  /** QEMU's argv, program first. */
  readonly argv: readonly string[];
  /** The accelerator QEMU runs with and why. */
  readonly accel: AccelInfo;
  /** The QMP client (one per VM; QEMU allows one client per monitor). */
  readonly qmp: QmpClient;
  /** True when QEMU was started with -daemonize (survives this process). */
  readonly daemonized: boolean;
  /** Resolves once QEMU has exited and the run directory is cleaned up. Never rejects. */
  readonly exited: Promise<VmExit>;
  #console: Console | undefined;
  #vnc: VncInfo | undefined;
  #state: VmState;
  #keep: boolean;
  #temporaryFiles: readonly string[];
  #shutdownReason: string | undefined;
  #signalSent: NodeJS.Signals | undefined;
  #exit: VmExit | undefined;
  #shutdown: Promise<VmExit> | undefined;
  #onExit: (() => void) | undefined;
  #detached = false;
  #ioError: VmError | undefined;
  #agentSocket: string | undefined;
  #agent: Promise<GuestAgent> | undefined;
  #shell: GuestShell | undefined;
  #web: Promise<WebConsole> | undefined;

  constructor(init: RunningVmInit) {
    this.name = init.name;
    this.runDir = init.runDir;
    this.pid = init.pid;
    this.argv = init.argv;
    this.accel = init.accel;
    this.qmp = init.qmp;
    this.daemonized = init.daemonized;
    this.#console = init.console;
    this.#vnc = init.vnc;
    this.#state = init.state;
    this.#keep = init.keep;
    this.#temporaryFiles = init.temporaryFiles;
    this.#onExit = init.onExit;
    this.#agentSocket = init.agentSocket;
    init.qmp.on("SHUTDOWN", (e) => {
      this.#shutdownReason = typeof e.data?.reason === "string" ? e.data.reason : "shutdown";
      this.#state = "shutting-down";
    });
    // QEMU sends BLOCK_IO_ERROR before the STOP that follows it (action "stop").
    init.qmp.on("BLOCK_IO_ERROR", (e) => {
      if (e.data?.action === "stop") this.#onIoError(e.data as unknown as Record<string, unknown>);
    });
    init.qmp.on("STOP", () => {
      if (this.#state === "running") this.#state = "paused";
    });
    init.qmp.on("RESUME", () => {
      if (this.#state === "paused" || this.#state === "io-error") this.#state = "running";
      this.#clearIoError();
    });
    const raw = init.child && !init.daemonized ? init.child.exit : this.#pollExit();
    this.exited = raw.then((r) => this.#finish(r.code, r.signal));
  }

  /**
   * The serial console. Throws when the VM has none (serial not "socket"). While the VM is
   * stopped on a host I/O error, `run()` and `waitFor()` reject with VM_IO_ERROR (pending
   * ones at once, new ones without sending anything) instead of running into their timeout.
   */
  get console(): Console {
    if (!this.#console) {
      throw new VmError("NO_CONSOLE", `VM "${this.name}" has no serial console connection`, {
        advice: 'start it with serial "socket" (the default), or read the log file you chose',
      });
    }
    return this.#console;
  }

  /**
   * Guest commands the zx way: `` await m.$`ls -l ${dir}` `` quotes every interpolated value
   * as one shell word (arrays spread), resolves with a {@link GuestOutput} and throws a
   * `GuestProcessError` on a non-zero exit; `.nothrow()`, `.quiet()`, `.timeout(ms)`, and
   * `m.$({ cwd, env, input, user, signal })` for options. Through the guest agent when the
   * VM has one (`vm().agent()`; stdout and stderr apart), else through the serial console
   * (stdout and stderr merged, in `stdout`). See docs/guest-commands.md.
   *
   * @example
   * ```ts
   * const name = "a file; with $(odd) 'chars'";
   * await m.$`touch ${name}`;
   * const r = await m.$({ cwd: "/tmp" })`ls -1`;
   * console.log(r.lines(), r.exitCode, r.duration);
   * ```
   */
  get $(): GuestShell {
    this.#shell ??= makeShell(() => this.#guestRunner());
    return this.#shell;
  }

  /** True when the VM has a guest agent channel (`vm().agent()`). */
  get hasAgent(): boolean {
    return this.#agentSocket !== undefined;
  }

  /**
   * The guest agent client, connected (and synchronised) on first use; waits up to two
   * minutes for qemu-ga to come up in a booting guest.
   * @example
   * ```ts
   * const agent = await m.agent();
   * console.log(await agent.execute("guest-get-osinfo"));
   * ```
   * @throws {AgentError} AGENT_UNAVAILABLE when the VM has no agent channel, AGENT_NOT_RESPONDING when qemu-ga does not answer.
   */
  agent(options: { readonly timeout?: number; readonly signal?: AbortSignal } = {}): Promise<GuestAgent> {
    this.#assertRunning("talk to its guest agent");
    if (!this.#agentSocket) {
      return Promise.reject(
        new AgentError("AGENT_UNAVAILABLE", `VM "${this.name}" has no guest agent channel`, {
          advice: "start it with vm()...agent(), and run qemu-ga in the guest (the built-in Debian guest does)",
        }),
      );
    }
    const socket = this.#agentSocket;
    if (!this.#agent) {
      const p = GuestAgent.connect(socket, {
        timeout: options.timeout ?? AGENT_CONNECT_TIMEOUT,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.#agent = p;
      p.then(
        (a) => {
          if (this.#exit || this.#detached) void a.close();
        },
        () => {
          if (this.#agent === p) this.#agent = undefined;
        },
      );
    }
    return this.#agent.then((a) => {
      if (!a.closed) return a;
      this.#agent = undefined;
      return this.agent(options);
    });
  }

  /**
   * Reads a guest file: through the agent (`guest-file-read`, 1 MiB chunks) when the VM has
   * one, else through the serial console (base64, 192 KiB per round trip; slow).
   * @example `const osRelease = (await m.readFile("/etc/os-release")).toString();`
   * @throws {AgentError} AGENT_COMMAND for a missing file (agent); a GuestCommandError over the console.
   */
  async readFile(guestPath: string, options: GuestFileOptions = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await (await this.#files()).read(
      guestPath,
      (c) => {
        chunks.push(c);
      },
      options,
    );
    return Buffer.concat(chunks);
  }

  /**
   * Writes a guest file (created or truncated; `mode` sets its bits), through the agent or
   * else the serial console.
   * @example `await m.writeFile("/root/hello.sh", "#!/bin/sh\necho hi\n", { mode: 0o755 });`
   */
  async writeFile(guestPath: string, data: string | Uint8Array, options: GuestFileOptions = {}): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    await (await this.#files()).write(guestPath, [bytes], { ...options, total: bytes.length });
  }

  /**
   * Copies a host file into the guest, streamed in chunks; `onProgress` reports bytes.
   * Through the agent, or else the serial console (a few KiB per round trip: small files).
   * @example `await m.copyIn("build/app.tar", "/root/app.tar", { onProgress: (n, t) => console.log(n, t) });`
   */
  async copyIn(hostPath: string, guestPath: string, options: GuestFileOptions = {}): Promise<number> {
    return copyFileIn(await this.#files(), hostPath, guestPath, options);
  }

  /**
   * Copies a guest file to the host, streamed in chunks (agent, or else serial console).
   * @example `await m.copyOut("/var/log/dpkg.log", "dpkg.log");`
   */
  async copyOut(guestPath: string, hostPath: string, options: GuestFileOptions = {}): Promise<number> {
    return copyFileOut(await this.#files(), guestPath, hostPath, options);
  }

  async #files(): Promise<GuestFileTransport> {
    return this.#agentSocket ? agentFiles(await this.agent()) : consoleFiles(this.console);
  }

  async #guestRunner(): Promise<GuestRunner> {
    return this.#agentSocket ? agentRunner(await this.agent()) : consoleRunner(this.console);
  }

  /** The host I/O error that stopped the VM (state "io-error"), until it is resumed. */
  get ioError(): VmError | undefined {
    return this.#ioError;
  }

  /** True when a serial console is connected. */
  get hasConsole(): boolean {
    return this.#console !== undefined;
  }

  /** VNC server info read back from QMP (`query-vnc`), when the VM has VNC. */
  get vnc(): VncInfo | undefined {
    return this.#vnc;
  }

  /** "running", "paused", "io-error" (stopped by a host disk error), "shutting-down" or "exited". */
  get state(): VmState {
    return this.#state;
  }

  /** Keep the run directory (and temporary overlays) after exit. Settable until the VM exits. */
  get keep(): boolean {
    return this.#keep;
  }
  set keep(value: boolean) {
    this.#keep = value;
  }

  /**
   * QEMU's threads from /proc, with vCPU threads identified by QMP `query-cpus-fast`.
   *
   * @example
   * ```ts
   * const vcpus = (await m.threads()).filter((t) => t.kind === "vcpu");
   * ```
   */
  async threads(): Promise<VmThread[]> {
    this.#assertRunning("list threads");
    const cpus = await this.qmp.execute("query-cpus-fast");
    return readThreads(this.pid, new Map(cpus.map((c) => [Number(c["thread-id"]), Number(c["cpu-index"])])));
  }

  /**
   * Saves the display as PNG (QMP `screendump`); returns the absolute path.
   *
   * @example
   * ```ts
   * await m.screenshot("/tmp/screen.png");
   * ```
   */
  async screenshot(path: string): Promise<string> {
    this.#assertRunning("take a screenshot");
    // QEMU resolves relative paths against its own cwd ("/" once daemonized).
    const abs = resolvePath(path);
    await this.qmp.execute("screendump", { filename: abs, format: "png" });
    return abs;
  }

  /**
   * Serves this VM's screen (noVNC, when it has VNC) and serial console (xterm.js) on a
   * local web page, and resolves with its one URL. The page reaches the VM only through
   * that server: loopback by default, a random token in the URL required on every request,
   * websockets from other origins refused; when VNC wants a password, a fresh one is set
   * over QMP. One server per VM (a second call returns it while it is open); it stops when
   * the VM exits or is detached, or on `close()`.
   *
   * @example
   * ```ts
   * const web = await m.web();
   * console.log(web.url); // http://127.0.0.1:PORT/TOKEN/
   * ```
   * @throws {WebError} `WEB_VNC_UNPROTECTED` when VNC listens beyond loopback without
   *   `password: true`, `WEB_LISTEN` when the address cannot be bound.
   */
  web(options: WebOptions = {}): Promise<WebConsole> {
    try {
      this.#assertRunning("serve its web console");
    } catch (e) {
      return Promise.reject(e);
    }
    const current = this.#web;
    // Chained on the previous call, so two calls at once share one server.
    this.#web = (async () => {
      const open = await current?.catch(() => undefined);
      if (open && !open.isClosed) return open;
      // Loaded on first use: scripts that never open a web console never load ws.
      const { startWebConsole } = await import("../web/server.ts");
      return startWebConsole(this, options);
    })();
    return this.#web;
  }

  /**
   * Re-reads VNC info from QMP (after `change-vnc-*` or display changes).
   * @example `const { port } = (await m.refreshVnc()) ?? {};`
   */
  async refreshVnc(): Promise<VncInfo | undefined> {
    this.#vnc = await queryVnc(this.qmp);
    return this.#vnc;
  }

  /**
   * The host ports forwarded into the guest, as QEMU bound them (HMP `info usernet`): the
   * real port of a `forward("auto", ...)`.
   * @example `for (const f of await m.forwards()) console.log(f.protocol, f.hostPort, "->", f.guestPort);`
   */
  async forwards(): Promise<BoundForward[]> {
    this.#assertRunning("read its port forwards");
    return queryForwards(this.qmp);
  }

  /**
   * The host port that reaches `guestPort` (the first such forward), e.g. after
   * `forward("auto", 22)`.
   * @example `const port = await m.hostPort(22); // ssh -p ${port} localhost`
   * @throws {VmError} `VM_NO_FORWARD` when no forward reaches that guest port.
   */
  async hostPort(guestPort: number, protocol: "tcp" | "udp" = "tcp"): Promise<number> {
    return forwardedPort(this.name, await this.forwards(), guestPort, protocol);
  }

  /** Pauses the vCPUs (QMP `stop`). @example `await m.pause();` */
  async pause(): Promise<void> {
    this.#assertRunning("pause");
    await this.qmp.execute("stop");
    this.#state = "paused";
  }

  /**
   * Resumes the vCPUs (QMP `cont`), also after an I/O error once space was freed (QEMU
   * retries the failed request). @example `await m.resume();`
   */
  async resume(): Promise<void> {
    this.#assertRunning("resume");
    await this.qmp.execute("cont");
    this.#state = "running";
    this.#clearIoError();
  }

  /** Hard reset, like the reset button (QMP `system_reset`). @example `await m.reset();` */
  async reset(): Promise<void> {
    this.#assertRunning("reset");
    await this.qmp.execute("system_reset");
  }

  /**
   * Internal snapshots of the whole VM (RAM, devices, disks). Needs every writable disk to
   * be qcow2; QEMU's refusal is passed on otherwise.
   *
   * @example
   * ```ts
   * await m.snapshots.save("clean");
   * await m.snapshots.load("clean");
   * ```
   */
  readonly snapshots = {
    /** HMP `savevm TAG`. */
    save: async (tag: string): Promise<void> => this.#hmpChecked(`savevm ${checkTag(tag)}`, "save snapshot"),
    /** HMP `loadvm TAG`. */
    load: async (tag: string): Promise<void> => {
      const wasRunning = this.#state === "running";
      try {
        await this.#hmpChecked(`loadvm ${checkTag(tag)}`, "load snapshot");
      } catch (e) {
        // HMP loadvm stops the VM first and leaves it stopped when loading fails.
        if (wasRunning && !this.#exit) await this.qmp.execute("cont").catch(() => {});
        throw e;
      }
    },
    /** HMP `delvm TAG`. */
    delete: async (tag: string): Promise<void> => this.#hmpChecked(`delvm ${checkTag(tag)}`, "delete snapshot"),
    /** Snapshots of the first writable disk (QMP `query-block`). */
    list: async (): Promise<VmSnapshot[]> => {
      this.#assertRunning("list snapshots");
      const blocks = await this.qmp.execute("query-block");
      const disk = blocks.find((b) => b.inserted && !b.inserted.ro);
      return (disk?.inserted?.image.snapshots ?? []).map((s) => ({
        id: s.id,
        tag: s.name,
        vmStateSize: Number(s["vm-state-size"]),
        date: new Date(Number(s["date-sec"]) * 1000 + Math.floor(Number(s["date-nsec"]) / 1e6)),
        vmClockSeconds: Number(s["vm-clock-sec"]) + Number(s["vm-clock-nsec"]) / 1e9,
      }));
    },
  };

  /**
   * Stops the VM gently, then less gently: ACPI powerdown and wait, QMP `quit`, SIGTERM,
   * SIGKILL, each with its own timeout. Idempotent; resolves with how QEMU exited.
   *
   * @example
   * ```ts
   * const exit = await m.shutdown({ timeouts: { powerdown: 0 } }); // skip ACPI, start at quit
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<VmExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.#shutdown ??= this.#ladder({ ...DEFAULTS, ...(options.timeouts ?? {}) });
    return this.#shutdown;
  }

  /**
   * Kills QEMU with SIGKILL (no flush, no guest shutdown). Idempotent.
   *
   * @example
   * ```ts
   * const { signal } = await m.kill(); // "SIGKILL" for our own child
   * ```
   */
  kill(): Promise<VmExit> {
    if (this.#exit) return Promise.resolve(this.#exit);
    this.#signal("SIGKILL");
    return this.exited;
  }

  /**
   * Closes the QMP and console connections but leaves QEMU running; meant for daemonized
   * VMs so another process can `attach()` later. A daemonized VM's connections keep the
   * script alive until detach() or shutdown(). (A VM started without daemonize still
   * dies with the script.) After detach(), `exited` no longer tracks the VM.
   *
   * @example
   * ```ts
   * await m.detach(); // later, elsewhere: await attach(m.name)
   * ```
   */
  async detach(): Promise<void> {
    this.#detached = true;
    await this.#agent?.then(
      (a) => a.close(),
      () => {},
    );
    await this.#closeWeb();
    await this.#console?.close();
    await this.qmp.close();
  }

  /** `await using` support: shuts the VM down. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  [inspect.custom](_depth: number, options: import("node:util").InspectOptionsStylized): string {
    const view: Record<string, unknown> = {
      name: this.name,
      state: this.#state,
      accel: this.accel.chosen,
      pid: this.pid,
    };
    const ports: Record<string, number> = {};
    if (this.#vnc) ports.vnc = this.#vnc.port;
    if (this.#vnc?.websocketPort) ports.websocket = this.#vnc.websocketPort;
    if (Object.keys(ports).length) view.ports = ports;
    if (this.daemonized) view.daemonized = true;
    if (this.#exit) view.exit = this.#exit;
    view.runDir = this.runDir;
    return `RunningVm ${inspect(view, { ...options, compact: 3, breakLength: 100 })}`;
  }

  async #ladder(t: Required<ShutdownTimeouts>): Promise<VmExit> {
    this.#state = "shutting-down";
    const within = async (ms: number): Promise<boolean> => {
      if (this.#exit) return true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), ms);
        }),
      ]);
      clearTimeout(timer);
      return done;
    };
    const ignore = () => {};
    if (t.powerdown > 0) {
      await this.qmp.execute("system_powerdown", undefined, { timeout: t.powerdown }).catch(ignore);
      if (await within(t.powerdown)) return this.exited;
    }
    if (t.quit > 0) {
      await this.qmp.execute("quit", undefined, { timeout: t.quit }).catch(ignore);
      if (await within(t.quit)) return this.exited;
    }
    if (t.term > 0) {
      this.#signal("SIGTERM");
      if (await within(t.term)) return this.exited;
    }
    this.#signal("SIGKILL");
    if (await within(Math.max(t.kill, 1))) return this.exited;
    throw new VmError("VM_STUCK", `QEMU (pid ${this.pid}) did not exit even after SIGKILL`, {
      advice:
        "the process may be in uninterruptible sleep (D state, e.g. a hung NFS disk); check /proc/" +
        `${this.pid}/status`,
    });
  }

  async #closeWeb(): Promise<void> {
    const web = await this.#web?.catch(() => undefined);
    await web?.close();
  }

  #onIoError(data: Record<string, unknown>): void {
    const device = String(data["device"] || data["node-name"] || "a disk");
    const reason = typeof data["reason"] === "string" ? data["reason"] : "I/O error";
    const error = new VmError(
      "VM_IO_ERROR",
      `VM "${this.name}" stopped: ${data["operation"] ?? "I/O"} on ${device} failed on the host: ${reason}`,
      {
        advice: data["nospace"]
          ? "the host file system holding the disk image is full: free space there, then call resume() (QEMU retries the write)"
          : "check the host disk holding the image (dmesg), then call resume() to retry, or shut the VM down",
        details: { ...data },
      },
    );
    this.#ioError = error;
    this.#state = "io-error";
    this.#console?.[HALT](error);
  }

  #clearIoError(): void {
    if (!this.#ioError) return;
    this.#ioError = undefined;
    this.#console?.[HALT](undefined);
  }

  #signal(signal: NodeJS.Signals): void {
    this.#signalSent ??= signal;
    if (signal === "SIGKILL") this.#signalSent = signal;
    try {
      process.kill(this.pid, signal);
    } catch {
      /* already gone */
    }
  }

  #assertRunning(what: string): void {
    if (this.#exit) {
      throw new VmError("VM_EXITED", `cannot ${what}: VM "${this.name}" has exited (${this.#exit.reason})`, {
        advice: "start a new VM",
      });
    }
  }

  async #hmpChecked(command: string, what: string): Promise<void> {
    this.#assertRunning(what);
    // Saving or loading RAM of a large guest takes a while under TCG.
    const out = (await this.qmp.hmp(command, { timeout: SNAPSHOT_TIMEOUT })).trim();
    // HMP reports failures as text on success-status replies.
    if (out) {
      throw new VmError("VM_SNAPSHOT", `could not ${what} (${command}): ${out}`, {
        advice:
          "internal snapshots need every writable disk to be qcow2 (overlays are); raw disks and kernel-only VMs without a disk cannot hold them",
        details: { command, output: out },
      });
    }
  }

  /**
   * Exit tracking for a QEMU that is not our child (daemonized or attached): poll /proc,
   * every 5 ms for a while once the QMP connection closed (QEMU is probably exiting),
   * else every 100 ms. Stops after detach(): `exited` then stays pending.
   */
  async #pollExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let qmpGoneAt = 0;
    void this.qmp.closed.then(
      () => {
        qmpGoneAt = Date.now();
      },
      () => {
        qmpGoneAt = Date.now();
      },
    );
    while (isAlive(this.pid)) {
      if (this.#detached) return new Promise(() => {});
      await sleep(qmpGoneAt && Date.now() - qmpGoneAt < 2000 ? 5 : 100);
    }
    return { code: null, signal: null };
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): VmExit {
    const reason =
      this.#shutdownReason ??
      (signal === "SIGKILL" || this.#signalSent === "SIGKILL"
        ? "killed"
        : signal || (code !== null && code !== 0)
          ? "crashed"
          : "exited");
    const exit: VmExit = {
      code,
      signal: signal ?? (code === null && this.#signalSent ? this.#signalSent : null),
      reason,
    };
    this.#exit = exit;
    this.#state = "exited";
    // Nothing here waits: `exited` must resolve within milliseconds of QEMU's death.
    // The sockets died with QEMU; closing our ends just releases them.
    this.#console?.close().catch(() => {});
    this.#agent?.then(
      (a) => a.close(),
      () => {},
    );
    this.#closeWeb().catch(() => {});
    this.qmp.close().catch(() => {});
    if (!this.#keep) removeRunDirSync(this.runDir, this.#temporaryFiles);
    try {
      this.#onExit?.();
    } catch {
      /* bookkeeping only */
    }
    return exit;
  }
}

function checkTag(tag: string): string {
  if (!/^[\w.:-]+$/.test(tag)) {
    throw new VmError("VM_SNAPSHOT", `invalid snapshot tag ${JSON.stringify(tag)}`, {
      advice: "use letters, digits, '_', '-', '.', ':'",
    });
  }
  return tag;
}

/** The host ports QEMU's user network forwards into the guest (HMP `info usernet`). */
export async function queryForwards(qmp: QmpClient): Promise<BoundForward[]> {
  const text = await qmp.executeRaw("human-monitor-command", { "command-line": "info usernet" });
  return parseUsernet(String(text));
}

/** The host port of the first forward to `guestPort`; `VM_NO_FORWARD` (naming `vm`) when none. */
export function forwardedPort(
  vm: string,
  forwards: readonly BoundForward[],
  guestPort: number,
  protocol: "tcp" | "udp",
): number {
  const found = forwards.find((f) => f.guestPort === guestPort && f.protocol === protocol);
  if (!found) {
    throw new VmError("VM_NO_FORWARD", `${vm} forwards no host ${protocol} port to guest port ${guestPort}`, {
      advice: `add one when building the VM: vm().forward("auto", ${guestPort}${protocol === "udp" ? ', { protocol: "udp" }' : ""})`,
    });
  }
  return found.hostPort;
}

/** Reads VNC display/port/websocket port from QMP; undefined when VNC is off. */
export async function queryVnc(qmp: QmpClient): Promise<VncInfo | undefined> {
  const info = await qmp.execute("query-vnc").catch(() => undefined);
  if (!info?.enabled || !info.service) return undefined;
  const port = Number(info.service);
  let websocketPort: number | undefined;
  const servers = await qmp.execute("query-vnc-servers").catch(() => []);
  for (const s of servers) {
    for (const l of s.server) if (l.websocket) websocketPort = Number(l.service);
  }
  return { display: port - 5900, host: info.host ?? "", port, ...(websocketPort ? { websocketPort } : {}) };
}
