/**
 * Spec -> qemu argv, and lab command lines -> spec.
 * @module
 */
export { compile, MAX_SOCKET_PATH_BYTES, RUN_FILES } from "./compile.ts";
export { fromCommandLine } from "./parse.ts";
export type { CommandLineWarning, ParsedCommandLine } from "./parse.ts";
export { scanShellLine, shellQuote, splitShellWords } from "./shell.ts";
export { optValue, plainFile } from "./escape.ts";
export type * from "./types.ts";
