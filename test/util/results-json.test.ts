/**
 * Every result of a public operation survives JSON.stringify (docs/architecture.md,
 * "Results are plain data"): sizes are numbers, nothing is a bigint, Map or class. Real
 * qemu-img, QEMU, gpgv and the cached guests, since the results are what they report.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromCommandLine } from "../../sdk/compile/mod.ts";
import { guests } from "../../sdk/guests/mod.ts";
import { host } from "../../sdk/host/mod.ts";
import { image } from "../../sdk/img/mod.ts";
import { list, startVm } from "../../sdk/machine/mod.ts";
import { vm } from "../../sdk/spec/mod.ts";
import { builtInTemplate } from "../../sdk/template/mod.ts";
import { verify } from "../../sdk/verify/mod.ts";
import { expectJsonRoundTrip, jsonShape } from "../helpers/json-roundtrip.ts";
import { makeQcow2, qemuIo } from "../helpers/img-fixtures.ts";
import { bareSpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
const dir = mkdtempSync("/tmp/qk-json-");
afterAll(() => {
  run.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("the round-trip check itself", () => {
  it("fails on what JSON cannot carry, and passes Dates as ISO strings", () => {
    expect(() => JSON.stringify({ size: 1n })).toThrow(TypeError);
    expect(() => jsonShape({ a: [new Map()] })).toThrow("result.a[0] is a Map");
    expect(() => jsonShape({ prompt: /x/ })).toThrow("result.prompt is a RegExp");
    expect(() => jsonShape({ n: NaN })).toThrow("result.n is NaN");
    expect(() => jsonShape({ f: () => 1 })).toThrow("result.f is a function");
    expectJsonRoundTrip({ date: new Date(0), skipped: undefined, list: [1, "x", null] });
  });
});

describe("image.* results", () => {
  let base: string;
  let top: string;
  beforeAll(async () => {
    base = makeQcow2(join(dir, "base.qcow2"), "64M", { byte: 1, length: "1M" });
    top = join(dir, "top.qcow2");
    expectJsonRoundTrip(await image.overlay(base, top, { baseFormat: "qcow2" }));
    qemuIo(top, "qcow2", "write -P 2 2M 64k");
  });

  it("create, info (with a chain and a snapshot), snapshot list", async () => {
    expectJsonRoundTrip(await image.create(join(dir, "new.qcow2"), "1G"));
    expectJsonRoundTrip(await image.snapshot.create(top, "s1", { format: "qcow2" }));
    const info = await image.info(top, { format: "qcow2", backingChain: true });
    expect(info.snapshots).toHaveLength(1);
    expect(info.backing?.virtualSize).toBe(64 * 1024 * 1024);
    expectJsonRoundTrip(info);
    expectJsonRoundTrip(await image.snapshot.list(top, { format: "qcow2" }));
  });

  it("convert, check, measure, map, compare, du, resize", async () => {
    expectJsonRoundTrip(await image.convert(top, join(dir, "flat.qcow2"), { format: "qcow2", sourceFormat: "qcow2" }));
    expectJsonRoundTrip(await image.check(top, { format: "qcow2" }));
    expectJsonRoundTrip(await image.measure(top, { sourceFormat: "qcow2" }));
    expectJsonRoundTrip(await image.measure({ size: "8T" }, { format: "qcow2" }));
    expectJsonRoundTrip(await image.map(top, { format: "qcow2" }));
    expectJsonRoundTrip(await image.compare(top, base, { formatA: "qcow2", formatB: "qcow2" }));
    expectJsonRoundTrip(await image.du(top, { backingChain: true, format: "qcow2" }));
    expectJsonRoundTrip(await image.resize(join(dir, "new.qcow2"), "+1G", { format: "qcow2" }));
    expectJsonRoundTrip(await image.detectFormat(top));
  });
});

describe("host, verify, guests, fromCommandLine", () => {
  it("host.check(), host.facts(), host.probe(), host.resolveAccel(), host.verdict()", async () => {
    expectJsonRoundTrip(await host.check());
    expectJsonRoundTrip(await host.facts());
    expectJsonRoundTrip(await host.probe("tcg"));
    expectJsonRoundTrip(await host.resolveAccel("auto"));
    expectJsonRoundTrip(await host.verdict());
  }, 120_000);

  it("verify.checksums and verify.signature on the installer guest's files", async () => {
    const g = await guests.installer();
    expectJsonRoundTrip(g);
    expectJsonRoundTrip(await verify.checksums(g.sha512sums));
    expectJsonRoundTrip(await verify.signature({ file: g.sha512sums, signature: g.signature, keyring: g.publicKey }));
    const sums = join(dir, "SHA256SUMS");
    writeFileSync(join(dir, "x"), "x\n");
    writeFileSync(sums, `${"0".repeat(64)}  x\n`);
    expectJsonRoundTrip(await verify.checksums(sums, { reject: false }));
  }, 600_000);

  it("guest builds and the guest list", async () => {
    expectJsonRoundTrip(await guests.tiny());
    expectJsonRoundTrip(await guests.debian());
    expectJsonRoundTrip(await guests.list());
  }, 1_200_000);

  it("fromCommandLine's findings (the builder is a class; its spec is plain data)", () => {
    const { builder, ...rest } = fromCommandLine("sudo kvm -m 512 -hda d.qcow2 -vnc :1 -usb");
    expect(rest.warnings).toHaveLength(1);
    expectJsonRoundTrip(rest);
    expectJsonRoundTrip(builder.spec);
  });
});

describe("a running VM's results", () => {
  it("accel, VNC, threads, internal snapshots, list(), console.run, the exit", async () => {
    const disk = makeQcow2(join(dir, "vm.qcow2"), "16M");
    const m = await startVm(
      bareSpec({
        name: "json1",
        disks: vm().disk({ path: disk, format: "qcow2" }).spec.disks,
        vnc: { display: 47, listen: "127.0.0.1", websocket: false, password: false },
      }),
    );
    try {
      expectJsonRoundTrip(m.accel);
      expectJsonRoundTrip(m.vnc);
      expectJsonRoundTrip(await m.threads());
      await m.snapshots.save("s1");
      const snaps = await m.snapshots.list();
      expect(snaps.map((s) => s.tag)).toEqual(["s1"]);
      expectJsonRoundTrip(snaps);
      const listed = await list();
      expect(listed.map((v) => v.name)).toContain("json1");
      expectJsonRoundTrip(listed);
    } finally {
      expectJsonRoundTrip(await m.kill());
    }
  }, 120_000);

  it("console.run and a guest shutdown", async () => {
    // A booted guest is all this needs: a clone of the cached template (issue 19), not a boot.
    const m = await (await builtInTemplate("tiny", { timeout: 240_000 })).start({ name: "json2" });
    try {
      const r = await m.console.run("echo hi", { timeout: 60_000 });
      expect(r).toEqual({ output: "hi\n", exitCode: 0 });
      expectJsonRoundTrip(r);
    } finally {
      expectJsonRoundTrip(await m.shutdown());
    }
  }, 300_000);
});
