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
    const since = Date.now();
    await qmp.executeRaw("stop");
    // STOP may arrive before stop's reply: waitFor called afterwards finds it with `since`.
    const stop = await qmp.waitFor("STOP", { since, timeout: 10_000 });
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
    const before = Date.now();
    await qmp.executeRaw("cont");
    await qmp.executeRaw("stop");
    // STOP comes before stop's reply, so it is history by now: ask for it with since.
    await qmp.waitFor("STOP", { since: before, timeout: 10_000 });
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
    const beforeReset = Date.now();
    await qmp.executeRaw("system_reset");
    const reset = await qmp.waitFor("RESET", {
      since: beforeReset,
      match: { guest: false, reason: "host-qmp-system-reset" },
      timeout: 10_000,
    });
    expect(reset.data.reason).toBe("host-qmp-system-reset");
    await expect(
      qmp.waitFor("RESET", { since: beforeReset, match: { guest: true }, timeout: 200 }),
    ).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("consumes a matched event: the same event is never returned twice, history only with since", async () => {
    const since = Date.now();
    await qmp.executeRaw("cont");
    await qmp.executeRaw("stop");
    const first = await qmp.waitFor("STOP", { since, timeout: 10_000 });
    // Same question again: the STOP it matched is consumed, so nothing old is returned.
    await expect(qmp.waitFor("STOP", { since, timeout: 300 })).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(qmp.history().find((h) => h.event === first)?.consumed).toBe(true);
    // Without since, history does not count at all (a RESUME came before this call).
    await expect(qmp.waitFor("RESUME", { timeout: 300 })).rejects.toMatchObject({ code: "TIMEOUT" });
    // Two waiters for one event: the first caller takes it, the second waits for the next one.
    const a = qmp.waitFor("RESUME", { timeout: 10_000 });
    const b = qmp.waitFor("RESUME", { timeout: 10_000 });
    let bDone = false;
    void b.then(
      () => (bDone = true),
      () => {},
    );
    await qmp.executeRaw("cont");
    const ea = await a;
    await qmp.executeRaw("stop");
    expect(bDone).toBe(false);
    await qmp.executeRaw("cont");
    const eb = await b;
    expect(eb).not.toBe(ea);
    expect(eb.timestamp.seconds * 1e6 + eb.timestamp.microseconds).toBeGreaterThan(
      ea.timestamp.seconds * 1e6 + ea.timestamp.microseconds,
    );
    await qmp.executeRaw("stop");
  });

  it("gives up a waitFor when its AbortSignal aborts, and the event then goes to the next waiter", async () => {
    const ac = new AbortController();
    const aborted = qmp.waitFor("RESUME", { signal: ac.signal, timeout: 10_000 });
    const other = qmp.waitFor("RESUME", { timeout: 10_000 });
    ac.abort(new Error("not needed"));
    await expect(aborted).rejects.toMatchObject({ code: "ABORTED", name: "AbortError" });
    await qmp.executeRaw("cont");
    expect((await other).event).toBe("RESUME");
    await qmp.executeRaw("stop");
    await expect(qmp.waitFor("STOP", { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
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
    const since = Date.now();
    await qmp.executeRaw("quit");
    const shutdown = await qmp.waitFor("SHUTDOWN", { since, timeout: 10_000 });
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
