// `npm run docs` must build the API reference without a single warning (typedoc.json sets
// treatWarningsAsErrors), and the reference must show what the issues promise it shows.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

describe("API reference", () => {
  it("builds without warnings and documents builder methods and generated QMP types", () => {
    const out = mkdtempSync(join(tmpdir(), "qemukit-typedoc-"));
    try {
      try {
        execFileSync(join(repoRoot, "node_modules/.bin/typedoc"), ["--out", out], {
          cwd: repoRoot,
          encoding: "utf8",
          stdio: "pipe",
        });
      } catch (e) {
        throw new Error(`typedoc failed:\n${(e as { stdout?: string }).stdout}${(e as { stderr?: string }).stderr}`);
      }
      const builder = readFileSync(
        join(out, "classes", readdirSync(join(out, "classes")).find((f) => f.includes("VmBuilder"))!),
        "utf8",
      );
      for (const method of ["memory", "smp", "disk", "vnc", "kernel", "toCommandLine"]) {
        expect(builder, `VmBuilder.${method} documented`).toContain(`id="${method.toLowerCase()}"`);
      }
      expect(builder).toContain("Example");
      const interfaces = readdirSync(join(out, "interfaces")).join("\n");
      expect(interfaces).toMatch(/QmpCommands/);
      expect(interfaces).toMatch(/StatusInfo/);
      expect(existsSync(join(out, "documents"))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
