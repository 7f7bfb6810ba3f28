/**
 * Errors of the guest agent client.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link AgentError}. */
export type AgentErrorCode =
  | "AGENT_UNAVAILABLE" // the VM has no guest agent channel (start it with vm().agent())
  | "AGENT_NOT_RESPONDING" // the channel exists but qemu-ga did not answer guest-sync-delimited in time
  | "AGENT_COMMAND" // qemu-ga answered a command with an error (details: class, desc)
  | "AGENT_TIMEOUT" // a command got no answer in time
  | "AGENT_CLOSED" // the connection to the agent socket ended
  | "AGENT_PROTOCOL"; // the agent sent something that is not a reply

/**
 * A guest agent operation failed; `code` says which way (see {@link AgentErrorCode}).
 *
 * @example
 * ```ts
 * try { await agent.execute("guest-file-open", { path: "/nope" }); }
 * catch (e) { if (e instanceof AgentError && e.code === "AGENT_COMMAND") console.log(e.details.desc); }
 * ```
 */
export class AgentError extends QemukitError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
