import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CompletionSources,
  completeLine,
  lookupPath,
  qmpCommandNames,
  wrapCompleter,
} from "../../repl/complete.ts";
import { baselineQmpNames } from "../../repl/qmp-names.ts";
import { vm, VmBuilder } from "../../sdk/mod.ts";
import { QmpClient } from "../../sdk/qmp/mod.ts";
import { startTestQemu, type TestQemu } from "../helpers/qmp-qemu.ts";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const methods = Object.getOwnPropertyNames(VmBuilder.prototype).filter((n) => n !== "constructor");

function sources(scope: object, live?: (c: unknown) => Promise<readonly string[]>): CompletionSources {
  return {
    scope,
    builderMethods: () => methods,
    isBuilder: (v) => v instanceof VmBuilder,
    qmpCommands: async (client) => (client && live ? live(client) : baselineQmpNames(root)),
    recipeIds: () => ["check-host", "create-disk", "convert"],
  };
}

describe("completeLine", () => {
  it("lists builder methods on vm() chains, including chains with nested calls", async () => {
    const s = sources({ vm });
    expect(await completeLine("vm().memory(512).sm", s)).toEqual([["smp"], "sm"]);
    expect(await completeLine(`vm().disk(overlay("a b.qcow2")).memory("1G").v`, s)).toEqual([["vnc"], "v"]);
    const [all, partial] = (await completeLine("const b = vm().", s))!;
    expect(partial).toBe("");
    expect(all).toEqual(expect.arrayContaining(["memory", "smp", "disk", "vnc", "start", "toArgv"]));
  });

  it("follows a builder held in a variable, but stops after a method that does not return a builder", async () => {
    const s = sources({ b: vm().memory(256) });
    expect(await completeLine("b.smp(2).ac", s)).toEqual([["accel"], "ac"]);
    expect(await completeLine("b.toArgv().le", s)).toBeUndefined();
    // A plain `b.` is node's own job (it lists real properties too).
    expect(await completeLine("b.me", s)).toBeUndefined();
    expect(await completeLine("notABuilder.memory(1).sm", sources({ notABuilder: {} }))).toBeUndefined();
  });

  it("completes QMP command names from the baseline when no client is reachable", async () => {
    const s = sources({});
    const [names, partial] = (await completeLine(`await x.qmp.execute("query-sta`, s))!;
    expect(partial).toBe("query-sta");
    expect(names).toContain("query-status");
    expect(names.every((n) => n.startsWith("query-sta"))).toBe(true);
    expect(await completeLine(`executeRaw('block-dirty-bitmap-a`, s)).toEqual([
      ["block-dirty-bitmap-add"],
      "block-dirty-bitmap-a",
    ]);
  });

  it("completes recipe ids after .run and builder methods after .argv", async () => {
    const s = sources({ vm });
    expect(await completeLine(".run c", s)).toEqual([["check-host", "convert", "create-disk"], "c"]);
    expect(await completeLine(".argv vm().mem", s)).toEqual([["memory"], "mem"]);
  });

  it("never calls getters while looking up receivers", () => {
    let called = false;
    const scope = {
      get m() {
        called = true;
        return { qmp: {} };
      },
      d: { qmp: { x: 1 } },
    };
    expect(lookupPath(scope, "m.qmp")).toBeUndefined();
    expect(called).toBe(false);
    expect(lookupPath(scope, "d.qmp.x")).toBe(1);
  });

  it("hands every other line to node's completer", async () => {
    const seen: string[] = [];
    const c = wrapCompleter((line, cb) => {
      seen.push(line);
      cb(null, [["imagine"], "ima"]);
    }, sources({ vm }));
    const result = await new Promise((resolve) => c("ima", (_e, r) => resolve(r)));
    expect(result).toEqual([["imagine"], "ima"]);
    expect(seen).toEqual(["ima"]);
  });
});

describe("live QMP command names", () => {
  let qemu: TestQemu;
  let client: QmpClient;
  beforeAll(async () => {
    qemu = startTestQemu();
    client = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
  });
  afterAll(async () => {
    await client?.close();
    await qemu?.stop();
  });

  it("come from query-commands of the client the line names", async () => {
    const names = await qmpCommandNames(client);
    expect(names).toContain("query-status");
    expect(names).toEqual([...names].sort());
    const s = sources({ m: { qmp: client } }, (c) => qmpCommandNames(c as QmpClient));
    const [hits] = (await completeLine(`await m.qmp.execute("query-kv`, s))!;
    expect(hits).toEqual(["query-kvm"]);
    // Asking again is served from the per-client cache (same promise result).
    expect(await qmpCommandNames(client)).toBe(names);
  });
});
