/**
 * Keeps the code in docs/recipes/*.md and docs/cheatsheet.md identical to the code that
 * runs: recipe files mark regions with `// #region NAME` ... `// #endregion`, and the docs
 * say where each block comes from with `<!-- code: recipes/FILE.ts#NAME -->` on the line
 * before a fenced block.
 *
 * `npx tsx test/helpers/recipes-docs.ts --write` rewrites the blocks from the sources;
 * the test in test/recipes/docs.test.ts fails when they drift.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Regions of one source file, dedented, by name. */
export function extractRegions(source: string): Map<string, string> {
  const regions = new Map<string, string>();
  const open: { name: string; lines: string[] }[] = [];
  for (const line of source.split("\n")) {
    const start = /^\s*\/\/ #region (\S+)/.exec(line);
    if (start) {
      open.push({ name: start[1]!, lines: [] });
      continue;
    }
    if (/^\s*\/\/ #endregion/.test(line)) {
      const r = open.pop();
      if (!r) throw new Error("#endregion without #region");
      regions.set(r.name, dedent(r.lines));
      continue;
    }
    for (const r of open) r.lines.push(line);
  }
  if (open.length) throw new Error(`unclosed #region ${open.map((r) => r.name).join(", ")}`);
  return regions;
}

function dedent(lines: string[]): string {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines
    .map((l) => l.slice(Number.isFinite(indent) ? indent : 0))
    .join("\n")
    .trimEnd();
}

/** Files whose regions the docs may show: the recipes and the cheat sheet's test. */
export function regionSources(): string[] {
  return [
    ...readdirSync(join(repoRoot, "recipes"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `recipes/${f}`),
    "test/recipes/cheatsheet.test.ts",
  ];
}

/** Every region, keyed `<file>#<name>` (file relative to the repository root). */
export function allRegions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of regionSources()) {
    for (const [name, text] of extractRegions(readFileSync(join(repoRoot, f), "utf8"))) out.set(`${f}#${name}`, text);
  }
  return out;
}

/** The doc files that may include regions. */
export function docFiles(): string[] {
  const dir = join(repoRoot, "docs", "recipes");
  return [
    join(repoRoot, "docs", "cheatsheet.md"),
    ...readdirSync(dir)
      .filter((f) => f.endsWith(".md"))
      .map((f) => join(dir, f)),
  ];
}

const MARKER = /<!-- code: (\S+) -->\n```(\w*)\n((?:(?!```)[\s\S])*?)\n?```/g;

/** Each `<!-- code: KEY -->` block of a doc: the key and the code shown under it. */
export function docBlocks(text: string): { key: string; shown: string }[] {
  return [...text.matchAll(MARKER)].map((m) => ({ key: m[1]!, shown: m[3]! }));
}

/** Rewrites every marked block in the docs from the sources; returns the files changed. */
export function writeDocs(): string[] {
  const regions = allRegions();
  const changed: string[] = [];
  for (const file of docFiles()) {
    const text = readFileSync(file, "utf8");
    const next = text.replace(MARKER, (_whole, key: string, lang: string) => {
      const code = regions.get(key);
      if (code === undefined) throw new Error(`${file}: no region ${key}`);
      return `<!-- code: ${key} -->\n\`\`\`${lang || "ts"}\n${code}\n\`\`\``;
    });
    if (next !== text) {
      writeFileSync(file, next);
      changed.push(file);
    }
  }
  return changed;
}

const OBSERVED = /<!-- observed: (\S+) -->\n```json\n((?:(?!```)[\s\S])*?)\n?```/g;

/** Each `<!-- observed: ID -->` block: the recipe id and the JSON shown. */
export function observedBlocks(text: string): { id: string; json: string }[] {
  return [...text.matchAll(OBSERVED)].map((m) => ({ id: m[1]!, json: m[2]! }));
}

/**
 * Fills the `<!-- observed: ID -->` blocks with the observations of a real run, taken
 * from a lab-report.json (paths shown relative to its output directory).
 */
export function writeObserved(reportPath: string): string[] {
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as {
    outDir: string;
    recipes: { id: string; observations?: unknown }[];
  };
  const byId = new Map(report.recipes.map((r) => [r.id, r.observations]));
  const changed: string[] = [];
  for (const file of docFiles()) {
    const text = readFileSync(file, "utf8");
    const next = text.replace(OBSERVED, (whole, id: string) => {
      const obs = byId.get(id);
      if (obs === undefined) return whole;
      const json = JSON.stringify(
        obs,
        (_k, v) =>
          typeof v === "string" && v.startsWith(`${report.outDir}/`)
            ? `lab-output/${v.slice(report.outDir.length + 1)}`
            : v,
        2,
      );
      return `<!-- observed: ${id} -->\n\`\`\`json\n${json}\n\`\`\``;
    });
    if (next !== text) {
      writeFileSync(file, next);
      changed.push(file);
    }
  }
  return changed;
}

if (process.argv.includes("--write") && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const at = process.argv.indexOf("--report");
  const changed = [...writeDocs(), ...(at > 0 ? writeObserved(process.argv[at + 1]!) : [])];
  process.stdout.write(changed.length ? `updated: ${changed.join(", ")}\n` : "docs are up to date\n");
}
