/**
 * Errors of templates and clones.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/**
 * Why a template could not be made or a clone could not start:
 * - `TEMPLATE_MISMATCH`: the clone's spec differs from the template's in something the
 *   saved state depends on (memory, CPUs, disks, devices...); `details.field` names it.
 * - `TEMPLATE_DISK`: the spec has a disk a template cannot freeze (a writable image used as is).
 * - `TEMPLATE_SAVE`: saving the machine state failed (QEMU's `migrate` reported an error).
 * - `TEMPLATE_CLOCK`: the clone runs but its clock could not be set through the console.
 */
export type TemplateErrorCode = "TEMPLATE_MISMATCH" | "TEMPLATE_DISK" | "TEMPLATE_SAVE" | "TEMPLATE_CLOCK";

/**
 * A template or clone problem; `code` says which ({@link TemplateErrorCode}).
 *
 * @example
 * ```ts
 * try {
 *   await t.start({ spec: vm().memory(1024).spec });
 * } catch (e) {
 *   if (e instanceof TemplateError && e.code === "TEMPLATE_MISMATCH") console.log(e.details.field); // "memoryMiB"
 * }
 * ```
 */
export class TemplateError extends QemukitError {
  declare readonly code: TemplateErrorCode;
  constructor(code: TemplateErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
