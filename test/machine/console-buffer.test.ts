import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { Console } from "../../sdk/machine/console.ts";

/** A stand-in serial line: what the "guest" prints is pushed, what we type is collected. */
function line() {
  const typed: string[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      typed.push(chunk.toString());
      cb();
    },
  });
  return { stream, typed, print: (s: string) => stream.push(Buffer.from(s)) };
}

describe("Console buffer logic", () => {
  it("serves waiters in call order, each consuming up to its match", async () => {
    const l = line();
    const c = new Console(l.stream);
    const a = c.waitFor("one");
    const b = c.waitFor(/t(w)o/g); // g must not make matching stateful
    l.print("zero one two three");
    expect((await a).before).toBe("zero ");
    const m = await b;
    expect(m.match[1]).toBe("w");
    expect(m.before).toBe(" ");
    expect(c.pending).toBe(" three");
    await c.close();
  });

  it("decodes UTF-8 split across chunks", async () => {
    const l = line();
    const c = new Console(l.stream);
    const euro = Buffer.from("€");
    l.stream.push(euro.subarray(0, 1));
    l.stream.push(euro.subarray(1));
    await c.waitFor("€", { timeout: 1000 });
    expect(c.transcript).toBe("€");
    await c.close();
  });

  it("run() types one line with split markers and parses the status", async () => {
    const l = line();
    const c = new Console(l.stream);
    const r = c.run("ls /x", { nothrow: true });
    await new Promise((res) => setImmediate(res));
    const sent = l.typed.join("");
    expect(sent.split("\n").filter(Boolean)).toHaveLength(1);
    const id = /QK""(\w+)B/.exec(sent)![1];
    // The echo of the typed line must not count as the markers.
    l.print(sent.replace("\n", "\r\n"));
    l.print(`QK${id}B\r\nls: /x: No such file\r\nQK${id}E:2\r\n# `);
    expect(await r).toEqual({ output: "ls: /x: No such file\n", exitCode: 2 });
    await c.close();
  });

  it("a failing command rejects with its status and output; abort while queued skips it", async () => {
    const l = line();
    const c = new Console(l.stream);
    const r = c.run("false").catch((e: unknown) => e);
    const ac = new AbortController();
    const queued = c.run("never-typed", { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await queued).toMatchObject({ code: "ABORTED" });
    await new Promise((res) => setImmediate(res));
    const id = /QK""(\w+)B/.exec(l.typed.join(""))![1];
    l.print(`QK${id}B\r\noops\r\nQK${id}E:1\r\n# `);
    expect(await r).toMatchObject({ code: "GUEST_COMMAND", exitCode: 1, output: "oops\n", command: "false" });
    expect(l.typed.join("")).not.toContain("never-typed");
    await c.close();
  });

  it("rejects a pending waiter when the line closes, and send() afterwards", async () => {
    const l = line();
    const c = new Console(l.stream);
    const w = c.waitFor("never", { timeout: 5000 });
    l.stream.destroy();
    await expect(w).rejects.toMatchObject({ code: "CONSOLE_CLOSED" });
    await expect(c.send("x")).rejects.toMatchObject({ code: "CONSOLE_CLOSED" });
  });

  it("times out with the pending output in the error details", async () => {
    const l = line();
    const c = new Console(l.stream);
    l.print("boot noise");
    const err = await c.waitFor("login:", { timeout: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TIMEOUT", details: { pending: "boot noise" } });
    await c.close();
  });
});
