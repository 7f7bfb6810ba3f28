/**
 * Templates and clones on the tiny guest, real QEMU under TCG: one template with a disk
 * shared by most tests (built once in a private cache root), plus the builds the cache
 * tests need.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guests } from "../../sdk/guests/mod.ts";
import type { RunningVm } from "../../sdk/machine/running-vm.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { vm } from "../../sdk/spec/builder.ts";
import { overlay } from "../../sdk/spec/overlay.ts";
import type { TinyGuest } from "../../sdk/guests/types.ts";
import { listTemplates, pruneTemplates, type Template, TemplateError, templateKey } from "../../sdk/template/mod.ts";
import { runChildScript, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";
import { runCli } from "../helpers/cli.ts";
import { until } from "../helpers/until.ts";

const run = useTempRunRoot();
const work = mkdtempSync("/tmp/qktt-");
const cacheRoot = join(work, "cache");
let g: TinyGuest;
let t: Template;
let base: string;

const sha256 = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** The last PID the guest kernel gave out, read with shell builtins only (starts no process). */
async function lastPid(m: RunningVm): Promise<number> {
  return Number((await m.console.run("read -r a b c d pid </proc/loadavg; echo $pid")).output.trim());
}

/** Host time before, guest `date +%s`, host time after. */
async function guestSeconds(m: RunningVm): Promise<[number, number, number]> {
  const from = Date.now();
  const guest = Number((await m.console.run("date +%s")).output.trim());
  return [from, guest, Date.now()];
}

function tinyBuilder(memory = 256) {
  return vm().accel("tcg").memory(memory).network("none").kernel(g.kernel, { initrd: g.initrd, append: g.append });
}

beforeAll(async () => {
  g = await guests.tiny();
  base = join(work, "base.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "16M"]);
  t = await tinyBuilder()
    .disk(overlay(base))
    .network("user")
    .forward("auto", 22)
    .template({ ready: Wait.forConsole(g.prompt, { timeout: 240_000 }), cacheRoot });
}, 300_000);

afterAll(() => {
  run.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe("templates", () => {
  it("freezes the template's layers: the overlay and the state are read-only, backed by the untouched base", () => {
    expect(t.built).toBe(true);
    const frozen = t.frozenDisks[0]!;
    expect(statSync(frozen).mode & 0o777).toBe(0o444);
    expect(statSync(t.stateFile).mode & 0o777).toBe(0o444);
    const info = JSON.parse(execFileSync("qemu-img", ["info", "-U", "--output=json", frozen], { encoding: "utf8" }));
    expect(info["full-backing-filename"]).toBe(base);
    // RAM lives in its own file (mapped copy-on-write by clones); the state holds the devices.
    expect(statSync(join(t.dir, "ram")).size).toBe(256 * 2 ** 20);
    expect(t.info.stateBytes).toBeGreaterThan(10_000);
    expect(t.info.stateBytes).toBeLessThan(16 * 2 ** 20);
  });

  it("clones restore to a working shell with the clock corrected, and never write the base or the frozen layer", async () => {
    const ram = join(t.dir, "ram");
    const before = {
      base: sha256(base),
      frozen: sha256(t.frozenDisks[0]!),
      state: sha256(t.stateFile),
      ram: sha256(ram),
    };
    // The guest clock resumes at the moment of the save: let it fall behind first.
    await until(() => Date.now() - t.info.savedAt > 5000, 30_000, "the template to be 5 s old");
    expect(t.info.clockHelper).toBe(true);
    await using m = await t.start();
    // Without the correction the clock is behind by the template's age: the fix is what moved it.
    await using lagging = await t.start({ clock: "none" });
    // The helper set the clock without a new process: the last PID the kernel handed out is
    // the same as in a clone that skipped the fix (`date -s` would have taken one more).
    expect(await lastPid(m)).toBe(await lastPid(lagging));
    const [from, guestNow, to] = await guestSeconds(m);
    expect(guestNow).toBeGreaterThanOrEqual(Math.floor(from / 1000) - 1);
    expect(guestNow).toBeLessThanOrEqual(Math.ceil(to / 1000));
    const [, lagNow] = await guestSeconds(lagging);
    expect(Date.now() / 1000 - lagNow).toBeGreaterThan(4);
    await m.console.run("echo clone-data | dd of=/dev/vda bs=512 conv=fsync 2>/dev/null; sync");
    expect((await m.console.run("head -c 10 /dev/vda")).output).toBe("clone-data");
    await m.shutdown({ timeouts: { powerdown: 0 } });
    await lagging.kill();
    // The clones wrote their disk and their RAM (copy-on-write): nothing of the template changed.
    expect({
      base: sha256(base),
      frozen: sha256(t.frozenDisks[0]!),
      state: sha256(t.stateFile),
      ram: sha256(ram),
    }).toEqual(before);
  }, 120_000);

  it("where the clock helper cannot run, clones set their clock with date -s", async () => {
    // A read-only /run: the helper cannot be written there.
    const ro = await tinyBuilder().template({
      ready: Wait.forConsole(g.prompt, { timeout: 240_000 }),
      prepare: async (m) => void (await m.console.run("mount -t tmpfs -o ro tmpfs /run")),
      id: "read-only-run",
      cacheRoot,
    });
    expect(ro.info.clockHelper).toBe(false);
    await until(() => Date.now() - ro.info.savedAt > 3000, 30_000, "the template to be 3 s old");
    await using m = await ro.start();
    await using lagging = await ro.start({ clock: "none" });
    expect(await lastPid(m)).toBe((await lastPid(lagging)) + 1); // date ran
    const [from, guestNow, to] = await guestSeconds(m);
    expect(guestNow).toBeGreaterThanOrEqual(Math.floor(from / 1000) - 1);
    expect(guestNow).toBeLessThanOrEqual(Math.ceil(to / 1000));
  }, 300_000);

  it("4 clones run at once, each with its own disk, sockets, forwarded port and run directory; none is left behind", async () => {
    const clones: RunningVm[] = [];
    try {
      const started = await Promise.allSettled([0, 1, 2, 3].map((i) => t.start({ name: `c${i}` })));
      for (const r of started) if (r.status === "fulfilled") clones.push(r.value);
      expect(started.filter((r) => r.status === "rejected")).toEqual([]);
      expect(new Set(clones.map((c) => c.pid)).size).toBe(4);
      expect(new Set(clones.map((c) => c.runDir)).size).toBe(4);
      const ports = await Promise.all(clones.map((c) => c.hostPort(22)));
      expect(new Set(ports).size).toBe(4);
      // Each writes its own disk; each reads back only its own data.
      await Promise.all(
        clones.map((c, i) => c.console.run(`echo clone-${i} | dd of=/dev/vda bs=512 conv=fsync 2>/dev/null`)),
      );
      const outs = await Promise.all(clones.map((c) => c.console.run("head -c 7 /dev/vda")));
      expect(outs.map((o) => o.output)).toEqual(["clone-0", "clone-1", "clone-2", "clone-3"]);
    } finally {
      await Promise.all(clones.map((c) => c.kill()));
    }
    for (const c of clones) expect(await waitGone(c.pid)).toBe(true);
    expect(readdirSync(run.root)).toEqual([]);
  }, 180_000);

  it("refuses a clone whose devices differ, naming the difference, before anything starts", async () => {
    const other = tinyBuilder(192).disk(overlay(base));
    const err = await t.start({ spec: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).code).toBe("TEMPLATE_MISMATCH");
    expect((err as TemplateError).details.field).toBe("memoryMiB");
    expect((err as TemplateError).message).toMatch(/memoryMiB \(template 256, clone 192\)/);
    expect((err as TemplateError).advice).toMatch(/template/);
    expect(readdirSync(run.root)).toEqual([]);
    // Per-instance differences are fine: a name and other forwarded host ports.
    await using m = await t.start({
      spec: tinyBuilder().name("own").disk(overlay(base)).network("user").forward("auto", 22),
    });
    expect(m.name).toBe("own");
  }, 120_000);
});

describe("the template cache", () => {
  it("two processes asking for the same template share one build", async () => {
    const root = join(work, "shared");
    const a = runChildScript("template-child.ts", [root]);
    const b = runChildScript("template-child.ts", [root]);
    const [ra, rb] = await Promise.all([a.report, b.report]);
    expect(ra.dir).toBe(rb.dir);
    expect([ra.built, rb.built].sort()).toEqual([false, true]);
    expect(
      readdirSync(join(root, "templates")).filter((n) => n.startsWith("template-") && !n.endsWith(".lock")),
    ).toEqual([String(ra.dir).split("/").pop()]);
  }, 300_000);

  it("the key follows the spec and the base images; a changed base makes a new template and prune removes the old", async () => {
    const kernelCopy = join(work, "kernel-copy");
    copyFileSync(g.kernel, kernelCopy);
    const spec = vm()
      .accel("tcg")
      .memory(256)
      .network("none")
      .kernel(kernelCopy, { initrd: g.initrd, append: g.append });
    const k1 = await templateKey(spec);
    expect(await templateKey(spec.memory(192))).not.toBe(k1);
    expect(await templateKey(spec.name("other").vnc("auto"))).toBe(k1); // per-instance only
    expect(await templateKey(spec)).toBe(k1);

    const root = join(work, "inval");
    const ready = Wait.forConsole(g.prompt, { timeout: 240_000 });
    const first = await spec.template({ ready, cacheRoot: root });
    expect(await spec.template({ ready, cacheRoot: root }).then((x) => [x.built, x.dir])).toEqual([false, first.dir]);
    await appendFile(kernelCopy, "\0"); // the "base" changes (size and mtime)
    expect(await templateKey(spec)).not.toBe(k1);
    const second = await spec.template({ ready, cacheRoot: root });
    expect(second.built).toBe(true);
    expect(second.dir).not.toBe(first.dir);

    const foreign = join(root, "templates", "template-0123456789abcdef");
    mkdirSync(foreign);
    const listed = await listTemplates({ cacheRoot: root });
    expect(listed.map((l) => [l.dir, !!l.stale])).toEqual([
      [second.dir, false],
      [first.dir, true],
    ]);
    expect(await pruneTemplates({ cacheRoot: root })).toEqual([first.dir]);
    expect(existsSync(first.dir)).toBe(false);
    expect(existsSync(second.dir)).toBe(true);
    expect(existsSync(foreign)).toBe(true); // not qemukit's: never removed
    // The CLI reads the same cache: list, then prune --all.
    const env = { QEMUKIT_CACHE: root };
    const cliList = runCli(["template", "list", "--json"], { env });
    expect(cliList.status).toBe(0);
    expect((JSON.parse(cliList.stdout) as { dir: string; stale?: string }[]).map((l) => [l.dir, l.stale])).toEqual([
      [second.dir, undefined],
    ]);
    const cliPrune = runCli(["template", "prune", "--all"], { env });
    expect([cliPrune.status, cliPrune.stdout]).toEqual([0, `removed ${second.dir}\n`]);
    expect(existsSync(second.dir)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  }, 300_000);
});
