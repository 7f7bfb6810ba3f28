/**
 * Finds the external programs a source file runs, by reading how it runs them: node's
 * spawn/execFile families, qemukit's own wrappers (`exec([...])`, `launch([...])`,
 * `buildTool(guest, [...])`, `which("...")`), zx's `` $`...` `` and the first command of
 * `#!/bin/sh` scripts written by tests. Only literal program names can be found; a program
 * held in a variable is checked where the variable gets its literal.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** One place a program is run. */
export interface ProgramUse {
  readonly program: string;
  readonly file: string;
  readonly line: number;
}

const NAME = "([A-Za-z0-9_/][A-Za-z0-9_./+-]*)";
const Q = String.raw`["'\x60]`;
const FORMS: readonly RegExp[] = [
  // spawn("qemu-img", ...), execFileSync("gpg", ...), which("setpriv")
  new RegExp(String.raw`\b(?:spawn|spawnSync|execFile|execFileSync|execSync|which)\(\s*${Q}${NAME}${Q}`, "g"),
  // exec(["qemu-img", ...]), launch([...]), and the same with a first argument: buildTool(guest, [...])
  new RegExp(String.raw`\b(?:exec|launch|buildTool|runTool)\(\s*(?:[\w".]+,\s*)?\[\s*${Q}${NAME}${Q}`, "g"),
  // zx: $`cmd ...` and $({ ... })`cmd ...`, but not a guest's m.$`cmd`
  new RegExp(String.raw`(?<![.\w])\$(?:\([^()]*(?:\([^()]*\)[^()]*)*\))?\x60${NAME}`, "g"),
  // a wrapper script a test writes: '#!/bin/sh\n... exec prlimit ...'
  new RegExp(String.raw`#!/bin/sh[^"'\x60]*?\\nexec\s+${NAME}`, "g"),
];

/** The programs `source` runs, with 1-based line numbers; program names lose any directory. */
export function scanSource(source: string, file = "<source>"): ProgramUse[] {
  const uses: ProgramUse[] = [];
  for (const re of FORMS) {
    for (const m of source.matchAll(re)) {
      const raw = m[1]!;
      const program = raw.slice(raw.lastIndexOf("/") + 1);
      if (!program) continue;
      const line = source.slice(0, m.index).split("\n").length;
      uses.push({ program, file, line });
    }
  }
  return uses;
}

/** Every `.ts`/`.js`/`.mjs` file under `dirs` (relative to `root`), node_modules and dist left out. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|js|mjs)$/.test(name)) out.push(path);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out.sort();
}

/** Scans every source file under `dirs`. */
export function scanTree(root: string, dirs: readonly string[]): ProgramUse[] {
  return sourceFiles(root, dirs).flatMap((f) => scanSource(readFileSync(f, "utf8"), relative(root, f)));
}
