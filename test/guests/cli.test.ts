import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

describe("qemukit guest", () => {
  it("list --json reports each guest's recipe hash and build state", () => {
    const r = runCli(["guest", "list", "--json"], { timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; built: boolean; hash: string; dir: string; stale: string[] }[];
    expect(rows.map((x) => x.name)).toEqual(["tiny", "debian", "installer"]);
    for (const row of rows) {
      expect(row.hash).toMatch(/^[0-9a-f]{16}$/);
      expect(row.dir.endsWith(`/guests/${row.name}-${row.hash}`)).toBe(true);
    }
  }, 120_000);

  it("build rejects unknown guests and extra arguments with usage errors", () => {
    const bad = runCli(["guest", "build", "windows"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown guest 'windows'/);
    const none = runCli(["guest", "build"]);
    expect(none.status).toBe(2);
    const flag = runCli(["guest", "list", "--colour"]);
    expect(flag.status).toBe(2);
  }, 60_000);

  it("build tiny answers from the cache and prints where the files are", () => {
    const r = runCli(["guest", "build", "tiny"], { timeout: 600_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^tiny: \/.*\/guests\/tiny-[0-9a-f]{16}\/initrd\.gz \(\d+\.\d s\)$/m);
  }, 600_000);
});
