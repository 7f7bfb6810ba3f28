/**
 * `qemukit repl [--deno]`: the interactive session. From a source checkout it runs the esbuild
 * bundle of the REPL and SDK (repl/launch.js); from an installed package it runs the compiled
 * REPL (dist/repl). With `--deno` (or when the CLI itself runs on Deno) it starts `deno repl`
 * with the same preload.
 * @module
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ToolNotFoundError } from "../../errors/errors.ts";
import { cacheDir } from "../../util/dirs.ts";
import { parseFlags } from "../args.ts";
import type { CliCommand } from "../command.ts";

/** The checkout root when this module runs from the TypeScript sources, else undefined. */
function sourceRoot(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return undefined;
  const root = join(dirname(here), "..", "..", "..");
  return existsSync(join(root, "repl", "launch.js")) ? root : undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Deno itself, a `deno` in a node_modules/.bin above this module (the npm package), or on PATH. */
function denoBinary(): string {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return deno.execPath();
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const local = join(dir, "node_modules", ".bin", "deno");
    if (executable(local)) return local;
    if (dirname(dir) === dir) break;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, "deno"))) return join(dir, "deno");
  }
  throw new ToolNotFoundError("deno", undefined, {
    advice:
      "install Deno 2 (npm install --save-dev deno, or see https://docs.deno.com), or run `qemukit repl` without --deno",
  });
}

/**
 * Runs `deno repl` with a generated preload that imports the REPL's Deno module by absolute
 * URL: repl/deno.ts in a checkout, the compiled dist/repl/deno.js in an installed package
 * (Deno does not strip types from files under node_modules).
 */
function runDeno(): Promise<number> {
  const deno = denoBinary();
  const preload = join(cacheDir(), "repl", "deno-preload.ts");
  mkdirSync(dirname(preload), { recursive: true });
  const ext = fileURLToPath(import.meta.url).endsWith(".ts") ? "ts" : "js";
  const url = new URL(`../../../repl/deno.${ext}`, import.meta.url).href;
  writeFileSync(preload, `await (await import(${JSON.stringify(url)})).install();\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ["repl", "-A", `--eval-file=${preload}`], { stdio: "inherit", cwd: process.cwd() });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** `qemukit repl`. */
export const command: CliCommand = {
  name: "repl",
  summary: "interactive TypeScript session with the SDK preloaded",
  help: [
    "usage: qemukit repl [--deno]",
    "",
    "An interactive TypeScript session with the SDK (vm, image, guests, host, ...), zx's $ and",
    "the recipes in scope. Top-level await, Tab completion (builder methods, QMP commands),",
    "history, and .help / .vms / .recipes / .run / .argv. VMs started in the session are shut",
    "down when it ends, unless daemonized.",
    "",
    "options:",
    "  --deno   use Deno's REPL with the same preload (no qemukit completions or dot commands)",
  ].join("\n"),
  async run(args) {
    const { values } = parseFlags(args, { deno: { type: "boolean" } }, 0);
    if (values.deno || "Deno" in globalThis) return runDeno();
    const root = sourceRoot();
    if (root) {
      const { launch } = (await import(
        pathToFileURL(join(root, "repl", "launch.js")).href
      )) as typeof import("../../../repl/launch.js");
      await launch();
    } else {
      const { start } = await import("../../../repl/start.ts");
      await start();
    }
    // The REPL exits the process itself once it closed and its VMs are down.
    return new Promise<number>(() => {});
  },
};
