// The set-up step (scripts/setup.sh) that `npm test` and `npm run lab` run first.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

function setup(args: string[], options: { env?: Record<string, string>; asNobody?: boolean } = {}) {
  const cmd = options.asNobody
    ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", "scripts/setup.sh", ...args]
    : ["bash", "scripts/setup.sh", ...args];
  return spawnSync(cmd[0]!, cmd.slice(1), {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    timeout: 120_000,
  });
}

describe("scripts/setup.sh", () => {
  it("on a prepared machine only checks: every step says ok and nothing is installed", () => {
    const r = setup(["--guests", "tiny"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\[setup\] ok: Debian packages \(\d+ present\)$/m);
    expect(r.stdout).toMatch(/^\[setup\] ok: npm dependencies$/m);
    expect(r.stdout).not.toMatch(/installing/);
    expect(r.stdout).toMatch(/tiny: .*initrd/);
    expect(r.stdout).toMatch(/^\[setup\] done$/m);
  });

  it("without root or sudo, a missing package is a clear error naming the apt-get line, not a stack trace", () => {
    // A real missing package cannot be produced without uninstalling one, so dpkg-query is
    // replaced by one that reports a package as absent (fault injection only).
    const bin = mkdtempSync(join(tmpdir(), "qemukit-setup-"));
    try {
      const fake = join(bin, "dpkg-query");
      writeFileSync(
        fake,
        `#!/bin/sh\nfor a in "$@"; do last="$a"; done\n[ "$last" = qemu-utils ] && { echo -n not-installed; exit 0; }\nexec /usr/bin/dpkg-query "$@"\n`,
      );
      chmodSync(fake, 0o755);
      chmodSync(bin, 0o755);
      const r = setup(["--no-guests"], { asNobody: true, env: { PATH: `${bin}:${process.env.PATH}`, HOME: bin } });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("missing Debian packages: qemu-utils");
      expect(r.stderr).toContain("apt-get install qemu-utils");
      expect(r.stderr).not.toMatch(/\bat .*\.(js|ts):\d+/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("rejects an unknown option with exit 2", () => {
    const r = setup(["--frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option --frobnicate");
  });
});
