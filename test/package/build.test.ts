// `npm run build` must produce JS that a separate Node project imports as "qemukit",
// without tsx and without TypeScript sources on the resolution path.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

describe("compiled package", () => {
  it("builds with tsc and is importable from a separate Node project", () => {
    try {
      execFileSync("npm", ["run", "-s", "build"], { cwd: repoRoot, stdio: "pipe", encoding: "utf8" });
    } catch (e) {
      throw new Error(`npm run build failed:\n${(e as { stdout?: string }).stdout ?? ""}${(e as { stderr?: string }).stderr ?? ""}`);
    }
    expect(existsSync(join(repoRoot, "dist/sdk/mod.js"))).toBe(true);
    expect(existsSync(join(repoRoot, "dist/sdk/mod.d.ts"))).toBe(true);

    const project = mkdtempSync(join(tmpdir(), "qemukit-consumer-"));
    try {
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
      mkdirSync(join(project, "node_modules"));
      symlinkSync(repoRoot, join(project, "node_modules", "qemukit"));
      writeFileSync(
        join(project, "main.mjs"),
        [
          'import { vm, overlay } from "qemukit";',
          'const argv = vm().memory(512).smp(2).disk(overlay("base.qcow2")).toArgv({ runDir: "/tmp/x" });',
          "console.log(JSON.stringify(argv));",
        ].join("\n"),
      );
      // Plain node: no loader, so any .ts left in an import path would fail here.
      const out = execFileSync(process.execPath, ["main.mjs"], { cwd: project, encoding: "utf8" });
      const argv = JSON.parse(out) as string[];
      expect(argv[0]).toMatch(/qemu-system-x86_64$/);
      expect(argv.join(" ")).toContain("512");
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
