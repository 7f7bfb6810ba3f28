import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ToolNotFoundError } from "../../sdk/errors/errors.ts";
import { QEMU_PROGRAMS } from "../../sdk/host/tools.ts";
import { exec } from "../../sdk/util/exec.ts";
import { debianPackageOf, PROGRAMS, RUNTIME_PROGRAMS, setupPackages } from "../../sdk/util/programs.ts";
import { repoRoot } from "../helpers/cli.ts";
import { scanSource, scanTree } from "../helpers/program-scan.ts";

/** Names that exist only to prove a missing program is reported. */
const DELIBERATELY_MISSING = /nonexistent|no-such/;

const known = (program: string) => Object.hasOwn(PROGRAMS, program) || Object.hasOwn(RUNTIME_PROGRAMS, program);

describe("the programs table", () => {
  it("names every program the SDK, recipes, REPL, tests and benchmarks run", () => {
    const uses = scanTree(repoRoot, ["sdk", "recipes", "repl", "test", "bench", "bin"]).filter(
      (u) => u.file !== join("test", "helpers", "program-scan.ts"),
    );
    // The scan must see the tree, or an empty result would pass.
    expect(uses.length).toBeGreaterThan(50);
    const unknown = uses.filter((u) => !known(u.program) && !DELIBERATELY_MISSING.test(u.program));
    expect(unknown.map((u) => `${u.file}:${u.line} runs ${u.program}`)).toEqual([]);
    for (const p of QEMU_PROGRAMS) expect(known(p), p).toBe(true);
  });

  it("scripts/setup.sh installs exactly the table's packages", () => {
    const script = readFileSync(join(repoRoot, "scripts/setup.sh"), "utf8");
    const list = /^packages=\(\n([\s\S]*?)\n\)$/m.exec(script)?.[1];
    expect(list, "setup.sh has a packages=( ... ) array").toBeDefined();
    const listed = list!.split(/\s+/).filter(Boolean);
    expect(listed, "setup.sh's list, sorted like setupPackages()").toEqual(setupPackages());
    expect(listed).toContain("cpio");
  });

  it("answers a program's package by name or path", () => {
    expect(debianPackageOf("qemu-img")).toBe("qemu-utils");
    expect(debianPackageOf("/usr/bin/qemu-system-x86_64")).toBe("qemu-system-x86");
    expect(debianPackageOf("toString")).toBeUndefined();
    expect(debianPackageOf("frobnicate")).toBeUndefined();
  });

  it("a missing program's error names its package from the table", async () => {
    const dir = join(repoRoot, "node_modules/.no-such-dir");
    const err = await exec([join(dir, "qemu-img"), "--version"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolNotFoundError);
    expect((err as ToolNotFoundError).message).toMatch(/apt-get install qemu-utils/);
  });
});

describe("the program scan", () => {
  it("finds each way the code runs a program, and only those", () => {
    const source = [
      'spawn("qemu-system-x86_64", ["-S"]);',
      'execFileSync("gpg", ["--batch"]);',
      'await which("setpriv");',
      'await exec(["/usr/bin/qemu-img", "info"]);',
      'await buildTool("debian", [\n  "mmdebstrap", "--quiet"]);',
      "await $`vncsnapshot -quiet ${x}`;",
      "await $({ quiet: true, timeout: f(1) })`xorriso -as mkisofs`;",
      "writeFileSync(w, '#!/bin/sh\\nset -e\\nexec prlimit --fsize=1 qemu-img \"$@\"\\n');",
      // Not host programs: a command inside a guest, prose about zx's `$`, a guest's init script.
      "await m.$`uname -a`;",
      "// zx's `$` and the recipes",
      "const init = '#!/bin/sh\\necho hi\\n';",
    ].join("\n");
    expect(
      scanSource(source)
        .map((u) => `${u.line}:${u.program}`)
        .sort(),
    ).toEqual(
      [
        "1:qemu-system-x86_64",
        "2:gpg",
        "3:setpriv",
        "4:qemu-img",
        "5:mmdebstrap",
        "7:vncsnapshot",
        "8:xorriso",
        "9:prlimit",
      ].sort(),
    );
  });
});
