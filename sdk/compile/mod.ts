/**
 * `qemukit/compile`: spec -> qemu argv, lab command lines -> spec, and the shell quoting both
 * directions use.
 *
 * @example
 * ```ts
 * import { compile, fromCommandLine } from "qemukit/compile";
 * const { builder } = fromCommandLine("kvm -m 512 -hda disk.qcow2");
 * const { argv } = compile(builder.spec, { runDir: "/tmp/vm1", accel: ["tcg"] });
 * ```
 * @module
 */
export { compile, MAX_SOCKET_PATH_BYTES } from "./compile.ts";
export { fromCommandLine } from "./parse.ts";
export type { CommandLineWarning, ParsedCommandLine } from "./parse.ts";
export { shellQuote, splitShellWords } from "./shell.ts";
export type * from "./types.ts";
