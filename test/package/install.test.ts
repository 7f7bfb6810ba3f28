// What a registry would serve: `npm pack --workspaces --include-workspace-root` gives tarballs
// that install together into an empty project (no workspace), ship compiled JavaScript and
// declarations only, import under plain node (no tsx), typecheck in a consumer's tsc with both
// module resolutions (skipLibCheck off, emitting or not), and run the bin. Packed once per run.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import * as nodeModule from "node:module";
import { promisify } from "node:util";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.ts";
import { guests } from "../../sdk/mod.ts";

let work: string;
let project: string;
let tarballs: string[];

function run(cmd: string, args: readonly string[], options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 240_000, ...options });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "qemukit-pack-"));
  const packed = run(
    "npm",
    ["pack", "--workspaces", "--include-workspace-root", "--pack-destination", work, "--json"],
    { cwd: repoRoot },
  );
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.out}`);
  tarballs = readdirSync(work)
    .filter((f) => f.endsWith(".tgz"))
    .map((f) => join(work, f))
    .sort();
  project = join(work, "consumer");
  execFileSync("mkdir", [project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // Offline when npm's cache already holds zx's metadata (any earlier install here); the
  // registry is only asked for what the cache lacks.
  let installed = run("npm", ["install", ...tarballs, "--offline", "--no-audit", "--no-fund"], { cwd: project });
  if (installed.status !== 0 && /ENOTCACHED/.test(installed.out)) {
    installed = run("npm", ["install", ...tarballs, "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project });
  }
  if (installed.status !== 0) throw new Error(`npm install of the tarballs failed:\n${installed.out}`);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed tarballs", () => {
  it("are qemukit and @qemu-types/qmp, with compiled .js + .d.ts and no .ts sources", () => {
    expect(tarballs.map((t) => t.slice(work.length + 1))).toEqual(["qemu-types-qmp-0.1.0.tgz", "qemukit-0.1.0.tgz"]);
    for (const t of tarballs) {
      const files = execFileSync("tar", ["tzf", t], { encoding: "utf8" }).trim().split("\n");
      expect(
        files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
        t,
      ).toEqual([]);
      expect(
        files.some((f) => f.endsWith(".d.ts")),
        t,
      ).toBe(true);
      expect(
        files.some((f) => f.endsWith(".js")),
        t,
      ).toBe(true);
    }
    // Declarations name the .js files they describe, as hand-written ones would.
    const grep = run("grep", ["-rlE", "(from |import\\()[\"']\\.{1,2}/[^\"']*\\.ts[\"']", "--include=*.d.ts", "."], {
      cwd: join(project, "node_modules"),
    });
    expect(grep.stdout).toBe("");
    expect(grep.status).toBe(1);
  });

  it("install into an empty project with only their runtime dependencies beside them (no esbuild, no dev dependencies)", () => {
    const top = readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."));
    // zx for scripts; ws, noVNC and xterm.js for the web console.
    expect(top.sort()).toEqual(["@novnc", "@qemu-types", "@xterm", "qemukit", "ws", "zx"]);
  });

  it("serve the web console's browser files (noVNC, xterm.js) from the installed packages", () => {
    // A VM stand-in without VNC or console: enough to start the server and fetch its files.
    writeFileSync(
      join(project, "web.mjs"),
      [
        'import { startWebConsole } from "qemukit/web";',
        'const vm = { name: "pkg", qmp: {}, vnc: undefined, hasConsole: false, exited: new Promise(() => {}) };',
        "const web = await startWebConsole(vm);",
        'const paths = ["", "app.js", "novnc/core/rfb.js", "novnc/vendor/pako/lib/zlib/inflate.js", "xterm/lib/xterm.mjs", "xterm/css/xterm.css"];',
        "const got = {};",
        "for (const p of paths) got[p] = (await fetch(web.url + p)).status;",
        'got.noToken = (await fetch(web.url.replace(/\\/[^/]+\\/$/, "/app.js"))).status;',
        "await web.close();",
        "console.log(JSON.stringify(got));",
      ].join("\n"),
    );
    const r = run(process.execPath, ["web.mjs"], { cwd: project });
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      "": 200,
      "app.js": 200,
      "novnc/core/rfb.js": 200,
      "novnc/vendor/pako/lib/zlib/inflate.js": 200,
      "xterm/lib/xterm.mjs": 200,
      "xterm/css/xterm.css": 200,
      noToken: 403,
    });
  });

  it("import under plain node, every subpath included, with no TypeScript loader", () => {
    writeFileSync(
      join(project, "main.mjs"),
      [
        'import { vm, overlay, image, guests, host, verify, attach, list, fromCommandLine, QemukitError, VERSION } from "qemukit";',
        'import * as spec from "qemukit/spec";',
        'import * as compile from "qemukit/compile";',
        'import * as qmp from "qemukit/qmp";',
        'import * as typegen from "qemukit/typegen";',
        'import * as img from "qemukit/img";',
        'import * as g from "qemukit/guests";',
        'import * as h from "qemukit/host";',
        'import * as v from "qemukit/verify";',
        'import * as repl from "qemukit/repl";',
        'import * as lv from "qemukit/libvirt";',
        'import * as web from "qemukit/web";',
        'import { QEMU_VERSION } from "@qemu-types/qmp";',
        'const argv = vm().memory(512).smp(2).disk(overlay("base.qcow2")).toArgv({ runDir: "/tmp/x" });',
        "console.log(JSON.stringify({ argv, VERSION, QEMU_VERSION, fns: [image.info, guests.tiny, host.check, verify.checksums, attach, list,",
        "  fromCommandLine, spec.validateSpec, compile.compile, qmp.QmpClient, typegen.generateTypes, img.formatSize, g.guests.list,",
        "  h.host.check, v.verify.signature, repl.start, web.startWebConsole, lv.libvirt, lv.fleet, vm().toDomainXml].map((f) => typeof f), err: new QemukitError('X', 'y').code }));",
      ].join("\n"),
    );
    const r = run(process.execPath, ["main.mjs"], { cwd: project });
    expect(r.status, r.out).toBe(0);
    const got = JSON.parse(r.stdout) as {
      argv: string[];
      VERSION: string;
      QEMU_VERSION: string;
      fns: string[];
      err: string;
    };
    expect(got.argv[0]).toMatch(/qemu-system-x86_64$/);
    expect(got.argv.join(" ")).toContain("-m 512");
    expect(got.VERSION).toBe("0.1.0");
    expect(got.QEMU_VERSION).toMatch(/^\d+\.\d+/);
    expect(new Set(got.fns)).toEqual(new Set(["function"]));
    expect(got.err).toBe("X");
  });

  const tsconfigs = {
    "nodenext, noEmit": { module: "nodenext", noEmit: true },
    "nodenext, emitting": { module: "nodenext", outDir: "out-nodenext", declaration: true },
    "bundler, noEmit": { module: "preserve", moduleResolution: "bundler", noEmit: true },
    "bundler, emitting": { module: "esnext", moduleResolution: "bundler", outDir: "out-bundler", declaration: true },
  };
  // Four full typechecks of @types/node and the QMP types: run side by side.
  it.concurrent.each(Object.entries(tsconfigs))(
    "typecheck in a consumer's tsc (%s, skipLibCheck off)",
    async (name, options) => {
      writeFileSync(
        join(project, `consumer-${name.replace(/\W+/g, "-")}.ts`),
        [
          'import { vm, overlay, image, QemukitError, type ImageInfo, type RunningVm, type VmSpec } from "qemukit";',
          'import { QmpClient, type QmpEvent } from "qemukit/qmp";',
          'import { compile } from "qemukit/compile";',
          'import type { QmpCommands } from "@qemu-types/qmp";',
          'import type { WebConsole } from "qemukit/web";',
          'type Status = QmpCommands["query-status"]["ret"];',
          "export async function status(): Promise<Status> {",
          '  const m: RunningVm = await vm().memory(128).disk(overlay("base.qcow2")).start();',
          '  try { return await m.qmp.execute("query-status"); } finally { await m.shutdown(); }',
          "}",
          "export const spec: VmSpec = vm().memory(256).spec;",
          "export async function webUrl(m: RunningVm): Promise<string> { const w: WebConsole = await m.web(); return w.url; }",
          'export const argv: readonly string[] = compile(spec, { runDir: "/tmp/x", accel: ["tcg"] }).argv;',
          "export const info: (p: string) => Promise<ImageInfo> = (p) => image.info(p);",
          'export const e: QemukitError = new QemukitError("X", "y");',
          "export type Ev = QmpEvent; export const C = QmpClient;",
        ].join("\n"),
      );
      const file = `tsconfig.${name.replace(/\W+/g, "-")}.json`;
      writeFileSync(
        join(project, file),
        JSON.stringify({
          compilerOptions: {
            ...options,
            target: "es2022",
            strict: true,
            skipLibCheck: false,
            // The consumer's own @types/node; the repo's copy stands in for it (no network here).
            typeRoots: [join(repoRoot, "node_modules", "@types")],
            types: ["node"],
          },
          files: [`consumer-${name.replace(/\W+/g, "-")}.ts`],
        }),
      );
      const tsc = join(repoRoot, "node_modules", ".bin", "tsc");
      const r = await promisify(execFile)(tsc, ["-p", file], { cwd: project, encoding: "utf8" }).then(
        ({ stdout, stderr }) => ({ status: 0, out: stdout + stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code, out: `${e.stdout}${e.stderr}` }),
      );
      expect(r.out).toBe("");
      expect(r.status).toBe(0);
    },
    300_000,
  );

  it("run the bin from the installed package, its REPL included (compiled, nothing written under node_modules)", () => {
    const bin = join(project, "node_modules", ".bin", "qemukit");
    const before = execFileSync("find", ["node_modules"], { cwd: project, encoding: "utf8" });
    const help = run(bin, ["--help"], { cwd: project });
    expect(help.status, help.out).toBe(0);
    expect(help.out).toMatch(/usage: qemukit/);
    const repl = run(bin, ["repl"], {
      cwd: project,
      input: 'vm().memory(256).toArgv({ runDir: "/tmp/x" }).includes("256")\n',
    });
    expect(repl.status, repl.out).toBe(0);
    expect(repl.out).toMatch(/qemukit> true/);
    // TypeScript input without esbuild: Node's own type stripping where it exists, else a clear note.
    const ts = run(bin, ["repl"], { cwd: project, input: "const n: number = 21; n * 2\n" });
    expect(ts.status, ts.out).toBe(0);
    if (typeof (nodeModule as { stripTypeScriptTypes?: unknown }).stripTypeScriptTypes === "function")
      expect(ts.out).toMatch(/\b42\b/);
    else expect(ts.out).toMatch(/TypeScript input needs esbuild \(npm install esbuild\) or Node >= 22\.13/);
    expect(execFileSync("find", ["node_modules"], { cwd: project, encoding: "utf8" })).toBe(before);
  });

  it("`qemukit repl --deno` from the installed package: a typed error without Deno, Deno's REPL with it", () => {
    const bin = join(project, "node_modules", ".bin", "qemukit");
    const noDeno = run(bin, ["repl", "--deno"], {
      cwd: project,
      env: { ...process.env, PATH: "/usr/local/bin:/usr/bin:/bin" },
    });
    expect(noDeno.status).toBe(1);
    expect(noDeno.out).toMatch(/deno was not found on PATH[\s\S]*install Deno[\s\S]*TOOL_NOT_FOUND/);
    expect(noDeno.out).not.toMatch(/ENOENT|stripping types/);
    const withDeno = run(bin, ["repl", "--deno"], {
      cwd: project,
      input: 'vm().memory(256).toArgv({ runDir: "/tmp/x" }).includes("256")\n',
      env: {
        ...process.env,
        PATH: `${join(repoRoot, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin`,
        NO_COLOR: "1",
      },
    });
    expect(withDeno.status, withDeno.out).toBe(0);
    expect(withDeno.out).toMatch(/in Deno's REPL/);
    expect(withDeno.out).toMatch(/^true$/m);
  });

  it("compute the same guest cache keys as the TypeScript sources", async () => {
    writeFileSync(
      join(project, "keys.mjs"),
      'import { guests } from "qemukit"; console.log(JSON.stringify((await guests.list()).map((g) => [g.name, g.hash])));',
    );
    const r = run(process.execPath, ["keys.mjs"], { cwd: project });
    expect(r.status, r.out).toBe(0);
    const fromSource = (await guests.list()).map((g) => [g.name, g.hash]);
    expect(JSON.parse(r.stdout)).toEqual(fromSource);
  });
});
