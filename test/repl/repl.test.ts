// End-to-end: the real REPL (node repl/launch.js, the bundled fast path `qemukit repl` uses)
// on a real pty (tmux), a real tiny guest under TCG, real QMP.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attach } from "../../sdk/mod.ts";
import { TmuxTerminal } from "../helpers/repl-tmux.ts";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
// tmux trims trailing blanks, so the prompt ends in ">".
const PROMPT = /qemukit> ?$/;
const terminals: TmuxTerminal[] = [];
let state: string;

function startRepl(): TmuxTerminal {
  const t = TmuxTerminal.start([process.execPath, "repl/launch.js"], {
    cwd: root,
    env: { XDG_STATE_HOME: state, TERM: "xterm-256color" },
  });
  terminals.push(t);
  return t;
}

/** Types a line, presses Enter, and waits for `expected` after the echoed line and a new prompt. */
async function enter(t: TmuxTerminal, line: string, expected: RegExp, timeout = 20_000): Promise<string> {
  // The echo of this line is the first occurrence of it after what the screen held before.
  const from = Math.max(0, t.screen().length - 20);
  const output = (s: string) => {
    const i = s.indexOf(line, from);
    return i < 0 ? undefined : s.slice(i + line.length);
  };
  t.type(line);
  // Keys that arrive in one chunk look like a paste to readline: let the echo land first.
  await t.waitFor((s) => output(s) !== undefined);
  t.keys("Enter");
  // Output can arrive over several chunks: done once it matches and the REPL prompts again
  // (its own prompt, or "..." inside an unfinished expression).
  const done = (o: string) => expected.test(o) && (PROMPT.test(o) || /\.\.\. ?$/.test(o));
  const screen = await t.waitFor((s) => done(output(s) ?? ""), timeout);
  return output(screen)!;
}

/**
 * Presses Tab on its own (a Tab in the same chunk as other keys is a pasted tab character):
 * after the echo of what was typed, and returns once the terminal shows the Tab's effect.
 */
async function tab(t: TmuxTerminal, typed: string): Promise<void> {
  await t.waitFor(() => currentLine(t).includes(typed));
  // Node previews a completion in grey (captured as text), so the screen alone may not
  // change: the cursor moves when the completion is inserted or a list is printed.
  const before = t.cursor();
  t.keys("Tab");
  await t.waitFor(() => t.cursor() !== before);
}

/** The line the cursor is on (the last non-empty line of the screen). */
function currentLine(t: TmuxTerminal): string {
  return t.screen().split("\n").at(-1) ?? "";
}

/** True while `pid` runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

beforeAll(() => {
  state = mkdtempSync(join(tmpdir(), "qemukit-repl-test-"));
  // Build the bundle once up front, so no test pays for esbuild.
  execFileSync(process.execPath, ["repl/launch.js", "--build-only"], { cwd: root, stdio: "ignore" });
});

afterAll(() => {
  for (const t of terminals) t.close();
  rmSync(state, { recursive: true, force: true });
});

describe("qemukit REPL on a pty", () => {
  it("takes TypeScript with top-level await, multi-line input, .help, .argv, completions, error views, and keeps history", async () => {
    const t = startRepl();
    await t.waitFor(PROMPT);

    await enter(t, "const n: number = await Promise.resolve(41) + 1", PROMPT);
    expect(await enter(t, "n * 2", /^84$/m)).toMatch(/^84$/m);

    await enter(t, "[10,", /\.\.\. ?$/);
    expect(await enter(t, "20, 30].length", /^3$/m)).toMatch(/^3$/m);

    expect(await enter(t, ".help", /Commands:/)).toMatch(/guests\.tiny\(\)[\s\S]*\.argv <builder>/);

    const argv = await enter(t, `.argv vm().memory(256).smp(2).vnc(1)`, /qemu-system-x86_64/);
    expect(argv).toMatch(/qemu-system-x86_64 .*-m 256 .*-smp 2 .*-vnc 127\.0\.0\.1:1/);

    // After each Tab a terminator is typed, so node's grey completion preview (which tmux
    // captures as text) cannot pass for an inserted completion.
    // SDK names come from node's own completer over the preloaded scope.
    t.type("fromComm");
    await tab(t, "fromComm");
    t.type("(");
    await t.waitFor(() => currentLine(t).includes("qemukit> fromCommandLine("));
    t.keys("C-u");
    t.type("guests.ti");
    await tab(t, "guests.ti");
    t.type("(");
    await t.waitFor(() => currentLine(t).includes("qemukit> guests.tiny("));
    t.keys("C-u");
    // Builder methods on a vm() chain (node itself will not evaluate calls).
    t.type("vm().memory(512).sm");
    await tab(t, "vm().memory(512).sm");
    t.type("(");
    await t.waitFor(() => currentLine(t).includes("qemukit> vm().memory(512).smp("));
    t.keys("C-u");
    // QMP names without a VM: the @qemu-types/qmp baseline (or the last live list).
    t.type(`nothing.execute("query-statu`);
    await tab(t, `nothing.execute("query-statu`);
    t.type(`"`);
    await t.waitFor(() => currentLine(t).includes(`execute("query-status"`));
    t.keys("C-u");

    const err = await enter(t, "vm().memory(-1)", /→/);
    expect(err).toMatch(/SpecError \[SPEC_\w+\]: .*memory/);
    expect(err).toMatch(/→ .*memory\(512\)/);

    // Ctrl-C gives the prompt back from an await that never ends.
    // It says when it is waiting, so Ctrl-C is pressed while the await runs, not before.
    t.type(`await (console.log("waiting-" + "forever"), new Promise(() => {}))`);
    await t.waitFor(() => currentLine(t).includes("new Promise(() => {}))"));
    t.keys("Enter");
    await t.waitFor(/^waiting-forever$/m);
    t.keys("C-c");
    await t.waitFor(/interrupted by `SIGINT`/);
    expect(await enter(t, "6 * 7", /^42$/m)).toMatch(/^42$/m);

    await enter(t, `"history-" + "marker"`, /'history-marker'/);
    t.keys("C-d");
    await t.waitFor(() => t.exited());

    const again = startRepl();
    await again.waitFor(PROMPT);
    again.keys("Up");
    // (node previews the recalled line's value below it, so look at the whole screen.)
    await again.waitFor((s) => s.includes(`qemukit> "history-" + "marker"`));
    // Ctrl-C twice leaves too.
    again.keys("C-u", "C-c");
    await again.waitFor(/press Ctrl\+C again/);
    again.keys("C-c");
    await again.waitFor(() => again.exited());
  });

  it("starts the tiny guest, queries QMP, completes QMP names live, prints the handle, and stops the VM on Ctrl-D", async () => {
    const t = startRepl();
    await t.waitFor(PROMPT);
    const name = `repl-e2e-${process.pid}`;
    let pid = 0;
    let daemonPid = 0;
    try {
      await enter(t, `const g = await guests.tiny(); "guest ready"`, /'guest ready'/, 300_000);
      const started = await enter(
        t,
        `const m = await vm().name("${name}").memory(256).accel("tcg").kernel(g.kernel, { initrd: g.initrd, append: g.append }).start(); "pid=" + m.pid`,
        /'pid=\d+'/,
        120_000,
      );
      pid = Number(/'pid=(\d+)'/.exec(started)![1]);
      expect(alive(pid)).toBe(true);
      // A daemonized VM is meant to outlive the session.
      const daemon = await enter(
        t,
        `const d = await vm().name("${name}-d").memory(256).accel("tcg").kernel(g.kernel, { initrd: g.initrd, append: g.append }).daemonize().start(); "pid=" + d.pid`,
        /'pid=\d+'/,
        120_000,
      );
      daemonPid = Number(/'pid=(\d+)'/.exec(daemon)![1]);

      expect(await enter(t, `await m.qmp.execute("query-status")`, /status: '\w+'/)).toMatch(/running: (true|false)/);

      t.type(`await m.qmp.execute("query-sta`);
      await tab(t, `await m.qmp.execute("query-sta`);
      await t.waitFor(() => currentLine(t).includes(`execute("query-stat`));
      await tab(t, `execute("query-stat`);
      // Several live names share the prefix: readline lists them.
      await t.waitFor(/query-stats-schemas[\s\S]*query-status|query-status[\s\S]*query-stats-schemas/);
      t.type("u");
      await tab(t, `execute("query-statu`);
      await t.waitFor(() => currentLine(t).includes(`execute("query-status`));
      t.type(`")`);
      await t.waitFor(() => currentLine(t).includes(`execute("query-status")`));
      t.keys("Enter");
      await t.waitFor((s) => (s.match(/singlestep/g) ?? []).length >= 2);

      // The handle prints over several chunks: wait for its closing brace, not its first line.
      const handle = await enter(t, "m /* the handle */", /RunningVm \{[\s\S]*\n\}/);
      expect(handle).toContain(name);
      expect(handle).toContain(`pid: ${pid}`);
      expect(handle).toMatch(/accel: 'tcg'/);

      const vms = await enter(t, ".vms", new RegExp(`${name}-d`));
      expect(vms).toMatch(new RegExp(`${name}\\s+${pid}\\s+running\\s+tcg.*this REPL`));
      expect(vms).toMatch(new RegExp(`${name}-d\\s+${daemonPid}\\s+daemon\\s+tcg`));

      t.keys("C-d");
      await t.waitFor(() => t.exited(), 30_000);
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
      expect(alive(daemonPid)).toBe(true);
      const d = await attach(`${name}-d`);
      await d.shutdown({ timeouts: { powerdown: 0 } });
      expect(alive(daemonPid)).toBe(false);
    } finally {
      if (pid && alive(pid)) process.kill(pid, "SIGKILL");
      if (daemonPid && alive(daemonPid)) process.kill(daemonPid, "SIGKILL");
    }
  });

  it("qemukit repl --deno opens Deno's REPL with the same preload", async () => {
    const t = TmuxTerminal.start([process.execPath, "bin/qemukit.js", "repl", "--deno"], {
      cwd: root,
      env: { XDG_STATE_HOME: state },
    });
    terminals.push(t);
    await t.waitFor(/in Deno's REPL: \d+ names in scope \(vm, overlay, image, guests/, 60_000);
    await t.waitFor(/^> ?$/m, 30_000);
    t.type(`vm().memory(256).toArgv().join(" ").includes("-m 256") && typeof $`);
    await t.waitFor(() => currentLine(t).includes("&& typeof $"));
    t.keys("Enter");
    await t.waitFor(/"function"/, 20_000);
    t.keys("C-d");
    await t.waitFor(() => t.exited(), 20_000);
  });
});
