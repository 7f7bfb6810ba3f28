/**
 * The result of a guest command run with `m.$`, shaped like zx's ProcessOutput.
 * @module
 */
import { inspect } from "node:util";
import { GuestCommandError } from "../machine/errors.ts";

/** How a guest command was run: through qemu-ga, or typed into the serial console. */
export type GuestTransport = "agent" | "console";

/** What {@link GuestOutput} is made from. */
export interface GuestOutputInit {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly duration: number;
  readonly transport: GuestTransport;
}

/**
 * A finished guest command: `stdout`, `stderr` (empty over the serial console, where both
 * streams arrive merged in `stdout`), `exitCode`, `duration` in ms, and zx's helpers.
 *
 * @example
 * ```ts
 * const out = await m.$`ip -br a`;
 * out.lines().forEach((l) => console.log(l));
 * ```
 */
export class GuestOutput {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Wall-clock milliseconds from sending the command to its end. */
  readonly duration: number;
  readonly transport: GuestTransport;

  constructor(init: GuestOutputInit) {
    this.command = init.command;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
    this.exitCode = init.exitCode;
    this.duration = init.duration;
    this.transport = init.transport;
  }

  /** True when the command exited with status 0. @example `if ((await m.$`test -e /x`.nothrow()).ok) ...` */
  get ok(): boolean {
    return this.exitCode === 0;
  }

  /** stdout, trailing newline kept (like zx). @example `(await m.$`hostname`).text().trim()` */
  text(): string {
    return this.stdout;
  }

  /** stdout parsed as JSON. @example `(await m.$`cat /etc/x.json`).json<{ a: number }>()` */
  json<T = unknown>(): T {
    return JSON.parse(this.stdout) as T;
  }

  /** stdout split into lines, without a trailing empty one. @example `(await m.$`ls /`).lines()` */
  lines(): string[] {
    const l = this.stdout.split(/\r?\n/);
    if (l.at(-1) === "") l.pop();
    return l;
  }

  /** stdout with its trailing newline removed: what `${out}` interpolates as. */
  toString(): string {
    return this.stdout.replace(/\r?\n$/, "");
  }

  [inspect.custom](): string {
    return `GuestOutput ${inspect({ exitCode: this.exitCode, stdout: this.stdout, stderr: this.stderr, duration: this.duration, transport: this.transport })}`;
  }
}

/**
 * A guest command run with `m.$` exited non-zero (code `GUEST_COMMAND`, as for
 * `console.run()`); carries the whole {@link GuestOutput}.
 *
 * @example
 * ```ts
 * try { await m.$`false`; }
 * catch (e) { if (e instanceof GuestProcessError) console.log(e.exitCode, e.stderr); }
 * ```
 */
export class GuestProcessError extends GuestCommandError {
  readonly stdout: string;
  readonly stderr: string;
  readonly duration: number;
  readonly result: GuestOutput;
  constructor(result: GuestOutput) {
    super(result.command, result.exitCode, result.stderr || result.stdout, {
      advice: "check the command in the guest, or use .nothrow() to get the status instead of an error",
      details: { stdout: result.stdout, stderr: result.stderr, duration: result.duration, transport: result.transport },
    });
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.duration = result.duration;
    this.result = result;
  }
}
