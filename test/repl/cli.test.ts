// `qemukit repl` through the real bin: help, flag checking, and a session on piped stdin.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { repoRoot, runCli } from "../helpers/cli.ts";

const state = mkdtempSync(join(tmpdir(), "qemukit-repl-cli-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

describe("qemukit repl", () => {
  it("documents itself and rejects unknown flags", () => {
    const help = runCli(["repl", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: qemukit repl \[--deno\]/);
    const bad = runCli(["repl", "--nope"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/qemukit: .*nope/);
  });

  it("runs piped input in order, errors included, and exits once the last line has run", () => {
    const r = spawnSync(process.execPath, [`${repoRoot}bin/qemukit.js`, "repl"], {
      cwd: repoRoot,
      encoding: "utf8",
      input:
        [
          "vm().memory(-1)",
          `const slow = await new Promise((r) => setTimeout(() => r("slow"), 300))`,
          "const n: number = 6; `${slow} ${n * 7}`",
        ].join("\n") + "\n",
      env: { ...process.env, XDG_STATE_HOME: state },
      timeout: 90_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/qemukit \S+ REPL on Node/);
    expect(r.stdout).toMatch(/SpecError \[SPEC_MEMORY\][\s\S]*'slow 42'/);
  });
});
