import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check } from "../../sdk/host/check.ts";
import { formatHostReport } from "../../sdk/host/format.ts";
import { runCli } from "../helpers/cli.ts";
import { makeHostRoot, PVM_HOST, VMX_HOST } from "../helpers/host-fixtures.ts";

const item = (r: Awaited<ReturnType<typeof check>>, id: string) => r.items.find((i) => i.id === id);

describe("host.check on this machine", () => {
  it("reports every item, runs TCG for real, and says which accelerator to use", async () => {
    const r = await check();
    expect(r.items.map((i) => i.id)).toEqual(expect.arrayContaining([
      "cpu-virt-flag", "kvm-modules", "nested", "dev-kvm", "qemu-system", "qemu-img", "kvm-probe", "verdict",
    ]));
    expect(item(r, "qemu-system")).toMatchObject({ status: "pass", summary: expect.stringMatching(/qemu-system-x86_64 \d+\.\d+/) });
    expect(item(r, "qemu-img")?.summary).toMatch(/qemu-img \d+\.\d+/);
    expect(r.canRunVm).toBe(true);
    if (!existsSync("/dev/kvm")) {
      expect(item(r, "dev-kvm")).toMatchObject({ status: "fail", fix: expect.any(String) });
      expect(r.verdict.use).toBe("tcg");
      expect(item(r, "tcg-probe")?.status).toBe("pass");
      expect(item(r, "verdict")?.summary).toMatch(/^use tcg: /);
    }
    const table = formatHostReport(r, { columns: 100 });
    expect(table).toMatch(/^(PASS|WARN|FAIL|INFO)  cpu-virt-flag/m);
    expect(table).toContain(`Verdict: use ${r.verdict.use}.`);
  });

  it("with no usable qemu-system binary, no VM can run", async () => {
    const r = await check({ qemu: "/nonexistent/qemu-system-x86_64" });
    expect(item(r, "qemu-system")).toMatchObject({ status: "fail", summary: "/nonexistent/qemu-system-x86_64 not found" });
    expect(r.canRunVm).toBe(false);
    expect(item(r, "verdict")?.status).toBe("fail");
  });
});

describe("host.check on fixture roots", () => {
  it("KVM-PVM host: no vmx/svm, /dev/kvm present, kvm_pvm detected, TCG", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const r = await check({ root: fx.root });
    expect(item(r, "cpu-virt-flag")).toMatchObject({ status: "fail", summary: expect.stringMatching(/no vmx\/svm/) });
    expect(item(r, "kvm-modules")).toMatchObject({ status: "warn", detail: expect.stringMatching(/kvm_pvm/) });
    expect(item(r, "dev-kvm")?.summary).toMatch(/present, root:root/);
    expect(item(r, "dev-kvm-access")?.status).toBe("pass");
    expect(item(r, "kvm-probe")?.status).toBe("fail"); // real QEMU with -accel kvm: cannot run a guest here either
    expect(r.verdict).toMatchObject({ use: "tcg", pvm: true });
    expect(item(r, "verdict")?.summary).toMatch(/use tcg: KVM-PVM detected/);
    expect(r.canRunVm).toBe(true);
  });

  it("VT-x host: the pass items and the nested setting", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const r = await check({ root: fx.root, probe: false });
    expect(item(r, "cpu-virt-flag")).toMatchObject({ status: "pass", summary: expect.stringMatching(/vmx \(Intel VT-x\)/) });
    expect(item(r, "kvm-modules")).toMatchObject({ status: "pass", summary: "loaded: kvm, kvm_intel" });
    expect(item(r, "nested")?.summary).toMatch(/enabled \(kvm_intel\.nested=Y\)/);
    expect(r.verdict.reason).toMatch(/probing was disabled/);
  });

  it("no kvm module and no flag: fixes name modprobe or firmware settings", async () => {
    using fx = makeHostRoot({ flags: ["fpu"], modules: {} });
    const r = await check({ root: fx.root, probe: false });
    expect(item(r, "kvm-modules")?.status).toBe("fail");
    expect(item(r, "dev-kvm")).toMatchObject({ status: "fail", detail: "no kvm module is loaded" });
    expect(item(r, "cpu-virt-flag")?.fix).toMatch(/firmware setup/);
  });
});

describe("qemukit host check", () => {
  it("--json prints the report and exits 0 when a VM can run", () => {
    const run = runCli(["host", "check", "--json"]);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.canRunVm).toBe(true);
    expect(report.verdict.use).toMatch(/^(kvm|tcg)$/);
  });

  it("prints a table, and exits 1 when no qemu-system can be used", () => {
    const table = runCli(["host", "check", "--no-probe"]);
    expect(table.stdout).toMatch(/Verdict: use (kvm|tcg)\./);
    const none = runCli(["host", "check", "--qemu", "/nonexistent/qemu-system-x86_64"]);
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/no VM can run/);
  });
});
