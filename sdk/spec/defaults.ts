/**
 * The spec every builder starts from.
 * @module
 */
import type { VmSpec } from "./types.ts";

/**
 * `vm()` starts here: 512 MiB (the lab's size), one vCPU, the best accelerator the host
 * can really run, no disks, no window, a serial console socket and a QMP socket managed
 * by qemukit, and user-mode networking with QEMU's default NIC (e1000).
 */
export const DEFAULT_SPEC: VmSpec = deepFreeze({
  memoryMiB: 512,
  smp: { cpus: 1 },
  accel: "auto",
  disks: [],
  display: { kind: "none" },
  serial: { kind: "socket" },
  qmp: true,
  network: { kind: "user", forwards: [], model: "e1000" },
  daemonize: false,
  keep: false,
  extraArgs: [],
});

/** Freeze an object graph so a spec can be shared between builders safely. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
