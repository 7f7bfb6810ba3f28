import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { formatObservations } from "../../recipes/lib/print.ts";
import { parseRecipeArgs } from "../../recipes/lib/main.ts";
import { listeningSockets, parseProcNetTcp } from "../../recipes/lib/procnet.ts";
import { Reporter } from "../../recipes/lib/reporter.ts";
import { Resources } from "../../recipes/lib/resources.ts";
import { parseProcPartitions } from "../../recipes/lib/shell.ts";
import { explain } from "../../recipes/start-vm.ts";
import { parseLsblk } from "../../recipes/add-disk.ts";
import { existsSync } from "node:fs";

describe("recipes/lib", () => {
  it("finds a listening socket of this process in /proc/net/tcp and maps it to our pid", async () => {
    const srv: Server = createServer();
    await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
    const port = (srv.address() as { port: number }).port;
    try {
      const found = (await listeningSockets()).find((s) => s.port === port);
      expect(found).toMatchObject({ address: "127.0.0.1", family: "ipv4" });
      expect(found!.pids).toContain(process.pid);
    } finally {
      await new Promise((ok) => srv.close(ok));
    }
    expect((await listeningSockets()).some((s) => s.port === port)).toBe(false);
  });

  it("decodes /proc/net/tcp6 addresses and skips non-LISTEN rows", () => {
    const text = [
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 00000000000000000000000001000000:170D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1",
      "   1: 00000000000000000000000001000000:170D 00000000000000000000000001000000:A000 01 00000000:00000000 00:00000000 00000000     0        0 4243 1",
    ].join("\n");
    expect(parseProcNetTcp(text, "ipv6")).toEqual([{ address: "::1", port: 5901, family: "ipv6", inode: 4242 }]);
  });

  it("parses recipe flags strictly", () => {
    expect(parseRecipeArgs(["--json", "--guest", "tiny", "--display", "7"])).toMatchObject({
      json: true,
      options: { guest: "tiny", display: 7 },
    });
    expect(() => parseRecipeArgs(["--bogus"])).toThrow();
    expect(() => parseRecipeArgs(["--guest", "windows"])).toThrow(/debian or tiny/);
    expect(() => parseRecipeArgs(["--display", "100"])).toThrow(/0..99/);
    expect(parseRecipeArgs(["--on", "qemu+ssh://root@h/system"]).options.on).toBe("qemu+ssh://root@h/system");
  });

  it("records steps, including failures, with timings", async () => {
    const lines: string[] = [];
    const r = new Reporter({ write: (s: string) => lines.push(s) }, "x");
    expect(
      await r.step(
        "one",
        async () => 41 + 1,
        (v) => `got ${v}`,
      ),
    ).toBe(42);
    await expect(r.step("two", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(r.steps.map((s) => [s.title, s.ok, s.detail ?? s.error])).toEqual([
      ["one", true, "got 42"],
      ["two", false, "boom"],
    ]);
    expect(lines.join("")).toMatch(/\[x\] +✓ one \(\d+ ms\): got 42/);
  });

  it("disposes resources newest first and removes temp dirs even when a disposer fails", async () => {
    const order: string[] = [];
    let dir = "";
    await expect(
      (async () => {
        await using res = new Resources();
        dir = await res.tempDir("libtest-");
        res.defer("a", async () => void order.push("a"));
        res.defer("b", async () => {
          order.push("b");
          throw new Error("b failed");
        });
      })(),
    ).rejects.toThrow(/clean-up failed/);
    expect(order).toEqual(["b", "a"]);
    expect(existsSync(dir)).toBe(false);
  });

  it("prints nested observations", () => {
    expect(formatObservations({ a: 1, b: { c: "x" }, d: [1, 2] })).toEqual(["a: 1", 'b: {"c":"x"}', "d: [1,2]"]);
  });

  it("parses the guest's partition tables", () => {
    expect(
      parseProcPartitions(
        "major minor  #blocks  name\n\n   8       16    1048576 sdb\n   8       17     512000 sdb1\n",
      ),
    ).toEqual([
      { name: "sdb", blocks: 1048576, bytes: 1073741824 },
      { name: "sdb1", blocks: 512000, bytes: 524288000 },
    ]);
    expect(
      parseLsblk(
        'NAME="sdb1" SIZE="524288000" FSTYPE="ext4" MOUNTPOINT="/mnt/part1"\nNAME="sdb" SIZE="1073741824" FSTYPE="" MOUNTPOINT=""',
      ),
    ).toEqual([
      { name: "sdb1", bytes: 524288000, fstype: "ext4", mountpoint: "/mnt/part1" },
      { name: "sdb", bytes: 1073741824, fstype: null, mountpoint: null },
    ]);
  });

  it("explains thread counts from the numbers, and says so when they do not fit", () => {
    const t = (total: number, vcpu: number, worker = 0) => ({
      pid: 1,
      total,
      vcpu,
      worker,
      fixed: total - vcpu - worker,
      names: [],
    });
    expect(explain(t(5, 2), t(7, 4))).toMatch(
      /2 more than the 5 .* thread of its own .* own 3 threads .* stay the same\.$/,
    );
    expect(explain(t(6, 2), t(7, 4))).toMatch(/went from 4 to 3/);
    expect(explain(t(6, 2, 1), t(9, 4, 2))).toMatch(/stay the same. Besides, 1 and 2 .worker. threads/);
  });
});

describe("lab scheduling", () => {
  it("runs heavy recipes one at a time and light ones beside them", async () => {
    const { schedule } = await import("../../recipes/lib/lab-runner.ts");
    const log: string[] = [];
    let heavyNow = 0;
    let maxHeavy = 0;
    let now = 0;
    let maxNow = 0;
    const items = ["H1", "H2", "H3", "l1", "l2", "l3", "l4"];
    await schedule(
      items,
      3,
      (x) => x.startsWith("H"),
      async (x) => {
        now++;
        maxNow = Math.max(maxNow, now);
        if (x.startsWith("H")) maxHeavy = Math.max(maxHeavy, ++heavyNow);
        log.push(`start ${x}`);
        await new Promise((ok) => setTimeout(ok, x.startsWith("H") ? 30 : 5));
        if (x.startsWith("H")) heavyNow--;
        now--;
      },
    );
    expect(maxHeavy).toBe(1);
    expect(maxNow).toBeGreaterThan(1);
    expect(log.filter((l) => l.startsWith("start")).length).toBe(items.length);
    expect(log[0]).toBe("start H1");
  });
});
