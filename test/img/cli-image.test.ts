import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { command } from "../../sdk/cli/commands/image.ts";
import type { CliCommand, CliIO } from "../../sdk/cli/command.ts";
import { QemukitError } from "../../sdk/errors/errors.ts";
import { imgTempDir, makeQcow2, qemuImg } from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

function sink(isTTY: boolean) {
  let text = "";
  const s = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  s.isTTY = isTTY;
  return { stream: s, text: () => text };
}

async function run(args: string[], tty = false) {
  const out = sink(tty);
  const err = sink(tty);
  const io: CliIO = { stdout: out.stream, stderr: err.stream };
  let cmd: CliCommand = command;
  let rest = args;
  while (cmd.subcommands && rest.length && cmd.subcommands.some((s) => s.name === rest[0])) {
    cmd = cmd.subcommands.find((s) => s.name === rest[0])!;
    rest = rest.slice(1);
  }
  const code = await cmd.run!(rest, io);
  return { code, stdout: out.text(), stderr: err.text() };
}

describe("qemukit image", () => {
  it("create, overlay, info --json (exact integers) and text summary", async () => {
    const base = join(dir, "base,1.qcow2");
    expect((await run(["create", base, "64M"])).stdout).toMatch(/created .* \(qcow2, 64 MiB\)/);
    await run(["overlay", base, join(dir, "ov.qcow2"), "-F", "qcow2"]);
    const j = JSON.parse(
      (await run(["info", join(dir, "ov.qcow2"), "-f", "qcow2", "--backing-chain", "--json"])).stdout,
    );
    expect(j).toMatchObject({
      format: "qcow2",
      virtualSize: 67108864,
      backingFilename: base,
      backing: { filename: base },
    });
    expect(j.summary).toBeUndefined();
    const text = (await run(["info", join(dir, "ov.qcow2"), "-f", "qcow2"])).stdout;
    expect(text.trim()).toBe(qemuImg("info", "-f", "qcow2", join(dir, "ov.qcow2")).trim());
  });

  it("convert: plain progress lines when not a TTY, a redrawn bar on a TTY", async () => {
    const src = makeQcow2(join(dir, "src.qcow2"), "32M", { byte: 1, length: "16M" });
    const plain = await run(["convert", src, join(dir, "a.vdi"), "-f", "qcow2", "-O", "vdi"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr.split("\n").filter(Boolean).at(-1)).toBe("convert: 100%");
    expect(plain.stderr).not.toMatch(/\r/);
    const bar = await run(["convert", src, join(dir, "b.vdi"), "-f", "qcow2", "-O", "vdi"], true);
    expect(bar.stderr).toMatch(/\rconvert \[#+\] 100\.00%\n$/);
    expect(existsSync(join(dir, "b.vdi"))).toBe(true);
  });

  it("check exits 1 with advice when problems remain; compare exits 1 when different", async () => {
    const ok = makeQcow2(join(dir, "ok.qcow2"), "8M");
    expect((await run(["check", ok, "-f", "qcow2"])).code).toBe(0);
    const other = makeQcow2(join(dir, "other.qcow2"), "8M", { byte: 7, length: "64k" });
    const c = await run(["compare", ok, other, "-f", "qcow2", "-F", "qcow2"]);
    expect(c).toMatchObject({ code: 1, stdout: "Content mismatch at offset 0!\n" });
  });

  it("snapshot subcommands and resize", async () => {
    const p = makeQcow2(join(dir, "d.qcow2"), "8M");
    await run(["snapshot", "create", p, "s1", "-f", "qcow2"]);
    expect((await run(["snapshot", "list", p, "-f", "qcow2"])).stdout).toMatch(/^1\s+s1/);
    expect((await run(["resize", p, "+8M", "-f", "qcow2"])).stdout).toMatch(/16 MiB/);
  });

  it("snapshot apply/delete, map, du, measure, rebase, commit: text, --json and exit status", async () => {
    const base = makeQcow2(join(dir, "b.qcow2"), "8M", { byte: 3, length: "1M" });
    const top = join(dir, "t.qcow2");
    await run(["overlay", base, top, "-F", "qcow2"]);
    await run(["snapshot", "create", top, "s1", "-f", "qcow2"]);
    expect(await run(["snapshot", "apply", top, "s1", "-f", "qcow2"])).toMatchObject({
      code: 0,
      stdout: `reverted ${top} to s1\n`,
    });
    expect(await run(["snapshot", "delete", top, "s1", "-f", "qcow2"])).toMatchObject({
      code: 0,
      stdout: "deleted snapshot s1\n",
    });
    expect(JSON.parse((await run(["snapshot", "list", top, "-f", "qcow2", "--json"])).stdout)).toEqual([]);
    expect((await run(["snapshot", "list", top, "-f", "qcow2"])).stdout).toBe("no snapshots\n");
    const m = await run(["map", top, "-f", "qcow2"]);
    expect(m.stdout.split("\n")[0]).toBe("start              length             depth  kind");
    expect(m.stdout).toMatch(/^0x0 +0x100000 +1 +data$/m);
    expect(JSON.parse((await run(["map", top, "-f", "qcow2", "--json"])).stdout)[0]).toMatchObject({
      start: 0,
      length: 1048576,
      depth: 1,
    });
    const d = await run(["du", top, "-f", "qcow2", "--backing-chain"]);
    expect(
      d.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/).at(-1)),
    ).toEqual([top, base, "total"]);
    const dj = JSON.parse((await run(["du", top, "--json"])).stdout);
    expect(dj).toMatchObject({ path: top, layers: [{ path: top }] });
    expect(typeof dj.bytes).toBe("number");
    expect((await run(["measure", "--size", "1G"])).stdout).toMatch(
      /^required: .* bytes\)\nfully allocated: .* \(\d+ bytes\)\n$/,
    );
    const mj = JSON.parse((await run(["measure", base, "-f", "qcow2", "--json"])).stdout);
    expect(Object.keys(mj)).toEqual(expect.arrayContaining(["fullyAllocated", "required"]));
    expect(mj.json).toBeUndefined();
    await expect(run(["measure"])).rejects.toThrow("give PATH or --size SIZE");
    expect((await run(["rebase", top, "--none", "-f", "qcow2"])).stdout).toBe(`${top} has no backing file now\n`);
    await expect(run(["rebase", top, "-f", "qcow2"])).rejects.toThrow("give NEW_BACKING or --none");
    const child = join(dir, "c.qcow2");
    await run(["overlay", top, child, "-F", "qcow2"]);
    expect((await run(["commit", child, "-f", "qcow2"])).stdout).toBe(`committed ${child} into ${top}\n`);
    // --json only where a result is worth printing; missing arguments are named
    await expect(run(["commit", child, "--json"])).rejects.toThrow(/json/);
    await expect(run(["resize", top])).rejects.toThrow("missing SIZE");
    await expect(run(["overlay"])).rejects.toThrow("missing BASE and PATH");
  });

  it("bad input is a usage error or a typed QemukitError", async () => {
    await expect(run(["create", join(dir, "x.qcow2")])).rejects.toThrow(/missing SIZE/);
    const e = await run(["create", join(dir, "x.qcow2"), "12 apples"]).catch((x) => x);
    expect(e).toBeInstanceOf(QemukitError);
    expect(e.code).toBe("SIZE_INVALID");
    await expect(run(["info", join(dir, "x.qcow2"), "-f", "nope"])).rejects.toMatchObject({ code: "IMAGE_FORMAT" });
  });
});
