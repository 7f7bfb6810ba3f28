// The bundle repl/launch.js builds and caches: keyed by the sources, rebuilt only when they
// change, and faithful to each module's own import.meta.url.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
let dir: string;
let launch: typeof import("../../repl/launch.js");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qemukit-repl-bundle-"));
  process.env.QEMUKIT_REPL_BUNDLE_DIR = dir;
  launch = await import("../../repl/launch.js");
});

afterAll(() => {
  delete process.env.QEMUKIT_REPL_BUNDLE_DIR;
  rmSync(dir, { recursive: true, force: true });
});

describe("the REPL bundle", () => {
  it("is keyed by the sources and built once per key", async () => {
    const key = launch.bundleKey();
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(launch.bundleKey()).toBe(key);
    expect(launch.bundleKey.length).toBe(0);
    const entry = await launch.ensureBundle(key);
    expect(entry).toBe(join(dir, key, "main.mjs"));
    const built = readFileSync(entry, "utf8");
    expect(await launch.ensureBundle(key)).toBe(entry);
    expect(readFileSync(entry, "utf8")).toBe(built);
    // No half-built folders are left behind.
    expect(readdirSync(dir).filter((d) => d.includes(".tmp-"))).toEqual([]);
    const mod = (await import(pathToFileURL(entry).href)) as { start?: unknown };
    expect(typeof mod.start).toBe("function");
  });

  it("leaves no module reading the bundle's import.meta.url instead of its own", async () => {
    const key = launch.bundleKey();
    const entry = await launch.ensureBundle(key);
    const all = readdirSync(dirname(entry))
      .map((f) => readFileSync(join(dirname(entry), f), "utf8"))
      .join("\n");
    expect(all).not.toMatch(/import\.meta\.url/);
  });

  it("pins bare imports to absolute URLs, so the bundle needs no node_modules beside it", async () => {
    const entry = await launch.ensureBundle(launch.bundleKey());
    const all = readdirSync(dirname(entry))
      .map((f) => readFileSync(join(dirname(entry), f), "utf8"))
      .join("\n");
    expect(all).toContain(JSON.stringify(pathToFileURL(join(root, "node_modules", "zx")).href).slice(0, -1));
    expect(all).not.toMatch(/from\s*"zx"|import\("zx"\)/);
  });

  it("lives in the user's cache directory by default, one folder per checkout, never in node_modules", () => {
    const saved = { ...process.env };
    try {
      delete process.env.QEMUKIT_REPL_BUNDLE_DIR;
      process.env.QEMUKIT_CACHE = "/var/cache/qk-test";
      expect(launch.bundleRoot()).toMatch(/^\/var\/cache\/qk-test\/repl-bundles\/[0-9a-f]{12}$/);
      delete process.env.QEMUKIT_CACHE;
      process.env.XDG_CACHE_HOME = "/xdg";
      expect(launch.bundleRoot()).toMatch(/^\/xdg\/qemukit\/repl-bundles\/[0-9a-f]{12}$/);
    } finally {
      process.env = saved;
    }
  });

  it("takes the SDK from sdk/mod.ts", () => {
    expect(launch.sdkModules()).toEqual([join(root, "sdk", "mod.ts")]);
  });
});
