import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { QemukitError, type RunningVm } from "../../sdk/mod.ts";
import { QmpClient } from "../../sdk/qmp/mod.ts";
import { builtInTemplate } from "../../sdk/template/mod.ts";
import { startTestQemu, type TestQemu } from "../helpers/qmp-qemu.ts";
import { useTempRunRoot } from "../helpers/machine-fixtures.ts";
import { BEGIN, DOC, END, MISTAKES, renderTable, type MistakeContext } from "./mistakes.cases.ts";

const run = useTempRunRoot();
const dir = mkdtempSync(join(tmpdir(), "qk-mistakes-"));
const vms: RunningVm[] = [];
let qemu: TestQemu | undefined;
let qmp: Promise<QmpClient> | undefined;
let guest: Promise<RunningVm> | undefined;

const ctx: MistakeContext = {
  dir,
  track: (m) => {
    vms.push(m);
    return m;
  },
  qmp: () =>
    (qmp ??= (async () => {
      qemu = startTestQemu();
      return await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
    })()),
  guest: () =>
    (guest ??= (async () => {
      // A booted guest is all these cases need: a clone of the cached template (issue 19).
      const t = await builtInTemplate("tiny", { timeout: 120_000 });
      const m = await t.start({ name: "mistake-guest" });
      return ctx.track(m);
    })()),
};

afterAll(async () => {
  await Promise.all(vms.map((m) => m.kill()));
  await (await qmp?.catch(() => undefined))?.close();
  await qemu?.stop();
  rmSync(dir, { recursive: true, force: true });
  run.cleanup();
});

/** `pattern` with `…` for any text; whitespace runs compare equal. */
function matches(text: string, pattern: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim();
  const re = norm(pattern)
    .split("…")
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${re}$`).test(norm(text));
}

describe("docs/mistakes.md", () => {
  it("lists 20+ mistakes, its table rendered from the cases (npx tsx test/docs/mistakes.cases.ts --write)", () => {
    const doc = readFileSync(DOC, "utf8");
    const table = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim();
    expect(table).toBe(renderTable());
    expect(MISTAKES.filter((m) => m.trigger).length).toBeGreaterThanOrEqual(20);
    expect(
      MISTAKES.filter((m) => !m.trigger).map((m) => m.id),
      "rows without a trigger",
    ).toEqual([]);
    expect(new Set(MISTAKES.map((m) => m.id)).size).toBe(MISTAKES.length);
  });

  for (const m of MISTAKES.filter((x) => x.trigger)) {
    it(`${m.id}: ${m.mistake}`, async () => {
      const got = await m.trigger!(ctx);
      if (m.code === "-") {
        expect(typeof got).toBe("string");
        expect(matches(got as string, m.message), `got: ${got}`).toBe(true);
        return;
      }
      expect(got).toBeInstanceOf(QemukitError);
      const e = got as QemukitError;
      expect(e.code).toBe(m.code);
      const shown = e.advice ? `${e.summary} → ${e.advice}` : e.summary;
      expect(matches(shown, m.message), `got: ${shown}`).toBe(true);
    }, 180_000);
  }
});
