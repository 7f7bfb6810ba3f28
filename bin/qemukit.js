#!/usr/bin/env node
// Installed packages run the compiled CLI (dist/, the only code they ship); a source checkout
// runs the TypeScript sources through tsx, so `npx qemukit` works in both.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

// In a checkout the REPL has its own fast launcher (an esbuild bundle run by plain node):
// going through tsx first would cost more than the whole REPL start-up. Installed packages
// have no repl/launch.js and run the compiled REPL through the CLI.
if (args.length === 1 && args[0] === "repl" && existsSync(join(root, "repl", "launch.js"))) {
  const { launch } = await import(pathToFileURL(join(root, "repl", "launch.js")).href);
  await launch();
} else {
  const { main } = await import(pathToFileURL(await cliEntry()).href);
  process.exitCode = await main(args);
}

async function cliEntry() {
  const source = join(root, "sdk", "cli", "main.ts");
  if (existsSync(source)) {
    try {
      const { register } = await import("tsx/esm/api");
      register();
      return source;
    } catch {
      // No tsx (an installed package without dev dependencies): use the build.
    }
  }
  return join(root, "dist", "sdk", "cli", "main.js");
}
