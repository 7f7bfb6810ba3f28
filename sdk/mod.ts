/**
 * qemukit: script QEMU/KVM from TypeScript.
 *
 * ```ts
 * import { vm, overlay, guests } from "qemukit";
 *
 * const debian = await guests.debian();
 * await using m = await vm().memory(512).smp(2).disk(overlay(debian.image)).vnc(1).start();
 * console.log(m.vnc?.port);                        // 5901
 * console.log(await m.qmp.execute("query-status")); // { status: "running", ... }
 * ```
 *
 * The root holds what a script needs: the builder, running VMs, the `image`, `guests`, `host`
 * and `verify` namespaces, and the error classes. Everything else lives in a subpath module:
 * `qemukit/spec`, `qemukit/compile`, `qemukit/qmp`, `qemukit/typegen`, `qemukit/img`,
 * `qemukit/guests`, `qemukit/agent`, `qemukit/host`, `qemukit/verify`, `qemukit/repl`. A test pins this list.
 * @module
 */
export { vm, VmBuilder } from "./spec/builder.ts";
export { overlay } from "./spec/overlay.ts";
export { fromCommandLine } from "./compile/parse.ts";
export { attach, list } from "./machine/attach.ts";
export { RunningVm } from "./machine/running-vm.ts";
export { Wait } from "./machine/wait.ts";
export { image } from "./img/image.ts";
export { guests } from "./guests/guests.ts";
export { host } from "./host/mod.ts";
export { verify } from "./verify/mod.ts";
export { VERSION } from "./version.ts";

export { AbortError, ProcessError, QemukitError, SpecError, TimeoutError, ToolNotFoundError } from "./errors/errors.ts";
export { ImageError, ImageLockedError } from "./img/errors.ts";
export { QmpArgumentsError, QmpCommandError, QmpConnectionError, QmpProtocolError } from "./qmp/errors.ts";
export { GuestCommandError, VmError, VmStartError } from "./machine/errors.ts";
export { VerifyError } from "./verify/errors.ts";
export { GuestBuildError } from "./guests/errors.ts";

export type { QemukitErrorOptions, SpecErrorCode } from "./errors/errors.ts";
export type { ImageErrorCode } from "./img/errors.ts";
export type { QmpConnectionErrorCode } from "./qmp/errors.ts";
export type { VmErrorCode, VmStartErrorCode } from "./machine/errors.ts";
export type { VerifyErrorCode } from "./verify/errors.ts";
export type {
  AioMode,
  CacheMode,
  DiskOptions,
  ForwardOptions,
  NetworkChoice,
  SerialChoice,
  SmpChoice,
  VncOptions,
} from "./spec/builder.ts";
export type { OverlayOptions } from "./spec/overlay.ts";
export type { Accel, AccelChoice, DiskSource, ImageFormat, VmSpec } from "./spec/types.ts";
export type { ParsedCommandLine } from "./compile/parse.ts";
export type { StartOptions } from "./machine/start.ts";
export type { ShutdownOptions, ShutdownTimeouts, VmSnapshot } from "./machine/running-vm.ts";
export type {
  Console,
  ConsoleMatch,
  ConsoleRunOptions,
  ConsoleRunResult,
  ConsoleWaitOptions,
} from "./machine/console.ts";
export type { WaitFactories, WaitStrategy } from "./machine/wait.ts";
export type { AttachOptions } from "./machine/attach.ts";
export type { AccelInfo, VmExit, VmListing, VmState, VmThread, VncInfo } from "./machine/types.ts";
export type { QmpClient } from "./qmp/client.ts";
export type { QmpEvent } from "./qmp/types.ts";
export type { ImageInfo } from "./img/info-types.ts";
export type { BuildOptions, DebianGuest, Guest, GuestName, InstallerGuest, TinyGuest } from "./guests/types.ts";
export type { AccelVerdict, HostReport } from "./host/types.ts";
