// Attacks on the machine layer's files and processes (docs/data-safety.md): existing
// directories, `..` names, squatted run roots, planted vm.json files, same-name races and
// interrupted daemonized starts. Each test fails on the code before the run-directory marker.
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { PassThrough } from "node:stream";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { command as vmCommand } from "../../sdk/cli/commands/vm.ts";
import { attach, list, startVm, VmError, VmStartError, type RunningVm } from "../../sdk/machine/mod.ts";
import { isAlive } from "../../sdk/machine/proc.ts";
import { bareSpec, waitGone } from "../helpers/machine-fixtures.ts";

/** A private parent for this file's roots; the run root is one level down, so `..` means `work`. */
const work = mkdtempSync("/tmp/qkd-");
const root = join(work, "r");
mkdirSync(root, { mode: 0o700 });
const savedRoot = process.env.QEMUKIT_RUN_DIR;
process.env.QEMUKIT_RUN_DIR = root;
const pids: number[] = [];
afterEach(() => {
  process.env.QEMUKIT_RUN_DIR = root;
});
afterAll(() => {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  if (savedRoot === undefined) delete process.env.QEMUKIT_RUN_DIR;
  else process.env.QEMUKIT_RUN_DIR = savedRoot;
  rmSync(work, { recursive: true, force: true });
});

const DEAD = 2 ** 22 + 11;

/** A vm.json as an older qemukit (or an attacker) would leave it: a dead VM, files to delete. */
function staleMeta(dir: string, name: string, temporaryFiles: string[] = []): string {
  return JSON.stringify({
    qemukit: 1,
    name,
    runDir: dir,
    pid: DEAD,
    ownerPid: DEAD,
    argv: [],
    daemonized: true,
    keep: false,
    temporaryFiles,
    started: new Date().toISOString(),
  });
}

async function startError(p: Promise<RunningVm>): Promise<VmStartError> {
  const e = await p.then(
    (vm) => {
      void vm.kill();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(VmStartError);
  return e as VmStartError;
}

describe("run directories are claimed, never adopted", () => {
  // data-safety: start-existing-run-dir
  it("start({ runDir }) on an existing directory fails with RUN_DIR_EXISTS and leaves its files alone", async () => {
    const mine = join(work, "my-project");
    mkdirSync(mine);
    writeFileSync(join(mine, "thesis.tex"), "years of work\n");
    const e = await startError(startVm(bareSpec(), { runDir: mine }));
    expect(e.code).toBe("RUN_DIR_EXISTS");
    expect(e.message).toContain(mine);
    expect(readFileSync(join(mine, "thesis.tex"), "utf8")).toBe("years of work\n");
  });

  // data-safety: start-name-of-existing-folder
  it("a VM named like an existing folder in the run root fails with RUN_DIR_EXISTS; the folder survives", async () => {
    const folder = join(root, "notes");
    mkdirSync(folder);
    writeFileSync(join(folder, "keep.txt"), "x");
    const e = await startError(startVm(bareSpec({ name: "notes" })));
    expect(e.code).toBe("RUN_DIR_EXISTS");
    expect(readdirSync(folder)).toEqual(["keep.txt"]);
    rmSync(folder, { recursive: true });
  });

  // data-safety: attach-dotdot
  it("attach('..') and `qemukit vm stop ..` are refused; the parent of the run root is untouched", async () => {
    writeFileSync(join(work, "vm.json"), staleMeta(work, "x"));
    writeFileSync(join(work, "precious.txt"), "do not delete");
    await expect(attach("..")).rejects.toMatchObject({ code: "VM_NAME" });
    await expect(attach(".")).rejects.toMatchObject({ code: "VM_NAME" });
    const stop = vmCommand.subcommands!.find((c) => c.name === "stop")!;
    const io = { stdout: new PassThrough(), stderr: new PassThrough() };
    await expect(stop.run!([".."], io)).rejects.toMatchObject({ code: "VM_NAME" });
    // A path names a directory explicitly; without qemukit's marker it is never removed.
    await expect(attach(work + "/")).rejects.toMatchObject({ code: "VM_NOT_FOUND" });
    expect(readFileSync(join(work, "precious.txt"), "utf8")).toBe("do not delete");
    expect(existsSync(root)).toBe(true);
    rmSync(join(work, "vm.json"));
  });

  // data-safety: planted-temporary-files
  it("temporaryFiles outside the run directory are never deleted, even from a marked stale directory", async () => {
    const victim = join(work, "victim.qcow2");
    writeFileSync(victim, "data");
    const dir = join(root, "planted");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(
      join(dir, ".qemukit-run"),
      JSON.stringify({ qemukit: 1, name: "planted", ownerPid: DEAD, created: new Date().toISOString() }),
    );
    writeFileSync(
      join(dir, "vm.json"),
      staleMeta(dir, "planted", [victim, join(dir, "..", "..", "victim.qcow2"), join(dir, "disk0.qcow2")]),
    );
    writeFileSync(join(dir, "disk0.qcow2"), "overlay");
    expect(await list()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("data");
  });

  // data-safety: same-name-race
  it("two concurrent starts with one name: one wins, the other fails at once with VM_STARTING or VM_RUNNING", async () => {
    const t0 = Date.now();
    const results = await Promise.allSettled([
      startVm(bareSpec({ name: "twin" })),
      startVm(bareSpec({ name: "twin" })),
    ]);
    const won = results.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<RunningVm>[];
    const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(VmStartError);
    expect(["VM_STARTING", "VM_RUNNING"]).toContain((lost[0]!.reason as VmStartError).code);
    expect(Date.now() - t0).toBeLessThan(15_000); // not after a 30 s start timeout
    const vm = won[0]!.value;
    expect(vm.state).toBe("running");
    // And from another process, while this one runs it.
    const other = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `
      import("./sdk/machine/mod.ts").then(async ({ startVm }) => {
        const { bareSpec } = await import("./test/helpers/machine-fixtures.ts");
        try { await startVm(bareSpec({ name: "twin" })); console.log("started"); }
        catch (e) { console.log(e.code); }
      });`,
      ],
      { cwd: new URL("../../", import.meta.url).pathname, env: process.env, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    other.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
    });
    await new Promise((r) => other.once("exit", r));
    expect(out.trim()).toBe("VM_RUNNING");
    await vm.kill();
    expect(existsSync(vm.runDir)).toBe(false);
  }, 60_000);
});

describe("the run root must be private", () => {
  // data-safety: squatted-root
  it("a root owned by another user with mode 0777 is refused by start() and list(); nothing is deleted", async () => {
    const squat = join(work, "squat");
    mkdirSync(squat);
    chmodSync(squat, 0o777);
    const planted = join(squat, "evil");
    mkdirSync(planted);
    const victim = join(work, "etc-shadow-copy");
    writeFileSync(victim, "secret");
    writeFileSync(
      join(planted, ".qemukit-run"),
      JSON.stringify({ qemukit: 1, name: "evil", ownerPid: DEAD, created: new Date().toISOString() }),
    );
    writeFileSync(join(planted, "vm.json"), staleMeta(planted, "evil", [victim]));
    execFileSync("chown", ["-R", "nobody:nogroup", squat]);
    process.env.QEMUKIT_RUN_DIR = squat;
    const e = await list().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: "RUN_ROOT_UNSAFE" });
    expect((e as Error).message).toContain(squat);
    expect((e as Error).message).toMatch(/belongs to uid \d+/);
    // start() raises the very error list() and attach() raise: a VmError, before anything is claimed.
    const s = await startVm(bareSpec({ name: "victim" })).then(
      (vm) => {
        void vm.kill();
        return undefined;
      },
      (x: unknown) => x,
    );
    expect(s).toBeInstanceOf(VmError);
    expect(s).toMatchObject({ code: "RUN_ROOT_UNSAFE" });
    await expect(attach("evil")).rejects.toMatchObject({ code: "RUN_ROOT_UNSAFE" });
    expect(readFileSync(victim, "utf8")).toBe("secret");
    expect(existsSync(join(planted, "vm.json"))).toBe(true);
  });

  // data-safety: loose-or-symlinked-root
  it("a root of ours with group/other permissions, or a symlink, is refused with the fix in the message", async () => {
    const loose = join(work, "loose");
    mkdirSync(loose);
    chmodSync(loose, 0o755);
    process.env.QEMUKIT_RUN_DIR = loose;
    const e = await startVm(bareSpec()).then(
      (vm) => {
        void vm.kill();
        return undefined;
      },
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(VmError);
    expect(e).toMatchObject({ code: "RUN_ROOT_UNSAFE", message: expect.stringContaining(`chmod 700 "${loose}"`) });
    const link = join(work, "link");
    symlinkSync(root, link);
    process.env.QEMUKIT_RUN_DIR = link;
    await expect(list()).rejects.toMatchObject({
      code: "RUN_ROOT_UNSAFE",
      message: expect.stringContaining("symbolic link"),
    });
    // A missing root is created private.
    const fresh = join(work, "fresh", "nested");
    process.env.QEMUKIT_RUN_DIR = fresh;
    const vm = await startVm(bareSpec());
    await vm.kill();
    expect(execFileSync("stat", ["-c", "%a", fresh], { encoding: "utf8" }).trim()).toBe("700");
  });
});

describe("interrupted starts are cleaned up or listed", () => {
  // data-safety: interrupted-daemon-start
  it("a daemonized QEMU whose start died before vm.json got its pid is killed by list(), not left paused and invisible", async () => {
    // What a start killed right after QEMU daemonized leaves: the marker and a vm.json
    // without pid, both naming a dead owner, and QEMU's own pidfile.
    const dir = join(root, "halfway");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(
      join(dir, ".qemukit-run"),
      JSON.stringify({ qemukit: 1, name: "halfway", ownerPid: DEAD, created: new Date().toISOString() }),
    );
    const meta = JSON.parse(staleMeta(dir, "halfway"));
    delete meta.pid;
    writeFileSync(join(dir, "vm.json"), JSON.stringify(meta));
    execFileSync("qemu-system-x86_64", [
      "-accel",
      "tcg",
      "-m",
      "64",
      "-nodefaults",
      "-display",
      "none",
      "-S",
      "-name",
      "halfway",
      "-qmp",
      `unix:${join(dir, "qmp.sock")},server=on,wait=off`,
      "-daemonize",
      "-pidfile",
      join(dir, "qemu.pid"),
    ]);
    const pid = Number(readFileSync(join(dir, "qemu.pid"), "utf8"));
    pids.push(pid);
    expect(isAlive(pid)).toBe(true);
    expect(await list()).toEqual([]);
    expect(await waitGone(pid, 5000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  // data-safety: interrupted-overlay-start
  it("a start killed while making its overlay leaves a marked directory that the next list() removes", async () => {
    const base = join(work, "base.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "64M"]);
    const repo = new URL("../../", import.meta.url).pathname;
    // A qemu-img that never finishes: the start is caught inside createOverlay.
    const slowImg = join(work, "slow-qemu-img");
    writeFileSync(slowImg, "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `
      import("./sdk/machine/mod.ts").then(async ({ startVm }) => {
        const { bareSpec } = await import("./test/helpers/machine-fixtures.ts");
        await startVm(bareSpec({ name: "cut", disks: [{ source: { kind: "overlay", base: ${JSON.stringify(base)}, baseFormat: "qcow2" }, interface: "virtio", media: "disk", readOnly: false }] }));
      });`,
      ],
      { cwd: repo, env: { ...process.env, QEMUKIT_QEMU_IMG: slowImg }, stdio: "ignore" },
    );
    const dir = join(root, "cut");
    for (let i = 0; i < 600 && !existsSync(join(dir, "vm.json")); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(join(dir, ".qemukit-run"))).toBe(true);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(await list()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
