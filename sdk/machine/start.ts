/**
 * `startVm(spec)`: run directory, overlays, spawn (with the parent-death guard), QMP,
 * console, `cont`, readiness. On any failure everything is undone and a VmStartError
 * carrying QEMU's own message and argv is thrown.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { closeSync, openSync } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import { compile } from "../compile/compile.ts";
import { shellQuote } from "../compile/shell.ts";
import type { CompileContext, CompiledVm } from "../compile/types.ts";
import { AbortError, QemukitError, TimeoutError } from "../errors/errors.ts";
import { kvmWarning, resolveAccel } from "../host/accel.ts";
import { detectFormat } from "../img/detect.ts";
import { ImageLockedError } from "../img/errors.ts";
import { overlay } from "../img/overlay.ts";
import { statImage } from "../img/paths.ts";
import { list } from "./attach.ts";
import { freeVncDisplay, tcpListener } from "./holders.ts";
import { QmpClient } from "../qmp/mod.ts";
import type { Accel, ImageFormat, VmSpec } from "../spec/types.ts";
import { Console } from "./console.ts";
import { VmError, VmStartError } from "./errors.ts";
import { onAbort } from "../util/abort.ts";
import { holdImages, lockHolder } from "./locks.ts";
import { isAlive } from "./proc.ts";
import { registerForReaping, type ReapTarget } from "./reaper.ts";
import { createRunDir, generateName, isInside, MAX_SOCKET_PATH, removeRunDir, writeMetadata } from "./run-dir.ts";
import { queryVnc, RunningVm } from "./running-vm.ts";
import { spawnQemu, type QemuStdio, type SpawnedQemu } from "./spawn.ts";
import type { AccelInfo, VmMetadata, VmState } from "./types.ts";
import type { WaitStrategy } from "./wait.ts";

/** Options of {@link VmBuilder.start} (`vm()...start(options)`). Every field is optional. */
export interface StartOptions {
  /** Resolve only when the guest is ready (console pattern, QMP event, TCP port). */
  readonly waitFor?: WaitStrategy;
  /** Milliseconds for QEMU itself to come up (QMP greeting, console); `waitFor` has its own. @default 30000 */
  readonly timeout?: number;
  /**
   * Abort the start: QEMU is killed, the run directory and overlays are removed (unless
   * kept), and start() rejects with an AbortError (code `ABORTED`).
   */
  readonly signal?: AbortSignal;
  /** Use this directory as the run directory instead of `runRoot()/<name>` (created, and removed at exit unless kept). */
  readonly runDir?: string;
  /** QEMU binary. @default "qemu-system-x86_64" */
  readonly qemuBinary?: string;
  /**
   * QEMU's own stdout/stderr: "log" (run dir `qemu.log`), "inherit" (your terminal; start
   * errors then cannot quote QEMU) or "ignore". @default "log"
   */
  readonly stdio?: QemuStdio;
  /** Keep the run directory and temporary overlays after exit. @default spec.keep */
  readonly keep?: boolean;
  /** Leave the vCPUs stopped after start (QEMU `-S`); call `resume()` later. @default false */
  readonly paused?: boolean;
}

const DEFAULT_TIMEOUT = 30_000;

/**
 * Starts QEMU as the destination of a saved machine state (templates, sdk/template): the
 * same devices, `-incoming`, and `cont` only once the state is loaded. Not public: scripts
 * reach it through `template.start()`.
 */
export interface RestorePlan {
  /** The saved state: a `migrate` stream written to a file. */
  readonly stateFile: string;
  /** The template directory, recorded in `vm.json` so `template prune` leaves it alone while the clone runs. */
  readonly template?: string;
  /**
   * The state was saved with `x-ignore-shared` from RAM backed by a file (see
   * {@link StartInternals.memoryFile}): it holds devices only, RAM comes from the file.
   */
  readonly ignoreShared?: boolean;
  /** Runs right after `cont`, before `waitFor` (the template corrects the guest clock here). */
  readonly afterResume?: (vm: RunningVm, signal: AbortSignal | undefined) => Promise<void>;
}

/** What templates need from a start beyond the public options. */
export interface StartInternals {
  /** Guest RAM backed by a file (compile's `memoryFile`). */
  readonly memoryFile?: CompileContext["memoryFile"];
  /** Load a saved state instead of booting. */
  readonly restore?: RestorePlan;
}

/** True under Deno, whose child_process cannot hand a child an extra file descriptor. */
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Turns the spec's accel choice into QEMU's list and a stated reason. */
async function chooseAccel(spec: VmSpec, qemuBinary: string | undefined): Promise<{ list: Accel[]; info: AccelInfo }> {
  const choice = spec.accel;
  if (choice === "auto") {
    const r = await resolveAccel("auto", qemuBinary ? { qemu: qemuBinary } : {});
    return { list: [...r.accel], info: { chosen: r.chosen, reason: r.reason } };
  }
  const list: Accel[] = typeof choice === "string" ? [choice as Accel] : [...choice];
  // KVM asked for by name is honoured, but not silently where this host knows better.
  const warning = list[0] === "kvm" ? await kvmWarning(qemuBinary ? { qemu: qemuBinary } : {}) : undefined;
  if (warning) process.emitWarning(warning, { code: "QEMUKIT_ACCEL_KVM" });
  return { list, info: { chosen: list[0]!, reason: "requested by the spec", ...(warning ? { warning } : {}) } };
}

/** Waits for the child's pipes to drain so the error message holds all of QEMU's words. */
async function finalOutput(q: SpawnedQemu): Promise<string> {
  await Promise.race([
    new Promise<void>((r) =>
      (q.child.exitCode !== null || q.child.signalCode !== null) && q.child.stdout === null
        ? r()
        : q.child.once("close", () => r()),
    ),
    sleep(300),
  ]);
  return q.output();
}

/** Polls for the QMP socket while watching QEMU; fails fast with QEMU's message if it exits. */
async function connectQmp(
  compiled: CompiledVm,
  q: SpawnedQemu,
  deadline: number,
  daemonParentDone: () => boolean,
): Promise<QmpClient> {
  const path = compiled.qmpSocket!;
  let exited = false;
  void q.exit.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited && !daemonParentDone()) {
      throw new VmStartError("QEMU exited during start", compiled.argv, await finalOutput(q));
    }
    const present = await stat(path).then(
      () => true,
      () => false,
    );
    if (present) {
      try {
        return await QmpClient.connect(path, {
          timeout: Math.max(1000, deadline - Date.now()),
          retryUntil: Math.min(deadline, Date.now() + 1000),
        });
      } catch (e) {
        // QEMU may have bound the socket and then died on a later option.
        await Promise.race([q.exit, sleep(300)]);
        if (exited && !daemonParentDone())
          throw new VmStartError("QEMU exited during start", compiled.argv, await finalOutput(q), { cause: e });
        throw new VmStartError(
          `could not connect to QMP at ${path}: ${(e as Error).message}`,
          compiled.argv,
          q.output(),
          { cause: e },
        );
      }
    }
    if (Date.now() > deadline) {
      throw new VmStartError(`QEMU did not open its QMP socket within the start timeout`, compiled.argv, q.output(), {
        advice: "pass a longer { timeout }, or look at qemu.log in the run directory (start with { keep: true })",
      });
    }
    await sleep(exited ? 20 : 3);
  }
}

/** The image QEMU says is locked, from `Is another process using the image [PATH]?`. */
function lockedImage(message: string): string | undefined {
  if (!/Failed to get "?\w+"? lock/.test(message)) return undefined;
  return /using the image \[([^\]]+)\]/.exec(message)?.[1];
}

/** Adds lock-holder facts to a start error about a locked image. */
function explainLock(err: VmStartError): VmStartError {
  const path = lockedImage(err.qemuMessage);
  if (!path) return err;
  const holder = lockHolder(path);
  const locked = new ImageLockedError(path, holder);
  return new VmStartError(`${locked.summary}`, err.argv, err.qemuMessage, {
    cause: locked,
    advice: locked.advice,
    details: { image: path, holder },
  });
}

/**
 * Undoes a failed start: the overlays this start created (a named overlay may live outside
 * the run directory; it did not exist before, or overlay() would have refused), then
 * the run directory itself, which removeRunDir only touches if it carries our marker.
 */
async function discard(runDir: string, createdOverlays: readonly string[]): Promise<void> {
  for (const f of createdOverlays) if (!isInside(f, runDir)) await rm(f, { force: true }).catch(() => {});
  await removeRunDir(runDir);
}

/**
 * Files the spec names must exist before QEMU is started: a missing disk then fails with the
 * same words and advice as a missing overlay() base, not with QEMU's stderr.
 */
async function checkFiles(spec: VmSpec): Promise<void> {
  for (const d of spec.disks) {
    const what = d.media === "cdrom" ? "CD-ROM image" : "disk image";
    if (d.source.kind === "file") await statImage(resolvePath(d.source.path), what);
    else await statImage(resolvePath(d.source.base), "image");
  }
  if (spec.kernel) {
    await statImage(resolvePath(spec.kernel.kernel), "kernel");
    if (spec.kernel.initrd) await statImage(resolvePath(spec.kernel.initrd), "initrd");
  }
}

/** Names who holds a VNC display QEMU could not bind, and offers a free one. */
async function explainVnc(err: VmStartError, spec: VmSpec): Promise<VmStartError> {
  if (!spec.vnc || !/-vnc .*Address already in use/.test(err.qemuMessage)) return err;
  const display = spec.vnc.display;
  const port = 5900 + display;
  const holder = await tcpListener(port).catch(() => undefined);
  const vm = holder ? (await list().catch(() => [])).find((v) => v.pid === holder.pid) : undefined;
  const free = await freeVncDisplay(display, spec.vnc.listen).catch(() => undefined);
  const who = vm
    ? `the qemukit VM "${vm.name}" (pid ${vm.pid})`
    : holder
      ? `process ${holder.pid} (${holder.command})`
      : "another process";
  const offer =
    free !== undefined ? `use a free display such as .vnc(${free}) (port ${5900 + free})` : "choose another display";
  return new VmStartError(
    `VNC display :${display} (TCP port ${port}) is already in use by ${who}`,
    err.argv,
    err.qemuMessage,
    {
      advice: `${offer}, or stop ${vm ? `"${vm.name}"` : "that process"} first`,
      details: { display, port, holder, vm: vm?.name, freeDisplay: free },
    },
  );
}

/**
 * Waits until QEMU has loaded the incoming state (status leaves `inmigrate`). Console
 * input typed before then would be lost: the serial device's state is overwritten.
 */
async function awaitIncoming(vm: RunningVm, deadline: number, timeout: number): Promise<void> {
  for (;;) {
    if (vm.state === "exited")
      throw new VmError("VM_EXITED", "QEMU exited while loading the saved state", {
        advice:
          "the state does not fit this QEMU or these devices; rebuild the template (qemukit template prune, then build it again)",
      });
    const s = await vm.qmp.execute("query-status");
    if (s.status !== "inmigrate") {
      if (s.status === "paused" || s.status === "prelaunch" || s.status === "running") return;
      throw new VmError("VM_EXITED", `loading the saved state ended in state "${s.status}"`, {
        advice: "look at qemu.log in the run directory (start with { keep: true }); rebuilding the template may help",
      });
    }
    if (Date.now() > deadline) throw new TimeoutError("loading the saved state", timeout);
    await sleep(4);
  }
}

/** Images a VM opens read-write (for naming lock holders). */
function writableImages(spec: VmSpec, compiled: CompiledVm): string[] {
  const out: string[] = compiled.overlays.map((o) => o.path);
  for (const d of spec.disks) if (d.source.kind === "file" && !d.readOnly) out.push(d.source.path);
  return out;
}

/**
 * Starts a VM from a spec and returns its handle once QEMU runs (and, with `waitFor`,
 * once the guest is ready).
 *
 * @example
 * ```ts
 * const g = await guests.tiny();
 * const spec = vm().memory("256M").accel("tcg").kernel(g.kernel, { initrd: g.initrd, append: g.append }).spec;
 * await using m = await startVm(spec, { waitFor: Wait.forConsole(g.prompt) });
 * console.log((await m.console.run("uname -r")).output);
 * ```
 * @throws {VmStartError} (code VM_START) with QEMU's message and argv; nothing is left behind.
 * @throws {AbortError} (code ABORTED) when `options.signal` aborts; nothing is left behind.
 */
export async function startVm(
  spec: VmSpec,
  options: StartOptions = {},
  internals: StartInternals = {},
): Promise<RunningVm> {
  const { restore } = internals;
  const { signal } = options;
  const abortError = () => new AbortError(`starting VM "${spec.name ?? "(unnamed)"}"`, { cause: signal?.reason });
  if (signal?.aborted) throw abortError();
  const started = Date.now();
  const deadline = started + (options.timeout ?? DEFAULT_TIMEOUT);
  try {
    await checkFiles(spec);
  } catch (e) {
    if (!(e instanceof QemukitError)) throw e;
    throw new VmStartError(e.summary, [], "", {
      cause: e,
      ...(e.advice ? { advice: e.advice } : {}),
      details: e.details,
    });
  }
  const name = spec.name ?? generateName();
  const keep = options.keep ?? spec.keep;
  const { list: accelList, info: accelInfo } = await chooseAccel(spec, options.qemuBinary);
  if (signal?.aborted) throw abortError();

  // The claim writes the marker first; from here on an interrupted start is cleaned up by the
  // reaper (signals, exit), or found by its marker and removed by the next list().
  const runDir = await createRunDir(name, options.runDir ? { dir: options.runDir } : {});
  const reapTarget: ReapTarget = { runDir, keep, temporaryFiles: [] };
  const createdOverlays: string[] = [];
  let q: SpawnedQemu | undefined;
  let qmp: QmpClient | undefined;
  let serial: Console | undefined;
  let unreap: (() => void) | undefined = registerForReaping(reapTarget);
  let unhold: (() => void) | undefined;
  let pid: number | undefined;
  let argv: readonly string[] = [];
  let handedOver = false;
  let aborted = false;
  // Aborting kills QEMU: whatever start() waits for then fails at once and the catch
  // blocks below clean up as for any failed start.
  const unlisten = onAbort(signal, () => {
    aborted = true;
    const target = pid ?? q?.child.pid;
    if (target !== undefined) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    void serial?.close();
    void qmp?.close();
  });
  const step = () => {
    if (aborted) throw abortError();
  };
  try {
    // Overlays whose base format is unknown: read it once here, QEMU never probes.
    const baseFormats: Record<string, ImageFormat> = {};
    for (const d of spec.disks) {
      if (d.source.kind === "overlay" && !d.source.baseFormat && !baseFormats[d.source.base]) {
        baseFormats[d.source.base] = await detectFormat(d.source.base);
      }
    }
    const compiled = compile(
      { ...spec, name },
      {
        runDir,
        accel: accelList,
        startPaused: true,
        ...(options.qemuBinary ? { qemuBinary: options.qemuBinary } : {}),
        baseFormats,
        ...(internals.memoryFile ? { memoryFile: internals.memoryFile } : {}),
      },
    );
    argv = compiled.argv;
    if (restore) {
      // Deferred: the capabilities must match the saving side's before the stream is read.
      argv = [...argv, "-incoming", "defer"];
    }
    if (compiled.pidfile) reapTarget.pidFile = compiled.pidfile;
    for (const sock of [compiled.qmpSocket, compiled.consoleSocket]) {
      if (sock && Buffer.byteLength(sock) > MAX_SOCKET_PATH) {
        throw new VmStartError(`socket path ${sock} is longer than ${MAX_SOCKET_PATH} bytes`, argv, "", {
          advice: "set QEMUKIT_RUN_DIR to a short path such as /tmp/qk, or pass a shorter runDir / VM name",
        });
      }
    }
    if (!compiled.qmpSocket) {
      throw new VmStartError("the spec has no QMP monitor; qemukit needs one to manage the VM", argv, "", {
        advice: "leave qmp enabled (the default); use toArgv() to run QEMU without qemukit",
      });
    }
    const temporaryFiles = compiled.overlays.filter((o) => o.temporary).map((o) => o.path);
    const baseMeta = {
      qemukit: 1 as const,
      name,
      runDir,
      ownerPid: process.pid,
      argv,
      qmpSocket: compiled.qmpSocket,
      consoleSocket: compiled.consoleSocket,
      daemonized: spec.daemonize,
      keep,
      temporaryFiles,
      started: new Date(started).toISOString(),
      ...(restore?.template ? { template: restore.template } : {}),
    };
    await writeMetadata(runDir, baseMeta);
    for (const o of compiled.overlays) {
      step();
      await overlay(o.base, o.path, { baseFormat: o.baseFormat });
      createdOverlays.push(o.path);
    }

    step();
    // QEMU reads the state straight from an inherited descriptor: measured here, that loads
    // ~110 MB in about half the time of `exec:cat` (no extra process, no 64 KiB pipe).
    const stateFd = restore && !isDeno ? openSync(restore.stateFile, "r") : undefined;
    try {
      q = await spawnQemu(argv, {
        stdio: options.stdio ?? "log",
        logFile: join(runDir, "qemu.log"),
        ...(stateFd !== undefined ? { fd3: stateFd } : {}),
      });
    } finally {
      if (stateFd !== undefined) closeSync(stateFd);
    }
    if (aborted) q.child.kill("SIGKILL");
    let parentDone = false;
    if (spec.daemonize) {
      // QEMU's parent exits once the daemon is set up (sockets listening), or fails with the reason.
      // The timer is cleared afterwards: a pending one would keep the caller's process alive.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        q.exit,
        new Promise<undefined>(
          (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))),
        ),
      ]).finally(() => clearTimeout(timer));
      if (!r) throw new VmStartError("QEMU did not finish daemonizing within the start timeout", argv, q.output());
      if (r.code !== 0) throw new VmStartError("QEMU failed to start", argv, await finalOutput(q));
      parentDone = true;
      pid = Number((await readFile(compiled.pidfile ?? join(runDir, "qemu.pid"), "utf8")).trim());
    } else {
      if (q.child.pid === undefined) {
        throw new VmStartError("QEMU could not be spawned", argv, q.output());
      }
      pid = q.child.pid;
    }
    reapTarget.pid = pid;
    // The pid is on disk before any wait on QEMU: an interrupted start is then listed, or
    // its paused QEMU killed, by the next list().
    await writeMetadata(runDir, { ...baseMeta, pid });
    step();
    qmp = await connectQmp(compiled, q, deadline, () => parentDone);
    step();
    if (restore) {
      if (restore.ignoreShared) {
        await qmp.execute("migrate-set-capabilities", {
          capabilities: [{ capability: "x-ignore-shared", state: true }],
        });
      }
      await qmp.execute("migrate-incoming", {
        uri: isDeno ? `exec:cat ${shellQuote(restore.stateFile)}` : "fd:3",
      });
    }
    if (compiled.consoleSocket) {
      serial = await Console.connect(compiled.consoleSocket, {
        logFile: join(runDir, "console.log"),
        retryUntil: deadline,
      });
    }
    step();
    // With more than one -accel QEMU falls back silently; ask which one it really took.
    let accel = accelInfo;
    if (accelList.length > 1) {
      const kvm = await qmp.execute("query-kvm");
      const chosen: Accel = kvm.enabled ? "kvm" : "tcg";
      if (chosen !== accelInfo.chosen) accel = { chosen, reason: `${accelInfo.reason}; QEMU fell back to ${chosen}` };
    }
    const vnc = spec.vnc ? await queryVnc(qmp) : undefined;
    const metaWritten = writeMetadata(runDir, {
      ...baseMeta,
      pid,
      ...(vnc ? { vnc } : {}),
      accel,
    } satisfies VmMetadata);
    unhold = holdImages(name, writableImages(spec, compiled));
    // A daemonized VM outlives this script once handed over; until then the reaper guards it.
    if (spec.daemonize) {
      unreap?.();
      unreap = undefined;
    }

    const state: VmState = "paused";
    const cleanupHooks = [unreap, unhold];
    const vm = new RunningVm({
      name,
      runDir,
      pid,
      argv,
      accel,
      qmp,
      ...(serial ? { console: serial } : {}),
      ...(vnc ? { vnc } : {}),
      daemonized: spec.daemonize,
      keep,
      temporaryFiles,
      child: q,
      state,
      onExit: () => {
        for (const h of cleanupHooks) h?.();
      },
    });
    handedOver = true;
    try {
      step();
      const ready = options.waitFor ? options.waitFor.wait(vm, signal ? { signal } : {}) : undefined;
      ready?.catch(() => {}); // observed below; avoid an unhandled rejection if cont fails first
      // The metadata write overlaps with `cont`; both must finish before the VM is handed out.
      const resumed = async () => {
        if (restore) await awaitIncoming(vm, deadline, options.timeout ?? DEFAULT_TIMEOUT);
        if (options.paused) return;
        await vm.resume();
        await restore?.afterResume?.(vm, signal);
      };
      await Promise.all([metaWritten, resumed()]);
      if (ready) {
        await Promise.race([
          ready,
          vm.exited.then((e) => {
            throw aborted
              ? abortError()
              : new VmError("VM_EXITED", `QEMU exited (${e.reason}) before the guest was ready`, {
                  advice:
                    "look at the console transcript and qemu.log (start with { keep: true } to keep the run directory)",
                });
          }),
        ]);
      }
      step();
    } catch (e) {
      const output = q.output();
      await vm.kill();
      if (!keep) await discard(runDir, createdOverlays);
      if (aborted) throw abortError();
      const what = options.waitFor ? options.waitFor.description : "the VM";
      throw new VmStartError(`the guest did not become ready (${what}): ${(e as Error).message}`, argv, output, {
        cause: e,
        details: { console: vm.hasConsole ? vm.console.transcript.slice(-2000) : undefined },
      });
    }
    return vm;
  } catch (e) {
    if (handedOver) throw e;
    if (spec.daemonize && pid === undefined) {
      // Aborted or failed while daemonizing: the daemon may exist already.
      const daemon = Number((await readFile(join(runDir, "qemu.pid"), "utf8").catch(() => "")).trim());
      if (daemon > 0 && isAlive(daemon)) pid = daemon;
    }
    serial?.close().catch(() => {});
    await qmp?.close().catch(() => {});
    if (pid !== undefined) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone already */
      }
    } else if (q && q.child.exitCode === null) {
      q.child.kill("SIGKILL");
    }
    if (q) await Promise.race([q.exit, sleep(2000)]);
    // A daemon is not our child: wait for it to vanish from /proc.
    for (let i = 0; pid !== undefined && isAlive(pid) && i < 400; i++) await sleep(5);
    unreap?.();
    unhold?.();
    if (!keep) await discard(runDir, createdOverlays);
    if (aborted) throw abortError();
    if (e instanceof VmStartError) throw await explainVnc(explainLock(e), spec);
    if (e instanceof QemukitError) {
      throw new VmStartError(e.summary, argv, q?.output() ?? "", {
        cause: e,
        ...(e.advice ? { advice: e.advice } : {}),
      });
    }
    throw new VmStartError(`could not start the VM: ${(e as Error).message}`, argv, q?.output() ?? "", { cause: e });
  } finally {
    unlisten();
  }
}
