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
    const mod = await import(pathToFileURL(entry).href) as { start?: unknown };
    expect(typeof mod.start).toBe("function");
  });

  it("keeps each module's own import.meta.url (the tiny guest hashes its own source)", async () => {
    const key = launch.bundleKey();
    const entry = await launch.ensureBundle(key);
    const all = readdirSync(dirname(entry)).map((f) => readFileSync(join(dirname(entry), f), "utf8")).join("\n");
    expect(all).toContain(JSON.stringify(pathToFileURL(join(root, "sdk", "guests", "tiny.ts")).href));
    expect(all).not.toMatch(/import\.meta\.url/);
  });

  it("takes the SDK from sdk/mod.ts", () => {
    expect(launch.sdkModules()).toEqual([join(root, "sdk", "mod.ts")]);
  });
});
