/**
 * The browser-side files the web console serves: noVNC's ES modules (npm `@novnc/novnc`)
 * and xterm.js (npm `@xterm/xterm`), found through the module resolver so that they come
 * from wherever the package manager put them (this checkout, or a project that installed
 * qemukit), never from a path relative to this file.
 * @module
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { WebError } from "./errors.ts";

/** A file ready to send. */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** The directory of package `name`: up from its resolved entry to its own package.json. */
function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (e) {
    throw new WebError("WEB_ASSETS", `cannot find the npm package ${name}, which the web console serves`, {
      cause: e,
      advice: "it is a dependency of qemukit: reinstall (npm ci, or npm install qemukit)",
    });
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === name) return dir;
    } catch {
      /* not this one */
    }
  }
  throw new WebError("WEB_ASSETS", `found ${entry} but no package.json of ${name} above it`, {
    advice: "reinstall qemukit's dependencies (npm ci)",
  });
}

/**
 * Serves the files of the two packages under `novnc/` and `xterm/`, nothing else: noVNC's
 * `core/` and `vendor/` modules, xterm.js's ES module and stylesheet. Files are read once.
 *
 * @example
 * ```ts
 * const assets = new Assets();
 * const rfb = await assets.get("novnc/core/rfb.js"); // { body, type: "text/javascript; ..." }
 * ```
 */
export class Assets {
  readonly #roots: { readonly novnc: string; readonly xterm: string };
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  /** Throws `WEB_ASSETS` when a package is missing, so the server never starts half-broken. */
  constructor() {
    this.#roots = { novnc: packageRoot("@novnc/novnc"), xterm: packageRoot("@xterm/xterm") };
  }

  /** The file for a path below the token (`novnc/core/rfb.js`), or undefined when not served. */
  get(path: string): Promise<Asset | undefined> {
    const file = this.#resolve(path);
    if (!file) return Promise.resolve(undefined);
    let hit = this.#cache.get(file);
    if (!hit) {
      hit = readFile(file).then(
        (body) => ({ body, type: TYPES[file.slice(file.lastIndexOf(".") + 1)] ?? "application/octet-stream" }),
        () => undefined,
      );
      this.#cache.set(file, hit);
    }
    return hit;
  }

  #resolve(path: string): string | undefined {
    if (path === "xterm/lib/xterm.mjs" || path === "xterm/css/xterm.css") {
      return join(this.#roots.xterm, ...path.split("/").slice(1));
    }
    // noVNC's modules import each other by relative paths, so its whole core/ and vendor/
    // trees are served; the pattern admits no "..", no dot files and only .js.
    const m = /^novnc\/((?:core|vendor)(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+\.js)$/.exec(path);
    if (!m || m[1]!.includes("..")) return undefined;
    const file = join(this.#roots.novnc, ...m[1]!.split("/"));
    return file.startsWith(this.#roots.novnc + sep) ? file : undefined;
  }
}
