import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  QmpCommands,
  QmpEvents,
  StatusInfo,
  RunState,
  BlockInfo,
  CpuInfoFast,
  ShutdownCause,
  QmpInt,
} from "@qemu-types/qmp";
import type { QmpClient } from "../../sdk/qmp/mod.ts";

import { repoRoot } from "../helpers/cli.ts";

// Compile-time checks: `npx tsc -p tsconfig.json --noEmit` (the first step of `npm test`)
// type-checks this file, so a failed `expectTypeOf` or an `@ts-expect-error` whose line
// starts compiling fails the typecheck. The last test proves tsc really rejects a mismatch.

async function typedUsage(qmp: QmpClient): Promise<void> {
  const status = await qmp.execute("query-status");
  expectTypeOf(status).toEqualTypeOf<StatusInfo>();
  const state: RunState = status.status;
  void state;
  const blocks = await qmp.execute("query-block");
  expectTypeOf(blocks).toEqualTypeOf<BlockInfo[]>();
  const cpus = await qmp.execute("query-cpus-fast");
  expectTypeOf(cpus).toEqualTypeOf<CpuInfoFast[]>();
  const size: QmpInt = (await qmp.execute("query-named-block-nodes"))[0]!.image["virtual-size"];
  void size;
  await qmp.execute("screendump", { filename: "/tmp/x.png", format: "png" });
  await qmp.execute("blockdev-add", { driver: "null-co", "node-name": "n0", size: 2n ** 62n });
  await qmp.execute("qom-list", { path: "/machine" }, { timeout: 1000 });

  const shutdown = await qmp.waitFor("SHUTDOWN");
  expectTypeOf(shutdown.data.reason).toEqualTypeOf<ShutdownCause>();
  qmp.on("STOP", (e) => expectTypeOf(e.data).toEqualTypeOf<undefined>());
  const other = await qmp.waitFor("SOME_FUTURE_EVENT");
  void other.data.anything;

  // @ts-expect-error unknown command
  await qmp.execute("no-such-command");
  // @ts-expect-error required argument missing
  await qmp.execute("screendump");
  // @ts-expect-error wrong argument type
  await qmp.execute("screendump", { filename: 42 });
  // @ts-expect-error unknown argument
  await qmp.execute("screendump", { filename: "x", colour: true });
  // @ts-expect-error arguments to a command that takes none
  await qmp.execute("query-status", { verbose: true });
  // @ts-expect-error enum value that does not exist
  await qmp.execute("screendump", { filename: "x", format: "gif" });
  // @ts-expect-error wrong union branch member for the driver
  await qmp.execute("blockdev-add", { driver: "null-co", "node-name": "n1", filename: "/x" });
  // @ts-expect-error the result is StatusInfo, not a string
  const wrong: string = await qmp.execute("query-status");
  void wrong;
}

// Type-checked, never called: it needs a live QEMU, and only its types are under test.
void typedUsage;

describe("generated types", () => {
  it("map commands and events to their types", () => {
    expectTypeOf<QmpCommands["query-status"]["ret"]>().toEqualTypeOf<StatusInfo>();
    expectTypeOf<QmpEvents["SHUTDOWN"]["reason"]>().toEqualTypeOf<ShutdownCause>();
    expectTypeOf<QmpEvents["STOP"]>().toEqualTypeOf<undefined>();
    expectTypeOf<"host-qmp-quit">().toExtend<ShutdownCause>();
    expectTypeOf<"no-such-cause">().not.toExtend<ShutdownCause>();
    expectTypeOf<QmpCommands["query-status"]["ret"]>().not.toEqualTypeOf<BlockInfo>();
  });

  it("tsc rejects a type assertion that does not hold (these checks can fail)", () => {
    const dir = mkdtempSync(join(repoRoot, "test/qmp/.typecheck-"));
    try {
      const file = join(dir, "wrong.ts");
      writeFileSync(
        file,
        [
          'import { expectTypeOf } from "vitest";',
          'type Status = { status: "running" | "paused" };',
          "expectTypeOf<Status>().toEqualTypeOf<{ status: string }>();",
          "",
        ].join("\n"),
      );
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ extends: "../../../tsconfig.json", include: ["wrong.ts"] }),
      );
      let out = "";
      try {
        execFileSync(join(repoRoot, "node_modules/.bin/tsc"), ["-p", dir], { encoding: "utf8", stdio: "pipe" });
      } catch (e) {
        out = String((e as { stdout?: string }).stdout);
      }
      expect(out).toMatch(/wrong\.ts\(3,\d+\): error TS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the library uses its own typed execute", () => {
  it("no executeRaw result is cast in sdk/ (a schema change must break the build, not a user)", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const root = join(import.meta.dirname, "../../sdk");
    const casts: string[] = [];
    for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
      if (!e.isFile() || !e.name.endsWith(".ts")) continue;
      const path = join(e.parentPath, e.name);
      if (path.endsWith("sdk/qmp/client.ts")) continue; // execute() itself is built on executeRaw
      for (const m of readFileSync(path, "utf8").matchAll(/executeRaw\([^;]*?\)\)?\s+as\s+[^;]+;/g))
        casts.push(`${path}: ${m[0]}`);
    }
    expect(casts).toEqual([]);
  });
});
