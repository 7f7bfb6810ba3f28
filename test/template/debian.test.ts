/**
 * A template of the built-in Debian guest (systemd, GNU date, a disk): clones are isolated
 * from each other, get the right time, and leave the base image and the frozen layer as they
 * were. The template lives in the shared cache (made once, like the guest itself).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtInTemplate, type Template } from "../../sdk/template/mod.ts";
import { useTempRunRoot } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
let t: Template;

async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest("hex");
}

beforeAll(async () => {
  t = await builtInTemplate("debian");
}, 600_000);
afterAll(() => run.cleanup());

describe("a Debian template", () => {
  it("gives two clones their own disks and the right time; base and frozen layer are unchanged", async () => {
    const base = t.spec.disks[0]!.source;
    if (base.kind !== "overlay") throw new Error("the Debian template's disk is an overlay");
    const before = [await sha256(base.base), await sha256(t.frozenDisks[0]!)];
    const [a, b] = await Promise.all([t.start({ name: "deb-a" }), t.start({ name: "deb-b" })]);
    try {
      // Set by the clock helper (no process started in the clone): within a second of the host.
      expect(t.info.clockHelper).toBe(true);
      for (const m of [a, b]) {
        const from = Date.now();
        const guestNow = Number((await m.console.run("date +%s")).output.trim());
        expect(guestNow).toBeGreaterThanOrEqual(Math.floor(from / 1000) - 1);
        expect(guestNow).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      }
      await a.console.run("echo only-in-a > /root/mark && sync");
      expect((await a.console.run("cat /root/mark")).output).toBe("only-in-a\n");
      expect((await b.console.run("test -e /root/mark", { nothrow: true })).exitCode).toBe(1);
      // What clones share, as docs/templates.md says: hostname and machine-id.
      const ids = await Promise.all([a, b].map((m) => m.console.run("hostname; cat /etc/machine-id")));
      expect(ids[0]!.output).toBe(ids[1]!.output);
    } finally {
      await Promise.all([a.kill(), b.kill()]);
    }
    expect([await sha256(base.base), await sha256(t.frozenDisks[0]!)]).toEqual(before);
  }, 180_000);
});
