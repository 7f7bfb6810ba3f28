/**
 * Time-to-prompt on a real pseudo-terminal: util-linux `script` gives the program a pty and
 * copies its output to us, so the REPL starts exactly as in a terminal.
 * @module
 */
import { spawn } from "node:child_process";

/** One measured start. */
export interface PtyTiming {
  /** ms from spawn to the first prompt on the terminal. */
  readonly prompt: number;
  /** ms from spawn to the answer of the first input line (when `input` was given). */
  readonly answer?: number;
}

/** Options of {@link timeToPrompt}. */
export interface PtyOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The prompt, matched at the end of the ANSI-stripped output. */
  readonly prompt: RegExp;
  /** A line typed as soon as the prompt shows, and what its answer looks like. */
  readonly input?: { readonly line: string; readonly answer: RegExp };
  /** @default 15000 */
  readonly timeout?: number;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;

/** Quotes argv for `script -c`, which hands its command to a shell. */
function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/**
 * Starts `argv` on a pty and measures the time to its first prompt (and optionally to the
 * answer of one typed line), then kills it.
 *
 * @example
 * ```ts
 * const t = await timeToPrompt(["node", "-i"], { cwd, env: process.env, prompt: /> $/ });
 * ```
 */
export function timeToPrompt(argv: readonly string[], options: PtyOptions): Promise<PtyTiming> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("script", ["-qfec", shellJoin(argv), "/dev/null"], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let prompt: number | undefined;
    let answerFrom = 0;
    let closed = false;
    let settled = false;
    const exited = new Promise<void>((r) => {
      const gone = () => {
        closed = true;
        r();
      };
      child.once("close", gone);
      child.once("error", gone); // never spawned: there is nothing to wait for
    });
    // Ends the REPL the way a user would (Ctrl-D) and settles only once it is gone: the REPL
    // runs in script's own session, so killing script alone leaves it writing its history
    // into a directory the caller is about to remove (ENOTEMPTY).
    const finish = (r: PtyTiming | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!closed) child.stdin.write("\x04");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      void exited.then(() => {
        clearTimeout(killer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      });
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `no prompt from ${argv.join(" ")} within ${options.timeout ?? 15000} ms:\n${out.replace(ANSI, "")}`,
          ),
        ),
      options.timeout ?? 15000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const plain = out.replace(ANSI, "");
      if (prompt === undefined && options.prompt.test(plain)) {
        prompt = performance.now() - t0;
        if (!options.input) return finish({ prompt });
        answerFrom = plain.length;
        child.stdin.write(`${options.input.line}\r`);
      } else if (prompt !== undefined && options.input?.answer.test(plain.slice(answerFrom))) {
        finish({ prompt, answer: performance.now() - t0 });
      }
    });
    child.on("error", (e) => finish(e));
  });
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
