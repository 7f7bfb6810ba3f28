import { describe, expect, it } from "vitest";
import type { QmpCommands, QmpEvents, StatusInfo, RunState, BlockInfo, CpuInfoFast, ShutdownCause, QmpInt } from "@qemu-types/qmp";
import type { QmpClient } from "../../sdk/qmp/mod.ts";

// Compile-time checks: `npx tsc -p tsconfig.json --noEmit` type-checks this file, so each
// `@ts-expect-error` fails the typecheck if the line it guards starts compiling.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_?: T): void {}

export async function typedUsage(qmp: QmpClient): Promise<void> {
  const status = await qmp.execute("query-status");
  assertType<Equal<typeof status, StatusInfo>>();
  const state: RunState = status.status;
  void state;
  const blocks = await qmp.execute("query-block");
  assertType<Equal<typeof blocks, BlockInfo[]>>();
  const cpus = await qmp.execute("query-cpus-fast");
  assertType<Equal<typeof cpus, CpuInfoFast[]>>();
  const size: QmpInt = (await qmp.execute("query-named-block-nodes"))[0]!.image["virtual-size"];
  void size;
  await qmp.execute("screendump", { filename: "/tmp/x.png", format: "png" });
  await qmp.execute("blockdev-add", { driver: "null-co", "node-name": "n0", size: 2n ** 62n });
  await qmp.execute("qom-list", { path: "/machine" }, { timeout: 1000 });

  const shutdown = await qmp.waitFor("SHUTDOWN");
  assertType<Equal<typeof shutdown.data.reason, ShutdownCause>>();
  qmp.on("STOP", (e) => assertType<Equal<typeof e.data, undefined>>());
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

describe("generated types", () => {
  it("map commands and events to their types", () => {
    assertType<Equal<QmpCommands["query-status"]["ret"], StatusInfo>>();
    assertType<Equal<QmpEvents["SHUTDOWN"]["reason"], ShutdownCause>>();
    assertType<Equal<QmpEvents["STOP"], undefined>>();
    const reason: ShutdownCause = "host-qmp-quit";
    expect(reason).toBe("host-qmp-quit");
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
      for (const m of readFileSync(path, "utf8").matchAll(/executeRaw\([^;]*?\)\)?\s+as\s+[^;]+;/g)) casts.push(`${path}: ${m[0]}`);
    }
    expect(casts).toEqual([]);
  });
});
