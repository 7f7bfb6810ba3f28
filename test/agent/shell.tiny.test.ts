/**
 * `m.$` without a guest agent: the tiny guest (busybox, no qemu-ga) through the serial
 * console, where stdout and stderr arrive merged. And a VM with an agent channel but no
 * agent behind it: AGENT_NOT_RESPONDING once the handshake gives up. Both guests are clones
 * of cached templates (issue 19): these tests need a booted guest, not a boot.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentError } from "../../sdk/agent/errors.ts";
import { GuestProcessError } from "../../sdk/agent/output.ts";
import { AbortError, TimeoutError } from "../../sdk/errors/errors.ts";
import type { RunningVm } from "../../sdk/machine/running-vm.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { builtInTemplate, template } from "../../sdk/template/mod.ts";
import { tinySpec, useTempRunRoot } from "../helpers/machine-fixtures.ts";

const runRoot = useTempRunRoot();
let m: RunningVm;

beforeAll(async () => {
  const { spec, prompt } = await tinySpec({ agent: true });
  m = await (await template(spec, { ready: Wait.forConsole(prompt, { timeout: 180_000 }) })).start();
}, 240_000);

afterAll(async () => {
  await m?.kill();
  runRoot.cleanup();
});

describe("an agent channel with no qemu-ga behind it", () => {
  it("a channel without qemu-ga behind it: AGENT_NOT_RESPONDING", async () => {
    const e = await m.agent({ timeout: 3000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe("AGENT_NOT_RESPONDING");
  }, 30_000);
});

describe("the serial console transport", () => {
  let c: RunningVm;
  beforeAll(async () => {
    c = await (await builtInTemplate("tiny", { timeout: 180_000 })).start();
  }, 240_000);
  afterAll(async () => {
    await c?.kill();
  });

  it("has no agent: AGENT_UNAVAILABLE, and m.$ uses the console", async () => {
    expect(c.hasAgent).toBe(false);
    const e = await c.agent().catch((x: unknown) => x);
    expect((e as AgentError).code).toBe("AGENT_UNAVAILABLE");
    expect((await c.$`echo hi`).transport).toBe("console");
  });

  it("quotes like the agent path: spaces, quotes, $(...), newlines, unicode", async () => {
    const values = ["a b", "it's", 'say "hi"', "$(touch /tmp/pwned)", "two\nlines", "ünï 日本", ""];
    const r = await c.$`printf '[%s]\n' ${values}`;
    expect(r.stdout).toBe(values.map((v) => `[${v}]\n`).join(""));
    expect((await c.$`test -e /tmp/pwned`.nothrow()).exitCode).toBe(1);
  });

  it("exit status through the markers; stderr merged into stdout", async () => {
    const e = await c.$`echo out; echo err >&2; exit 4`.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GuestProcessError);
    expect((e as GuestProcessError).exitCode).toBe(4);
    expect((e as GuestProcessError).stdout).toBe("out\nerr\n");
    expect((e as GuestProcessError).stderr).toBe("");
    expect((await c.$`exit 2`.nothrow()).exitCode).toBe(2);
  });

  it("streams stdout as the guest prints it (onStdout): the command waits for what the first line triggers", async () => {
    // The guest command blocks until "go" is typed on its tty; the test types it only once
    // "first" has reached onStdout, so output handed over at the end would never get here.
    const chunks: string[] = [];
    const r = await c.$({
      timeout: 60_000,
      onStdout: (t) => {
        chunks.push(t);
        if (chunks.join("").includes("first\n") && chunks.length === 1) void c.console.send("go\n");
      },
    })`echo first; read x </dev/ttyS0; echo "got-$x"`;
    expect(chunks[0]).toContain("first\n");
    expect(chunks[0]).not.toContain("got-");
    expect(chunks.join("")).toBe(r.stdout);
    expect(r.stdout).toMatch(/got-go\n$/);
  });

  it("options: cwd, env, input", async () => {
    expect((await c.$({ cwd: "/proc" })`pwd`).toString()).toBe("/proc");
    expect((await c.$({ env: { QK: "a b" } })`echo "$QK"`).toString()).toBe("a b");
    expect((await c.$({ input: "x\ny\nz\n" })`wc -l`).toString().trim()).toBe("3");
  });

  it("files: writeFile with mode bits and readFile back, through base64 lines", async () => {
    const text = "#!/bin/sh\necho 'hi' \"ü\" $(x)\n";
    await c.writeFile("/tmp/a b.sh", text, { mode: 0o750 });
    expect((await c.$`stat -c %a ${"/tmp/a b.sh"}`).toString()).toBe("750");
    expect((await c.readFile("/tmp/a b.sh")).toString()).toBe(text);
    await c.writeFile("/tmp/empty", "");
    expect((await c.readFile("/tmp/empty")).length).toBe(0);
    const e = await c.readFile("/no/such").catch((x: unknown) => x);
    expect((e as GuestProcessError).code).toBe("GUEST_COMMAND");
  }, 120_000);

  it("files: a 300 KB random file round-trips byte for byte both ways, with progress", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qk-console-files-"));
    try {
      // Over two read chunks (192 KiB each) and ~100 typed lines.
      const data = randomBytes(300 * 1024);
      writeFileSync(join(dir, "in.bin"), data);
      const seenIn: number[] = [];
      const t0 = Date.now();
      expect(await c.copyIn(join(dir, "in.bin"), "/tmp/in.bin", { onProgress: (n) => seenIn.push(n) })).toBe(
        data.length,
      );
      const tIn = (Date.now() - t0) / 1000;
      expect(seenIn.at(-1)).toBe(data.length);
      const guestSum = (await c.$`sha256sum /tmp/in.bin`).stdout.split(" ")[0];
      expect(guestSum).toBe(createHash("sha256").update(data).digest("hex"));
      const seenOut: [number, number | undefined][] = [];
      const t1 = Date.now();
      expect(await c.copyOut("/tmp/in.bin", join(dir, "out.bin"), { onProgress: (n, t) => seenOut.push([n, t]) })).toBe(
        data.length,
      );
      const tOut = (Date.now() - t1) / 1000;
      expect(readFileSync(join(dir, "out.bin")).equals(data)).toBe(true);
      expect(seenOut).toEqual([
        [192 * 1024, data.length],
        [data.length, data.length],
      ]);
      console.log(
        `tiny (serial console): 300 KB in ${tIn.toFixed(1)} s (${(300 / tIn).toFixed(0)} KB/s), out ${tOut.toFixed(1)} s (${(300 / tOut).toFixed(0)} KB/s)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it(".timeout() interrupts the command (Ctrl-C) and the shell stays usable", async () => {
    const e = await c.$`sleep 303`.timeout(1500).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect((await c.$`echo still here`).toString()).toBe("still here");
    // busybox has no pgrep; ps shows every process with its arguments.
    expect((await c.$`ps`).stdout).not.toContain("sleep 303");
  }, 60_000);

  it("an AbortSignal interrupts the command (Ctrl-C): AbortError, the process gone", async () => {
    const ac = new AbortController();
    const p = c.$({ signal: ac.signal })`sleep 304`.catch((x: unknown) => x);
    setTimeout(() => ac.abort(), 1000);
    expect(await p).toBeInstanceOf(AbortError);
    expect((await c.$`ps`).stdout).not.toContain("sleep 304");
    expect((await c.$`echo after abort`).toString()).toBe("after abort");
  }, 60_000);
});
