/** Runs recipe scripts and the lab the way users do (tsx, Deno, the CLI) and checks for leftovers. */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface ScriptRun {
  readonly pid: number;
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Spawns `argv` in the repository root and collects its output. */
export function runProcess(
  argv: readonly string[],
  options: {
    timeout?: number;
    env?: Record<string, string>;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<ScriptRun> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 300_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ pid: child.pid!, status, signal, stdout, stderr, ms: Math.round(performance.now() - t0) });
    });
  });
}

/** `npx tsx recipes/<id>.ts ...args`. */
export function runRecipeTsx(id: string, args: readonly string[] = [], timeout?: number): Promise<ScriptRun> {
  return runProcess([`${repoRoot}node_modules/.bin/tsx`, `recipes/${id}.ts`, ...args], timeout ? { timeout } : {});
}

/** `deno run -A recipes/<id>.ts ...args` (the npm package's deno binary). */
export function runRecipeDeno(id: string, args: readonly string[] = [], timeout?: number): Promise<ScriptRun> {
  return runProcess(
    [`${repoRoot}node_modules/.bin/deno`, "run", "-A", `recipes/${id}.ts`, ...args],
    timeout ? { timeout } : {},
  );
}

/** Parses stdout as exactly one JSON object; fails with the output when it is anything else. */
export function onlyJson(run: ScriptRun): Record<string, unknown> {
  try {
    const v = JSON.parse(run.stdout) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(
      `stdout is not one JSON object (${(e as Error).message}); exit ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-3000)}`,
    );
  }
}

/** Pids of running QEMU processes whose command line contains `needle`. */
export function qemuProcesses(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (/qemu-system/.test(cmd[0] ?? "") && cmd.some((a) => a.includes(needle))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The recipes' temporary directories (`qemukit-<recipe>-XXXX`) currently in the temp dir. */
export function recipeTempDirs(
  prefixes: readonly string[] = ["create-disk-", "convert-", "add-disk-", "overlays-", "install-"],
): string[] {
  return readdirSync(tmpdir()).filter((f) => prefixes.some((p) => f.startsWith(`qemukit-${p}`)));
}

/**
 * True while `pid` runs. A zombie counts as gone: a daemonized QEMU's parent is PID 1, and
 * in a container PID 1 may not reap it right away.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
