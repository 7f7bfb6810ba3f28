/**
 * `m.$` and the guest agent on the built-in Debian guest (one guest booted for the whole
 * file, under TCG): the agent that comes up late, quoting, exit codes, stderr apart,
 * timeouts and aborts that really end the guest process, options; and the guest itself:
 * DHCP on the default NIC, ACPI power-off.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentError } from "../../sdk/agent/errors.ts";
import { GuestOutput, GuestProcessError } from "../../sdk/agent/output.ts";
import { AbortError, TimeoutError } from "../../sdk/errors/errors.ts";
import { debian } from "../../sdk/guests/debian.ts";
import { attach } from "../../sdk/machine/attach.ts";
import type { RunningVm } from "../../sdk/machine/running-vm.ts";
import { overlay, vm } from "../../sdk/spec/mod.ts";
import { useTempRunRoot } from "../helpers/machine-fixtures.ts";

const runRoot = useTempRunRoot();
let m: RunningVm;
let bootSeconds = 0;
let agentSeconds = 0;

beforeAll(async () => {
  const g = await debian({ progress: false });
  const t0 = Date.now();
  // Direct kernel boot (the image's own kernel and initramfs): the fast way in; booting from
  // the disk through GRUB is test/guests/debian.test.ts's subject.
  m = await vm()
    .accel("tcg")
    .memory(g.memoryMiB)
    .smp(2)
    .disk(overlay(g.image))
    .kernel(g.kernel, { initrd: g.initrd, append: g.append })
    .agent()
    .start();
  // Asked for before the guest has booted: the handshake is retried until qemu-ga answers.
  const agent = m.agent({ timeout: 300_000 });
  await m.console.waitFor(g.prompt, { timeout: 300_000 });
  bootSeconds = (Date.now() - t0) / 1000;
  await agent;
  agentSeconds = (Date.now() - t0) / 1000;
  console.log(
    `debian: root prompt after ${bootSeconds.toFixed(1)} s, agent answered after ${agentSeconds.toFixed(1)} s`,
  );
}, 600_000);

afterAll(async () => {
  await m?.kill();
  runRoot.cleanup();
});

/** True while a process whose command line matches `pattern` runs in the guest. */
async function running(pattern: string): Promise<boolean> {
  // The bracket keeps pgrep's own sh -c command line from matching.
  const p = `[${pattern[0]}]${pattern.slice(1)}`;
  return (await m.$`pgrep -f ${p}`.nothrow()).exitCode === 0;
}

describe("the guest agent", () => {
  it("answers guest-ping and guest-info after the guest-sync-delimited handshake", async () => {
    const agent = await m.agent();
    expect(await agent.execute("guest-ping")).toEqual({});
    const info = await agent.execute("guest-info");
    expect(info.version).toMatch(/^7\./);
    expect(info.supported_commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(["guest-exec", "guest-file-open", "guest-sync-delimited"]),
    );
    await agent.sync();
    expect((await agent.execute("guest-get-osinfo")).id).toBe("debian");
  });

  it("turns the agent's own errors into AGENT_COMMAND", async () => {
    const agent = await m.agent();
    const e = await agent.execute("guest-file-open", { path: "/no/such/file" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe("AGENT_COMMAND");
    expect(String((e as AgentError).details.desc)).toMatch(/No such file/);
    expect(await agent.execute("guest-ping")).toEqual({}); // still in step
  });
});

describe("attach()", () => {
  it("a handle re-attached by run directory reconnects to the agent: m.$ and files work", async () => {
    await (await m.agent()).execute("guest-ping");
    const dir = m.runDir;
    await m.detach(); // closes our agent connection too: the channel takes one client at a time
    m = await attach(dir);
    expect(m.hasAgent).toBe(true);
    const r = await m.$`hostname`;
    expect([r.transport, r.toString()]).toEqual(["agent", "debian"]);
    expect((await m.readFile("/etc/hostname")).toString()).toBe("debian\n");
  }, 120_000);
});

describe("m.$ through the agent", () => {
  it("quotes every interpolated value as one word: spaces, quotes, $(...), newlines, unicode; arrays spread", async () => {
    const values = [
      "a b",
      "it's",
      'say "hi"',
      "$(touch /tmp/pwned)",
      "`id`",
      "two\nlines",
      "ünï 日本 🚀",
      "",
      "*",
      "a;b|c&d",
      "\\n",
    ];
    const r = await m.$`printf '[%s]\n' ${values}`;
    expect(r).toBeInstanceOf(GuestOutput);
    expect(r.transport).toBe("agent");
    expect(r.stdout).toBe(values.map((v) => `[${v}]\n`).join(""));
    expect((await m.$`test -e /tmp/pwned`.nothrow()).exitCode).toBe(1);
    const one = "x y z";
    expect((await m.$`printf %s ${one}`).stdout).toBe("x y z");
    expect((await m.$`echo ${r.lines().length}`).toString()).toBe(String(values.length + 1));
  });

  it("exit codes: a GuestProcessError carrying everything, or the status with nothrow()", async () => {
    const e = await m.$`echo out; echo oops >&2; exit 3`.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GuestProcessError);
    const err = e as GuestProcessError;
    expect([err.code, err.exitCode, err.stdout, err.stderr]).toEqual(["GUEST_COMMAND", 3, "out\n", "oops\n"]);
    expect(err.duration).toBeGreaterThan(0);
    const r = await m.$`exit 7`.nothrow();
    expect([r.exitCode, r.ok]).toEqual([7, false]);
    expect((await m.$`true`).ok).toBe(true);
  });

  it("keeps stderr apart from stdout", async () => {
    const r = await m.$`echo to-out; echo to-err >&2; echo more-out`;
    expect(r.stdout).toBe("to-out\nmore-out\n");
    expect(r.stderr).toBe("to-err\n");
  });

  it("text(), json(), lines()", async () => {
    const r = await m.$`printf '{"a":[1,2]}\n'`;
    expect(r.json()).toEqual({ a: [1, 2] });
    expect(r.text()).toBe('{"a":[1,2]}\n');
    expect((await m.$`printf 'x\ny\n'`).lines()).toEqual(["x", "y"]);
  });

  it("options: cwd, env, input, user", async () => {
    expect((await m.$({ cwd: "/etc" })`pwd`).toString()).toBe("/etc");
    expect((await m.$({ env: { QK_A: "one two", QK_B: "$(x)" } })`printf '%s|%s' "$QK_A" "$QK_B"`).stdout).toBe(
      "one two|$(x)",
    );
    expect((await m.$({ input: "line1\nline2\n" })`wc -l`).toString().trim()).toBe("2");
    expect((await m.$({ user: "nobody" })`id -un`).toString()).toBe("nobody");
  });

  it(".timeout(ms) kills the guest process and throws TimeoutError", async () => {
    const t0 = Date.now();
    const e = await m.$`sleep 301; echo never`.timeout(1500).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await running("sleep 301")).toBe(false);
  }, 60_000);

  it("an AbortSignal kills the guest process and rejects with AbortError", async () => {
    const ac = new AbortController();
    const p = m.$({ signal: ac.signal })`sleep 302`;
    const settled = p.catch((x: unknown) => x);
    for (let i = 0; i < 100 && !(await running("sleep 302")); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await running("sleep 302")).toBe(true);
    ac.abort();
    expect(await settled).toBeInstanceOf(AbortError);
    expect(await running("sleep 302")).toBe(false);
  }, 60_000);
});

describe("files through the agent", () => {
  it("writeFile with mode bits, readFile back, AGENT_COMMAND for a missing file", async () => {
    await m.writeFile("/root/hello.sh", "#!/bin/sh\necho hi ü\n", { mode: 0o750 });
    expect((await m.$`stat -c %a /root/hello.sh`).toString()).toBe("750");
    expect((await m.$`/root/hello.sh`).stdout).toBe("hi ü\n");
    expect((await m.readFile("/root/hello.sh")).toString()).toBe("#!/bin/sh\necho hi ü\n");
    expect(((await m.readFile("/no/such").catch((x: unknown) => x)) as AgentError).code).toBe("AGENT_COMMAND");
  });

  it("a 20 MB random file round-trips byte for byte both ways, with progress", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qk-agent-files-"));
    try {
      const data = randomBytes(20 * 1024 * 1024);
      writeFileSync(join(dir, "in.bin"), data);
      const seen: number[] = [];
      const t0 = Date.now();
      expect(await m.copyIn(join(dir, "in.bin"), "/root/big.bin", { onProgress: (n) => seen.push(n) })).toBe(
        data.length,
      );
      const tIn = (Date.now() - t0) / 1000;
      expect(seen.at(-1)).toBe(data.length);
      expect(seen.length).toBeGreaterThanOrEqual(20);
      const guestSum = (await m.$`sha256sum /root/big.bin`).stdout.split(" ")[0];
      expect(guestSum).toBe(createHash("sha256").update(data).digest("hex"));
      const t1 = Date.now();
      expect(await m.copyOut("/root/big.bin", join(dir, "out.bin"))).toBe(data.length);
      const tOut = (Date.now() - t1) / 1000;
      expect(readFileSync(join(dir, "out.bin")).equals(data)).toBe(true);
      console.log(
        `debian: 20 MB in ${tIn.toFixed(1)} s (${(20 / tIn).toFixed(1)} MB/s), out ${tOut.toFixed(1)} s (${(20 / tOut).toFixed(1)} MB/s)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

describe("the Debian guest", () => {
  it("has a DHCP address from QEMU's user network on the default NIC (e1000)", async () => {
    // DHCP may still be under way: the shell comes up before the network.
    await m.$`until ip -4 -br a | grep -q 10.0.2.15; do sleep 0.2; done`.timeout(120_000);
    const r = await m.$`ip -br -4 a`;
    expect(r.stdout).toMatch(/^\S+\s+UP\s+10\.0\.2\.15\/24/m);
    expect((await m.$`lsmod`).stdout).toMatch(/^e1000\s/m);
  });

  it("powers off on the ACPI button: shutdown() ends with a guest shutdown", async () => {
    const t0 = Date.now();
    const exit = await m.shutdown({ timeouts: { powerdown: 60_000 } });
    console.log(`debian: ACPI power-off took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // QEMU's exit status is not known here: this handle came from attach(), not the spawn.
    expect(exit.reason).toBe("guest-shutdown");
    expect(m.state).toBe("exited");
  }, 120_000);
});
