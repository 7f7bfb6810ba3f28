import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QEMU_VERSION } from "@qemu-types/qmp";
import { DEFAULT_TYPES_DIR, generateTypes } from "../../sdk/qmp/typegen/generate.ts";
import { renderTypes } from "../../sdk/qmp/typegen/render.ts";
import type { SchemaEntry } from "../../sdk/qmp/typegen/schema.ts";
import { command } from "../../sdk/cli/commands/types.ts";

const tiny: SchemaEntry[] = [
  { name: "query-thing", "meta-type": "command", "arg-type": "0", "ret-type": "1" },
  { name: "set-thing", "meta-type": "command", "arg-type": "2", "ret-type": "0", features: ["deprecated"] },
  {
    name: "x-poke",
    "meta-type": "command",
    "arg-type": "3",
    "ret-type": "[int]",
    "allow-oob": true,
    features: ["unstable"],
  },
  { name: "THING_CHANGED", "meta-type": "event", "arg-type": "1" },
  { name: "PING", "meta-type": "event", "arg-type": "0" },
  { name: "0", "meta-type": "object", members: [] },
  {
    name: "1",
    "meta-type": "object",
    members: [
      { name: "state", type: "4" },
      { name: "size", type: "int" },
      { name: "label", type: "str", default: null },
    ],
  },
  {
    name: "2",
    "meta-type": "object",
    members: [
      { name: "kind", type: "5" },
      { name: "common", type: "bool", default: null },
    ],
    tag: "kind",
    variants: [{ case: "a", type: "6" }],
  },
  { name: "3", "meta-type": "object", members: [{ name: "target", type: "7" }] },
  { name: "4", "meta-type": "enum", values: ["on", "off"] },
  { name: "5", "meta-type": "enum", values: ["a", "b"] },
  { name: "6", "meta-type": "object", members: [{ name: "a-value", type: "number" }] },
  { name: "7", "meta-type": "alternate", members: [{ type: "str" }, { type: "null" }] },
  { name: "[int]", "meta-type": "array", "element-type": "int" },
  { name: "int", "meta-type": "builtin", "json-type": "int" },
  { name: "str", "meta-type": "builtin", "json-type": "string" },
  { name: "bool", "meta-type": "builtin", "json-type": "boolean" },
  { name: "null", "meta-type": "builtin", "json-type": "null" },
  { name: "number", "meta-type": "builtin", "json-type": "number" },
];

describe("renderTypes (pure)", () => {
  const text = renderTypes(tiny, { version: "9.9.9", package: "test" })["generated.ts"]!;

  it("writes commands, events, enums, unions, alternates and arrays", () => {
    expect(text).toContain('export const QEMU_VERSION = "9.9.9";');
    expect(text).toContain('"query-thing": { args: Record<string, never>; ret: QueryThingResult };');
    expect(text).toContain('"x-poke": { args: XPokeArguments; ret: QmpInt[] };');
    expect(text).toContain("  PING: undefined;");
    expect(text).toContain("  THING_CHANGED: QueryThingResult;");
    expect(text).toContain('export type QueryThingResultState = "on" | "off";');
    expect(text).toContain("  size: QmpInt;\n  label?: string;");
    expect(text).toContain(
      '  | (SetThingArgumentsBase & { kind: "a" } & SetThingArgumentsA)\n  | (SetThingArgumentsBase & { kind: "b" });',
    );
    expect(text).toContain('  "a-value": number;');
    expect(text).toContain("export type XPokeArgumentsTarget = string | null;");
  });

  it("marks deprecated and unstable features and out-of-band commands", () => {
    expect(text).toMatch(/@deprecated[^\n]*\n\s*\*\/\n\s*"set-thing"|@deprecated[^\n]*\*\/\n\s*"set-thing"/);
    expect(text).toMatch(/May be sent out-of-band[\s\S]*@experimental[\s\S]*"x-poke"/);
  });

  it("is deterministic", () => {
    expect(renderTypes([...tiny].reverse(), { version: "9.9.9", package: "test" })["generated.ts"]).toBe(text);
  });
});

describe("generateTypes against the installed QEMU", () => {
  it("regenerates the committed baseline byte for byte", async () => {
    const out = mkdtempSync(join(tmpdir(), "qk-types-"));
    try {
      const r = await generateTypes({ outDir: out });
      expect(r.qemu.version).toBe(QEMU_VERSION);
      for (const f of r.files) {
        expect(readFileSync(join(out, f), "utf8"), f).toBe(readFileSync(join(DEFAULT_TYPES_DIR, f), "utf8"));
      }
      // Regenerating into the same place changes nothing.
      expect((await generateTypes({ outDir: out })).changed).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("fails clearly when QEMU is missing or dies at start, leaving the output untouched", async () => {
    const out = mkdtempSync(join(tmpdir(), "qk-types-"));
    try {
      await expect(generateTypes({ qemu: "/nonexistent/qemu-system-x86_64", outDir: out })).rejects.toMatchObject({
        code: "TOOL_NOT_FOUND",
      });
      const t = Date.now();
      await expect(generateTypes({ qemu: "/bin/false", outDir: out })).rejects.toMatchObject({ code: "QMP_CONNECT" });
      expect(Date.now() - t).toBeLessThan(5000);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("CLI --check reports up to date for the baseline and stale for another dir", async () => {
    let stdout = "";
    const write = (s: string) => {
      stdout += s;
      return true;
    };
    const io = { stdout: { write } as never, stderr: process.stderr };
    const gen = command.subcommands![0]!;
    expect(await gen.run!(["--check"], io)).toBe(0);
    expect(stdout).toContain(`up to date with QEMU ${QEMU_VERSION}`);
    const empty = mkdtempSync(join(tmpdir(), "qk-types-"));
    try {
      expect(await gen.run!(["--check", "--out", empty], io)).toBe(1);
      expect(stdout).toContain("out of date");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
