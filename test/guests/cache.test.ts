import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ToolNotFoundError } from "../../sdk/errors/errors.ts";
import { cachedBuild, cleanStale, guestsRoot, readManifest, recipeHash } from "../../sdk/guests/cache.ts";
import { buildTool } from "../../sdk/guests/debian-packages.ts";
import { GuestBuildError } from "../../sdk/guests/errors.ts";

const dirs: string[] = [];
async function tempCache(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "qk-gcache-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const repo = fileURLToPath(new URL("../../", import.meta.url));

describe("recipeHash", () => {
  it("ignores key order and changes with any value", () => {
    expect(recipeHash({ a: 1, b: [1, 2] })).toBe(recipeHash({ b: [1, 2], a: 1 }));
    expect(recipeHash({ a: 1, b: [1, 2] })).not.toBe(recipeHash({ a: 1, b: [2, 1] }));
    expect(recipeHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("cachedBuild", () => {
  it("builds once, then answers from the cache without building", async () => {
    const root = await tempCache();
    let builds = 0;
    const build = async (tmp: string) => {
      builds++;
      await writeFile(join(tmp, "out"), "x");
      return { out: "out" };
    };
    const a = await cachedBuild({ name: "tiny", recipe: { v: 1 }, cacheRoot: root, build });
    const b = await cachedBuild({ name: "tiny", recipe: { v: 1 }, cacheRoot: root, build });
    expect(builds).toBe(1);
    expect(a.built).toBe(true);
    expect(b.built).toBe(false);
    expect(b.dir).toBe(a.dir);
    expect(await readFile(join(a.dir, "out"), "utf8")).toBe("x");
    // a changed recipe is a different entry
    const c = await cachedBuild({ name: "tiny", recipe: { v: 2 }, cacheRoot: root, build });
    expect(c.dir).not.toBe(a.dir);
    expect(builds).toBe(2);
    // force rebuilds in place
    const d = await cachedBuild({ name: "tiny", recipe: { v: 1 }, cacheRoot: root, build, force: true });
    expect(d.dir).toBe(a.dir);
    expect(builds).toBe(3);
  });

  it("a failed build leaves nothing behind and is retried next time", async () => {
    const root = await tempCache();
    await expect(
      cachedBuild({
        name: "tiny",
        recipe: {},
        cacheRoot: root,
        build: async (tmp) => {
          await writeFile(join(tmp, "half"), "x");
          throw new Error("step failed");
        },
      }),
    ).rejects.toThrow("step failed");
    expect(await readdir(guestsRoot(root))).toEqual([]);
  });

  it("a full disk is a GUEST_DISK_FULL error and the partial build is removed", async () => {
    const root = await tempCache();
    // ENOSPC cannot be produced on demand here: inject it from the build step.
    const err = await cachedBuild({
      name: "debian",
      recipe: {},
      cacheRoot: root,
      build: async (tmp) => {
        await writeFile(join(tmp, "disk.raw"), "x");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuestBuildError);
    expect((err as GuestBuildError).code).toBe("GUEST_DISK_FULL");
    expect((err as GuestBuildError).message).toMatch(/free some space/);
    expect(await readdir(guestsRoot(root))).toEqual([]);
  });

  it("a SIGKILLed build never looks done; the next run cleans up and builds", async () => {
    const root = await tempCache();
    const child = spawn(process.execPath, ["--import", "tsx", join(repo, "test/helpers/guests-child.ts"), "hang"], {
      cwd: repo,
      env: { ...process.env, QEMUKIT_CACHE: root },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const tmp = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /\{"building":"([^"]+)"\}/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", () => reject(new Error(`child exited early: ${out}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const names = await readdir(guestsRoot(root));
    const final = `tiny-${recipeHash({ test: "hang" })}`;
    expect(names).not.toContain(final);
    expect(names.some((n) => n.endsWith(".lock"))).toBe(true);
    expect(await readManifest(join(guestsRoot(root), final))).toBeUndefined();
    expect(tmp).toContain(".tmp-");
    // Next run: the dead owner's lock is taken over, its temp dir removed, the build completes.
    const r = await cachedBuild({
      name: "tiny",
      recipe: { test: "hang" },
      cacheRoot: root,
      build: async (t) => {
        await writeFile(join(t, "ok"), "1");
        return {};
      },
    });
    expect(r.built).toBe(true);
    expect((await readdir(guestsRoot(root))).sort()).toEqual([final]);
  }, 60_000);

  it("cleanStale keeps temp dirs of live builds", async () => {
    const root = await tempCache();
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(root, `.tiny-abc.tmp-${process.pid}-1f`), { recursive: true });
    await mkdir(join(root, ".tiny-abc.tmp-999999999-2f"), { recursive: true });
    expect(await cleanStale(root)).toEqual([".tiny-abc.tmp-999999999-2f"]);
    expect(await readdir(root)).toEqual([`.tiny-abc.tmp-${process.pid}-1f`]);
  });

  it("two concurrent builds of one recipe build once", async () => {
    const root = await tempCache();
    let builds = 0;
    const build = async (tmp: string) => {
      builds++;
      await new Promise((r) => setTimeout(r, 500));
      await writeFile(join(tmp, "x"), "1");
      return {};
    };
    const [a, b] = await Promise.all([
      cachedBuild({ name: "installer", recipe: { c: 1 }, cacheRoot: root, build }),
      cachedBuild({ name: "installer", recipe: { c: 1 }, cacheRoot: root, build }),
    ]);
    expect(builds).toBe(1);
    expect(a.dir).toBe(b.dir);
  });
});

describe("build tool errors", () => {
  it("an unreachable package registry is GUEST_NETWORK with advice", async () => {
    const dir = await tempCache();
    // A real apt-get against a proxy port nobody listens on.
    const err = await buildTool(
      "tiny",
      [
        "apt-get",
        "download",
        "-q",
        "-o",
        "Acquire::http::Proxy=http://127.0.0.1:9",
        "-o",
        "Acquire::Retries=0",
        "-o",
        "APT::Sandbox::User=root",
        "busybox-static",
      ],
      { cwd: dir },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuestBuildError);
    expect((err as GuestBuildError).code).toBe("GUEST_NETWORK");
    expect((err as GuestBuildError).message).toMatch(/deb\.debian\.org must be reachable/);
  }, 60_000);

  it("a missing program names its Debian package", async () => {
    const err = await buildTool("debian", ["mmdebstrap", "--version"], { env: { PATH: "/nonexistent" } }).catch(
      (e: unknown) => e,
    );
    // exec resolves the program through the child's PATH
    expect(err).toBeInstanceOf(ToolNotFoundError);
    expect((err as ToolNotFoundError).message).toMatch(/apt-get install mmdebstrap/);
  });
});

describe("guests.list / guests.prune", () => {
  it("prune removes only builds it can prove stale: older versions, or the current version from changed inputs", async () => {
    const root = await tempCache();
    const { mkdir } = await import("node:fs/promises");
    const { guests } = await import("../../sdk/guests/guests.ts");
    const { tinyRecipe } = await import("../../sdk/guests/tiny.ts");
    const { recipe } = await tinyRecipe();
    const entry = async (tag: string, manifest: Record<string, unknown>) => {
      const dir = join(guestsRoot(root), `tiny-${tag}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "guest.json"), JSON.stringify({ name: "tiny", hash: tag, facts: {}, ...manifest }));
      return dir;
    };
    const older = await entry("00000000000000a1", {
      recipe: { ...recipe, version: recipe.version - 1, script: "0123" },
    });
    const changedInputs = await entry("00000000000000a2", {
      recipe: { ...recipe, host: { "busybox-static": "0.0-old" } },
    });
    const newer = await entry("00000000000000a3", { recipe: { ...recipe, version: recipe.version + 1 } });
    const unknown = await entry("00000000000000a4", {});
    const otherGuest = await entry("00000000000000a5", { recipe: { ...recipe, guest: "debian", version: 1 } });
    const half = join(guestsRoot(root), ".tiny-0000000000000001.tmp-1-ab");
    await mkdir(half, { recursive: true });
    const tinyRow = (await guests.list({ cacheDir: root })).find((r) => r.name === "tiny")!;
    expect(tinyRow.built).toBe(false);
    expect([...tinyRow.stale].sort()).toEqual([older, changedInputs]);
    expect([...tinyRow.others].sort()).toEqual([newer, unknown, otherGuest]);
    expect((await guests.prune({ cacheDir: root })).sort()).toEqual([older, changedInputs]);
    const after = (await guests.list({ cacheDir: root })).find((r) => r.name === "tiny")!;
    expect(after.stale).toEqual([]);
    expect([...after.others].sort()).toEqual([newer, unknown, otherGuest]);
  }, 60_000);

  it("the cache key is the recipe's version and inputs, not the file that computes it", async () => {
    const { tinyRecipe } = await import("../../sdk/guests/tiny.ts");
    const { debianRecipe } = await import("../../sdk/guests/debian.ts");
    const { installerRecipe } = await import("../../sdk/guests/installer.ts");
    for (const { recipe } of [await tinyRecipe(), await debianRecipe(), await installerRecipe()]) {
      expect(typeof recipe.version).toBe("number");
      expect(JSON.stringify(recipe)).not.toMatch(/"script"|\.ts"|file:/);
    }
  }, 60_000);
});
