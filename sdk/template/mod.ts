/**
 * Templates: boot a VM once, save its state, start clones from it in a fraction of a
 * second. See docs/templates.md.
 *
 * @example
 * ```ts
 * import { template } from "qemukit/template";
 * const t = await template(vm().accel("tcg").memory(256).kernel(g.kernel, { initrd: g.initrd, append: g.append }), {
 *   ready: Wait.forConsole(g.prompt),
 * });
 * await using m = await t.start();
 * ```
 * @module
 */
export { Template, template, templateKey, templatesRoot } from "./template.ts";
export { listTemplates, pruneTemplates } from "./store.ts";
export { builtInTemplate } from "./builtin.ts";
export type { TemplateListing } from "./store.ts";
export type { ClockFix, CloneOptions, TemplateInfo, TemplateOptions } from "./template.ts";
export { TemplateError } from "./errors.ts";
export type { TemplateErrorCode } from "./errors.ts";
export type { MachineDifference } from "./key.ts";
