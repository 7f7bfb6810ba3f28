/**
 * The one place qemukit runs short-lived helper programs (qemu-img, gpgv, sfdisk...).
 * Always an argv array, never a shell string.
 * @module
 */
import { spawn } from "node:child_process";
import { ProcessError, ToolNotFoundError } from "../errors/errors.ts";
import { withParentDeathSignal } from "./pdeathsig.ts";
import { debianPackageOf } from "./programs.ts";

/** Options for {@link exec}. */
export interface ExecOptions {
  /** Working directory. */
  readonly cwd?: string;
  /** Extra environment variables (merged over `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Data written to stdin, then stdin is closed. */
  readonly input?: string | Uint8Array;
  /** Kill the process after this many ms (SIGKILL) and reject with a ProcessError. */
  readonly timeout?: number;
  /** Do not throw on a non-zero exit; return the result instead. */
  readonly reject?: boolean;
  /** Called with each chunk of stderr as it arrives (progress parsing). */
  readonly onStderr?: (chunk: string) => void;
  /** Called with each chunk of stdout as it arrives. */
  readonly onStdout?: (chunk: string) => void;
  /** Debian package that provides the program, for the not-found advice. @default from the programs table */
  readonly debianPackage?: string;
  /** Abort signal: kills the process. */
  readonly signal?: AbortSignal;
  /**
   * Run the program under `setpriv --pdeathsig SIGKILL`, so it dies with this process even
   * when that is SIGKILLed (see withParentDeathSignal). @default false
   */
  readonly dieWithParent?: boolean;
}

/** What a finished process left behind. */
export interface ExecResult {
  readonly argv: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/**
 * Runs `argv[0]` with the rest as arguments and collects its output.
 *
 * @example
 * ```ts
 * const { stdout } = await exec(["qemu-img", "--version"]);
 * ```
 * @throws {ToolNotFoundError} when the program does not exist.
 * @throws {ProcessError} when it exits non-zero (unless `reject: false`).
 */
export async function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const run = options.dieWithParent
    ? await withParentDeathSignal(argv, options.debianPackage ?? debianPackageOf(argv[0]!))
    : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(run[0]!, run.slice(1), {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    if (options.timeout) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeout);
    }
    child.stdout!.on("data", (b: Buffer) => {
      out.push(b);
      options.onStdout?.(b.toString("utf8"));
    });
    child.stderr!.on("data", (b: Buffer) => {
      err.push(b);
      options.onStderr?.(b.toString("utf8"));
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === "ENOENT")
        reject(new ToolNotFoundError(argv[0]!, options.debianPackage ?? debianPackageOf(argv[0]!), { cause: e }));
      else reject(e);
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: ExecResult = {
        argv,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + (timedOut ? `\n(killed after ${options.timeout} ms)` : ""),
        exitCode: code,
        signal,
      };
      if ((code === 0 && !timedOut) || options.reject === false) resolve(result);
      else reject(new ProcessError(argv, code, result.stderr, { signal }));
    });
  });
}

/** Finds a program on PATH; returns its absolute path or undefined. */
export async function which(program: string): Promise<string | undefined> {
  const { access, constants } = await import("node:fs/promises");
  const { join } = await import("node:path");
  if (program.includes("/")) {
    try {
      await access(program, constants.X_OK);
      return program;
    } catch {
      return undefined;
    }
  }
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}
