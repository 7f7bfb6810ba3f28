// host.check() on the real machine: only what holds on every host (with or without /dev/kvm,
// hardware KVM or KVM-PVM) is asserted. Fixture hosts are in check-fixtures.test.ts.
import { describe, expect, it } from "vitest";
import { check } from "../../sdk/host/check.ts";
import { formatHostReport } from "../../sdk/host/format.ts";
import type { AccelVerdict } from "../../sdk/host/types.ts";
import { runCli } from "../helpers/cli.ts";

const item = (r: Awaited<ReturnType<typeof check>>, id: string) => r.items.find((i) => i.id === id);

/** The verdict follows the measurements it carries. */
function expectConsistent(v: AccelVerdict, devKvmUsable: boolean) {
  const { tcg, kvm } = v.probes ?? {};
  expect(tcg).toMatchObject({ ran: true, steps: 2_097_152 });
  expect(tcg!.runMs).toBeGreaterThanOrEqual(0);
  if (!devKvmUsable) {
    expect(kvm).toBeUndefined();
    expect(v.use).toBe("tcg");
    return;
  }
  expect(kvm).toBeDefined();
  if (kvm!.ran) {
    expect(v.kvmToTcg).toBeGreaterThan(0);
    expect(v.use).toBe(v.kvmToTcg! <= 1 ? "kvm" : "tcg");
    expect(v.reason).toMatch(
      /^kvm ran the probe [\d.]+x (faster|slower) than tcg \(kvm [\d.]+ ms for 65,536 steps, tcg [\d.]+ ms/,
    );
  } else {
    expect(v.use).toBe("tcg");
  }
}

describe("host.check on this machine", () => {
  it("reports every item, measures tcg (and kvm when /dev/kvm opens), and follows the measurements", async () => {
    const r = await check();
    expect(r.items.map((i) => i.id)).toEqual([
      "cpu-virt-flag",
      "kvm-modules",
      "nested",
      "dev-kvm",
      ...(r.facts.devKvm.exists ? ["dev-kvm-access"] : []),
      "qemu-system",
      "qemu-img",
      "tcg-probe",
      "kvm-probe",
      "verdict",
    ]);
    expect(item(r, "qemu-system")).toMatchObject({
      status: "pass",
      summary: expect.stringMatching(/qemu-system-x86_64 \d+\.\d+/),
    });
    expect(item(r, "qemu-img")?.summary).toMatch(/qemu-img \d+\.\d+/);
    expect(item(r, "tcg-probe")).toMatchObject({
      status: "pass",
      summary: expect.stringMatching(/^tcg ran the probe \(2,097,152 loop steps\) in [\d.]+ ms$/),
    });
    expect(r.canRunVm).toBe(true);
    expectConsistent(r.verdict, r.facts.devKvm.exists && r.facts.devKvm.openable === true);
    expect(item(r, "verdict")?.summary).toBe(`use ${r.verdict.use}: ${r.verdict.reason}`);
    expect(formatHostReport(r, { columns: 100 })).toContain(`Verdict: use ${r.verdict.use}.`);
  });

  it("with no usable qemu-system binary, nothing is probed and no VM can run", async () => {
    const r = await check({ qemu: "/nonexistent/qemu-system-x86_64" });
    expect(item(r, "qemu-system")).toMatchObject({
      status: "fail",
      summary: "/nonexistent/qemu-system-x86_64 not found",
    });
    expect(item(r, "tcg-probe")?.summary).toBe("tcg probe not run: no qemu-system binary");
    expect(r.canRunVm).toBe(false);
    expect(item(r, "verdict")?.status).toBe("fail");
  });
});

describe("qemukit host check", () => {
  it("--json shows the measured times of both probes and a verdict that compares them", () => {
    const run = runCli(["host", "check", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.canRunVm).toBe(true);
    expect(report.verdict.use).toMatch(/^(kvm|tcg)$/);
    expectConsistent(report.verdict, report.facts.devKvm.exists && report.facts.devKvm.openable === true);
  });

  it("prints a table, and exits 1 when no qemu-system can be used", () => {
    const table = runCli(["host", "check", "--no-probe"]);
    expect(table.stdout).toMatch(/Verdict: use (kvm|tcg)\./);
    expect(table.stdout).toMatch(/tcg probe not run: probing is off/);
    const none = runCli(["host", "check", "--qemu", "/nonexistent/qemu-system-x86_64"]);
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/no VM can run/);
  });
});
