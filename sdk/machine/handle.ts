/**
 * The contract every started VM handle keeps, whichever backend runs it: QEMU started by
 * qemukit ({@link RunningVm}) or a libvirt domain (`qemukit/libvirt`). Wait strategies,
 * recipes and fleets take this type.
 * @module
 */
import type { RunningVm } from "./running-vm.ts";

/**
 * What a script may rely on for any started VM: typed QMP with events, the serial console,
 * guest commands (`m.$`), VNC info, screenshots, pause/resume/reset, the shutdown ladder, `kill()`, `exited`, and
 * `await using`.
 *
 * @example
 * ```ts
 * async function uptime(m: VmHandle) { return (await m.console.run("cat /proc/uptime")).output; }
 * ```
 */
export type VmHandle = Pick<
  RunningVm,
  | "name"
  | "qmp"
  | "console"
  | "$"
  | "hasConsole"
  | "vnc"
  | "state"
  | "exited"
  | "screenshot"
  | "refreshVnc"
  | "forwards"
  | "hostPort"
  | "pause"
  | "resume"
  | "reset"
  | "shutdown"
  | "kill"
  | "detach"
  | typeof Symbol.asyncDispose
>;
