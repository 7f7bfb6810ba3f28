/**
 * `m.$`: guest commands as a zx-style tagged template. Interpolated values are quoted as
 * single POSIX shell words (arrays spread into several), so `${file}` is one argument
 * whatever it holds.
 *
 * Quoting: qemukit's own POSIX quoting (`shellQuote`, single quotes), not zx's `quote`:
 * zx quotes for bash with `$'...'`, which Debian's /bin/sh (dash) and other guests' plain
 * `sh` do not understand, and the SDK would pull zx's whole core in for one function.
 *
 * Transports: the guest agent when the VM has one (`vm().agent()`): stdout and stderr
 * apart, the command runs as a child of qemu-ga under `timeout` so that `.timeout()` and an
 * abort kill its whole process group; else the serial console (`console.run`): stdout and
 * stderr arrive merged in `stdout`, the status through the console's markers, and a timeout
 * or abort sends Ctrl-C.
 * @module
 */
import { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";
import { shellQuote } from "../compile/shell.ts";
import { AbortError, TimeoutError } from "../errors/errors.ts";
import type { Console } from "../machine/console.ts";
import { onAbort } from "../util/abort.ts";
import type { GuestAgent } from "./client.ts";
import { GuestOutput, GuestProcessError, type GuestTransport } from "./output.ts";

/** Options of `m.$({...})`, merged per call like zx's `$({...})`. */
export interface GuestShellOptions {
  /** Working directory in the guest. */
  readonly cwd?: string;
  /** Extra environment variables for the command. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes (or text) on the command's stdin. */
  readonly input?: string | Uint8Array;
  /** Run as this guest user (through `su`). */
  readonly user?: string;
  /** Milliseconds before the guest command is killed and a TimeoutError thrown. @default 60000 */
  readonly timeout?: number;
  readonly signal?: AbortSignal;
  /** Resolve with a non-zero status instead of throwing GuestProcessError. @default false */
  readonly nothrow?: boolean;
  /** Print the command's output on this process's stdout/stderr as well. @default false */
  readonly verbose?: boolean;
  /**
   * Called with stdout as it arrives: a line at a time through the serial console, all at
   * once when the command ends through the agent (qemu-ga returns output only then).
   */
  readonly onStdout?: (text: string) => void;
}

/** `m.$`: call it as a tag, or with options to get a bound one. */
export interface GuestShell {
  (pieces: TemplateStringsArray, ...values: unknown[]): GuestProcess;
  (options: GuestShellOptions): GuestShell;
}

/** Where commands go. Internal: built by RunningVm from its agent or console. */
export interface GuestRunner {
  readonly transport: GuestTransport;
  /** `onOutput` gets stdout as it arrives, where the transport can stream it. */
  run(
    script: string,
    options: GuestShellOptions,
    onOutput?: (text: string) => void,
  ): Promise<{ stdout: string; stderr: string; exitCode: number }>;
}

const DEFAULT_TIMEOUT = 60_000;

/**
 * A guest command on its way: await it for a {@link GuestOutput}; `.nothrow()`,
 * `.quiet()`, `.timeout(ms)` before that.
 *
 * @example
 * ```ts
 * const r = await m.$`grep -c root /etc/passwd`.nothrow().timeout(5000);
 * ```
 */
export class GuestProcess implements PromiseLike<GuestOutput> {
  readonly command: string;
  #options: GuestShellOptions;
  readonly #runner: () => Promise<GuestRunner>;
  #promise: Promise<GuestOutput> | undefined;

  constructor(command: string, options: GuestShellOptions, runner: () => Promise<GuestRunner>) {
    this.command = command;
    this.#options = options;
    this.#runner = runner;
  }

  /** Resolve with a non-zero exit status instead of throwing. @example `await m.$`false`.nothrow()` */
  nothrow(): this {
    this.#options = { ...this.#options, nothrow: true };
    return this;
  }

  /** Do not echo the output (the default unless `verbose`). @example `await m.$`dmesg`.quiet()` */
  quiet(): this {
    this.#options = { ...this.#options, verbose: false };
    return this;
  }

  /** Kill the guest command after `ms` and reject with a TimeoutError. @example `await m.$`sleep 9`.timeout(1000)` */
  timeout(ms: number): this {
    this.#options = { ...this.#options, timeout: ms };
    return this;
  }

  // biome-ignore lint/suspicious/noThenProperty: a guest command is awaited like zx's ProcessPromise, and starts only then
  then<A = GuestOutput, B = never>(
    onfulfilled?: ((value: GuestOutput) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#run().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<GuestOutput | B> {
    return this.#run().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<GuestOutput> {
    return this.#run().finally(onfinally);
  }

  #run(): Promise<GuestOutput> {
    // Started on first use (a microtask after the template), so the modifiers apply.
    this.#promise ??= (async () => {
      const o = this.#options;
      const runner = await this.#runner();
      const started = Date.now();
      let streamed = false;
      const live =
        o.verbose || o.onStdout
          ? (t: string) => {
              streamed = true;
              o.onStdout?.(t);
              if (o.verbose) process.stdout.write(t);
            }
          : undefined;
      const r = await runner.run(wrap(this.command, o), o, live);
      const out = new GuestOutput({
        command: this.command,
        ...r,
        duration: Date.now() - started,
        transport: runner.transport,
      });
      // A transport that did not stream hands all of stdout over now.
      if (live && !streamed && out.stdout) live(out.stdout);
      if (o.verbose) process.stderr.write(out.stderr);
      if (out.exitCode !== 0 && !o.nothrow) throw new GuestProcessError(out);
      return out;
    })();
    return this.#promise;
  }
}

/** Joins a template into one command line, quoting every value as shell words. */
export function buildCommand(pieces: TemplateStringsArray, values: readonly unknown[]): string {
  let s = pieces[0] ?? "";
  values.forEach((v, i) => {
    s += (Array.isArray(v) ? v.map(word).join(" ") : word(v)) + (pieces[i + 1] ?? "");
  });
  return s;
}

function word(v: unknown): string {
  if (v instanceof GuestOutput) return shellQuote(v.toString());
  return shellQuote(String(v ?? ""));
}

/** cwd, env and user as shell text around the command (one script for both transports). */
function wrap(command: string, o: GuestShellOptions): string {
  let s = command;
  const env = Object.entries(o.env ?? {});
  for (const [k] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
  }
  if (env.length) s = `export ${env.map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ")}\n${s}`;
  if (o.cwd !== undefined) s = `cd ${shellQuote(o.cwd)} || exit 1\n${s}`;
  if (o.user !== undefined) s = `su -s /bin/sh -c ${shellQuote(s)} ${shellQuote(o.user)}`;
  return s;
}

/**
 * Makes `m.$` over a runner factory (connected lazily, on the first command).
 * @example `const sh = makeShell(() => runnerFor(m)); await sh`uname -r`;`
 */
export function makeShell(runner: () => Promise<GuestRunner>, defaults: GuestShellOptions = {}): GuestShell {
  const shell = (first: TemplateStringsArray | GuestShellOptions, ...values: unknown[]): GuestProcess | GuestShell => {
    if (Array.isArray(first) && "raw" in first) {
      return new GuestProcess(buildCommand(first as TemplateStringsArray, values), defaults, runner);
    }
    return makeShell(runner, { ...defaults, ...(first as GuestShellOptions) });
  };
  return shell as GuestShell;
}

/**
 * Polls guest-exec-status: every 20 ms or sooner for the first second (most commands are
 * short, and a poll costs one agent round trip, a few ms), then every 100 ms.
 */
async function waitExit(agent: GuestAgent, pid: number, deadline: number, signal: AbortSignal | undefined) {
  const started = Date.now();
  for (let delay = 2; ; delay = Math.min(Date.now() - started < 1000 ? 20 : 100, delay * 2)) {
    const s = await agent.execute("guest-exec-status", { pid }, signal ? { signal } : {});
    if (s.exited) return s;
    if (signal?.aborted) throw new AbortError("guest command", { cause: signal.reason });
    if (Date.now() > deadline) return undefined;
    await sleep(delay);
  }
}

/**
 * Runs scripts through the guest agent: `timeout -s KILL 0 /bin/sh -c SCRIPT` (GNU timeout
 * makes itself a process-group leader, so killing `-pid` ends the whole command tree;
 * duration 0 means no limit of its own: qemukit keeps the clock).
 * @example `const r = agentRunner(agent); await r.run("id -u", {});`
 */
export function agentRunner(agent: GuestAgent): GuestRunner {
  return {
    transport: "agent",
    async run(script, o) {
      const timeout = o.timeout ?? DEFAULT_TIMEOUT;
      const deadline = Date.now() + timeout;
      const input = o.input === undefined ? undefined : Buffer.from(o.input).toString("base64");
      const { pid } = await agent.execute(
        "guest-exec",
        {
          path: "/usr/bin/timeout",
          arg: ["-s", "KILL", "0", "/bin/sh", "-c", script],
          "capture-output": true,
          ...(input !== undefined ? { "input-data": input } : {}),
        },
        o.signal ? { signal: o.signal } : {},
      );
      const kill = () =>
        agent.execute("guest-exec", { path: "/bin/kill", arg: ["-KILL", "--", `-${pid}`] }).catch(() => {});
      let aborted = false;
      const off = onAbort(o.signal, () => {
        aborted = true;
      });
      try {
        const s = await waitExit(agent, pid, deadline, o.signal).catch(async (e) => {
          if (e instanceof AbortError || aborted) {
            await kill();
            throw new AbortError(`guest command ${JSON.stringify(script)}`, { cause: o.signal?.reason });
          }
          throw e;
        });
        if (!s) {
          await kill();
          // Collect the killed process so qemu-ga forgets it.
          await waitExit(agent, pid, Date.now() + 5000, undefined).catch(() => {});
          throw new TimeoutError(`guest command ${JSON.stringify(script)}`, timeout, {
            advice: "the command was killed in the guest; pass a longer .timeout(ms) if it needs more time",
          });
        }
        const decode = (b: string | undefined) => (b ? Buffer.from(b, "base64").toString("utf8") : "");
        return {
          stdout: decode(s["out-data"]),
          stderr: decode(s["err-data"]),
          exitCode: s.exitcode ?? (s.signal !== undefined ? 128 + s.signal : -1),
        };
      } finally {
        off();
      }
    },
  };
}

/**
 * Runs scripts by typing them into the serial console's shell (stdout and stderr merged;
 * the script and stdin travel as base64).
 * @example `const r = consoleRunner(m.console); await r.run("uname -r", {});`
 */
export function consoleRunner(console: Console): GuestRunner {
  return {
    transport: "console",
    async run(script, o, onOutput) {
      // One line whatever the script holds (newlines would meet the shell's continuation
      // prompts); the tty's 4 KiB line limit bounds the script and input size here.
      const b64 = (x: string | Uint8Array) => Buffer.from(x).toString("base64");
      let line = `sh -c "$(printf %s ${b64(script)} | base64 -d)"`;
      if (o.input !== undefined) line = `printf %s ${b64(o.input)} | base64 -d | ${line}`;
      else line += " </dev/null";
      const r = await console.run(line, {
        timeout: o.timeout ?? DEFAULT_TIMEOUT,
        nothrow: true,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(onOutput ? { onOutput } : {}),
      });
      return { stdout: r.output, stderr: "", exitCode: r.exitCode };
    },
  };
}
