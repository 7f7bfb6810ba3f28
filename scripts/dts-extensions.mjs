// tsc's rewriteRelativeImportExtensions rewrites `./x.ts` to `./x.js` in emitted JavaScript but
// not in declaration files. TypeScript 5+ follows `.ts` specifiers in a .d.ts, but older
// compilers and other declaration readers do not, so the shipped declarations name the `.js`
// files they describe, as hand-written ones would. Usage: node scripts/dts-extensions.mjs DIR...
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g;

for (const dir of process.argv.slice(2)) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(SPECIFIER, "$1$2$3.js$2");
    if (fixed !== text) writeFileSync(file, fixed);
  }
}
