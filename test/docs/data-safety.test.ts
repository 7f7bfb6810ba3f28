// docs/data-safety.md names, for every promise, the tests that check it: those files and
// test titles must exist, so the page cannot drift from the suite.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const page = readFileSync(join(root, "docs", "data-safety.md"), "utf8");

/** [file, raw title] pairs from the last cell ("checked by") of every table row. */
function references(): Array<[string, string]> {
  const refs: Array<[string, string]> = [];
  for (const line of page.split("\n")) {
    if (!line.startsWith("| ") || line.startsWith("| promise") || line.startsWith("|---")) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1);
    const cell = cells.at(-1)!;
    let file: string | undefined;
    for (const m of cell.matchAll(/`(test\/[^`]+\.test\.ts)`|"((?:[^"\\]|\\.)*)"/g)) {
      if (m[1]) file = m[1];
      else if (file) refs.push([file, m[2]!]);
    }
  }
  return refs;
}

describe("docs/data-safety.md", () => {
  it("names at least one existing test for every promise", () => {
    const rows = page.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| promise"));
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const row of rows) expect(row, row.slice(0, 80)).toMatch(/`test\/[^`]+\.test\.ts` "/);
    const refs = references();
    expect(refs.length).toBeGreaterThanOrEqual(rows.length);
    for (const [file, title] of refs) {
      expect(existsSync(join(root, file)), file).toBe(true);
      expect(readFileSync(join(root, file), "utf8").includes(title), `${file}: "${title}"`).toBe(true);
    }
  });
});
