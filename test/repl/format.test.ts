import { describe, expect, it } from "vitest";
import { formatError, isQemukitError, replWriter } from "../../repl/format.ts";
import { formatVmTable } from "../../repl/commands.ts";
import { QemukitError, vm } from "../../sdk/mod.ts";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

describe("REPL output", () => {
  it("shows a qemukit error as name, code, summary and advice", () => {
    const e = thrown(() => vm().memory(-1));
    expect(isQemukitError(e)).toBe(true);
    const text = formatError(e as QemukitError, false);
    const [first, second] = text.split("\n");
    expect(first).toMatch(/^SpecError \[SPEC_\w+\]: .*memory/);
    expect(first).not.toContain("→");
    expect(second).toMatch(/^ {2}→ .*memory\(512\)/);
  });

  it("colours only when asked, and keeps the cause", () => {
    const e = new QemukitError("X_TEST", "it broke", { advice: "fix it", cause: new Error("deeper") });
    expect(formatError(e, true)).toContain("\x1b[31m");
    expect(formatError(e, false)).not.toContain("\x1b[");
    expect(formatError(e, false)).toContain("cause: Error: deeper");
  });

  it("prints other values through util.inspect (custom views included), plain errors untouched", () => {
    const w = replWriter(() => false);
    expect(w({ a: [1, 2] })).toBe("{ a: [ 1, 2 ] }");
    expect(w({ [Symbol.for("nodejs.util.inspect.custom")]: () => "VIEW" })).toBe("VIEW");
    expect(isQemukitError(new Error("x"))).toBe(false);
    expect(w(new QemukitError("X_TEST", "m"))).toMatch(/^QemukitError \[X_TEST\]: m/);
  });

  it("lays out .vms as a table with owner and ports", () => {
    const table = formatVmTable([
      {
        name: "web",
        pid: process.pid,
        daemonized: false,
        ownerPid: process.pid,
        accel: { chosen: "tcg" },
        vnc: { port: 5901 },
      },
      { name: "db", pid: 2 ** 22 + 7, daemonized: true, ownerPid: 1, accel: { chosen: "kvm" } },
    ]);
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^NAME\s+PID\s+STATE\s+ACCEL\s+PORTS\s+OWNER$/);
    expect(lines[1]).toMatch(new RegExp(`^web\\s+${process.pid}\\s+running\\s+tcg\\s+vnc 5901\\s+this REPL$`));
    expect(lines[2]).toMatch(/^db\s+\d+\s+gone\s+kvm\s+-\s+-$/);
    expect(formatVmTable([])).toMatch(/no running VMs/);
  });
});
