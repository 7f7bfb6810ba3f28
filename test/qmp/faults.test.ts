import { afterEach, describe, expect, it, vi } from "vitest";
import { PassThrough, Duplex } from "node:stream";
import { rejection } from "../helpers/qmp-rejection.ts";
import { QmpClient, QmpConnectionError, QmpProtocolError } from "../../sdk/qmp/mod.ts";
import { FAKE_GREETING, replyTo, startFakeQmp, type FakeQmpServer } from "../helpers/qmp-fake-server.ts";

let server: FakeQmpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("QmpClient fault handling (scripted fake server)", () => {
  it("fails with QMP_CONNECT, not a hang, when no greeting comes", async () => {
    server = await startFakeQmp(() => {});
    const t = Date.now();
    const err = await rejection(QmpClient.connect(server.path, { timeout: 300 }));
    expect(err).toBeInstanceOf(QmpConnectionError);
    expect(err.code).toBe("QMP_CONNECT");
    expect(err.message).toMatch(/greeting/);
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it("fails with QMP_CONNECT when garbage comes instead of a greeting", async () => {
    server = await startFakeQmp((c) => c.send("login: \r\n"));
    const err = await rejection(QmpClient.connect(server.path, { timeout: 5000 }));
    expect(err.code).toBe("QMP_CONNECT");
    expect(err.message).toContain("login:");
  });

  it("fails with QMP_CONNECT when the server hangs up before greeting", async () => {
    server = await startFakeQmp((c) => {
      c.socket.destroy();
    });
    const err = await rejection(QmpClient.connect(server.path, { timeout: 5000 }));
    expect(err.code).toBe("QMP_CONNECT");
  });

  it("tolerates garbage lines and replies with unknown ids after negotiation", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      const cmd = await c.nextCommand();
      c.send("this is not json\r\n");
      c.send('{"return": {"stray": true}, "id": 987654}\r\n');
      c.send(replyTo(cmd, '"return": {"ok": 1}'));
    });
    const qmp = await QmpClient.connect(server.path);
    expect(await qmp.executeRaw("query-status")).toEqual({ ok: 1 });
    expect(qmp.anomalies.map((a) => a.kind)).toEqual(["garbage", "unknown-id"]);
    await qmp.close();
  });

  it("rejects all pending with QMP_DISCONNECTED when the server disconnects mid-reply", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      await c.nextCommand();
      await c.nextCommand();
      c.send('{"return": {"status": "runn');
      setTimeout(() => c.socket.destroy(), 20);
    });
    const qmp = await QmpClient.connect(server.path);
    const a = rejection(qmp.executeRaw("query-status"));
    const b = rejection(qmp.executeRaw("query-status"));
    const w = rejection(qmp.waitFor("STOP"));
    const [ea, eb, ew] = await Promise.all([a, b, w]);
    for (const e of [ea, eb, ew]) {
      expect(e).toBeInstanceOf(QmpConnectionError);
      expect(e.code).toBe("QMP_DISCONNECTED");
    }
    expect(ea.message).toMatch(/middle of a message/);
    await qmp.closed;
  });

  it("times out a single call without disturbing others, and drops its late reply", async () => {
    let answer!: () => void;
    const timedOut = new Promise<void>((r) => (answer = r));
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      const first = await c.nextCommand();
      const second = await c.nextCommand();
      await timedOut;
      // In order, as QEMU answers in-band commands: the late reply first.
      c.send(replyTo(first, '"return": 1'));
      c.send(replyTo(second, '"return": 2'));
    });
    const qmp = await QmpClient.connect(server.path);
    const slow = rejection(qmp.executeRaw("query-status", undefined, { timeout: 100 }));
    const fast = qmp.executeRaw("query-status");
    const e = await slow;
    expect(e.code).toBe("TIMEOUT");
    answer();
    expect(await fast).toBe(2);
    expect(qmp.anomalies).toEqual([]);
    await qmp.close();
  });

  it("times out commands on the connection's default commandTimeout, oldest first, and drops their late replies", async () => {
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      const a = await c.nextCommand();
      const b = await c.nextCommand();
      await late;
      c.send(replyTo(a, '"return": "a-late"'));
      c.send(replyTo(b, '"return": "b-late"'));
      const next = await c.nextCommand();
      c.send(replyTo(next, '"return": "c"'));
    });
    const qmp = await QmpClient.connect(server.path, { commandTimeout: 150 });
    const t0 = Date.now();
    const order: string[] = [];
    const a = rejection(qmp.executeRaw("query-status").finally(() => order.push("a")));
    await new Promise((r) => setTimeout(r, 60));
    const b = rejection(qmp.executeRaw("query-name").finally(() => order.push("b")));
    const [ea, eb] = await Promise.all([a, b]);
    expect([ea.code, eb.code]).toEqual(["TIMEOUT", "TIMEOUT"]);
    expect(ea.message).toContain("query-status");
    expect(eb.message).toContain("query-name");
    expect(order).toEqual(["a", "b"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    release();
    expect(await qmp.executeRaw("query-version")).toBe("c");
    expect(qmp.anomalies).toEqual([]);
    await qmp.close();
  });

  it("an in-band command whose reply QEMU skipped rejects with QMP_PROTOCOL instead of hanging", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      const a = await c.nextCommand();
      await c.nextCommand(); // b: never answered (as if its reply had been lost)
      const cc = await c.nextCommand();
      c.send(replyTo(a, '"return": "a"'));
      c.send(replyTo(cc, '"return": "c"'));
    });
    const qmp = await QmpClient.connect(server.path, { commandTimeout: 0 });
    const a = qmp.executeRaw("query-status");
    const b = rejection(qmp.executeRaw("query-name"));
    const c = qmp.executeRaw("query-version");
    expect(await a).toBe("a");
    expect(await c).toBe("c");
    const e = await b;
    expect(e).toBeInstanceOf(QmpProtocolError);
    expect(e.code).toBe("QMP_PROTOCOL");
    await qmp.close();
  });

  it("sends a lone in-band command without an id and ids for the ones sent while it is owed a reply", async () => {
    let wire = "";
    server = await startFakeQmp(async (c) => {
      c.socket.on("data", (b) => (wire += b.toString()));
      await c.negotiate();
      const first = await c.nextCommand();
      const second = await c.nextCommand();
      const oob = await c.nextCommand();
      // QEMU answers out-of-band commands at once, in-band ones in order.
      c.send(replyTo(oob, '"return": "oob"'));
      c.send(replyTo(first, '"return": 1'));
      c.send(replyTo(second, '"return": 2'));
      const third = await c.nextCommand();
      c.send(replyTo(third, '"error": {"class": "GenericError", "desc": "nope"}'));
    });
    const qmp = await QmpClient.connect(server.path);
    const a = qmp.executeRaw("query-status");
    const b = qmp.executeRaw("query-name", { x: 1 });
    const o = qmp.executeRaw("query-yank", undefined, { oob: true });
    expect(await Promise.all([a, b, o])).toEqual([1, 2, "oob"]);
    const e = await rejection(qmp.executeRaw("stop"));
    expect(e.code).toBe("QMP_COMMAND");
    expect(e.message).toContain("nope");
    expect(wire.split("\n").filter(Boolean).slice(1)).toEqual([
      '{"execute":"query-status"}',
      '{"execute":"query-name","arguments":{"x":1},"id":1}',
      '{"exec-oob":"query-yank","id":2}',
      '{"execute":"stop"}',
    ]);
    expect(qmp.anomalies).toEqual([]);
    await qmp.close();
  });

  it("does not take the late reply of a timed-out id-less command for a later command's", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      const slow = await c.nextCommand();
      const next = await c.nextCommand(); // sent after `slow` timed out
      c.send(replyTo(slow, '"return": "late"'));
      c.send(replyTo(next, '"return": "mine"'));
      const after = await c.nextCommand();
      c.send(replyTo(after, '"return": "after"'));
    });
    const qmp = await QmpClient.connect(server.path);
    const e = await rejection(qmp.executeRaw("query-status", undefined, { timeout: 100 }));
    expect(e.code).toBe("TIMEOUT");
    expect(await qmp.executeRaw("query-status")).toBe("mine");
    // The slot is free again once the late reply came: the next lone command goes bare.
    expect(await qmp.executeRaw("query-status")).toBe("after");
    expect(qmp.anomalies).toEqual([]);
    await qmp.close();
  });

  it("records an id-less reply that no command is owed as an anomaly", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      c.send('{"return": {"stray": true}}\r\n');
      const cmd = await c.nextCommand();
      c.send(replyTo(cmd, '"return": 7'));
    });
    const qmp = await QmpClient.connect(server.path);
    // The stray must be read before the command goes out, or it would be that command's reply.
    await vi.waitFor(() => expect(qmp.anomalies).toHaveLength(1));
    expect(await qmp.executeRaw("query-status")).toBe(7);
    expect(qmp.anomalies.map((a) => a.kind)).toEqual(["unexpected"]);
    await qmp.close();
  });

  it("works over any duplex stream", async () => {
    const toClient = new PassThrough();
    const fromClient = new PassThrough();
    const duplex = Duplex.from({ readable: toClient, writable: fromClient });
    fromClient.on("data", (c: Buffer) => {
      for (const line of c.toString().split("\n").filter(Boolean)) {
        const cmd = JSON.parse(line);
        toClient.write(replyTo(cmd, `"return": {"echo": ${JSON.stringify(cmd.execute)}}`));
      }
    });
    toClient.write(FAKE_GREETING);
    const qmp = await QmpClient.connect(duplex);
    expect(await qmp.executeRaw("whatever")).toEqual({ echo: "whatever" });
    await qmp.close();
  });

  it("resolves close() only once the connection is gone, even when the peer never hangs up", async () => {
    // Until the socket is destroyed this process still holds the monitor: an attach() right
    // after close() would find the VM busy, held by itself.
    const toClient = new PassThrough();
    const fromClient = new PassThrough();
    const duplex = Duplex.from({ readable: toClient, writable: fromClient });
    fromClient.on("data", (c: Buffer) => {
      for (const line of c.toString().split("\n").filter(Boolean))
        toClient.write(replyTo(JSON.parse(line), '"return": {}'));
    });
    toClient.write(FAKE_GREETING);
    const qmp = await QmpClient.connect(duplex);
    await qmp.close();
    expect(duplex.destroyed).toBe(true);
  });
});
