import { afterEach, describe, expect, it } from "vitest";
import { PassThrough, Duplex } from "node:stream";
import { rejection } from "../helpers/qmp-rejection.ts";
import { QmpClient, QmpConnectionError } from "../../sdk/qmp/mod.ts";
import { FAKE_GREETING, startFakeQmp, type FakeQmpServer } from "../helpers/qmp-fake-server.ts";

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
      c.send('{"return": {"ok": 1}, "id": ' + JSON.stringify(cmd.id) + "}\r\n");
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

  it("times out a single call without disturbing others", async () => {
    server = await startFakeQmp(async (c) => {
      await c.negotiate();
      await c.nextCommand(); // never answered
      const second = await c.nextCommand();
      c.send(`{"return": 2, "id": ${JSON.stringify(second.id)}}\r\n`);
    });
    const qmp = await QmpClient.connect(server.path);
    const slow = rejection(qmp.executeRaw("query-status", undefined, { timeout: 100 }));
    const fast = qmp.executeRaw("query-status");
    expect(await fast).toBe(2);
    const e = await slow;
    expect(e.code).toBe("TIMEOUT");
    await qmp.close();
  });

  it("works over any duplex stream", async () => {
    const toClient = new PassThrough();
    const fromClient = new PassThrough();
    const duplex = Duplex.from({ readable: toClient, writable: fromClient });
    fromClient.on("data", (c: Buffer) => {
      for (const line of c.toString().split("\n").filter(Boolean)) {
        const cmd = JSON.parse(line);
        toClient.write(`{"return": {"echo": ${JSON.stringify(cmd.execute)}}, "id": ${JSON.stringify(cmd.id)}}\r\n`);
      }
    });
    toClient.write(FAKE_GREETING);
    const qmp = await QmpClient.connect(duplex);
    expect(await qmp.executeRaw("whatever")).toEqual({ echo: "whatever" });
    await qmp.close();
  });
});
