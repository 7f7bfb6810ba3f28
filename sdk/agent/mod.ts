/**
 * `qemukit/agent`: inside the guest. The QEMU guest agent client, and the types behind
 * `` m.$`cmd` `` (see `RunningVm.$` and docs/guest-commands.md).
 *
 * ```ts
 * import { GuestProcessError } from "qemukit/agent";
 *
 * await using m = await vm().disk(overlay(debian.image)).agent().start();
 * const r = await m.$`ip -br a`;
 * try { await m.$`false`; } catch (e) { if (e instanceof GuestProcessError) console.log(e.exitCode); }
 * ```
 * @module
 */
export { GuestAgent } from "./client.ts";
export type { AgentCommandOptions, AgentConnectOptions } from "./client.ts";
export { AgentError } from "./errors.ts";
export { GuestCommandError } from "../machine/errors.ts";
export type { AgentErrorCode } from "./errors.ts";
export { GuestOutput, GuestProcessError } from "./output.ts";
export type { GuestOutputInit, GuestTransport } from "./output.ts";
export type { GuestFileOptions } from "./files.ts";
export { GuestProcess } from "./shell.ts";
export type { GuestShell, GuestShellOptions } from "./shell.ts";
export type * from "./types.ts";
