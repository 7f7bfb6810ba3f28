/**
 * `qemukit repl [--deno]`: the interactive session. On Node it runs the esbuild bundle of the
 * REPL and SDK (repl/launch.js); with `--deno` (or when the CLI itself runs on Deno) it starts
 * `deno repl` with the same preload.
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cacheDir } from "../../util/dirs.ts";
import { parseFlags } from "../args.ts";
import type { CliCommand } from "../command.ts";

/** The folder holding repl/launch.js: the checkout, or the installed package when run from dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "repl", "launch.js"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repl/launch.js not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

function denoBinary(root: string): string {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return deno.execPath();
  const local = join(root, "node_modules", ".bin", "deno");
  return existsSync(local) ? local : "deno";
}

/** Runs `deno repl` with a generated preload that imports repl/deno.ts by absolute URL. */
function runDeno(root: string): Promise<number> {
  const preload = join(cacheDir(), "repl", "deno-preload.ts");
  mkdirSync(dirname(preload), { recursive: true });
  const url = pathToFileURL(join(root, "repl", "deno.ts")).href;
  writeFileSync(preload, `await (await import(${JSON.stringify(url)})).install();\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(denoBinary(root), ["repl", "-A", `--eval-file=${preload}`], { stdio: "inherit", cwd: process.cwd() });
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
    const root = packageRoot();
    if (values.deno || "Deno" in globalThis) return runDeno(root);
    const { launch } = await import(pathToFileURL(join(root, "repl", "launch.js")).href) as typeof import("../../../repl/launch.js");
    await launch();
    // The REPL exits the process itself once it closed and its VMs are down.
    return new Promise<number>(() => {});
  },
};
