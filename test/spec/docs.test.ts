import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { VmBuilder } from "../../sdk/spec/mod.ts";

const read = (rel: string) => readFileSync(fileURLToPath(new URL(`../../sdk/${rel}`, import.meta.url)), "utf8");

/** The JSDoc block right before the first line matching `declaration`, or "". */
function docBefore(source: string, declaration: RegExp): string {
  const m = declaration.exec(source);
  if (!m) return "";
  const before = source.slice(0, m.index).trimEnd();
  if (!before.endsWith("*/")) return "";
  return before.slice(before.lastIndexOf("/**"));
}

describe("API reference: every public builder method and function has an @example", () => {
  const builder = read("spec/builder.ts");
  const methods = Object.getOwnPropertyNames(VmBuilder.prototype).filter(
    (n) => n !== "constructor" && !new RegExp(`\\n  private ${n}\\(`).test(builder),
  );
  it("finds the methods", () => {
    expect(methods).toEqual(
      expect.arrayContaining(["memory", "smp", "disk", "hda", "cdrom", "vnc", "toCommandLine", "start"]),
    );
    expect(methods.length).toBeGreaterThanOrEqual(27);
  });
  it.each(methods)("VmBuilder.%s", (name) => {
    expect(docBefore(builder, new RegExp(`\\n  (async )?${name}\\(`))).toMatch(/@example\n\s+\* ```ts\n/);
  });

  const files = [
    "spec/builder.ts",
    "spec/overlay.ts",
    "spec/size.ts",
    "spec/format.ts",
    "spec/path.ts",
    "spec/validate.ts",
    "compile/compile.ts",
    "compile/parse.ts",
    "compile/shell.ts",
    "compile/escape.ts",
  ];
  const exported = files.flatMap((f) =>
    [...read(f).matchAll(/\nexport function (\w+)/g)].map((m) => [f, m[1]] as const),
  );
  it.each(exported)("%s: %s()", (file, name) => {
    expect(docBefore(read(file), new RegExp(`\\nexport function ${name}\\b`))).toMatch(/@example/);
  });
});
