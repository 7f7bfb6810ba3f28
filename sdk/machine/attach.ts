/**
 * Finding and re-attaching to VMs started elsewhere (daemonized, or by another script)
 * through the `vm.json` each run directory holds.
 * @module
 */
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { QmpClient } from "../qmp/mod.ts";
import { runRoot } from "../util/dirs.ts";
import { Console } from "./console.ts";
import { VmError } from "./errors.ts";
import { unixSocketClients, unixSocketInUse } from "./holders.ts";
import { isOurQemu } from "./proc.ts";
import { checkRunRoot, checkVmName, readMetadata, reapStale, runDirStatus } from "./run-dir.ts";
import { queryVnc, RunningVm } from "./running-vm.ts";
import type { VmListing, VmMetadata } from "./types.ts";

/** Options of {@link attach}. */
export interface AttachOptions {
  /**
   * Milliseconds for the QMP greeting. A monitor another client holds is detected at once
   * (VM_BUSY naming the holder); this only bounds a slow or unusual one. @default 5000
   */
  readonly timeout?: number;
  /** Connect the serial console too. @default true */
  readonly console?: boolean;
}

/**
 * A name is looked up inside the (checked) run root and must be a VM name, so `..` cannot
 * reach outside it; a path with a `/` names a run directory anywhere, which qemukit still
 * only removes when it carries its marker.
 */
function dirOf(nameOrDir: string): string {
  if (nameOrDir.includes("/")) return resolve(nameOrDir);
  checkVmName(nameOrDir);
  const root = checkRunRoot(runRoot(), { create: false });
  return join(root ?? runRoot(), nameOrDir);
}

/** True when the VM is alive, checked against a recycled pid. */
function running(meta: VmMetadata): boolean {
  return meta.pid !== undefined && isOurQemu(meta.pid, meta.runDir);
}

/**
 * Re-attaches to a running qemukit VM by name (under runRoot()) or run directory:
 * QMP, serial console, the guest agent channel (so `m.$` and the file copies work), VNC info. The VM must have been started with `daemonize` (a
 * non-daemonized VM belongs to the script that started it, which holds its monitor).
 *
 * @example
 * ```ts
 * const m = await attach("web1");
 * await m.console.run("uptime");
 * await m.shutdown();
 * ```
 * @throws {VmError} VM_NOT_FOUND when no such VM runs; VM_BUSY when another process holds it.
 */
export async function attach(nameOrDir: string, options: AttachOptions = {}): Promise<RunningVm> {
  const dir = dirOf(nameOrDir);
  const meta = await readMetadata(dir);
  if (!meta || !running(meta)) {
    if (meta && !meta.keep) await reapStale(dir, meta);
    throw new VmError("VM_NOT_FOUND", `no running qemukit VM "${nameOrDir}" (looked in ${dir})`, {
      advice: "see list() (or `qemukit vm list`) for the VMs that run",
    });
  }
  if (!meta.daemonized && meta.ownerPid !== process.pid) {
    throw new VmError(
      "VM_BUSY",
      `VM "${meta.name}" belongs to process ${meta.ownerPid}, which started it without daemonize`,
      {
        advice: "start it with daemonize() to manage it from other processes",
      },
    );
  }
  // QEMU serves one QMP client per monitor and leaves others waiting without a greeting:
  // look for a connected client first, so a busy monitor fails now, naming who holds it.
  const holders =
    meta.qmpSocket && (await unixSocketInUse(meta.qmpSocket)) ? await unixSocketClients(meta.qmpSocket) : [];
  if (holders && holders.length > 0) {
    const who = holders
      .map((h) =>
        h.pid === 0 ? h.command : `process ${h.pid}${h.pid === process.pid ? " (this process)" : ""} (${h.command})`,
      )
      .join(", ");
    throw new VmError("VM_BUSY", `the QMP monitor of "${meta.name}" is held by ${who}`, {
      advice:
        "QEMU allows one QMP client at a time: detach() or end that client first" +
        (holders.some((h) => h.pid === process.pid) ? "; in this process, use the RunningVm you already have" : ""),
      details: { holders },
    });
  }
  let qmp: QmpClient;
  try {
    qmp = await QmpClient.connect(meta.qmpSocket!, { timeout: options.timeout ?? 5000 });
  } catch (e) {
    throw new VmError("VM_BUSY", `could not connect to the QMP monitor of "${meta.name}": ${(e as Error).message}`, {
      cause: e,
      advice: "QEMU allows one QMP client at a time; detach() or end the process holding it",
    });
  }
  let serial: Console | undefined;
  try {
    if (options.console !== false && meta.consoleSocket) {
      serial = await Console.connect(meta.consoleSocket, { logFile: join(dir, "console.log") });
    }
    const status = await qmp.execute("query-status");
    const vnc = await queryVnc(qmp);
    return new RunningVm({
      name: meta.name,
      runDir: meta.runDir,
      pid: meta.pid!,
      argv: meta.argv,
      accel: meta.accel ?? { chosen: "tcg", reason: "unknown (attached)" },
      qmp,
      ...(serial ? { console: serial } : {}),
      ...(meta.agentSocket ? { agentSocket: meta.agentSocket } : {}),
      ...(vnc ? { vnc } : {}),
      daemonized: meta.daemonized,
      keep: meta.keep,
      temporaryFiles: meta.temporaryFiles,
      state: status.running ? "running" : status.status === "io-error" ? "io-error" : "paused",
    });
  } catch (e) {
    await serial?.close();
    await qmp.close();
    throw e;
  }
}

/**
 * Lists running qemukit VMs under runRoot() (of any process). Run directories of VMs
 * that are gone are removed on the way (only those carrying qemukit's marker; a start
 * that was interrupted leaves a directory whose owner is dead, removed here, and its
 * paused QEMU, if it had daemonized, is killed).
 *
 * @example
 * ```ts
 * for (const v of await list()) console.log(v.name, v.pid, v.vnc?.port);
 * ```
 */
export async function list(): Promise<VmListing[]> {
  const root = checkRunRoot(runRoot(), { create: false });
  if (!root) return [];
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const out: VmListing[] = [];
  for (const e of entries.sort()) {
    const dir = join(root, e);
    const meta = await readMetadata(dir);
    const status = runDirStatus(dir, meta);
    if (status.kind === "stale" && !(meta?.keep && status.orphanPid === undefined)) await reapStale(dir, meta);
    if (status.kind !== "running" || !meta || meta.pid === undefined) continue;
    out.push({
      name: meta.name,
      runDir: meta.runDir,
      pid: meta.pid,
      daemonized: meta.daemonized,
      ownerPid: meta.ownerPid,
      ...(meta.vnc ? { vnc: meta.vnc } : {}),
      ...(meta.accel ? { accel: meta.accel } : {}),
      started: meta.started,
    });
  }
  return out;
}
