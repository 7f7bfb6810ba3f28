import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "../helpers/qmp-rejection.ts";
import {
  QmpArgumentsError,
  QmpClient,
  QmpCommandError,
  QmpConnectionError,
  QmpProtocolError,
} from "../../sdk/qmp/mod.ts";
import { qmpArgumentsProblem } from "../../sdk/qmp/limits.ts";
import { AbortError, TimeoutError } from "../../sdk/errors/errors.ts";
import { startTestQemu, type TestQemu } from "../helpers/qmp-qemu.ts";

/** `{"z": [[[...]]]}` with `n` nested arrays: depth n + 2 inside a request. */
const nested = (n: number) => ({ path: "/machine", property: "type", z: JSON.parse("[".repeat(n) + "]".repeat(n)) });

const typed = (e: unknown) =>
  e instanceof QmpCommandError ||
  e instanceof QmpArgumentsError ||
  e instanceof QmpProtocolError ||
  e instanceof QmpConnectionError ||
  e instanceof TimeoutError;

async function connect(qemu: TestQemu, checkArguments = true): Promise<QmpClient> {
  return await QmpClient.connect(qemu.socket, {
    retryUntil: Date.now() + 10_000,
    checkArguments,
    commandTimeout: 30_000,
  });
}

describe("QMP replies never reach the wrong caller (real QEMU)", () => {
  let qemu: TestQemu;
  let qmp: QmpClient;
  beforeAll(async () => {
    qemu = startTestQemu();
    qmp = await connect(qemu);
  });
  afterAll(async () => {
    await qmp?.close();
    await qemu?.stop();
  });

  it("the issue's reproducer: A id-less in flight, B with an id and 1,100-deep nesting, then C", async () => {
    const a = qmp.execute("query-status");
    const b = rejection(qmp.executeRaw("qom-get", nested(1100)));
    expect(await a).toMatchObject({ status: "prelaunch" });
    const c = await rejection(qmp.executeRaw("device_del", { id: "c-own-error" }));
    const eb = await b;
    expect(eb).toBeInstanceOf(QmpArgumentsError);
    expect(eb.code).toBe("QMP_ARGUMENTS");
    expect(eb.reason).toMatch(/nesting depth 1102 .* limit of 1024/);
    expect(c).toBeInstanceOf(QmpCommandError);
    expect(c.desc).toContain("c-own-error");
    expect(await qmp.execute("query-name")).toEqual({});
    expect(qmp.anomalies).toEqual([]);
  });

  it("refuses exactly what QEMU's parser refuses: depth 1024 is sent and answered, 1025 is not sent", async () => {
    // qom-get rejects the extra member, with the request's id: the request was parsed.
    const atLimit = await rejection(qmp.executeRaw("qom-get", nested(1022)));
    expect(atLimit).toBeInstanceOf(QmpCommandError);
    expect(atLimit.desc).toMatch(/Parameter 'z' is unexpected/);
    expect(await rejection(qmp.executeRaw("qom-get", nested(1023)))).toBeInstanceOf(QmpArgumentsError);
    const tokens = await rejection(
      qmp.executeRaw("qom-get", { path: "/", property: "x", z: new Array(2 ** 21).fill(0) }),
    );
    expect(tokens.reason).toMatch(/tokens, over QEMU's limit/);
    expect(qmp.anomalies).toEqual([]);
  });

  it("suggests the nearest command names for an unknown command", async () => {
    const e = await rejection(qmp.executeRaw("query-stauts"));
    expect(e).toBeInstanceOf(QmpCommandError);
    expect(e.errorClass).toBe("CommandNotFound");
    expect(e.message).toContain("did you mean query-status");
    expect(e.details.suggestions).toContain("query-status");
    expect((await rejection(qmp.executeRaw("xyzzy-plugh"))).message).toMatch(/none with a similar name/);
  });

  it("aborts a command in flight with AbortError and drops its late reply", async () => {
    const ac = new AbortController();
    const aborted = rejection(qmp.executeRaw("qom-list", { path: "/machine" }, { signal: ac.signal }));
    const next = qmp.execute("query-name");
    ac.abort();
    const e = await aborted;
    expect(e).toBeInstanceOf(AbortError);
    expect(e.code).toBe("ABORTED");
    expect(await next).toEqual({});
    expect(await qmp.execute("query-status")).toMatchObject({ status: "prelaunch" });
    await expect(qmp.execute("query-status", undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(qmp.anomalies).toEqual([]);
  });

  it("randomized: lone, id, oob, failing, malformed and huge commands each get their own reply or a typed error", async () => {
    const seed = Number(process.env.QMP_ROUTING_SEED ?? Date.now() % 100_000);
    let state = seed;
    const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes: Promise<string>[] = [];
    let n = 0;
    for (let round = 0; round < 60; round++) {
      const burst = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < burst; k++) outcomes.push(randomCall(qmp, rand(), n++));
      // Sometimes wait for the burst: the next command then goes out alone, without an id.
      if (rand() < 0.5) await Promise.all(outcomes.slice(-burst));
    }
    const results = await Promise.all(outcomes);
    expect(
      results.filter((r) => r !== "ok"),
      `seed ${seed}`,
    ).toEqual([]);
    expect(qmp.anomalies, `seed ${seed}`).toEqual([]);
  }, 120_000);
});

/**
 * One random command; resolves "ok" when it got its own reply (or the typed error it must
 * get), else a description of what went wrong. Unique names inside failing commands make a
 * misrouted error visible: its text names another caller.
 */
async function randomCall(qmp: QmpClient, r: number, i: number, checked = true): Promise<string> {
  const tag = `r${i}`;
  // Without the client's check, QEMU's id-less parse errors may cost innocent bystanders a
  // QMP_PROTOCOL rejection; what must never happen is another caller's reply.
  const bystander = (e: unknown) => !checked && e instanceof QmpProtocolError;
  const check = async (p: Promise<unknown>, ok: (v: unknown) => boolean, bad: (e: any) => boolean): Promise<string> => {
    try {
      const v = await p;
      return ok(v) ? "ok" : `${tag}: wrong reply ${JSON.stringify(v).slice(0, 100)}`;
    } catch (e) {
      return bad(e) || bystander(e)
        ? "ok"
        : `${tag}: unexpected ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`;
    }
  };
  const never = () => false;
  if (r < 0.2) return check(qmp.execute("query-status"), (v: any) => v.status === "prelaunch", never);
  if (r < 0.35) return check(qmp.execute("qom-list", { path: "/machine" }), Array.isArray, never);
  if (r < 0.45) return check(qmp.executeRaw("query-yank", undefined, { oob: true }), Array.isArray, never);
  if (r < 0.7) {
    return check(
      qmp.executeRaw("device_del", { id: tag }),
      never,
      (e) => e instanceof QmpCommandError && e.desc.includes(`'${tag}'`),
    );
  }
  if (r < 0.85) {
    // Unchecked, only malformations that cost QEMU one error each (deep nesting can abort QEMU 7.2).
    const bad = checked
      ? [{ id: `${tag}\udc00` }, { id: `${tag}\ufffe` }, nested(1100), { id: `\ud800${tag}` }][i % 4]!
      : [{ id: `${tag}\udc00` }, { id: `${tag}\ufffe` }, { id: `\ud800${tag}` }][i % 3]!;
    return check(
      qmp.executeRaw("device_del", bad),
      never,
      (e) => e instanceof (checked ? QmpArgumentsError : QmpProtocolError),
    );
  }
  // Huge but valid: 20 KB of name (QEMU reads ~10 us per byte), echoed back in the error.
  const big = `${tag}-${"x".repeat(20_000)}`;
  return check(
    qmp.executeRaw("device_del", { id: big }),
    never,
    (e) => e instanceof QmpCommandError && e.desc.includes(big),
  );
}

describe("QMP protocol faults when QEMU cannot parse a request (checkArguments off, real QEMU)", () => {
  let qemu: TestQemu;
  let qmp: QmpClient;
  beforeAll(async () => {
    qemu = startTestQemu();
    qmp = await connect(qemu, false);
  });
  afterAll(async () => {
    await qmp?.close();
    await qemu?.stop();
  });

  it("the client's check agrees with QEMU's parser, string by string", async () => {
    const samples = [
      "plain",
      "\u0000",
      "\x7f",
      "\u0085",
      "😀",
      "\ufdcf",
      "\ufdd0",
      "\ufdef",
      "\ufdf0",
      "\ufffd",
      "\ufffe",
      "\uffff",
      "\u{1fffe}",
      "\u{1ffff}",
      "\u{10fffd}",
      "\u{10ffff}",
      "\ud800",
      "\udbff",
      "\udc00",
      "\udfff",
      "a\ud83d",
      "\ude00b",
    ];
    for (const s of samples) {
      const predicted = qmpArgumentsProblem(JSON.stringify({ id: s })) === undefined;
      const e = await rejection(qmp.executeRaw("device_del", { id: s }));
      // Parsed: QEMU answers DeviceNotFound for this caller; refused: an id-less parse error.
      const parsed = e instanceof QmpCommandError;
      if (!parsed) expect(e).toBeInstanceOf(QmpProtocolError);
      expect([JSON.stringify(s), parsed]).toEqual([JSON.stringify(s), predicted]);
    }
  });

  it("an id-less parse error goes to the command that caused it, never to the next lone command", async () => {
    const a = qmp.execute("query-status");
    const b = rejection(qmp.executeRaw("device_del", { id: "b\udc00" }));
    expect(await a).toMatchObject({ status: "prelaunch" });
    const c = await rejection(qmp.executeRaw("device_del", { id: "c-own-error" }));
    const eb = await b;
    expect(eb).toBeInstanceOf(QmpProtocolError);
    expect(eb.code).toBe("QMP_PROTOCOL");
    expect(eb.qemuError).toMatch(/is not a valid Unicode character/);
    expect(c).toBeInstanceOf(QmpCommandError);
    expect(c.desc).toContain("c-own-error");
  });

  it("randomized, unchecked: malformed requests reach QEMU, still nobody gets another caller's reply", async () => {
    const seed = Number(process.env.QMP_ROUTING_SEED ?? Date.now() % 100_000);
    let state = seed;
    const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes: Promise<string>[] = [];
    let n = 0;
    for (let round = 0; round < 60; round++) {
      const burst = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < burst; k++) outcomes.push(randomCall(qmp, rand(), n++, false));
      if (rand() < 0.5) await Promise.all(outcomes.slice(-burst));
    }
    const results = await Promise.all(outcomes);
    expect(
      results.filter((r) => r !== "ok"),
      `seed ${seed}`,
    ).toEqual([]);
    // Still in step afterwards: a lone command gets its own reply.
    expect(await qmp.execute("query-status")).toMatchObject({ status: "prelaunch" });
  }, 120_000);

  it("the issue's reproducer with the check off: every caller still gets its own reply or a typed error", async () => {
    // QEMU 7.2 answers 1,100-deep nesting with hundreds of id-less errors, and may abort
    // on an assertion: either way no caller gets another's reply or hangs.
    const a = qmp.execute("query-status").then(
      (v) => v.status,
      (e) => e,
    );
    const b = rejection(qmp.executeRaw("qom-get", nested(1100)));
    const c = qmp.executeRaw("device_del", { id: "c-after" }).then(
      () => "resolved?",
      (e) => e,
    );
    const [ra, eb, rc] = await Promise.all([a, b, c]);
    expect(ra === "prelaunch" || ra instanceof QmpConnectionError).toBe(true);
    expect(typed(eb)).toBe(true);
    expect(eb instanceof QmpProtocolError || eb instanceof QmpConnectionError).toBe(true);
    if (rc instanceof QmpCommandError) expect(rc.desc).toContain("c-after");
    else expect(typed(rc)).toBe(true);
  }, 60_000);
});
