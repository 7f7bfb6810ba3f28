/**
 * Drives a program on a real pseudo-terminal through tmux (a private tmux server per
 * instance, so nothing else's sessions are touched): type text, press keys, read the screen.
 * @module
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of {@link TmuxTerminal.start}. */
export interface TmuxStartOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** @default 200 */
  readonly width?: number;
  /** @default 50 */
  readonly height?: number;
}

let counter = 0;

/**
 * A program running in its own tmux server.
 *
 * @example
 * ```ts
 * const t = TmuxTerminal.start(["node", "repl/launch.js"], { cwd: root });
 * await t.waitFor(/qemukit> $/);
 * t.type("1 + 1"); t.keys("Enter");
 * await t.waitFor(/^2$/m);
 * t.close();
 * ```
 */
export class TmuxTerminal {
  readonly socket: string;
  #closed = false;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts `argv` in a new detached tmux server; the pane stays open after it exits. */
  static start(argv: readonly string[], options: TmuxStartOptions): TmuxTerminal {
    const socket = `qemukit-repl-test-${process.pid}-${++counter}`;
    const t = new TmuxTerminal(socket);
    const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    t.#tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(options.width ?? 200),
      "-y",
      String(options.height ?? 50),
      "-c",
      options.cwd,
      ...envArgs,
      ...argv,
    );
    t.#tmux("set-option", "-t", "t", "remain-on-exit", "on");
    return t;
  }

  #tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  }

  /** Types literal text (no Enter). */
  type(text: string): void {
    this.#tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Presses keys by tmux name: "Enter", "Tab", "C-d", "C-c", "Up". */
  keys(...names: string[]): void {
    this.#tmux("send-keys", "-t", "t", ...names);
  }

  /** The whole scrollback plus screen, wrapped lines joined, trailing blanks trimmed. */
  screen(): string {
    return this.#tmux("capture-pane", "-p", "-J", "-S", "-5000", "-t", "t").replace(/\s+$/, "");
  }

  /** Where the cursor is: column, row and scrolled-off lines, e.g. "12,3,0" (moves when text is inserted). */
  cursor(): string {
    return this.#tmux("display-message", "-p", "-t", "t", "#{cursor_x},#{cursor_y},#{history_size}").trim();
  }

  /** True once the program in the pane has exited. */
  exited(): boolean {
    return this.#tmux("display-message", "-p", "-t", "t", "#{pane_dead}").trim() === "1";
  }

  /** Waits until `test` matches the screen (or holds for it); returns the screen. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeout = 20_000): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const s = this.screen();
      if (typeof test === "function" ? test(s) : test.test(s)) return s;
      if (Date.now() > deadline)
        throw new Error(`terminal did not show ${String(test)} within ${timeout} ms; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Text printed after the last occurrence of `marker`. */
  after(marker: string): string {
    const s = this.screen();
    const i = s.lastIndexOf(marker);
    return i < 0 ? "" : s.slice(i + marker.length);
  }

  /** Kills the tmux server (and with it the program, by SIGHUP). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#tmux("kill-server");
    } catch {
      // Already gone.
    }
    // tmux leaves its socket file behind; it is ours alone (-L name), so remove it.
    const uid = typeof process.getuid === "function" ? process.getuid() : 0;
    rmSync(join(process.env.TMUX_TMPDIR || tmpdir(), `tmux-${uid}`, this.socket), { force: true });
  }
}
