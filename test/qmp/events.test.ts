import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { QmpClient, type QmpEvent } from "../../sdk/qmp/mod.ts";
import { startTestQemu, type TestQemu } from "../helpers/qmp-qemu.ts";
import { until } from "../helpers/until.ts";

// Each test gets its own paused PC (no guest), so none depends on what another left behind
// and they pass alone, in any order.
describe("QMP events and screendump on a paused PC (no guest)", () => {
  let qemu: TestQemu;
  let qmp: QmpClient;
  beforeEach(async () => {
    qemu = startTestQemu({ machine: "pc" });
    qmp = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
  });
  afterEach(async () => {
    await qmp?.close();
    await qemu?.stop();
  });

  it("delivers RESUME and STOP to listeners, iterators and waitFor", async () => {
    const seen: string[] = [];
    const off = qmp.on("*", (e) => seen.push(e.event));
    const iter = qmp.events();
    const resumed = qmp.waitFor("RESUME", { timeout: 10_000 });
    await qmp.executeRaw("cont");
    const e = await resumed;
    expect(e.timestamp.seconds).toBeGreaterThan(0);
    expect((await qmp.executeRaw("query-status")) as { status: string }).toMatchObject({ status: "running" });
    await qmp.executeRaw("stop");
    // STOP may arrive before stop's reply: waitFor called afterwards still finds it in history.
    const stop = await qmp.waitFor("STOP", { timeout: 10_000 });
    expect(stop.event).toBe("STOP");
    const first = await iter.next();
    const second = await iter.next();
    expect([first.value?.event, second.value?.event]).toEqual(["RESUME", "STOP"]);
    await iter.return!();
    off();
    expect(seen).toEqual(["RESUME", "STOP"]);
  });

  it("filters history with since and matches partial data", async () => {
    // An old STOP in the history, then a clock tick so `since` is strictly after it.
    await qmp.executeRaw("cont");
    await qmp.executeRaw("stop");
    await qmp.waitFor("STOP", { timeout: 10_000 });
    const seenBy = Date.now();
    await until(() => Date.now() > seenBy, 1000, "the next millisecond");
    const since = Date.now();
    const later = qmp.waitFor("STOP", { since, timeout: 10_000 });
    let settled = false;
    void later.then(() => (settled = true));
    // A full round trip: had the history matched, `later` would have settled by now.
    await qmp.executeRaw("query-status");
    expect(settled).toBe(false); // the old STOP is older than `since`
    await qmp.executeRaw("cont");
    await qmp.executeRaw("stop");
    await later;
    await qmp.executeRaw("system_reset");
    const reset = await qmp.waitFor("RESET", { match: { guest: false, reason: "host-qmp-system-reset" }, timeout: 10_000 });
    expect(reset.data.reason).toBe("host-qmp-system-reset");
    await expect(qmp.waitFor("RESET", { match: { guest: true }, timeout: 200 })).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("takes a PNG screendump of the VGA", async () => {
    const file = join(qemu.dir, "screen.png");
    await qmp.executeRaw("screendump", { filename: file, format: "png" });
    const bytes = readFileSync(file);
    expect(statSync(file).size).toBeGreaterThan(100);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it("sees SHUTDOWN from quit, then the connection closes", async () => {
    const events: QmpEvent[] = [];
    qmp.on("SHUTDOWN", (e) => events.push(e));
    const iter = qmp.events();
    await qmp.executeRaw("quit");
    const shutdown = await qmp.waitFor("SHUTDOWN", { timeout: 10_000 });
    expect(shutdown.data).toMatchObject({ guest: false, reason: "host-qmp-quit" });
    expect(events).toEqual([shutdown]);
    await qmp.closed;
    expect(await qemu.exited).toBe(0);
    // The iterator yields what arrived, then ends with the connection.
    const rest: string[] = [];
    for await (const e of iter) rest.push(e.event);
    expect(rest).toContain("SHUTDOWN");
  });
});
