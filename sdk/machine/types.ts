/**
 * Plain data types of the machine layer.
 * @module
 */
import type { Accel } from "../spec/types.ts";

/** How a VM ended. */
export interface VmExit {
  /** Exit code of QEMU, or null when killed by a signal or when it was not our child. */
  readonly code: number | null;
  /** Signal that killed QEMU (e.g. "SIGKILL"), or null. */
  readonly signal: string | null;
  /**
   * Why: the SHUTDOWN event's reason when QEMU sent one ("guest-shutdown",
   * "host-qmp-quit", "host-signal"...), else "killed", "crashed" or "exited".
   */
  readonly reason: string;
}

/** The accelerator QEMU really runs with, and why it was chosen. */
export interface AccelInfo {
  readonly chosen: Accel;
  readonly reason: string;
  /** Set when the spec named KVM although this host measured it unusable or slower than TCG. */
  readonly warning?: string;
}

/** The VNC server as QEMU reports it over QMP. */
export interface VncInfo {
  /** Display number N (port 5900+N). */
  readonly display: number;
  readonly host: string;
  readonly port: number;
  /** Websocket port for noVNC, when enabled. */
  readonly websocketPort?: number;
}

/** One thread of the QEMU process. */
export interface VmThread {
  /** Linux thread id (as in /proc/PID/task). */
  readonly tid: number;
  /** Thread name from /proc/PID/task/TID/comm ("qemu-system-x86", "CPU 0/TCG"...). */
  readonly name: string;
  /** "vcpu" for threads QEMU reports in query-cpus-fast, "main" for the process itself. */
  readonly kind: "main" | "vcpu" | "other";
  /** vCPU index, for vCPU threads. */
  readonly cpuIndex?: number;
}

/**
 * Lifecycle state of a handle. `io-error`: QEMU stopped the VM because a disk write failed
 * on the host (a full file system, by QEMU's default `werror=enospc`); free space, then
 * `resume()`.
 */
export type VmState = "running" | "paused" | "io-error" | "shutting-down" | "exited";

/** What qemukit writes to `vm.json` in each run directory; read back by attach() and list(). */
export interface VmMetadata {
  readonly qemukit: 1;
  readonly name: string;
  readonly runDir: string;
  /** QEMU's pid; absent while starting. */
  readonly pid?: number;
  /** The Node process that started the VM. */
  readonly ownerPid: number;
  readonly argv: readonly string[];
  readonly qmpSocket?: string;
  readonly consoleSocket?: string;
  readonly vnc?: VncInfo;
  readonly accel?: AccelInfo;
  readonly daemonized: boolean;
  readonly keep: boolean;
  /** Overlays to delete with the run directory (already inside it, normally). */
  readonly temporaryFiles: readonly string[];
  /** ISO time of start. */
  readonly started: string;
  /** The template directory a clone was restored from (its frozen layers back the clone's disks). */
  readonly template?: string;
}

/** One entry of {@link list}. */
export interface VmListing {
  readonly name: string;
  readonly runDir: string;
  readonly pid: number;
  readonly daemonized: boolean;
  /** The process that started it (still alive for non-daemonized VMs). */
  readonly ownerPid: number;
  readonly vnc?: VncInfo;
  readonly accel?: AccelInfo;
  readonly started: string;
}
