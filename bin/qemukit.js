#!/usr/bin/env node
// Installed packages run the compiled CLI; a source checkout without a build runs the
// TypeScript sources through tsx, so `npx qemukit` works in both.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(root, "sdk", "cli", "main.ts");
const compiled = join(root, "dist", "sdk", "cli", "main.js");

let entry;
if (existsSync(source)) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
    entry = source;
  } catch {
    entry = compiled;
  }
} else {
  entry = compiled;
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
