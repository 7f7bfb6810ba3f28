// The root module is what a script needs and nothing more: adding a value to it is a decision,
// made here. Everything else is reachable through a subpath module.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as root from "../../sdk/mod.ts";
import { repoRoot } from "../helpers/cli.ts";

const ROOT_VALUES = [
  "AbortError",
  "GuestBuildError",
  "GuestCommandError",
  "QmpArgumentsError",
  "QmpProtocolError",
  "ImageError",
  "ImageLockedError",
  "ProcessError",
  "QemukitError",
  "QmpCommandError",
  "QmpConnectionError",
  "RunningVm",
  "SpecError",
  "TimeoutError",
  "ToolNotFoundError",
  "VERSION",
  "VerifyError",
  "VmBuilder",
  "VmError",
  "VmStartError",
  "Wait",
  "attach",
  "fromCommandLine",
  "guests",
  "host",
  "image",
  "list",
  "overlay",
  "verify",
  "vm",
].sort();

describe("public surface", () => {
  it("the root exports exactly the pinned values (30, under 40)", () => {
    const names = Object.keys(root).sort();
    expect(names).toEqual(ROOT_VALUES);
    expect(names.length).toBe(30);
  });

  it("every subpath module loads and exports no internals", async () => {
    const internals = [
      "optValue",
      "plainFile",
      "RUN_FILES",
      "cachedBuild",
      "renderTypes",
      "tinyRecipe",
      "writeCpioGz",
      "parseCpuinfo",
      "createOverlay",
      "startVm",
      "QmpError",
      "checkHost",
      "listGuests",
      "pruneGuests",
      "recipeHash",
    ];
    const subpaths: Record<string, Record<string, unknown>> = {
      spec: await import("../../sdk/spec/mod.ts"),
      compile: await import("../../sdk/compile/mod.ts"),
      qmp: await import("../../sdk/qmp/mod.ts"),
      typegen: await import("../../sdk/qmp/typegen/mod.ts"),
      img: await import("../../sdk/img/mod.ts"),
      guests: await import("../../sdk/guests/mod.ts"),
      agent: await import("../../sdk/agent/mod.ts"),
      host: await import("../../sdk/host/mod.ts"),
      verify: await import("../../sdk/verify/mod.ts"),
      libvirt: await import("../../sdk/libvirt/mod.ts"),
      template: await import("../../sdk/template/mod.ts"),
      web: await import("../../sdk/web/mod.ts"),
    };
    for (const [p, mod] of Object.entries(subpaths)) {
      expect(Object.keys(mod).length, p).toBeGreaterThan(0);
      for (const name of internals) expect(Object.keys(mod), `${p} exports ${name}`).not.toContain(name);
    }
  });

  it("one name per concept: the root's namespaces are the same objects as the subpaths'", async () => {
    expect((await import("../../sdk/img/mod.ts")).image).toBe(root.image);
    expect((await import("../../sdk/guests/mod.ts")).guests).toBe(root.guests);
    expect((await import("../../sdk/host/mod.ts")).host).toBe(root.host);
    expect((await import("../../sdk/verify/mod.ts")).verify).toBe(root.verify);
    expect((await import("../../sdk/spec/mod.ts")).vm).toBe(root.vm);
    expect((await import("../../sdk/compile/mod.ts")).fromCommandLine).toBe(root.fromCommandLine);
  });
});

describe("deno.json (JSR) and package.json (npm) describe the same packages", () => {
  const read = (p: string) => JSON.parse(readFileSync(join(repoRoot, p), "utf8")) as Record<string, any>;

  it("same subpaths, each the TypeScript source of the compiled file npm serves, and the same version", () => {
    const npm = read("package.json");
    const deno = read("deno.json");
    const npmSubpaths = Object.keys(npm.exports).filter((k) => k !== "./package.json");
    expect(Object.keys(deno.exports).sort()).toEqual(npmSubpaths.sort());
    for (const sub of npmSubpaths) {
      expect(npm.exports[sub].default.replace(/^\.\/dist\//, "./").replace(/\.js$/, ".ts"), sub).toBe(
        deno.exports[sub],
      );
      expect(npm.exports[sub].types, sub).toBe(npm.exports[sub].default.replace(/\.js$/, ".d.ts"));
    }
    expect(deno.version).toBe(npm.version);
    expect(deno.workspace).toEqual(["./packages/qmp-types"]);
  });

  it("@qemu-types/qmp: one name and version on both registries, imported through the import map", () => {
    const npm = read("packages/qmp-types/package.json");
    const deno = read("packages/qmp-types/deno.json");
    expect(deno.name).toBe(npm.name);
    expect(deno.version).toBe(npm.version);
    expect(read("deno.json").imports["@qemu-types/qmp"]).toBe(`jsr:${npm.name}@^${npm.version}`);
    expect(read("package.json").dependencies["@qemu-types/qmp"]).toBe(npm.version);
    // TypeScript consumers never resolve a .ts file: declarations come before the default.
    expect(Object.keys(npm.exports["."]).filter((c) => c !== "qemukit-source")).toEqual(["types", "default"]);
  });
});
