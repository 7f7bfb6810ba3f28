// The REPL started in-process from the TypeScript sources (the path launch.js falls back to
// when it cannot write its bundle), driven through streams rather than a terminal.
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReplHandle } from "../../repl/main.ts";
import { start } from "../../repl/start.ts";

let repl: ReplHandle;
const input = new PassThrough();
const output = new PassThrough();
let seen = "";
output.on("data", (d: Buffer) => {
  seen += d.toString();
});

/** Sends one line and waits for `expected` in what the REPL prints after it. */
async function line(text: string, expected: RegExp): Promise<string> {
  const from = seen.length;
  input.write(`${text}\n`);
  const deadline = Date.now() + 20_000;
  while (!expected.test(seen.slice(from))) {
    if (Date.now() > deadline) throw new Error(`no ${expected} after ${text}; got:\n${seen.slice(from)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return seen.slice(from);
}

beforeAll(async () => {
  repl = await start({ input, output, historyPath: null, exitProcess: false, banner: false });
  await repl.ready;
});

afterAll(async () => {
  repl.server.close();
  await repl.closed;
});

describe("REPL from source", () => {
  it("has the SDK, zx and the recipes in scope and evaluates TypeScript", async () => {
    expect(await line("const k: number = 21; k * 2", /42/)).toMatch(/42/);
    expect(await line("[typeof vm, typeof image, typeof guests, typeof $, typeof recipes]", /\]/)).toMatch(
      /\[ 'function', 'object', 'object', 'function', 'object' \]/,
    );
    expect(await line("vm().memory(300).toArgv().join(' ')", /'/)).toMatch(/-m 300/);
  });

  it("runs dot commands", async () => {
    expect(await line(".argv vm().smp(3)", /qemu-system/)).toMatch(/-smp 3/);
    expect(await line(".vms", /NAME|no running VMs/)).toMatch(/NAME\s+PID\s+STATE|no running VMs/);
    expect(await line(".run no-such-recipe", /no recipe/)).toMatch(/no recipe 'no-such-recipe'; known: .*create-disk/);
  });

  it(".web serves the session's VM on a local page and prints its URL", async () => {
    expect(await line(".web", /no VM started|VMs are running/)).toMatch(/no VM started in this session/);
    expect(await line(".web 42", /not a running VM/)).toMatch(/not a running VM: 42/);
    await line(`const w = await vm().name("repl-web-${process.pid}").memory(64).accel("tcg").start(); "up"`, /'up'/);
    const out = await line(".web", /http:\/\/\S+\//);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.exec(out)![1]!;
    expect(out).toContain(`repl-web-${process.pid}: ${url}`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await res.body?.cancel();
    // The same server while it is open, named by expression too.
    expect(await line(".web w", /http:\/\//)).toContain(url);
    await line(`await w.shutdown({ timeouts: { powerdown: 0 } }); "down"`, /'down'/);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);

  it("shows a qemukit error with its code and advice, and keeps going", async () => {
    const out = await line(`vm().memory("lots")`, /→/);
    expect(out).toMatch(/SpecError \[SPEC_\w+\]/);
    expect(await line("1 + 1", /2/)).toMatch(/2/);
  });
});
