import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, launcherPids } from "../../sdk/img/launcher.ts";
import { ProcessError, ToolNotFoundError } from "../../sdk/errors/errors.ts";

describe("launcher (resident dash that starts short calls)", () => {
  it("passes argv literally: spaces, quotes, newlines, $(...), globs, empty strings", async () => {
    // "x\ny" cannot travel in a line: that call takes the spawn path, with the same result.
    const args = ["a b", `it's "q"`, "x\ny", "$(echo pwned)", "`id`", "*", "", "-n", "\\t", " lead", "trail\\"];
    const r = await launch(["/usr/bin/printf", "%s|", ...args]);
    expect(r.stdout).toBe(args.map((a) => `${a}|`).join(""));
    const noNl = args.filter((a) => !a.includes("\n"));
    expect((await launch(["/usr/bin/printf", "%s|", ...noNl])).stdout).toBe(noNl.map((a) => `${a}|`).join(""));
    expect(r.exitCode).toBe(0);
    expect(launcherPids().length).toBeGreaterThan(0);
  });

  it("returns non-zero exit codes and stderr (reject: false) or throws a ProcessError", async () => {
    const r = await launch(["sh", "-c", "echo out; echo 'bad thing' >&2; exit 3"], { reject: false });
    expect(r).toMatchObject({ stdout: "out\n", stderr: "bad thing\n", exitCode: 3, signal: null });
    const e = await launch(["sh", "-c", "echo boom >&2; exit 2"]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProcessError);
    expect((e as ProcessError).exitCode).toBe(2);
    expect((e as ProcessError).stderr).toBe("boom\n");
  });

  it("honours cwd and env (set and unset) per call without leaking into the next call", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qk-launcher-"));
    try {
      process.env.QK_LAUNCHER_GONE = "present";
      const r = await launch(["sh", "-c", 'pwd; echo "$QK_A|${QK_LAUNCHER_GONE-unset}"'], {
        cwd: dir,
        env: { QK_A: "x y $(z)", QK_LAUNCHER_GONE: undefined },
      });
      expect(r.stdout).toBe(`${dir}\nx y $(z)|unset\n`);
      const r2 = await launch(["sh", "-c", 'echo "${QK_A-unset}|$QK_LAUNCHER_GONE|${PWD-unset}"']);
      // PWD is passed through as Node has it (spawn does not rewrite it), not the shell's cd.
      expect(r2.stdout).toBe(`unset|present|${process.env.PWD ?? "unset"}\n`);
      writeFileSync(join(dir, "rel.txt"), "relative\n");
      expect((await launch(["cat", "rel.txt"], { cwd: dir })).stdout).toBe("relative\n");
    } finally {
      delete process.env.QK_LAUNCHER_GONE;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs concurrent calls in parallel on up to 4 launchers", async () => {
    const t0 = Date.now();
    const rs = await Promise.all([1, 2, 3, 4].map((i) => launch(["sh", "-c", `sleep 1; echo ${i}`])));
    expect(rs.map((r) => r.stdout)).toEqual(["1\n", "2\n", "3\n", "4\n"]);
    expect(Date.now() - t0).toBeLessThan(3500);
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => launch(["/bin/echo", String(i)])));
    expect(many.map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `${i}\n`));
    expect(launcherPids().length).toBeLessThanOrEqual(4);
  });

  it("kills on timeout and on abort, like exec()", async () => {
    const e = await launch(["sh", "-c", "echo started >&2; exec sleep 30"], { timeout: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProcessError);
    expect((e as ProcessError).exitCode).toBeNull();
    expect((e as ProcessError).stderr).toBe("started\n\n(killed after 300 ms)");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const a = await launch(["sleep", "30"], { signal: ac.signal }).catch((x: unknown) => x);
    expect((a as Error).name).toBe("AbortError");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("reports a missing program as ToolNotFoundError (through the spawn fallback)", async () => {
    const e = await launch(["qk-no-such-program-here", "x"], { debianPackage: "qemu-utils" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ToolNotFoundError);
  });

  it("falls back to plain spawn when a launcher is killed, idle or mid-frame", async () => {
    await launch(["/bin/true"]);
    const before = launcherPids();
    expect(before.length).toBeGreaterThan(0);
    for (const pid of before) process.kill(pid, "SIGKILL");
    const r = await launch(["/bin/echo", "after kill"]);
    expect(r.stdout).toBe("after kill\n");
    // A launcher killed while a call is in flight: the call rejects with a clear error
    // (its status is lost) and the next call still works.
    await new Promise((res) => setTimeout(res, 400));
    expect(launcherPids().some((p) => before.includes(p))).toBe(false);
    await launch(["/bin/true"]);
    const slow = launch(["sh", "-c", "sleep 0.5; echo late"]);
    await new Promise((res) => setTimeout(res, 150));
    for (const pid of launcherPids()) process.kill(pid, "SIGKILL");
    const res = await slow.catch((x: unknown) => x);
    expect(res).toBeInstanceOf(ProcessError);
    expect((res as ProcessError).stderr).toMatch(/launcher process died/);
    expect((await launch(["/bin/echo", "still fine"])).stdout).toBe("still fine\n");
  });
});
