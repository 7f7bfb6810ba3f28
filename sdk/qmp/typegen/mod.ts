/**
 * `qemukit/typegen`: generate QMP types from a QEMU binary's own `query-qmp-schema`, for
 * QEMU builds newer than the ones `@qemu-types/qmp` was generated from.
 *
 * @example
 * ```ts
 * import { generateTypes } from "qemukit/typegen";
 * const { files } = await generateTypes({ outDir: "qmp-types" });
 * ```
 * @module
 */
export { generateTypes, readQemuSchema, type GenerateTypesOptions, type GenerateTypesResult } from "./generate.ts";
export type { QemuIdentity } from "./render.ts";
export type { SchemaEntry } from "./schema.ts";
