/**
 * Running VMs: start a spec, talk to it (QMP, serial console, VNC), watch it, stop it,
 * re-attach to it from another process.
 *
 * @example
 * ```ts
 * import { startVm, Wait } from "./sdk/machine/mod.ts"; // internal: scripts use vm().start()
 * await using m = await startVm(spec, { waitFor: Wait.forConsole(/# $/) });
 * ```
 * @module
 */
export { startVm } from "./start.ts";
export type { StartOptions } from "./start.ts";
export { RunningVm } from "./running-vm.ts";
export type { ShutdownOptions, ShutdownTimeouts, VmSnapshot } from "./running-vm.ts";
export { Console } from "./console.ts";
export type {
  ConsoleMatch,
  ConsoleRunOptions,
  ConsoleRunResult,
  ConsoleSendOptions,
  ConsoleWaitOptions,
} from "./console.ts";
export { Wait, WAIT_DEFAULT_TIMEOUT } from "./wait.ts";
export type { WaitRunOptions, WaitStrategy } from "./wait.ts";
export { attach, list } from "./attach.ts";
export type { AttachOptions } from "./attach.ts";
export { GuestCommandError, VmError, VmStartError, type VmErrorCode } from "./errors.ts";
export type { AccelInfo, VmExit, VmListing, VmMetadata, VmState, VmThread, VncInfo } from "./types.ts";
export type { BoundForward } from "./usernet.ts";
export type { QemuStdio } from "./spawn.ts";
