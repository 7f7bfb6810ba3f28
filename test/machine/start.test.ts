import { mkdtempSync, readdirSync, rmSync, statSync, readFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../../sdk/util/exec.ts";
import { startVm, VmStartError, type RunningVm } from "../../sdk/machine/mod.ts";
import { ImageLockedError } from "../../sdk/img/mod.ts";
import { overlay, vm } from "../../sdk/spec/mod.ts";
import { bareSpec, useTempRunRoot, waitGone } from "../helpers/machine-fixtures.ts";

const run = useTempRunRoot();
const tmp = mkdtempSync("/tmp/qkt-img-");
afterAll(() => {
  run.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

async function expectStartError(p: Promise<RunningVm>): Promise<VmStartError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmStartError);
  const e = err as VmStartError;
  expect(e.code).toBe("VM_START");
  // Nothing left behind: no run directory, and no QEMU using it.
  expect(readdirSync(run.root)).toEqual([]);
  return e;
}

describe("a bare QEMU through startVm", () => {
  let vm: RunningVm;
  beforeAll(async () => {
    vm = await startVm(
      bareSpec({
        name: "bare1",
        smp: { cpus: 2 },
        vnc: { display: 0, to: 99, listen: "127.0.0.1", websocket: true, password: false },
      }),
    );
  });
  afterAll(async () => {
    await vm?.kill();
  });

  it("exposes name, pid, argv, accel and a private run dir with metadata", () => {
    expect(vm.name).toBe("bare1");
    expect(vm.runDir).toBe(join(run.root, "bare1"));
    expect(statSync(vm.runDir).mode & 0o777).toBe(0o700);
    expect(vm.argv[0]).toBe("qemu-system-x86_64");
    expect(vm.argv).toContain("-S");
    expect(vm.accel.chosen).toBe("tcg");
    expect(vm.state).toBe("running");
    const meta = JSON.parse(readFileSync(join(vm.runDir, "vm.json"), "utf8"));
    expect(meta).toMatchObject({ name: "bare1", pid: vm.pid, daemonized: false, accel: { chosen: "tcg" } });
    expect(readFileSync(`/proc/${vm.pid}/cmdline`, "utf8")).toContain("qemu-system-x86_64");
  });

  it("reads VNC display, port and websocket port back from QMP (vnc auto: whichever display was free)", () => {
    const d = vm.vnc!.display;
    expect(d).toBeLessThanOrEqual(99);
    expect(vm.vnc).toEqual({ display: d, host: "127.0.0.1", port: 5900 + d, websocketPort: 5700 + d });
  });

  it("lists threads with the vCPU threads identified", async () => {
    const threads = await vm.threads();
    const vcpus = threads.filter((t) => t.kind === "vcpu");
    expect(vcpus.map((t) => t.cpuIndex)).toEqual([0, 1]);
    expect(threads.filter((t) => t.kind === "main").map((t) => t.tid)).toEqual([vm.pid]);
    expect(threads.length).toBeGreaterThanOrEqual(5);
  });

  it("takes a PNG screenshot", async () => {
    const path = await vm.screenshot(join(tmp, "screen.png"));
    expect(readFileSync(path).subarray(1, 4).toString()).toBe("PNG");
  });

  it("pauses and resumes", async () => {
    await vm.pause();
    expect(vm.state).toBe("paused");
    expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ running: false });
    await vm.resume();
    expect(vm.state).toBe("running");
    expect(await vm.qmp.executeRaw("query-status")).toMatchObject({ running: true });
    await vm.reset();
  });

  it("shows a useful inspect view", () => {
    const text = inspect(vm);
    expect(text).toContain("RunningVm");
    expect(text).toContain("bare1");
    expect(text).toContain("running");
    expect(text).toContain(String(vm.pid));
    expect(text).toContain(`vnc: ${vm.vnc!.port}`);
  });

  it("refuses a second VM with the same name", async () => {
    const err = await startVm(bareSpec({ name: "bare1" })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VmStartError);
    expect(String((err as Error).message)).toContain("already running");
    expect(existsSync(vm.runDir)).toBe(true);
  });

  it("fails clearly when VNC's port is taken, leaving nothing behind", async () => {
    const e = await expectStartError2(
      startVm(bareSpec({ vnc: { display: vm.vnc!.display, listen: "127.0.0.1", websocket: false, password: false } })),
      vm.runDir,
    );
    expect(e.qemuMessage).toMatch(/Address already in use/);
    // Names the VM holding it and offers a display that is free.
    const d = vm.vnc!.display;
    expect(e.message).toContain(
      `VNC display :${d} (TCP port ${5900 + d}) is already in use by the qemukit VM "${vm.name}" (pid ${vm.pid})`,
    );
    const free = e.details.freeDisplay as number;
    expect(free).toBeGreaterThan(d);
    expect(e.advice).toContain(`.vnc(${free})`);
  });
});

/** Like expectStartError, when another VM's directory legitimately exists. */
async function expectStartError2(p: Promise<RunningVm>, existing: string): Promise<VmStartError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VmStartError);
  expect(readdirSync(run.root).map((d) => join(run.root, d))).toEqual([existing]);
  return err as VmStartError;
}

describe("through the builder", () => {
  it("vm().start() delegates to startVm and overlay() disks are made over the base", async () => {
    const base = join(tmp, "base.qcow2");
    await exec(["qemu-img", "create", "-q", "-f", "qcow2", base, "16M"]);
    const m = await vm().name("built").accel("tcg").memory(64).network("none").disk(overlay(base)).start();
    try {
      expect(m.name).toBe("built");
      const blocks = (await m.qmp.executeRaw("query-block")) as Array<{
        inserted?: { image: { filename: string; "backing-image"?: { filename: string } } };
      }>;
      const disk = blocks.find((b) => b.inserted)!.inserted!.image;
      expect(disk.filename.startsWith(m.runDir)).toBe(true);
      expect(disk["backing-image"]?.filename).toBe(base);
    } finally {
      await m.kill();
    }
    expect(existsSync(m.runDir)).toBe(false);
  });
});

describe("accelerator", () => {
  it("auto resolves through the host check and says why", async () => {
    const vm = await startVm(bareSpec({ accel: "auto" }));
    try {
      expect(["kvm", "tcg"]).toContain(vm.accel.chosen);
      expect(vm.accel.reason.length).toBeGreaterThan(5);
      const kvm = (await vm.qmp.executeRaw("query-kvm")) as { enabled: boolean };
      expect(vm.accel.chosen).toBe(kvm.enabled ? "kvm" : "tcg");
    } finally {
      await vm.kill();
    }
  });
});

describe("start failures", () => {
  it("an unknown option: QEMU's message and the argv", async () => {
    const e = await expectStartError(startVm(bareSpec({ extraArgs: ["-no-such-option"] })));
    expect(e.qemuMessage).toContain("-no-such-option");
    expect(e.argv).toContain("-no-such-option");
    expect(e.message).toContain("QEMU said");
  });

  it("a missing disk image", async () => {
    const missing = join(tmp, "missing.qcow2");
    const e = await expectStartError(
      startVm(
        bareSpec({
          disks: [
            {
              source: { kind: "file", path: missing, format: "qcow2" },
              interface: "virtio",
              media: "disk",
              readOnly: false,
            },
          ],
        }),
      ),
    );
    // Caught before QEMU starts, in the words overlay() uses for a missing base.
    expect(e.argv).toEqual([]);
    expect(e.message).toContain(`disk image ${missing} does not exist`);
    expect(e.advice).toMatch(/check the path \(relative paths are relative to the current directory/);
  });

  it("a missing overlay base leaves no overlay and no run dir", async () => {
    const e = await expectStartError(
      startVm(
        bareSpec({
          disks: [
            {
              source: { kind: "overlay", base: join(tmp, "nobase.qcow2") },
              interface: "virtio",
              media: "disk",
              readOnly: false,
            },
          ],
        }),
      ),
    );
    expect(e.message).toMatch(/nobase\.qcow2/);
  });

  it("a port forward whose host port is taken", async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const e = await expectStartError(
        startVm(
          bareSpec({
            network: {
              kind: "user",
              model: "e1000",
              forwards: [{ protocol: "tcp", hostAddress: "127.0.0.1", hostPort: port, guestPort: 22 }],
            },
          }),
        ),
      );
      expect(e.qemuMessage).toMatch(/host forwarding rule/i);
    } finally {
      server.close();
    }
  });

  it("a run directory too long for unix sockets", async () => {
    const e = await expectStartError(startVm(bareSpec(), { runDir: `/tmp/${"x".repeat(100)}` }));
    expect(e.message).toMatch(/too long for unix sockets/);
    expect(e.advice).toMatch(/QEMUKIT_RUN_DIR/);
  });

  it("an image locked by another VM names that VM", async () => {
    const disk = join(tmp, "shared.qcow2");
    await exec(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"]);
    const spec = (name: string) =>
      bareSpec({
        name,
        disks: [
          {
            source: { kind: "file", path: disk, format: "qcow2" },
            interface: "virtio",
            media: "disk",
            readOnly: false,
          },
        ],
      });
    const holder = await startVm(spec("holder"));
    try {
      const e = await expectStartError2(startVm(spec("second")), holder.runDir);
      expect(e.qemuMessage).toMatch(/Failed to get "write" lock/);
      expect(e.cause).toBeInstanceOf(ImageLockedError);
      expect((e.cause as ImageLockedError).holder).toBe("holder");
      expect(e.message).toContain('"holder"');
    } finally {
      await holder.kill();
    }
  });
});

describe("exit tracking and the shutdown ladder", () => {
  it("QEMU killed from outside rejects pending QMP calls and resolves exited", async () => {
    const vm = await startVm(bareSpec());
    // A command QEMU will not answer before it dies: the monitor is blocked by nothing,
    // so race the kill against a slow stream of calls and keep the last one pending.
    const pending = vm.qmp.executeRaw("query-status").then(() => vm.qmp.executeRaw("query-status"));
    process.kill(vm.pid, "SIGKILL");
    const calls = await Promise.allSettled([pending, vm.qmp.executeRaw("query-status")]);
    expect(calls.some((c) => c.status === "rejected")).toBe(true);
    for (const c of calls)
      if (c.status === "rejected") expect((c.reason as { code: string }).code).toBe("QMP_DISCONNECTED");
    const exit = await vm.exited;
    expect(exit).toEqual({ code: null, signal: "SIGKILL", reason: "killed" });
    expect(vm.state).toBe("exited");
    expect(existsSync(vm.runDir)).toBe(false);
    await expect(vm.threads()).rejects.toMatchObject({ code: "VM_EXITED" });
  });

  it("shutdown() climbs to quit when the guest ignores ACPI, and is idempotent", async () => {
    const vm = await startVm(bareSpec());
    const t0 = Date.now();
    const [a, b] = await Promise.all([vm.shutdown({ timeouts: { powerdown: 300 } }), vm.shutdown()]);
    expect(a).toEqual({ code: 0, signal: null, reason: "host-qmp-quit" });
    expect(b).toBe(a);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await vm.shutdown()).toEqual(a);
    expect(await vm.kill()).toEqual(a);
    expect(existsSync(vm.runDir)).toBe(false);
    expect(await waitGone(vm.pid, 100)).toBe(true);
  });

  it("the ladder's SIGTERM and SIGKILL steps", async () => {
    const a = await startVm(bareSpec());
    expect(await a.shutdown({ timeouts: { powerdown: 0, quit: 0 } })).toEqual({
      code: 0,
      signal: null,
      reason: "host-signal",
    });
    const b = await startVm(bareSpec());
    expect(await b.shutdown({ timeouts: { powerdown: 0, quit: 0, term: 0 } })).toEqual({
      code: null,
      signal: "SIGKILL",
      reason: "killed",
    });
    expect(readdirSync(run.root)).toEqual([]);
  });

  it("kill() is idempotent and keep leaves the run directory", async () => {
    const vm = await startVm(bareSpec(), { keep: true });
    const [a, b] = await Promise.all([vm.kill(), vm.kill()]);
    expect(a).toEqual({ code: null, signal: "SIGKILL", reason: "killed" });
    expect(b).toEqual(a);
    expect(existsSync(join(vm.runDir, "vm.json"))).toBe(true);
    rmSync(vm.runDir, { recursive: true });
  });
});
