// Every qemu-img call is a plain spawn under the parent-death signal (the resident launcher
// is gone): calls run in parallel, a missing program is a ToolNotFoundError, and the process
// really is qemu-img under setpriv's prctl (no extra shell or wrapper left running).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ToolNotFoundError } from "../../sdk/errors/errors.ts";
import { runQemuImg } from "../../sdk/img/run.ts";

const dir = mkdtempSync("/tmp/qkr-");
afterAll(() => {
  delete process.env.QEMUKIT_QEMU_IMG;
  rmSync(dir, { recursive: true, force: true });
});

describe("runQemuImg", () => {
  it("runs concurrent calls in parallel (-P 4 style)", async () => {
    // qemu-img itself, started after a one-second pause by the same process (exec, not fork).
    const slow = join(dir, "slow-qemu-img");
    writeFileSync(slow, '#!/bin/sh\nsleep 1\nexec qemu-img "$@"\n', { mode: 0o755 });
    process.env.QEMUKIT_QEMU_IMG = slow;
    try {
      const t0 = Date.now();
      const rs = await Promise.all([1, 2, 3, 4].map(() => runQemuImg(["--version"], { op: "version", path: "-" })));
      expect(rs.every((r) => /qemu-img version/.test(r.stdout))).toBe(true);
      expect(Date.now() - t0).toBeLessThan(3500);
    } finally {
      delete process.env.QEMUKIT_QEMU_IMG;
    }
  });

  it("reports a missing program as ToolNotFoundError with the Debian package", async () => {
    process.env.QEMUKIT_QEMU_IMG = join(dir, "no-such-qemu-img");
    try {
      const e = await runQemuImg(["--version"], { op: "version", path: "-" }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ToolNotFoundError);
      expect((e as ToolNotFoundError).advice).toContain("qemu-utils");
    } finally {
      delete process.env.QEMUKIT_QEMU_IMG;
    }
  });

  it("leaves nothing between Node and the program (setpriv execs it; the kill test is in data-safety.test.ts)", async () => {
    const probe = join(dir, "probe-qemu-img");
    // Reports its own pid, parent and command line, then becomes qemu-img.
    writeFileSync(probe, `#!/bin/sh\necho "$$ $PPID" > ${dir}/ids\nexec qemu-img "$@"\n`, { mode: 0o755 });
    process.env.QEMUKIT_QEMU_IMG = probe;
    try {
      await runQemuImg(["--version"], { op: "version", path: "-" });
    } finally {
      delete process.env.QEMUKIT_QEMU_IMG;
    }
    const [, ppid] = readFileSync(join(dir, "ids"), "utf8").trim().split(" ").map(Number);
    expect(ppid).toBe(process.pid);
  });
});
