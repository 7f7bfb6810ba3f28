/**
 * Path checks shared by the builder, the compiler and the parser.
 * @module
 */
import { SpecError } from "../errors/errors.ts";

/**
 * Returns `path` unchanged when QEMU can be given it: not empty and without NUL bytes
 * (argv strings cannot carry NUL, so such a path would be silently truncated).
 * Throws `SPEC_PATH` otherwise.
 *
 * @example
 * ```ts
 * checkPath("a,b c.qcow2", "disk");   // "a,b c.qcow2": commas and spaces are fine
 * checkPath("a\0b", "disk");          // throws SpecError SPEC_PATH
 * ```
 */
export function checkPath(path: string, what: string): string {
  if (typeof path !== "string" || path.length === 0) {
    throw new SpecError(`${what} path is empty`, {
      code: "SPEC_PATH",
      advice: `give the ${what} a file name`,
      details: { what, path },
    });
  }
  if (path.includes("\0")) {
    throw new SpecError(`${what} path ${JSON.stringify(path)} contains a NUL byte`, {
      code: "SPEC_PATH",
      advice: "remove the NUL byte: no file name can contain one, and a process argument would be cut there",
      details: { what, path },
    });
  }
  return path;
}
