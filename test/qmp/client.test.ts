import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../helpers/qmp-rejection.ts";
import { QmpClient, QmpCommandError, QmpConnectionError } from "../../sdk/qmp/mod.ts";
import { startTestQemu, type TestQemu } from "../helpers/qmp-qemu.ts";

describe("QmpClient against real QEMU (-machine none)", () => {
  let qemu: TestQemu;
  let qmp: QmpClient;
  beforeAll(async () => {
    qemu = startTestQemu();
    qmp = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
  });
  afterAll(async () => {
    await qmp?.close();
    await qemu?.stop();
  });

  it("reads the greeting, exposes the version and negotiates oob", async () => {
    const v = qmp.greeting.version.qemu;
    expect(qmp.qemuVersion).toBe(`${v.major}.${v.minor}.${v.micro}`);
    expect(v.major).toBeGreaterThanOrEqual(7);
    expect(qmp.greeting.capabilities).toContain("oob");
    expect(qmp.oobEnabled).toBe(true);
    const version = (await qmp.executeRaw("query-version")) as { qemu: typeof v };
    expect(version.qemu).toEqual(v);
  });

  it("runs typed queries and HMP", async () => {
    const status = await qmp.execute("query-status");
    expect(status.status).toBe("prelaunch");
    expect(status.running).toBe(false);
    expect(await qmp.hmp("info status")).toMatch(/paused \(prelaunch\)/);
  });

  it("executes out-of-band commands with exec-oob", async () => {
    const yanks = (await qmp.executeRaw("query-yank", undefined, { oob: true })) as unknown[];
    expect(Array.isArray(yanks)).toBe(true);
    await expect(qmp.executeRaw("query-status", undefined, { oob: true })).rejects.toMatchObject({
      errorClass: "GenericError",
    });
  });

  it("matches every reply of 10,000 concurrent commands to its command", async () => {
    // Different commands with different results, so a mismatched id would be visible.
    const names = ["qom-list", "query-status", "query-version", "query-name"] as const;
    const calls = Array.from({ length: 10_000 }, (_, i) => {
      const n = names[i % names.length]!;
      return qmp.executeRaw(n, n === "qom-list" ? { path: "/machine" } : undefined).then((r) => [n, r] as const);
    });
    const results = await Promise.all(calls);
    expect(results).toHaveLength(10_000);
    for (const [n, r] of results) {
      if (n === "qom-list") expect(Array.isArray(r)).toBe(true);
      else if (n === "query-status") expect(r).toMatchObject({ status: "prelaunch" });
      else if (n === "query-version") expect(r).toHaveProperty("qemu");
      else expect(r).toEqual({});
    }
  });

  it("keeps lone (id-less) and concurrent (id) commands, errors and oob replies matched", async () => {
    // A lone in-band command goes out without an id; mix it with errors, id-carrying
    // commands and an out-of-band command that QEMU may answer first.
    for (let round = 0; round < 20; round++) {
      const failing = rejection(qmp.executeRaw("device_add", { driver: "no-such-device" }));
      const status = qmp.execute("query-status");
      const yank = qmp.executeRaw("query-yank", undefined, { oob: true });
      const name = qmp.execute("query-name");
      expect((await failing).errorClass).toBe("GenericError");
      expect(await status).toMatchObject({ status: "prelaunch" });
      expect(Array.isArray(await yank)).toBe(true);
      expect(await name).toEqual({});
      const lone = await rejection(qmp.executeRaw("device_del", { id: "nothing-here" }));
      expect(lone.errorClass).toBe("DeviceNotFound");
      expect(await qmp.execute("query-version")).toHaveProperty("qemu");
    }
    expect(qmp.anomalies).toEqual([]);
  });

  it("round-trips integers beyond 2^53 exactly (null-co block node sizes)", async () => {
    const size = 2n ** 62n + 512n; // not representable as a double
    expect(BigInt(Number(size))).not.toBe(size);
    await qmp.executeRaw("blockdev-add", { driver: "null-co", "node-name": "big0", size });
    const nodes = (await qmp.executeRaw("query-named-block-nodes")) as {
      "node-name": string;
      image: { "virtual-size": number | bigint };
    }[];
    const node = nodes.find((n) => n["node-name"] === "big0")!;
    expect(node.image["virtual-size"]).toBe(size);
    await qmp.executeRaw("blockdev-del", { "node-name": "big0" });
  });

  it("names the QEMU version when a command does not exist", async () => {
    const err = await rejection(qmp.executeRaw("no-such-command"));
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err.code).toBe("QMP_COMMAND");
    expect(err.errorClass).toBe("CommandNotFound");
    expect(err.message).toContain(`QEMU ${qmp.qemuVersion}`);
    expect(await qmp.hasCommand("query-status")).toBe(true);
    expect(await qmp.hasCommand("no-such-command")).toBe(false);
    // With the schema cached the check is local: no round trip, same error.
    const local = await rejection(qmp.executeRaw("no-such-command-either"));
    expect(local.errorClass).toBe("CommandNotFound");
    expect(local.message).toContain(qmp.qemuVersion);
  });

  it("reports command errors with class and description", async () => {
    const err = await rejection(qmp.executeRaw("qom-get", { path: "/nowhere", property: "x" }));
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err.errorClass).toBe("DeviceNotFound");
    expect(err.desc).toContain("/nowhere");
    expect(err.command).toBe("qom-get");
  });

  it("serves a ~200 KB schema reply", async () => {
    const schema = await qmp.schema();
    expect(schema.filter((e) => e["meta-type"] === "command").length).toBeGreaterThan(150);
  });
});

describe("QmpClient connection lifecycle with real QEMU", () => {
  it("rejects every pending command at once when QEMU dies", async () => {
    const qemu = startTestQemu();
    try {
      const qmp = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
      const pending = Array.from({ length: 2000 }, () =>
        qmp.executeRaw("qom-list", { path: "/machine" }).then(
          () => "ok",
          (e) => e,
        ),
      );
      await new Promise((r) => setTimeout(r, 5));
      qemu.child.kill("SIGKILL");
      const results = await Promise.all(pending);
      const errors = results.filter((r) => r !== "ok");
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e).toBeInstanceOf(QmpConnectionError);
        expect(e.code).toBe("QMP_DISCONNECTED");
      }
      // All rejected with one and the same error object: at once, not one by one.
      expect(new Set(errors).size).toBe(1);
      await qmp.closed;
      await expect(qmp.executeRaw("query-status")).rejects.toMatchObject({ code: "QMP_DISCONNECTED" });
    } finally {
      await qemu.stop();
    }
  });

  it("retries while the socket does not exist yet, then connects (oob declined on request)", async () => {
    const qemu = startTestQemu();
    try {
      const qmp = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000, oob: false });
      expect(qmp.qemuVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(qmp.oobEnabled).toBe(false);
      await expect(qmp.executeRaw("query-yank", undefined, { oob: true })).rejects.toMatchObject({
        code: "QMP_COMMAND",
      });
      // Without oob QEMU takes one command at a time; replies still match (id-less and id).
      const calls = Array.from({ length: 200 }, (_, i) =>
        i % 3 === 0
          ? rejection(qmp.executeRaw("device_del", { id: `none${i}` })).then((e) => e.errorClass)
          : qmp.execute("query-status").then((r) => r.status),
      );
      const results = await Promise.all(calls);
      for (const [i, r] of results.entries()) expect(r).toBe(i % 3 === 0 ? "DeviceNotFound" : "prelaunch");
      await qmp.close();
      await qmp.close(); // idempotent
      await qmp.closed;
    } finally {
      await qemu.stop();
    }
  });

  it("fails with QMP_CONNECT when nothing listens", async () => {
    const err = await rejection(QmpClient.connect("/tmp/qk-no-such-dir/qmp.sock"));
    expect(err).toBeInstanceOf(QmpConnectionError);
    expect(err.code).toBe("QMP_CONNECT");
  });

  it("frames multi-line pretty=on output and works over TCP", async () => {
    const port = 20000 + (process.pid % 20000);
    const qemu = startTestQemu({
      extraArgs: [
        "-chardev",
        `socket,id=pm,host=127.0.0.1,port=${port},server=on,wait=off`,
        "-mon",
        "chardev=pm,mode=control,pretty=on",
      ],
    });
    try {
      const qmp = await QmpClient.connect({ host: "127.0.0.1", port }, { retryUntil: Date.now() + 10_000 });
      expect(await qmp.executeRaw("query-status")).toMatchObject({ status: "prelaunch" });
      const schema = await qmp.schema();
      expect(schema.length).toBeGreaterThan(500);
      expect(qmp.anomalies).toEqual([]);
      await qmp.close();
    } finally {
      await qemu.stop();
    }
  });
});
