import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellQuote, splitShellWords } from "../../sdk/compile/mod.ts";

/** What a real POSIX shell passes to a command for `line` (no expansions occur in these lines). */
function shArgs(line: string): string[] {
  const out = execFileSync("sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  return out.slice(0, -1).split("\0");
}

const WORDS = [
  "plain",
  "",
  "a b",
  "it's",
  'say "hi"',
  "$HOME",
  "`id`",
  "back\\slash",
  "ü日本—",
  "line\nbreak",
  "*",
  "-x",
  "~",
  "a,b.qcow2",
  "tab\there",
  "'",
  "!",
];

describe("shellQuote", () => {
  it.each(WORDS)("%j survives a real sh unchanged", (w) => {
    expect(shArgs(shellQuote(w))).toEqual([w]);
  });

  it("leaves safe words bare and quotes the rest", () => {
    expect(shellQuote("/tmp/qemukit/vm/qmp.sock")).toBe("/tmp/qemukit/vm/qmp.sock");
    expect(shellQuote("socket,id=qmp,server=on")).toBe("socket,id=qmp,server=on");
    expect(shellQuote("my disk")).toBe("'my disk'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
  });

  it("rejects NUL bytes", () => {
    expect(() => shellQuote("a\0b")).toThrow(expect.objectContaining({ code: "SPEC_PATH" }));
  });
});

describe("splitShellWords", () => {
  it("inverts shellQuote", () => {
    expect(splitShellWords(WORDS.map(shellQuote).join(" "))).toEqual(WORDS);
  });

  const LINES = [
    `kvm -hda debian-11.qcow2 -m 512 -smp 2`,
    `  kvm   -hda  'my disk.qcow2'\t-m 512  `,
    `kvm -hda "a \\"b\\" \\\\ c" -x a\\ b`,
    `kvm -append "console=ttyS0 'q'" -name it\\'s`,
    `a"b"'c'd e""f ''`,
    `kvm \\\n -m 512`,
    `"double \\$x \\\` \\q"`,
  ];
  it.each(LINES)("splits %j like sh", (line) => {
    expect(splitShellWords(line)).toEqual(shArgs(line));
  });

  it("fails on unterminated quotes", () => {
    for (const bad of [`'a`, `"a`, `a\\`])
      expect(() => splitShellWords(bad)).toThrow(expect.objectContaining({ code: "SPEC_PARSE" }));
  });
});
