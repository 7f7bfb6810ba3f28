/**
 * TypeScript input for node:repl: each input is stripped of types by esbuild before node's
 * own eval (which adds top-level await). esbuild is loaded on the first input, not at start.
 * @module
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { Script } from "node:vm";

interface EsbuildLike {
  transform(code: string, options: Record<string, unknown>): Promise<{ code: string }>;
}

/** Turns one REPL input into JavaScript node can evaluate. */
export type Transpile = (code: string) => Promise<string>;

/**
 * Makes a transpiler that loads esbuild from `root`'s node_modules on first use. Input that
 * is already JavaScript is returned unchanged (esbuild would drop constant expressions such
 * as `"a" + 1`, which in a REPL are the answer), and so is input esbuild cannot parse, so node
 * reports the syntax error itself and recognises unfinished multi-line input.
 *
 * @example
 * ```ts
 * const ts = typescriptTranspiler(root);
 * await ts("const n: number = 1"); // "const n = 1;\n"
 * ```
 */
export function typescriptTranspiler(root: string): Transpile {
  let esbuild: EsbuildLike | undefined;
  return async (code) => {
    if (isJavaScript(code)) return code;
    // node wraps `{ a: 1 }` in parentheses itself, but only if it still sees the braces.
    const source = /^\s*\{/.test(code) && /\}\s*;?\s*$/.test(code) ? `(${code.trim().replace(/;$/, "")})\n` : code;
    esbuild ??= createRequire(join(root, "package.json"))("esbuild") as EsbuildLike;
    try {
      const out = await esbuild.transform(source, {
        loader: "ts",
        sourcefile: "repl.ts",
        // node20 has no `using`: esbuild lowers `await using` to try/finally there.
        target: `node${process.versions.node.split(".")[0]}`,
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
        logLevel: "silent",
      });
      return out.code;
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
