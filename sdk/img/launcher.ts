/**
 * A small pool of long-lived `dash` processes that start short qemu-img calls for Node.
 *
 * Why: `child_process.spawn` forks the whole Node process (tens of MB of page tables), which
 * made 200 quick qemu-img calls ~1.3x slower than the same calls from a shell loop. A resident
 * dash (Debian's /bin/sh: vfork, like the shell loop itself) starts programs cheaply. Each request
 * is a line-per-field frame (token, cwd, env changes, argv) that sh reads with `read -r` and
 * runs as "$@": argv semantics, no shell interpretation of any value. Values a line cannot
 * carry (newline, NUL) and shell builtin names take the plain spawn path. qemu-img writes
 * straight into the launcher's stdout/stderr pipes; sh then writes an end marker with a
 * per-call random token and the exit status.
 *
 * The pool never keeps the event loop alive while idle (child and pipes are unref'd), each
 * launcher exits on stdin EOF when Node exits, and anything it cannot do exactly like spawn
 * (no dash, a launcher that died, an env name it cannot export, a cwd it cannot enter, a
 * program it cannot find) falls back to plain spawn via `exec()`.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { resolve as resolvePath } from "node:path";
import { exec, type ExecOptions, type ExecResult } from "../util/exec.ts";
import { ProcessError } from "../errors/errors.ts";

/* dash (Debian's /bin/sh, always installed) starts simple commands with vfork, as a shell
 * loop does; bash and Node fork, which is what made the difference. No dash: plain spawn.
 * One frame per call, one field per line: token, cwd, env changes (+K=V / -K), argc, args.
 * Arguments are read with `read -r` into "$@" and run as "$@": no expansion of any value.
 * dash's own messages (e.g. "Killed") go to /dev/null; the program's stderr is fd 5. "S" on
 * stdout says the program was started; the status is 128+N when it died of signal N. */
const SCRIPT = `exec 5>&2 2>/dev/null
while IFS= read -r __qk_tok; do
  IFS= read -r __qk_cwd || exit 0
  if cd -- "$__qk_cwd"; then __qk_st=; else __qk_st=c; fi
  IFS= read -r __qk_n || exit 0
  while [ "$__qk_n" -gt 0 ]; do
    IFS= read -r __qk_op || exit 0
    case $__qk_op in +*) export "\${__qk_op#+}" ;; -*) unset "\${__qk_op#-}" ;; esac
    __qk_n=$((__qk_n - 1))
  done
  IFS= read -r __qk_n || exit 0
  set --
  while [ "$__qk_n" -gt 0 ]; do IFS= read -r __qk_a || exit 0; set -- "$@" "$__qk_a"; __qk_n=$((__qk_n - 1)); done
  if [ -z "$__qk_st" ]; then
    printf S
    "$@" 2>&5 5>&- </dev/null
    __qk_st=$?
  fi
  printf '\\000%s %s\\n' "$__qk_tok" "$__qk_st"
  printf '\\000%s\\n' "$__qk_tok" >&5
done
`;

const MAX_POOL = 4;
/** After this many launcher deaths the pool gives up and every call uses plain spawn. */
const MAX_DEATHS = 8;
/** Names the shell itself uses while reading frames; changing them would change how it runs. */
const SH_RESERVED = new Set(["IFS", "OPTIND", "PPID", "__qk_tok", "__qk_cwd", "__qk_st", "__qk_n", "__qk_op", "__qk_a"]);
/** `cd` rewrites these in the shell; each call sets them back to what spawn would pass. */
const CD_VARS = ["PWD", "OLDPWD"];
/** Shell builtins: "$@" would run the builtin, not the program of that name. */
const SH_BUILTINS = new Set("alias bg break cd chdir command continue echo eval exec exit export false fg getopts hash jobs kill local printf pwd read readonly return set shift test [ times trap true type ulimit umask unalias unset wait".split(" "));
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Call {
  readonly token: string;
  readonly out: Buffer[];
  readonly err: Buffer[];
  outTail: string;
  errTail: string;
  started: boolean;
  status?: number | "c";
  errDone: boolean;
  kill?: NodeJS.Signals;
  readonly finish: (r: { status: number | "c"; stdout: Buffer; stderr: Buffer } | { died: true; started: boolean }) => void;
}

class Launcher {
  readonly child: ChildProcess;
  /** The environment the launcher's shell exports now (env changes persist between calls). */
  env: Record<string, string | undefined>;
  readonly prefix = randomBytes(8).toString("hex");
  private seq = 0;
  call?: Call;
  dead = false;

  constructor(private readonly onDeath: (l: Launcher) => void) {
    this.env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SH_RESERVED.has(k)));
    this.child = spawn("dash", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "pipe"], env: this.env });
    // No dash (or it cannot start): every call uses plain spawn from now on.
    this.child.on("error", () => {
      disabled = true;
      this.die();
    });
    this.child.stdin!.on("error", () => this.die());
    this.child.stdout!.on("data", (b: Buffer) => this.onOut(b));
    this.child.stderr!.on("data", (b: Buffer) => this.onErr(b));
    // Both pipes closed means the shell is gone and every byte it (or qemu-img) wrote has been read.
    let open = 2;
    const closed = () => {
      if (--open === 0) this.die();
    };
    this.child.stdout!.on("close", closed);
    this.child.stderr!.on("close", closed);
    // A program left running by a killed launcher can hold the pipes open for long: once the
    // shell is gone, give pending output a moment to arrive, then stop waiting for it.
    this.child.on("exit", () => {
      setTimeout(() => this.die(), 100).unref();
    });
    this.idle();
  }

  /** Lets Node exit while nothing is running; `busy()` undoes it. */
  private idle(): void {
    this.child.unref();
    unrefStream(this.child.stdin);
    unrefStream(this.child.stdout);
    unrefStream(this.child.stderr);
  }

  private busy(): void {
    this.child.ref();
    refStream(this.child.stdout);
  }

  run(frame: string, call: Omit<Call, "token">): string {
    const token = `${this.prefix}-${++this.seq}`;
    this.call = { ...call, token } as Call;
    this.busy();
    this.child.stdin!.write(`${token}\n${frame}`);
    return token;
  }

  /** Signals the running program: the shell's only child, read from /proc; without /proc, the shell. */
  kill(sig: NodeJS.Signals): void {
    const c = this.call;
    if (!c || c.status !== undefined) return;
    const lpid = this.child.pid;
    let pids: number[] = [];
    try {
      pids = readFileSync(`/proc/${lpid}/task/${lpid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch { /* no /proc */ }
    if (pids.length === 0) {
      // Not forked yet (or no /proc): try again shortly; the shell itself is the last resort.
      if (c.started && !existsSync(`/proc/${lpid}`)) this.child.kill("SIGKILL");
      else setTimeout(() => this.call === c && this.kill(sig), 10);
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch { /* already gone */ }
    }
  }

  private onOut(b: Buffer): void {
    const c = this.call;
    if (!c) return;
    if (!c.started && c.out.length === 0 && b[0] === 0x53 /* S */) {
      c.started = true;
      b = b.subarray(1);
    }
    c.out.push(b);
    c.outTail = (c.outTail + b.toString("latin1")).slice(-80);
    const m = new RegExp(`\\x00${c.token} (\\d+|c)\\n$`).exec(c.outTail);
    if (m) {
      c.status = m[1] === "c" ? "c" : Number(m[1]);
      this.maybeDone();
    }
  }

  private onErr(b: Buffer): void {
    const c = this.call;
    if (!c) return;
    c.err.push(b);
    c.errTail = (c.errTail + b.toString("latin1")).slice(-80);
    if (c.errTail.endsWith(`\0${c.token}\n`)) {
      c.errDone = true;
      this.maybeDone();
    }
  }

  private maybeDone(): void {
    const c = this.call;
    if (!c || c.status === undefined || !c.errDone) return;
    this.call = undefined;
    this.idle();
    const out = Buffer.concat(c.out);
    const err = Buffer.concat(c.err);
    const outMarker = Buffer.byteLength(`\0${c.token} ${c.status}\n`);
    const errMarker = Buffer.byteLength(`\0${c.token}\n`);
    c.finish({ status: c.status, stdout: out.subarray(0, out.length - outMarker), stderr: err.subarray(0, err.length - errMarker) });
  }

  die(): void {
    if (this.dead) return;
    this.dead = true;
    this.onDeath(this);
    const c = this.call;
    this.call = undefined;
    try {
      this.child.kill("SIGKILL");
    } catch { /* gone */ }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    c?.finish({ died: true, started: c.started });
  }
}

function unrefStream(s: unknown): void {
  (s as { unref?: () => void } | null)?.unref?.();
}
function refStream(s: unknown): void {
  (s as { ref?: () => void } | null)?.ref?.();
}

const pool: Launcher[] = [];
let deaths = 0;
/** `QEMUKIT_NO_LAUNCHER=1` turns the launcher off (every call spawns from Node, as before). */
let disabled = !!process.env.QEMUKIT_NO_LAUNCHER;

function removeLauncher(l: Launcher): void {
  const i = pool.indexOf(l);
  if (i >= 0) pool.splice(i, 1);
  if (++deaths >= MAX_DEATHS) disabled = true;
}

function takeLauncher(): Launcher | undefined {
  const free = pool.find((l) => !l.call && !l.dead);
  if (free) return free;
  if (pool.length >= MAX_POOL) return undefined;
  try {
    const l = new Launcher(removeLauncher);
    pool.push(l);
    return l;
  } catch {
    disabled = true;
    return undefined;
  }
}

/** Values one `read -r` line cannot carry. */
function badField(s: string): boolean {
  return s.includes("\0") || s.includes("\n");
}

/** `+K=V` / `-K` lines that turn the launcher's env into the call's, or undefined if sh cannot apply them. */
function envOps(current: Readonly<Record<string, string | undefined>>, extra: ExecOptions["env"]): string[] | undefined {
  const want: Record<string, string | undefined> = extra ? { ...process.env, ...extra } : process.env;
  const ops: string[] = [];
  for (const k of Object.keys(want)) {
    const v = want[k];
    if (v === undefined || (current[k] === v && !CD_VARS.includes(k))) continue;
    if (!IDENT.test(k) || SH_RESERVED.has(k) || badField(v)) return undefined;
    ops.push(`+${k}=${v}`);
  }
  for (const k of new Set([...Object.keys(current), ...CD_VARS])) {
    if ((current[k] === undefined && !CD_VARS.includes(k)) || want[k] !== undefined) continue;
    if (!IDENT.test(k) || SH_RESERVED.has(k)) return undefined;
    ops.push(`-${k}`);
  }
  return ops;
}



function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === n) return name;
  return null;
}

/** Options {@link launch} takes: those of `exec()` except stdin input and streaming callbacks. */
export type LaunchOptions = Omit<ExecOptions, "input" | "onStderr" | "onStdout">;

/**
 * Runs `argv` like `exec()` (same result, errors and timeout/abort/env/cwd behaviour), but
 * through a resident dash launcher when it can, which is much cheaper than spawning from Node.
 * Meant for short calls whose output is read at the end; stream output with `exec()` instead.
 *
 * @example
 * ```ts
 * const { stdout } = await launch(["qemu-img", "info", "--output=json", "/tmp/a.qcow2"], { debianPackage: "qemu-utils" });
 * ```
 */
export function launch(argv: readonly string[], options: LaunchOptions = {}): Promise<ExecResult> {
  if (disabled || options.signal?.aborted || argv.length === 0 || SH_BUILTINS.has(argv[0]!)) return exec(argv, options);
  const cwd = options.cwd === undefined ? process.cwd() : resolvePath(options.cwd);
  if (badField(cwd) || argv.some(badField)) return exec(argv, options);
  const launcher = takeLauncher();
  if (!launcher) return exec(argv, options);
  const ops = envOps(launcher.env, options.env);
  if (!ops) return exec(argv, options);
  launcher.env = options.env ? { ...process.env, ...options.env } : { ...process.env };

  return new Promise<ExecResult>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const onAbort = () => launcher.kill("SIGTERM");
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    const frame = [cwd, String(ops.length), ...ops, String(argv.length), ...argv].join("\n") + "\n";
    launcher.run(frame, {
      out: [],
      err: [],
      outTail: "",
      errTail: "",
      errDone: false,
      started: false,
      finish: (r) => {
        cleanup();
        if ("died" in r) {
          // Not started yet: nothing ran, so plain spawn does the call. Started: qemu-img ran
          // but its status is lost, and repeating a non-idempotent call would be wrong.
          if (!r.started) exec(argv, options).then(resolve, reject);
          else reject(new ProcessError(argv, null, "the qemukit launcher process died before the call reported its exit status", { signal: null }));
          return;
        }
        if (r.status === "c" || ((r.status === 126 || r.status === 127) && r.stdout.length === 0 && !timedOut && !options.signal?.aborted)) {
          // sh could not enter cwd or find/exec the program: let spawn produce the exact error.
          exec(argv, options).then(resolve, reject);
          return;
        }
        const code = r.status > 128 && r.status < 128 + 65 ? null : r.status;
        const signal = code === null ? signalName(r.status - 128) : null;
        let stderr = r.stderr;
        if (code === null && signal !== "SIGINT" && signal !== "SIGPIPE") {
          // dash reports a foreground child killed by a signal ("Killed\n", "Aborted (core
          // dumped)\n") on the stderr it had redirected for that child: always the last line.
          const end = stderr.lastIndexOf(0x0a, stderr.length - 2);
          stderr = stderr.subarray(0, end + 1);
        }
        if (options.signal?.aborted) {
          const e = new Error("The operation was aborted");
          e.name = "AbortError";
          reject(Object.assign(e, { code: "ABORT_ERR", cause: options.signal.reason }));
          return;
        }
        const result: ExecResult = {
          argv,
          stdout: r.stdout.toString("utf8"),
          stderr: stderr.toString("utf8") + (timedOut ? `\n(killed after ${options.timeout} ms)` : ""),
          exitCode: code,
          signal,
        };
        if ((code === 0 && !timedOut) || options.reject === false) resolve(result);
        else reject(new ProcessError(argv, code, result.stderr, { signal }));
      },
    });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeout) {
      timer = setTimeout(() => {
        timedOut = true;
        launcher.kill("SIGKILL");
      }, options.timeout);
    }
  });
}

/** Pids of the running launchers (tests use this to kill one and check the fallback). */
export function launcherPids(): number[] {
  return pool.filter((l) => !l.dead).map((l) => l.child.pid!).filter((p) => p !== undefined);
}
