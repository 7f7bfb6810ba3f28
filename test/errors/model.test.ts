import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * One error model, checked on the sources: every error class declares the union of its
 * codes (`declare readonly code: ...`), no code belongs to two unrelated classes, every
 * place that raises a code raises it through the class that owns it, and the base class
 * `QemukitError` is never raised directly.
 */
const SDK = join(import.meta.dirname, "../../sdk");

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name))
    .map((path) => ({ path, text: readFileSync(path, "utf8") }));
}

const files = sources(SDK);
const all = files.map((f) => f.text).join("\n");

/** `export type XErrorCode = | "A" | "B";` unions, by name. */
const unions = new Map<string, string[]>();
for (const m of all.matchAll(/export type (\w+Code) =([^;]+);/g))
  unions.set(
    m[1]!,
    [...m[2]!.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((x) => x[1]!),
  );

interface ErrorClass {
  readonly name: string;
  readonly parent: string;
  readonly codes: string[] | undefined;
  readonly file: string;
}
const classes = new Map<string, ErrorClass>();
for (const f of files) {
  for (const m of f.text.matchAll(/export class (\w+) extends (\w+) \{\n((?:.*\n){0,3})/g)) {
    const declared = /declare readonly code: ([^;]+);/.exec(m[3]!)?.[1];
    const codes =
      declared === undefined
        ? undefined
        : /^\w+$/.test(declared.trim())
          ? unions.get(declared.trim())
          : [...declared.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((x) => x[1]!);
    classes.set(m[1]!, { name: m[1]!, parent: m[2]!, codes, file: f.path });
  }
}
const isError = (name: string): boolean =>
  name === "QemukitError" || (classes.has(name) && isError(classes.get(name)!.parent));
const errorClasses = [...classes.values()].filter((c) => c.name !== "QemukitError" && isError(c.parent));
const ancestors = (name: string): string[] => {
  const c = classes.get(name);
  return c && c.parent !== "QemukitError" ? [c.parent, ...ancestors(c.parent)] : [];
};
/** The codes a class may raise: its own declaration or its nearest ancestor's. */
const codesOf = (name: string): string[] | undefined =>
  classes.get(name)?.codes ?? (classes.has(name) ? codesOf(classes.get(name)!.parent) : undefined);

/** Every place a code is raised: `new XError("CODE"`, `new XError(..., { code: "CODE" })`, `super("CODE"`. */
function raises(): { cls: string; code: string; where: string }[] {
  const out: { cls: string; code: string; where: string }[] = [];
  for (const f of files) {
    const news = [...f.text.matchAll(/new (\w*Error)\(/g)].map((m) => ({ at: m.index!, cls: m[1]! }));
    const supers = [...f.text.matchAll(/export class (\w+) extends/g)].map((m) => ({ at: m.index!, cls: m[1]! }));
    for (const m of f.text.matchAll(/new (\w+Error)\(\s*"([A-Z][A-Z0-9_]+)"/g))
      out.push({ cls: m[1]!, code: m[2]!, where: f.path });
    for (const m of f.text.matchAll(/\bcode: "([A-Z][A-Z0-9_]+)"/g)) {
      const owner = news.filter((n) => n.at < m.index! && m.index! - n.at < 1500).at(-1);
      if (owner) out.push({ cls: owner.cls, code: m[1]!, where: f.path });
    }
    for (const m of f.text.matchAll(/super\(\s*"([A-Z][A-Z0-9_]+)"/g)) {
      const owner = supers.filter((s) => s.at < m.index!).at(-1);
      if (owner) out.push({ cls: owner.cls, code: m[1]!, where: f.path });
    }
  }
  return out.filter((r) => isError(r.cls) || r.cls === "QemukitError");
}

describe("one error model", () => {
  it("finds the error classes", () => {
    expect(errorClasses.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "SpecError",
        "TimeoutError",
        "AbortError",
        "QmpCommandError",
        "QmpConnectionError",
        "QmpArgumentsError",
        "QmpProtocolError",
        "VmError",
        "VmStartError",
        "GuestCommandError",
        "ImageError",
        "VerifyError",
        "GuestBuildError",
      ]),
    );
  });

  it("every error class has a union type of its codes", () => {
    const missing = errorClasses
      .filter((c) => codesOf(c.name) === undefined || codesOf(c.name)!.length === 0)
      .map((c) => c.name);
    expect(missing).toEqual([]);
  });

  it("no code belongs to two classes (a subclass may narrow its parent's)", () => {
    const owners = new Map<string, string[]>();
    for (const c of errorClasses)
      for (const code of c.codes ?? []) owners.set(code, [...(owners.get(code) ?? []), c.name]);
    const shared = [...owners].filter(
      ([, cs]) =>
        cs.length > 1 &&
        !cs.every((a) => cs.every((b) => a === b || ancestors(a).includes(b) || ancestors(b).includes(a))),
    );
    expect(shared).toEqual([]);
  });

  it("each code is raised by one class, the one that owns it, and never by the base class", () => {
    const sites = raises();
    expect(sites.length).toBeGreaterThan(50);
    expect(sites.filter((s) => s.cls === "QemukitError")).toEqual([]);
    const wrong = sites.filter((s) => !(codesOf(s.cls) ?? []).includes(s.code));
    expect(wrong).toEqual([]);
    const byCode = new Map<string, Set<string>>();
    for (const s of sites) byCode.set(s.code, (byCode.get(s.code) ?? new Set()).add(s.cls));
    expect([...byCode].filter(([, cs]) => cs.size > 1).map(([code, cs]) => `${code}: ${[...cs].join(", ")}`)).toEqual(
      [],
    );
  });
});
