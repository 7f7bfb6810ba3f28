/**
 * `qemukit/qmp`: a typed client for QEMU's machine protocol, usable on any QMP socket (a VM
 * started by qemukit exposes its own as `m.qmp`). Types come from `@qemu-types/qmp`,
 * generated from QEMU's own schema.
 *
 * @example
 * ```ts
 * import { QmpClient } from "qemukit/qmp";
 * const qmp = await QmpClient.connect("/run/vm1/qmp.sock");
 * const { status } = await qmp.execute("query-status");
 * await qmp.close();
 * ```
 * @module
 */
export {
  QmpClient,
  QMP_DEFAULT_COMMAND_TIMEOUT,
  QMP_DEFAULT_WAIT_TIMEOUT,
  type QmpAnomaly,
  type QmpSchemaEntry,
} from "./client.ts";
export {
  QmpArgumentsError,
  QmpCommandError,
  QmpConnectionError,
  QmpProtocolError,
  type QmpConnectionErrorCode,
} from "./errors.ts";
export { parseJsonLossless, stringifyJsonLossless, type LosslessJson } from "../util/json.ts";
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
