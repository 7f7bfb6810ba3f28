/**
 * TypeScript input for node:repl: each input is stripped of types before node's own eval
 * (which adds top-level await). esbuild does it when it is installed (a dev dependency of
 * qemukit and an optional peer dependency: SDK users do not get it); otherwise Node's own
 * `stripTypeScriptTypes` (Node >= 22.13); otherwise input runs as JavaScript. The stripper is
 * loaded on the first TypeScript input, not at start.
 * @module
 */
import * as nodeModule from "node:module";
import { join } from "node:path";
import { Script } from "node:vm";

interface EsbuildLike {
  transform(code: string, options: Record<string, unknown>): Promise<{ code: string }>;
}

type Stripper = (code: string) => Promise<string>;

/** esbuild from `root`'s node_modules (or above), else Node's built-in type stripping, else none. */
function loadStripper(root: string, warn: (message: string) => void): Stripper | undefined {
  let esbuild: EsbuildLike | undefined;
  try {
    esbuild = nodeModule.createRequire(join(root, "package.json"))("esbuild") as EsbuildLike;
  } catch {
    // Not installed: qemukit does not make SDK users install a bundler.
  }
  if (esbuild) {
    const found = esbuild;
    return async (code) =>
      (
        await found.transform(code, {
          loader: "ts",
          sourcefile: "repl.ts",
          // node20 has no `using`: esbuild lowers `await using` to try/finally there.
          target: `node${process.versions.node.split(".")[0]}`,
          tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
          logLevel: "silent",
        })
      ).code;
  }
  const strip = (nodeModule as { stripTypeScriptTypes?: (code: string) => string }).stripTypeScriptTypes;
  if (typeof strip === "function") return async (code) => strip(code);
  warn(
    "qemukit repl: TypeScript input needs esbuild (npm install esbuild) or Node >= 22.13; running input as JavaScript",
  );
  return undefined;
}

/** Turns one REPL input into JavaScript node can evaluate. */
export type Transpile = (code: string) => Promise<string>;

/**
 * Makes a transpiler that loads a type stripper (see the module comment) on first use. Input
 * that is already JavaScript is returned unchanged (esbuild would drop constant expressions
 * such as `"a" + 1`, which in a REPL are the answer), and so is input the stripper cannot
 * parse, so node reports the syntax error itself and recognises unfinished multi-line input.
 *
 * @example
 * ```ts
 * const ts = typescriptTranspiler(root);
 * await ts("const n: number = 1"); // "const n = 1;\n"
 * ```
 */
export function typescriptTranspiler(
  root: string,
  warn: (message: string) => void = (m) => console.error(m),
): Transpile {
  let stripper: Stripper | undefined | null = null;
  return async (code) => {
    if (isJavaScript(code)) return code;
    // node wraps `{ a: 1 }` in parentheses itself, but only if it still sees the braces.
    const source = /^\s*\{/.test(code) && /\}\s*;?\s*$/.test(code) ? `(${code.trim().replace(/;$/, "")})\n` : code;
    if (stripper === null) stripper = loadStripper(root, warn);
    if (!stripper) return code;
    try {
      return await stripper(source);
    } catch {
      return code;
    }
  };
}

/** True when `code` compiles as the body of an async function (so top-level await is fine). */
function isJavaScript(code: string): boolean {
  try {
    new Script(`(async () => {\n${code}\n})`);
    return true;
  } catch {
    return false;
  }
}
