/**
 * The QEMU guest agent commands qemukit uses, typed by hand from QEMU 7.2's
 * `qga/qapi-schema.json` (not generated: only these ~15 of qemu-ga's ~50 commands are
 * needed, and the agent's schema is not published over the wire the way QMP's is).
 * @module
 */

/** `guest-exec` arguments. */
export interface GuestExecArgs {
  readonly path: string;
  readonly arg?: readonly string[];
  readonly env?: readonly string[];
  /** Base64 bytes written to the process's stdin, which is then closed. */
  readonly "input-data"?: string;
  readonly "capture-output"?: boolean;
}

/** `guest-exec-status` reply. Output fields are base64 and appear once the process exited. */
export interface GuestExecStatus {
  readonly exited: boolean;
  readonly exitcode?: number;
  readonly signal?: number;
  readonly "out-data"?: string;
  readonly "err-data"?: string;
  readonly "out-truncated"?: boolean;
  readonly "err-truncated"?: boolean;
}

/** `guest-file-read` reply. */
export interface GuestFileRead {
  readonly count: number;
  readonly "buf-b64": string;
  readonly eof: boolean;
}

/** `guest-file-write` reply. */
export interface GuestFileWrite {
  readonly count: number;
  readonly eof: boolean;
}

/** `guest-info` reply (the part qemukit reads). */
export interface GuestAgentInfo {
  readonly version: string;
  readonly supported_commands: readonly {
    readonly name: string;
    readonly enabled: boolean;
    readonly "success-response": boolean;
  }[];
}

/** `guest-get-osinfo` reply (all fields optional in the schema). */
export interface GuestOsInfo {
  readonly "kernel-release"?: string;
  readonly "kernel-version"?: string;
  readonly machine?: string;
  readonly id?: string;
  readonly name?: string;
  readonly "pretty-name"?: string;
  readonly version?: string;
  readonly "version-id"?: string;
}

/** Arguments and replies of the commands qemukit sends. */
export interface AgentCommands {
  "guest-sync-delimited": { args: { id: number }; ret: number };
  "guest-sync": { args: { id: number }; ret: number };
  "guest-ping": { args: undefined; ret: Record<string, never> };
  "guest-info": { args: undefined; ret: GuestAgentInfo };
  "guest-get-osinfo": { args: undefined; ret: GuestOsInfo };
  "guest-get-host-name": { args: undefined; ret: { "host-name": string } };
  "guest-exec": { args: GuestExecArgs; ret: { pid: number } };
  "guest-exec-status": { args: { pid: number }; ret: GuestExecStatus };
  "guest-file-open": { args: { path: string; mode?: string }; ret: number };
  "guest-file-close": { args: { handle: number }; ret: Record<string, never> };
  "guest-file-read": { args: { handle: number; count?: number }; ret: GuestFileRead };
  "guest-file-write": { args: { handle: number; "buf-b64": string; count?: number }; ret: GuestFileWrite };
  "guest-file-flush": { args: { handle: number }; ret: Record<string, never> };
  "guest-file-seek": {
    args: { handle: number; offset: number; whence: number | "set" | "cur" | "end" };
    ret: { position: number; eof: boolean };
  };
  /** No reply on success: the guest goes down. */
  "guest-shutdown": { args: { mode?: "halt" | "powerdown" | "reboot" } | undefined; ret: undefined };
}

/** A command name qemukit knows the types of. */
export type AgentCommand = keyof AgentCommands;
