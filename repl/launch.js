#!/usr/bin/env node
// Fast start for the qemukit REPL from a source checkout: plain JavaScript, so no TypeScript
// loader has to boot before the prompt. The REPL and the SDK are bundled once with esbuild (a
// dev dependency) into the user's cache directory, <cache>/repl-bundles/<checkout>/<key>/ (key = hash of
// every source file's path, size and mtime, plus the tool versions; one folder per checkout);
// later starts only stat the sources and import the bundle. Bare package imports stay
// external, rewritten to the absolute URL node resolves them to from the checkout, so the
// bundle needs no node_modules beside it. (An installed package runs its compiled dist/repl
// instead and never bundles.)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Bumped whenever the bundle layout or the generated entry changes. */
const FORMAT = 4;

/** Repository (or installed package) root: the folder above repl/. */
export const root = dirname(dirname(fileURLToPath(import.meta.url)));

const sourceDirs = ["sdk", "repl", "recipes", "packages/qmp-types/src"];

function listSources() {
  const files = [];
  for (const dir of sourceDirs) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const entry of readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.(ts|js|json)$/.test(entry.name)) continue;
      files.push(join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  return files.sort();
}

function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(createRequire(join(root, "package.json")).resolve(`${pkg}/package.json`), "utf8"))
      .version;
  } catch {
    return "none";
  }
}

/** The cache key of the current sources: changes when any source file changes. */
export function bundleKey() {
  const hash = createHash("sha1");
  hash.update(`format ${FORMAT}\nesbuild ${versionOf("esbuild")}\nzx ${versionOf("zx")}\n`);
  for (const file of listSources()) {
    const st = statSync(file);
    hash.update(`${relative(root, file)} ${st.size} ${st.mtimeMs}\n`);
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * Folder holding this checkout's bundles: `$QEMUKIT_REPL_BUNDLE_DIR`, else
 * `repl-bundles/<hash of the checkout's path>` in qemukit's cache directory (the rule of
 * sdk/util/dirs.ts: `$QEMUKIT_CACHE`, else `$XDG_CACHE_HOME/qemukit`, else `~/.cache/qemukit`).
 * One folder per checkout, so pruning old bundles never touches another checkout's.
 */
export function bundleRoot() {
  if (process.env.QEMUKIT_REPL_BUNDLE_DIR) return process.env.QEMUKIT_REPL_BUNDLE_DIR;
  const cache = process.env.QEMUKIT_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "qemukit");
  return join(cache, "repl-bundles", createHash("sha1").update(root).digest("hex").slice(0, 12));
}

/**
 * Modules whose exports become REPL globals. sdk/mod.ts when everything it re-exports exists;
 * while the SDK is still growing, the concept modules that do exist.
 */
export function sdkModules() {
  const mod = join(root, "sdk", "mod.ts");
  if (!existsSync(mod)) return [];
  const refs = [...readFileSync(mod, "utf8").matchAll(/from\s+"(\.\/[^"]+\.ts)"/g)].map((m) => join(root, "sdk", m[1]));
  if (refs.every((f) => existsSync(f))) return [mod];
  return refs.filter((f) => existsSync(f));
}

function entrySource(withRecipes) {
  const sdk = sdkModules();
  const recipes = join(root, "recipes", "index.ts");
  withRecipes &&= existsSync(recipes);
  const lines = [`import { startRepl } from ${JSON.stringify(join(root, "repl", "main.ts"))};`];
  for (const [i, f] of sdk.entries()) lines.push(`import * as sdk${i} from ${JSON.stringify(f)};`);
  lines.push(
    `export function start(options) {`,
    `  return startRepl({`,
    `    root: ${JSON.stringify(root)},`,
    `    sdk: Object.assign({}, ${sdk.map((_, i) => `sdk${i}`).join(", ")}),`,
    `    late: () => Promise.all([import("zx"), ${withRecipes ? `import(${JSON.stringify(recipes)})` : "Promise.resolve({})"}])`,
    `      .then(([zx, r]) => ({ $: zx.$, zx, recipes: r.recipes ?? {}, Reporter: r.Reporter })),`,
    `    ...options,`,
    `  });`,
    `}`,
  );
  return lines.join("\n");
}

// Bundled code must still see its own file's location: the SDK finds helper files relative
// to import.meta.url, which in a bundle would otherwise point at the bundle.
const importMetaPlugin = {
  name: "qemukit-import-meta",
  setup(build) {
    build.onResolve({ filter: /^@qemu-types\/qmp$/ }, () => ({
      path: join(root, "packages", "qmp-types", "src", "index.ts"),
    }));
    // The bundle lives outside the checkout: pin every other bare import to the file node
    // resolves it to from here (import.meta.resolve uses node's own ESM rules and conditions).
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      return { path: import.meta.resolve(args.path), external: true };
    });
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${join(root, "node_modules")}`)) return undefined;
      let text = readFileSync(args.path, "utf8");
      if (text.includes("import.meta")) {
        text = text
          .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
          .replaceAll("import.meta.filename", JSON.stringify(args.path));
      }
      return { contents: text, loader: "ts" };
    });
  },
};

/** Builds the bundle for `key` unless it exists; returns the path of its entry file. */
export async function ensureBundle(key = bundleKey()) {
  const dir = join(bundleRoot(), key);
  const entry = join(dir, "main.mjs");
  if (existsSync(entry)) return entry;
  const esbuild = createRequire(join(root, "package.json"))("esbuild");
  mkdirSync(bundleRoot(), { recursive: true });
  if (process.stderr.isTTY) process.stderr.write("qemukit repl: sources changed, bundling the REPL and SDK...\r");
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const build = (withRecipes) =>
    esbuild.build({
      stdin: {
        contents: entrySource(withRecipes),
        resolveDir: root,
        sourcefile: "qemukit-repl-entry.js",
        loader: "js",
      },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outdir: tmp,
      entryNames: "main",
      outExtension: { ".js": ".mjs" },
      plugins: [importMetaPlugin],
      logLevel: "silent",
    });
  try {
    try {
      await build(true);
    } catch (e) {
      // Recipes that do not build (yet) must not cost the REPL itself.
      process.stderr.write(
        `${process.stderr.isTTY ? "\x1b[2K" : ""}qemukit repl: recipes left out: ${String(e.errors?.[0]?.text ?? e.message).split("\n")[0]}\n`,
      );
      rmSync(tmp, { recursive: true, force: true });
      await build(false);
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another REPL built the same key at the same time: use theirs.
      if (!existsSync(entry)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneOldBundles(key);
  if (process.stderr.isTTY) process.stderr.write("\x1b[2K");
  return entry;
}

function pruneOldBundles(keep) {
  try {
    const dirs = readdirSync(bundleRoot(), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== keep && !d.name.includes(".tmp-"))
      .map((d) => ({ path: join(bundleRoot(), d.name), mtime: statSync(join(bundleRoot(), d.name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    // A REPL started a moment ago may still load lazy chunks from the previous bundle.
    for (const d of dirs.slice(2)) rmSync(d.path, { recursive: true, force: true });
  } catch {
    // Pruning is housekeeping; a failure must not stop the REPL.
  }
}

/**
 * Starts the REPL from the bundle (building it first when the sources changed).
 * @param {Record<string, unknown>} [options] passed to startRepl (e.g. { input, output, historyPath }).
 */
export async function launch(options = {}) {
  let entry;
  if (!process.env.QEMUKIT_REPL_NO_BUNDLE) {
    try {
      entry = await ensureBundle();
    } catch (e) {
      // No writable cache, or no esbuild (installed without dev dependencies): run the
      // sources through tsx instead.
      if (!["EACCES", "EROFS", "EPERM", "MODULE_NOT_FOUND"].includes(e?.code)) throw e;
      process.stderr.write(`qemukit repl: cannot build the bundle (${e.code}); starting from source\n`);
    }
  }
  if (entry) return (await import(pathToFileURL(entry).href)).start(options);
  const { register } = await import("tsx/esm/api");
  register();
  return (await import(pathToFileURL(join(root, "repl", "start.ts")).href)).start(options);
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  if (process.argv.includes("--build-only")) {
    process.stdout.write(`${await ensureBundle()}\n`);
  } else {
    await launch();
  }
}
