/**
 * QMP: a typed client for QEMU's machine protocol. Types come from `@qemu-types/qmp`,
 * generated from QEMU's own schema.
 * @module
 */
export { QmpClient, type QmpAnomaly, type QmpSchemaEntry } from "./client.ts";
export { QmpCommandError, QmpConnectionError } from "./errors.ts";
/** Alias of {@link QmpCommandError} (the name used in the issue text). */
export { QmpCommandError as QmpError } from "./errors.ts";
export { parseJsonLossless, stringifyJsonLossless, type LosslessJson } from "../util/json.ts";
export { matchesPartial } from "./match.ts";
export type {
  QmpCommandName,
  QmpConnectOptions,
  QmpEvent,
  QmpEventFor,
  QmpExecuteOptions,
  QmpExecuteParams,
  QmpGreeting,
  QmpRawExecuteOptions,
  QmpReturn,
  QmpTarget,
  QmpWaitOptions,
} from "./types.ts";
export type { QmpCommands, QmpEvents } from "@qemu-types/qmp";
export { generateTypes, readQemuSchema, DEFAULT_TYPES_DIR, type GenerateTypesOptions, type GenerateTypesResult } from "./typegen/generate.ts";
export { renderTypes, type GeneratedFiles, type QemuIdentity } from "./typegen/render.ts";
export type { SchemaEntry } from "./typegen/schema.ts";
