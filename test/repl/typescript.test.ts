import { runInThisContext } from "node:vm";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { typescriptTranspiler } from "../../repl/typescript.ts";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const ts = typescriptTranspiler(root);

describe("typescriptTranspiler", () => {
  it("strips types and keeps top-level await", async () => {
    const js = await ts("const n: number = await Promise.resolve(1) as number");
    expect(js).toMatch(/const n = await Promise\.resolve\(1\)/);
    expect(await ts("interface A { a: 1 }\nlet y = 2 satisfies number")).not.toMatch(/interface|satisfies/);
  });

  it("passes plain JavaScript through untouched, so constant answers survive", async () => {
    expect(await ts(`"history-" + "marker"`)).toBe(`"history-" + "marker"`);
    expect(await ts("await x")).toBe("await x");
  });

  it("returns unfinished or invalid input unchanged for node to judge", async () => {
    expect(await ts("vm()\n  .memory(")).toBe("vm()\n  .memory(");
    expect(await ts("let : = ;")).toBe("let : = ;");
  });

  it("keeps an object literal an object", async () => {
    const js = await ts("{ a: 1 as number }");
    expect(runInThisContext(js)).toEqual({ a: 1 });
  });

  it("lowers await using for Node versions without it, disposing at the end of the input", async () => {
    const js = await ts(
      "await using r = { async [Symbol.asyncDispose]() { (globalThis as any).__replDisposed = true; } }; 1",
    );
    expect(js).not.toMatch(/await using/);
    await runInThisContext(`(async () => { ${js} })()`);
    expect((globalThis as { __replDisposed?: boolean }).__replDisposed).toBe(true);
  });
});
